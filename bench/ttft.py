#!/usr/bin/env python3
# ttft: time from process start to the first generated token, llmt-run against llama.cpp's llama-completion
#
#   python3 bench/ttft.py --llmt _build/release/examples/llmt-run --llama /path/to/llama-completion \
#       -m MODEL.gguf [-t 2] [-p "Once upon a time"] [--repeats 5]
#
# Each tool runs as a whole process that loads the model, evaluates the prompt, generates one token
# and exits; the wall time of that process bounds its time to first token from above, the same way
# for both. The page cache is warmed by one untimed run of each first, so both read a cached file.
# llama-completion runs twice: with its default warm-up pass and with --no-warmup. Peak RSS of each
# run comes from wait4(). llama-completion is not part of llmt; build it yourself.
import argparse
import os
import statistics
import subprocess
import sys
import time


def timed(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd[0]} failed: {err.strip()[-800:]}")
    return dt, usage.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llmt", required=True)
    ap.add_argument("--llama", required=True, help="llama-completion")
    ap.add_argument("-m", "--model", required=True)
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("-p", "--prompt", default="Once upon a time")
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    t = str(a.threads)
    runs = {
        "llmt-run": [a.llmt, "-m", a.model, "-p", a.prompt, "-n", "1", "-t", t, "--temp", "0"],
        "llama-completion": [a.llama, "-m", a.model, "-p", a.prompt, "-n", "1", "-t", t, "--temp", "0", "-no-cnv"],
        "llama-completion --no-warmup": [a.llama, "-m", a.model, "-p", a.prompt, "-n", "1", "-t", t, "--temp", "0", "-no-cnv",
                                         "--no-warmup"],
    }
    print(f"model {a.model}, {a.threads} threads, prompt {a.prompt!r}; median of {a.repeats} whole-process runs")
    print(f"{'tool':<30} {'median s':>9} {'min s':>7} {'peak RSS MiB':>13}")
    for name, cmd in runs.items():
        timed(cmd)  # warm the page cache
        samples = [timed(cmd) for _ in range(a.repeats)]
        secs = [s for s, _ in samples]
        print(f"{name:<30} {statistics.median(secs):>9.3f} {min(secs):>7.3f} {max(r for _, r in samples):>13.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
