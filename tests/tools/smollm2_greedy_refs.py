#!/usr/bin/env python3
"""smollm2_greedy_refs: greedy continuations from a running llama-server, for tests/data/smollm2/.

Made tests/data/smollm2/greedy_llamacpp.json with llama.cpp's llama-server (vendored in
llama-cpp-python 0.3.36, CPU build), started by hand as

  llama-server -m _build/models/SmolLM2-135M-Instruct.Q4_1.gguf --port 18731 -t 1 -c 2048 --jinja -np 1
  python3 tests/tools/smollm2_greedy_refs.py http://localhost:18731 tests/data/smollm2/greedy_llamacpp.json

For a chat case the prompt is the file's Jinja chat template rendered by llama-server (/apply-template,
with the generation prompt); every prompt is tokenized by /tokenize with add_special and parse_special
(as /completion does), and /completion continues it greedily (top-k 1, EOS ignored) for N_PREDICT tokens,
with the gap between the log-probabilities of its two best tokens at each step (margins).
"""
import json
import sys
import urllib.request

N_PREDICT = 24
CASES = [
    {"name": "plain-france", "prompt": "The capital of France is"},
    {"name": "plain-code", "prompt": "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n"},
    {"name": "plain-story", "prompt": "Once upon a time, in a small village by the sea,"},
    {"name": "chat-capital", "messages": [{"role": "user", "content": "What is the capital of France?"}]},
    {"name": "chat-system-haiku", "messages": [{"role": "system", "content": "You are a helpful assistant."},
                                               {"role": "user", "content": "Write a haiku about the sea."}]},
    {"name": "chat-multi-turn", "messages": [{"role": "user", "content": "Hi!"},
                                             {"role": "assistant", "content": "Hello! How can I help you today?"},
                                             {"role": "user", "content": "List three primary colors."}]},
]


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def main():
    base, out = sys.argv[1:3]
    cases = []
    for c in CASES:
        c = dict(c)
        if "messages" in c:
            c["prompt"] = post(base + "/apply-template", {"messages": c["messages"]})["prompt"]
        c["prompt_tokens"] = post(base + "/tokenize", {"content": c["prompt"], "add_special": True,
                                                        "parse_special": True})["tokens"]
        r = post(base + "/completion", {"prompt": c["prompt"], "n_predict": N_PREDICT, "temperature": 0.0,
                                        "top_k": 1, "samplers": ["top_k"], "ignore_eos": True,
                                        "cache_prompt": False, "return_tokens": True, "seed": 0, "n_probs": 2})
        c["tokens"] = r["tokens"]
        c["text"] = r["content"]
        # llama.cpp's own margin at each step: log p(top 1) - log p(top 2)
        c["margins"] = [round(p["top_logprobs"][0]["logprob"] - p["top_logprobs"][1]["logprob"], 4)
                        for p in r["completion_probabilities"]]
        assert len(c["tokens"]) == N_PREDICT, r
        cases.append(c)
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"model": "SmolLM2-135M-Instruct.Q4_1.gguf (scripts/fetch_models.py smollm2)",
                   "made_by": "tests/tools/smollm2_greedy_refs.py (its docstring has the commands)",
                   "n_predict": N_PREDICT, "cases": cases}, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
