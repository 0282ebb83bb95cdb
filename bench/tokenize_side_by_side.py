#!/usr/bin/env python3
# tokenize_side_by_side: llmt-tokenize and llama-tokenize on the same vocabularies and text, timed in one run
#
#   python3 bench/tokenize_side_by_side.py --llmt _build/release/examples/llmt-tokenize \
#       --llama /path/to/llama-tokenize --text TEXT [--vocab-dir tests/data/vocab] [--repeats 3]
#
# Both tools run as whole processes (load + encode + print), best of --repeats. They get the same
# settings: no escape processing (llama-tokenize's default is to turn "\n" into a newline) and
# special tokens parsed (llama-tokenize's default). The ids must be identical: a mismatch is
# reported and the exit code is 1. llama-tokenize is not part of llmt; build it yourself.
import argparse
import glob
import os
import subprocess
import sys
import time


def best_of(cmd, repeats):
    best, out = None, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        dt = time.perf_counter() - t0
        if r.returncode != 0:
            sys.exit(f"{cmd[0]} failed ({r.returncode}): {r.stderr.strip()[-500:]}")
        best = dt if best is None else min(best, dt)
        out = r.stdout
    return best, out


def ids_of(text):
    return text.replace("[", " ").replace("]", " ").replace(",", " ").split()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llmt", required=True)
    ap.add_argument("--llama", required=True)
    ap.add_argument("--text", required=True)
    ap.add_argument("--vocab-dir", default=os.path.join(os.path.dirname(__file__), "..", "tests", "data", "vocab"))
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    mb = os.path.getsize(a.text) / 1e6
    print(f"text: {a.text} ({mb:.2f} MB); whole-process seconds, best of {a.repeats}")
    print(f"{'vocab':<36} {'llama-tokenize s':>16} {'llmt-tokenize s':>16} {'speedup':>8} {'llmt MB/s':>10}  ids")
    bad = 0
    for v in sorted(glob.glob(os.path.join(a.vocab_dir, "*.gguf"))):
        t_llama, o_llama = best_of([a.llama, "-m", v, "-f", a.text, "--ids", "--log-disable", "--no-escape"], a.repeats)
        t_llmt, o_llmt = best_of([a.llmt, "-m", v, "-f", a.text, "--ids", "--parse-special"], a.repeats)
        same = ids_of(o_llama) == ids_of(o_llmt)
        bad += not same
        print(f"{os.path.basename(v):<36} {t_llama:>16.3f} {t_llmt:>16.3f} {t_llama / t_llmt:>7.1f}x {mb / t_llmt:>10.1f}  "
              f"{'identical' if same else 'DIFFER'} ({len(ids_of(o_llmt))} tokens)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
