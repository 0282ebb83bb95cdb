#!/usr/bin/env python3
"""perplexity_check: llmt-perplexity against a committed llama-perplexity result.

  perplexity_check.py LLMT_PERPLEXITY MODEL TEXT REF [TOLERANCE]

REF holds a '# args: ...' line (the options both tools were run with, after -m and -f), the running
estimates '[1]x,[2]y,...' and 'Final estimate: PPL = p +/- e' as llama-perplexity printed them. Every
running estimate, the final PPL and its error must be within TOLERANCE (relative, default 1e-3).
"""
import re
import shlex
import subprocess
import sys


def parse(text):
    runs = [float(v) for v in re.findall(r"\[\d+\]([0-9.]+),", text)]
    m = re.search(r"Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)", text)
    if not m:
        sys.exit(f"perplexity_check: no 'Final estimate' in:\n{text[-2000:]}")
    return runs, float(m.group(1)), float(m.group(2))


def main():
    exe, model, text, ref = sys.argv[1:5]
    tol = float(sys.argv[5]) if len(sys.argv) > 5 else 1e-3
    with open(ref, encoding="utf-8") as f:
        ref_text = f.read()
    args = shlex.split(re.search(r"^# args: (.*)$", ref_text, re.M).group(1))
    cmd = [exe, "-m", model, "-f", text] + args
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"perplexity_check: {shlex.join(cmd)} exited {res.returncode}:\n{res.stderr}")
    want_runs, want_ppl, want_err = parse(ref_text)
    got_runs, got_ppl, got_err = parse(res.stdout)
    bad = []
    if len(got_runs) != len(want_runs):
        bad.append(f"{len(got_runs)} running estimates, llama-perplexity printed {len(want_runs)}")
    worst = 0.0
    for i, (g, w) in enumerate(zip(got_runs, want_runs)):
        rel = abs(g - w) / w
        worst = max(worst, rel)
        if rel > tol:
            bad.append(f"chunk {i + 1}: {g} against {w} (relative {rel:.2e})")
    for name, g, w in (("PPL", got_ppl, want_ppl), ("its error", got_err, want_err)):
        if abs(g - w) / w > tol:
            bad.append(f"final {name}: {g} against {w} (relative {abs(g - w) / w:.2e})")
    print(f"perplexity_check: {len(got_runs)} chunks, PPL {got_ppl} +/- {got_err} (llama-perplexity {want_ppl} +/- "
          f"{want_err}), worst running estimate {worst:.2e} relative")
    if bad:
        sys.exit("perplexity_check: beyond the tolerance of {}:\n  ".format(tol) + "\n  ".join(bad[:20]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
