#!/usr/bin/env python3
# serve_bench: chat requests with a shared system prompt against an OpenAI-compatible URL at concurrency 1, 4, 16: tokens/s, TTFT, ITL
"""Usage: serve_bench.py URL [--concurrency 1,4,16] [--requests-per-client 4] [--max-tokens 64] [--json]

Every request is a streamed /v1/chat/completions with the same long system prompt and a user
message of its own, max_tokens sampled tokens (ignore_eos, temperature 0.8, a seed per request).
Reports per concurrency: generated tokens/s over the run, time to first token and inter-token
latency (p50, p99) as the client sees them. Works against llmt-server and llama-server."""
import argparse
import http.client
import json
import threading
import time
import urllib.parse

SYSTEM = ("You are a helpful storyteller who writes short, simple stories for young children. "
          "Use easy words, short sentences, friendly animals, and a happy ending. ") * 8
TOPICS = ["a cat and a ball", "a dog who lost his bone", "a little bird learning to fly", "a frog in the rain",
          "a girl and her red kite", "a boy who found a shell", "a bear who loved honey", "two friends at the park"]


def pct(v, p):
    if not v:
        return float("nan")
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100 * len(v)))]


def one(url, i, max_tokens, out):
    u = urllib.parse.urlparse(url)
    body = {"model": "m", "stream": True, "max_tokens": max_tokens, "temperature": 0.8, "seed": i, "ignore_eos": True,
            "messages": [{"role": "system", "content": SYSTEM},
                         {"role": "user", "content": f"Tell me a story about {TOPICS[i % len(TOPICS)]} (#{i})."}]}
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=600)
    t0 = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
    r = conn.getresponse()
    if r.status != 200:
        raise RuntimeError(f"HTTP {r.status}: {r.read()[:200]!r}")
    times, buf = [], b""
    while True:
        chunk = r.read1(65536)
        if not chunk:
            break
        buf += chunk
        while b"\n\n" in buf:
            ev, buf = buf.split(b"\n\n", 1)
            if not ev.startswith(b"data: ") or ev == b"data: [DONE]":
                continue
            j = json.loads(ev[6:])
            for c in j.get("choices", []):
                if (c.get("delta") or {}).get("content"):
                    times.append(time.perf_counter() - t0)
    conn.close()
    out.append(times)


def run(url, conc, per_client, max_tokens):
    results, errors = [], []

    def client(k):
        for j in range(per_client):
            try:
                one(url, 1000 * conc + k * per_client + j, max_tokens, results)
            except Exception as e:  # noqa: BLE001
                errors.append(str(e))

    t = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(conc)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    ttft = [r[0] * 1000 for r in results if r]
    itl = [(r[k] - r[k - 1]) * 1000 for r in results for k in range(1, len(r))]
    tokens = sum(len(r) for r in results)
    return {"concurrency": conc, "requests": len(results), "errors": len(errors), "tokens": tokens, "seconds": wall,
            "tokens_per_s": tokens / wall, "ttft_p50_ms": pct(ttft, 50), "ttft_p99_ms": pct(ttft, 99),
            "itl_p50_ms": pct(itl, 50), "itl_p99_ms": pct(itl, 99)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("url")
    ap.add_argument("--concurrency", default="1,4,16")
    ap.add_argument("--requests-per-client", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    one(a.url, 0, 4, [])  # warm-up: the system prompt gets cached where the server caches prefixes
    rows = [run(a.url, int(c), a.requests_per_client, a.max_tokens) for c in a.concurrency.split(",")]
    if a.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{a.url}: {a.requests_per_client} requests per client, {a.max_tokens} tokens each")
    print("| conc | requests | errors | tokens/s | TTFT p50 ms | TTFT p99 ms | ITL p50 ms | ITL p99 ms |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['concurrency']} | {r['requests']} | {r['errors']} | {r['tokens_per_s']:.1f} | {r['ttft_p50_ms']:.0f} | "
              f"{r['ttft_p99_ms']:.0f} | {r['itl_p50_ms']:.1f} | {r['itl_p99_ms']:.1f} |")


if __name__ == "__main__":
    main()
