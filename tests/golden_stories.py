#!/usr/bin/env python3
"""golden_stories: llmt-run on a stories260K file against llama.cpp's greedy tokens, text and logits.

Usage: golden_stories.py LLMT_RUN MODEL REF_LOGITS REF_COMPLETION TOLERANCE WORKDIR [LLMT_RUN FLAGS...]
Runs `llmt-run --temp 0 -n 64` on "Once upon a time" three ways (text, --ids, --dump-logits) and
checks: the ids equal the greedy_generated_tokens header of REF_LOGITS; the text equals
REF_COMPLETION (llama.cpp prints a leading space and trailing newlines: compared stripped); the
dump has the same positions and input tokens as REF_LOGITS and every logit within TOLERANCE.
"""
import os
import subprocess
import sys


def read_dump(path):
    headers, positions = {}, []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                key, _, value = line[2:].partition(" ")
                headers[key] = value
            elif line.startswith("prompt ") or line.startswith("gen "):
                w = line.split()
                positions.append({"kind": w[0], "pos": int(w[2]), "input": int(w[4]), "argmax": int(w[6]), "logits": []})
            elif line.strip():
                positions[-1]["logits"].extend(float(x) for x in line.split())
    return headers, positions


def main():
    run, model, ref_logits, ref_completion, tol, workdir = sys.argv[1:7]
    extra = sys.argv[7:]
    tol = float(tol)
    os.makedirs(workdir, exist_ok=True)
    base = [run, "-m", model, "-p", "Once upon a time", "-n", "64", "--temp", "0", "-t", "1"] + extra
    failures = []

    ids = subprocess.run(base + ["--ids"], check=True, capture_output=True, text=True).stdout.split()
    ref_headers, ref_positions = read_dump(ref_logits)
    want = ref_headers["greedy_generated_tokens"].split()
    if ids != want:
        failures.append(f"tokens differ:\n  llmt      {' '.join(ids)}\n  llama.cpp {' '.join(want)}")

    text = subprocess.run(base, check=True, capture_output=True, text=True).stdout
    with open(ref_completion) as f:
        want_text = f.read()
    if text.strip() != want_text.strip():
        failures.append(f"text differs:\n  llmt      {text.strip()!r}\n  llama.cpp {want_text.strip()!r}")

    dump = os.path.join(workdir, os.path.basename(model) + "".join(extra).replace("-", "_") + ".logits.txt")
    subprocess.run(base + ["--dump-logits", dump], check=True, capture_output=True, text=True)
    headers, positions = read_dump(dump)
    if headers.get("prompt_tokens") != ref_headers["prompt_tokens"]:
        failures.append(f"prompt tokens {headers.get('prompt_tokens')} != {ref_headers['prompt_tokens']}")
    if headers.get("greedy_generated_tokens") != ref_headers["greedy_generated_tokens"]:
        failures.append("the dump's greedy_generated_tokens differ from llama.cpp's")
    if len(positions) != len(ref_positions):
        failures.append(f"{len(positions)} positions dumped, llama.cpp has {len(ref_positions)}")
    worst = 0.0
    for mine, ref in zip(positions, ref_positions):
        if (mine["kind"], mine["pos"], mine["input"]) != (ref["kind"], ref["pos"], ref["input"]):
            failures.append(f"position header {mine['kind']} {mine['pos']} {mine['input']} != {ref['kind']} {ref['pos']} {ref['input']}")
            break
        if len(mine["logits"]) != len(ref["logits"]):
            failures.append(f"pos {mine['pos']}: {len(mine['logits'])} logits, expected {len(ref['logits'])}")
            break
        d = max(abs(a - b) for a, b in zip(mine["logits"], ref["logits"]))
        worst = max(worst, d)
    print(f"{os.path.basename(model)} {' '.join(extra)}: max |llmt - llama.cpp| logit over {len(positions)} positions = {worst:.3g} (tolerance {tol})")
    if worst > tol:
        failures.append(f"logits differ by {worst:.3g} > {tol}")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
