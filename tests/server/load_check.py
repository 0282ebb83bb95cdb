#!/usr/bin/env python3
# load_check: 64 concurrent streaming clients for a while: 0 errors, well-formed streams, KV blocks back to 0; killed clients leave nothing
"""Usage: load_check.py SERVER_BINARY MODEL [SECONDS] [CLIENTS]"""
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

from harness import Checks, Server


def stream_once(port, rng, errors, counts):
    """One streamed chat or completion; checks the SSE framing and the chunks."""
    chat = rng.random() < 0.5
    n_tok = rng.randint(5, 120)
    body = {"max_tokens": n_tok, "stream": True, "temperature": rng.choice([0, 0.8]), "seed": rng.randint(0, 1 << 30),
            "stream_options": {"include_usage": True}, "ignore_eos": True}
    if chat:
        body["messages"] = [{"role": "system", "content": "You tell short stories."},
                            {"role": "user", "content": rng.choice(["A cat", "A dog", "The sea", "A tree"]) + " and a ball."}]
        path = "/v1/chat/completions"
    else:
        body["prompt"] = rng.choice(["Once upon a time", "The little girl", "One day, a boy"])
        path = "/v1/completions"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        r = conn.getresponse()
        if r.status != 200:
            errors.append(f"status {r.status}: {r.read()[:200]!r}")
            return
        data = r.read().decode()
    except Exception as e:  # noqa: BLE001
        errors.append(f"{type(e).__name__}: {e}")
        return
    finally:
        conn.close()
    events = data.split("\n\n")
    if events[-1] != "" or events[-2] != "data: [DONE]":
        errors.append(f"the stream does not end with data: [DONE]: {data[-200:]!r}")
        return
    text, finish, usage = "", None, None
    for ev in events[:-2]:
        if not ev.startswith("data: ") or "\n" in ev:
            errors.append(f"a malformed event: {ev[:200]!r}")
            return
        chunk = json.loads(ev[6:])
        if chunk.get("usage"):
            usage = chunk["usage"]
        for ch in chunk["choices"]:
            text += (ch["delta"].get("content") or "") if chat else ch["text"]
            if ch["finish_reason"]:
                if finish:
                    errors.append("two finish reasons")
                finish = ch["finish_reason"]
    if finish != "length" or not usage or usage["completion_tokens"] != n_tok:
        errors.append(f"finish {finish}, usage {usage}, asked {n_tok}")
        return
    counts[0] += 1
    counts[1] += usage["completion_tokens"]


def clients(port, n, seconds, seed):
    errors, counts = [], [0, 0]
    stop_at = time.time() + seconds

    def loop(i):
        rng = random.Random(seed * 1000 + i)
        while time.time() < stop_at:
            stream_once(port, rng, errors, counts)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors, counts


def main():
    server_bin, model = sys.argv[1:3]
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 60
    n_clients = int(sys.argv[4]) if len(sys.argv) > 4 else 64
    if len(sys.argv) > 5 and sys.argv[5] == "--killed-clients":  # the child of the kill check
        clients(int(os.environ["LLMT_PORT"]), n_clients, seconds, 7)
        return
    srv = Server(server_bin, model, "--parallel", "16", "--max-queue", str(n_clients), "-c", "512")
    checks = Checks()

    def load():
        t = time.time()
        errors, counts = clients(srv.port, n_clients, seconds, 1)
        wall = time.time() - t
        print(f"     {n_clients} clients, {wall:.1f} s: {counts[0]} streams, {counts[1]} tokens, "
              f"{counts[1] / wall:.0f} tokens/s, {len(errors)} errors", flush=True)
        assert not errors, errors[:5]
        assert counts[0] >= n_clients
        m = srv.wait_kv_free(10)
        assert m["llmt_requests_queued"] == 0, m

    def killed():
        env = dict(os.environ, LLMT_PORT=str(srv.port))
        child = subprocess.Popen([sys.executable, __file__, server_bin, model, "30", "32", "--killed-clients"], env=env)
        deadline = time.time() + 20
        while srv.metrics()["llmt_requests_running"] < 8:
            assert time.time() < deadline, "the clients did not start"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait()
        m = srv.wait_kv_free(10)
        assert m["llmt_cancelled_total"] > 0, m
        assert m["llmt_scheduler_sequences_running"] == 0 and m["llmt_requests_queued"] == 0, m

    checks.run(f"{n_clients} streaming clients for {seconds:g} s", load)
    checks.run("clients killed mid-stream leave nothing behind", killed)
    checks.run("SIGTERM: exit 0", srv.stop)
    checks.finish()


if __name__ == "__main__":
    main()
