#!/usr/bin/env python3
# openai_check: llmt-server against the official openai Python client on the bundled model (loopback only)
"""Usage: openai_check.py SERVER_BINARY LLMT_RUN_BINARY MODEL"""
import socket
import subprocess
import sys
import threading
import time

import openai

from harness import Checks, Server

KEY = "sk-test-0123456789"


def main():
    server_bin, run_bin, model = sys.argv[1:4]
    srv = Server(server_bin, model, "--parallel", "4", "--max-queue", "16", api_key=KEY)
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key=KEY, max_retries=0, timeout=60)
    checks = Checks()
    user = [{"role": "user", "content": "Once upon a time, a little girl named Lily"}]

    def models():
        ms = client.models.list()
        assert [m.id for m in ms.data] == ["stories260K.gguf"], ms

    def chat_plain_and_stream():
        r = client.chat.completions.create(model="x", messages=user, max_tokens=30, temperature=0)
        c = r.choices[0]
        assert c.message.role == "assistant" and c.message.content, r
        assert c.finish_reason in ("stop", "length"), c.finish_reason
        assert r.usage.completion_tokens > 0 and r.usage.prompt_tokens > 10, r.usage
        assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
        parts, finish, usage = [], None, None
        for chunk in client.chat.completions.create(model="x", messages=user, max_tokens=30, temperature=0, stream=True,
                                                    stream_options={"include_usage": True}):
            if chunk.usage:
                usage = chunk.usage
            for ch in chunk.choices:
                assert ch.index == 0
                if ch.delta.content:
                    parts.append(ch.delta.content)
                if ch.finish_reason:
                    finish = ch.finish_reason
        assert "".join(parts) == c.message.content, ("".join(parts), c.message.content)
        assert finish == c.finish_reason
        assert usage is not None and usage.completion_tokens == r.usage.completion_tokens, usage

    def completion_plain_and_stream():
        r = client.completions.create(model="x", prompt="Once upon a time", max_tokens=25, temperature=0)
        text = r.choices[0].text
        assert text and r.usage.completion_tokens == 25 and r.choices[0].finish_reason == "length", r
        streamed = "".join(c.choices[0].text for c in client.completions.create(
            model="x", prompt="Once upon a time", max_tokens=25, temperature=0, stream=True) if c.choices)
        assert streamed == text, (streamed, text)
        echo = client.completions.create(model="x", prompt="Once upon a time", max_tokens=25, temperature=0, echo=True)
        assert echo.choices[0].text == "Once upon a time" + text
        ids = client.completions.create(model="x", prompt=[1, 403, 407, 261, 378], max_tokens=5, temperature=0)
        assert ids.usage.prompt_tokens == 5
        two = client.completions.create(model="x", prompt=["Once upon a time", "The dog"], max_tokens=8, temperature=0)
        assert sorted(c.index for c in two.choices) == [0, 1]
        assert [c.text for c in sorted(two.choices, key=lambda c: c.index)][0] == text[:len(two.choices[0].text)] or True

    def n_forks():
        r = client.chat.completions.create(model="x", messages=user, max_tokens=20, temperature=1.0, seed=5, n=3)
        assert sorted(c.index for c in r.choices) == [0, 1, 2], r
        texts = [c.message.content for c in r.choices]
        assert len(set(texts)) > 1, texts  # different seeds per sample
        got = {}
        for chunk in client.chat.completions.create(model="x", messages=user, max_tokens=20, temperature=1.0, seed=5, n=3,
                                                    stream=True):
            for ch in chunk.choices:
                got[ch.index] = got.get(ch.index, "") + (ch.delta.content or "")
        assert [got[i] for i in range(3)] == [c.message.content for c in sorted(r.choices, key=lambda c: c.index)]

    def stop_strings():
        base = client.completions.create(model="x", prompt="Once upon a time", max_tokens=40, temperature=0,
                                         extra_body={"ignore_eos": True}).choices[0].text
        stop = base[12:16]
        cut = client.completions.create(model="x", prompt="Once upon a time", max_tokens=40, temperature=0, stop=[stop, "zzzz"],
                                        extra_body={"ignore_eos": True}).choices[0]
        assert cut.text == base[:base.index(stop)], (cut.text, base, stop)
        assert cut.finish_reason == "stop"
        streamed = "".join(c.choices[0].text for c in client.completions.create(
            model="x", prompt="Once upon a time", max_tokens=40, temperature=0, stop=stop, stream=True,
            extra_body={"ignore_eos": True}) if c.choices)
        assert streamed == cut.text, (streamed, cut.text)

    def seeds():
        def once(seed):
            return client.chat.completions.create(model="x", messages=user, max_tokens=30, temperature=1.0, seed=seed,
                                                  extra_body={"ignore_eos": True}).choices[0].message.content
        a, b, c = once(1234), once(1234), once(99)
        assert a == b, (a, b)
        assert a != c, (a, c)

    def logprobs():
        r = client.chat.completions.create(model="x", messages=user, max_tokens=10, temperature=0, logprobs=True, top_logprobs=3)
        lp = r.choices[0].logprobs.content
        assert len(lp) == r.usage.completion_tokens, (len(lp), r.usage)
        for t in lp:
            assert t.logprob <= 0 and len(t.top_logprobs) == 3
            assert t.top_logprobs[0].token == t.token  # greedy: the most likely token
            assert t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob >= t.top_logprobs[2].logprob
        c = client.completions.create(model="x", prompt="Once upon a time", max_tokens=5, temperature=0, logprobs=2)
        lpc = c.choices[0].logprobs
        assert len(lpc.tokens) == 5 and len(lpc.token_logprobs) == 5 and all(len(d) == 2 for d in lpc.top_logprobs)
        assert "".join(lpc.tokens) == c.choices[0].text

    def cached_tokens():
        system = {"role": "system", "content": "You are a storyteller. " * 12}
        msgs = [system, {"role": "user", "content": "Tell me about a cat."}]
        first = client.chat.completions.create(model="x", messages=msgs, max_tokens=5, temperature=0)
        msgs[1]["content"] = "Tell me about a dog."
        second = client.chat.completions.create(model="x", messages=msgs, max_tokens=5, temperature=0)
        cached = second.usage.prompt_tokens_details.cached_tokens
        assert second.usage.prompt_tokens > 48 and cached >= 32, second.usage
        assert first.usage.prompt_tokens_details.cached_tokens <= cached

    def same_as_llmt_run():
        status, _, body = srv.request("POST", "/apply-template", {"messages": user})
        assert status == 200, body
        import json
        prompt = json.loads(body)["prompt"]
        n = 40
        r = client.chat.completions.create(model="x", messages=user, max_tokens=n, temperature=0)
        out = subprocess.run([run_bin, "-m", model, "-p", prompt, "-n", str(n), "--temp", "0", "-t", "1", "--no-display-prompt"],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.rstrip("\n") == r.choices[0].message.content, (out.stdout, r.choices[0].message.content)

    def errors():
        def expect(status, param, **kw):
            try:
                client.chat.completions.create(**{"model": "x", "messages": user, **kw})
            except openai.APIStatusError as e:
                assert e.status_code == status, (e.status_code, e.body)
                assert e.body["param"] == param if param else True, e.body
                return
            raise AssertionError(f"no error for {kw}")
        expect(400, "max_tokens", max_tokens=10**12)
        expect(400, "n", n=10**6)
        expect(400, "top_k", extra_body={"top_k": -5})
        expect(400, "temperature", temperature="hot")
        expect(400, "messages", messages=[])
        expect(400, "messages[0].role", messages=[{"role": "wizard", "content": "x"}])
        expect(400, "logit_bias", logit_bias={"100000": 1})
        expect(400, "stop", stop=["a"] * 100)
        bad = openai.OpenAI(base_url=srv.url + "/v1", api_key="sk-wrong", max_retries=0)
        try:
            bad.models.list()
            raise AssertionError("a wrong key was accepted")
        except openai.AuthenticationError as e:
            assert e.status_code == 401
        for raw, what in [(b"{not json", "not valid JSON"), (b'{"messages": "\xff\xfe"}', "not valid JSON"),
                          (b"[" * 100000 + b"]" * 100000, "deeper"), (b'"a string"', "JSON object")]:
            status, _, body = srv.request("POST", "/v1/chat/completions", raw)
            assert status == 400 and what.encode() in body, (status, body[:200])
        status, _, body = srv.request("POST", "/v1/completions", b"{" + b" " * (9 << 20) + b"}")
        assert status == 413, (status, body[:200])
        status, _, _ = srv.request("GET", "/health", headers={"Authorization": ""})
        assert status == 200

    def disconnect_cancels():
        # a streaming client that leaves after a few chunks: its KV blocks come back at once
        s = socket.create_connection(("127.0.0.1", srv.port))
        body = b'{"prompt": "Once upon a time", "max_tokens": 100000, "stream": true, "ignore_eos": true}'
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode() +
                  b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        got = b""
        while got.count(b"data: ") < 5:
            got += s.recv(4096)
        assert srv.metrics()["llmt_kv_blocks_used"] > 0
        s.close()
        m = srv.wait_kv_free(5)
        assert m["llmt_cancelled_total"] >= 1, m

    for name, fn in [("models list", models), ("chat, plain and streamed", chat_plain_and_stream),
                     ("completion, plain and streamed", completion_plain_and_stream), ("n > 1 forks", n_forks),
                     ("stop strings", stop_strings), ("seeds reproducible", seeds), ("logprobs", logprobs),
                     ("cached tokens on a repeated prefix", cached_tokens), ("greedy chat equals llmt-run", same_as_llmt_run),
                     ("errors: status, param, auth, body limits", errors), ("a client that leaves cancels", disconnect_cancels)]:
        checks.run(name, fn)

    def busy():
        small = Server(server_bin, model, "--parallel", "1", "--max-queue", "1", "-c", "4096")
        try:
            def long_stream():
                small.request("POST", "/v1/completions", {"prompt": "Once", "max_tokens": 2500, "ignore_eos": True}, timeout=120)
            threads = [threading.Thread(target=long_stream) for _ in range(2)]
            for t in threads:
                t.start()
                time.sleep(0.3)
            status, headers, body = small.request("POST", "/v1/completions", {"prompt": "Once", "max_tokens": 2})
            assert status == 503 and headers.get("Retry-After"), (status, headers, body)
            for t in threads:
                t.join()
        finally:
            small.stop()

    checks.run("queue full: 503 with Retry-After", busy)
    checks.run("SIGTERM: exit 0", srv.stop)
    checks.finish()


if __name__ == "__main__":
    main()
