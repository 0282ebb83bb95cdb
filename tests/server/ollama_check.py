#!/usr/bin/env python3
# ollama_check: llmt-server's Ollama endpoints against the official ollama Python client on the bundled model
"""Usage: ollama_check.py SERVER_BINARY MODEL"""
import json
import sys

import ollama

from harness import Checks, Server


def main():
    server_bin, model = sys.argv[1:3]
    srv = Server(server_bin, model, "--parallel", "2", "--alias", "stories")
    client = ollama.Client(host=srv.url, timeout=60)
    checks = Checks()
    opts = {"temperature": 0, "num_predict": 24}

    def generate():
        r = client.generate(model="stories", prompt="Once upon a time", options=opts, stream=False)
        assert r.done and r.response, r
        assert r.done_reason in ("stop", "length"), r.done_reason
        assert r.eval_count > 0 and r.prompt_eval_count > 0, r
        assert r.total_duration >= r.eval_duration >= 0 and r.prompt_eval_duration > 0, r
        assert r.context and len(r.context) == r.prompt_eval_count + r.eval_count, (len(r.context), r)
        parts = list(client.generate(model="stories", prompt="Once upon a time", options=opts, stream=True))
        assert all(not p.done for p in parts[:-1]) and parts[-1].done, [p.done for p in parts]
        assert "".join(p.response for p in parts) == r.response
        assert parts[-1].eval_count == r.eval_count
        raw = client.generate(model="stories", prompt="Once upon a time", options=opts, raw=True, stream=False)
        assert raw.prompt_eval_count < r.prompt_eval_count  # no chat template around it

    def chat():
        msgs = [{"role": "user", "content": "Tell me a story about a cat."}]
        r = client.chat(model="stories", messages=msgs, options=opts, stream=False)
        assert r.done and r.message.role == "assistant" and r.message.content, r
        streamed = list(client.chat(model="stories", messages=msgs, options=opts, stream=True))
        assert "".join(p.message.content for p in streamed) == r.message.content
        assert streamed[-1].done and streamed[-1].eval_count == r.eval_count
        seeded = [client.chat(model="stories", messages=msgs, options={"temperature": 1.0, "seed": 7, "num_predict": 20},
                              stream=False).message.content for _ in range(2)]
        assert seeded[0] == seeded[1], seeded
        stop = r.message.content[5:9]
        cut = client.chat(model="stories", messages=msgs, options={**opts, "stop": [stop]}, stream=False)
        assert cut.message.content == r.message.content[:r.message.content.index(stop)], (cut.message.content, stop)

    def listings():
        tags = client.list()
        assert [m.model for m in tags.models] == ["stories"], tags
        assert tags.models[0].size > 0 and tags.models[0].details.format == "gguf"
        show = client.show("stories")
        assert show.details.family == "llama" and show.modelinfo["llama.block_count"] > 0, show
        ps = client.ps()
        assert [m.model for m in ps.models] == ["stories"], ps
        status, _, body = srv.request("GET", "/api/version")
        assert status == 200 and json.loads(body)["version"], body

    def errors():
        try:
            client.show("nonexistent-model")
            raise AssertionError("an unknown model was shown")
        except ollama.ResponseError as e:
            assert e.status_code == 404, e
        try:
            client.generate(model="stories", prompt="x", options={"top_k": -5})
            raise AssertionError("top_k -5 was accepted")
        except ollama.ResponseError as e:
            assert e.status_code == 400 and "top_k" in e.error, e
        status, _, body = srv.request("POST", "/api/chat", b"{oops")
        assert status == 400 and "error" in json.loads(body), body
        load = client.generate(model="stories", prompt="")  # loads the model: done at once
        assert load.done and load.done_reason == "load"

    for name, fn in [("generate, plain, streamed, raw", generate), ("chat, streamed, seeds, stop", chat),
                     ("tags, show, ps, version", listings), ("errors", errors)]:
        checks.run(name, fn)
    checks.run("KV blocks all free after", srv.wait_kv_free)
    checks.run("SIGTERM: exit 0", srv.stop)
    checks.finish()


if __name__ == "__main__":
    main()
