#!/usr/bin/env python3
"""The JSON contracts of the benchmarks (issue texts name the fields other scripts read).

  bench_json_check.py kernels LLMT_KERNELS   llmt-kernels --json: one record per measurement, the
                                             named fields, values consistent with each other
  bench_json_check.py bench LLMT_BENCH MODEL llmt-bench -o json / jsonl / csv: llama-bench's field
                                             names for what the two share, samples per repetition
  bench_json_check.py batched LLMT_BATCHED_BENCH MODEL  llmt-batched-bench: llama-batched-bench's
                                             table columns and jsonl fields, N_KV and speeds consistent
"""
import csv
import io
import json
import math
import os
import subprocess
import sys
import tempfile


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def close(a, b, rel):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-30)


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    if p.returncode != 0:
        fail(f"{' '.join(cmd)} exited with {p.returncode}: {p.stderr.strip()[-500:]}")
    return p.stdout


def check_kernels(exe):
    with open("/proc/cpuinfo") as f:
        isas = ("scalar", "avx2") if " avx2" in f.read() else ("scalar",)
    row_bytes = {"q4_0": lambda c: c // 32 * 18, "f16": lambda c: c * 2}
    rows, cols = 256, 1024
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "k.json")
        text = run([exe, "--types", "q4_0,f16", "--sizes", f"{rows}x{cols}", "--threads", "1,2", "--batches", "4",
                    "--ws-mb", "16", "--min-time", "0.01", "--isa", ",".join(isas), "--json", out])
        with open(out) as f:
            recs = json.load(f)
    required = ["kernel", "type", "rows", "cols", "batch", "threads", "seconds", "gbps", "bw_fraction", "gflops", "isa"]
    for r in recs:
        for k in required:
            if k not in r:
                fail(f"record {r} has no field {k}")
    reads = [r for r in recs if r["kernel"] == "read"]
    if sorted(r["threads"] for r in reads) != [1, 2]:
        fail(f"expected a read-bandwidth record per thread count, got {reads}")
    for r in reads:
        if not (r["gbps"] > 0 and r["bw_fraction"] == 1):
            fail(f"read record {r}")
    seen = set()
    for r in recs:
        if r["kernel"] not in ("matvec", "matmul"):
            continue
        t, n = r["type"], r["rows"]
        seen.add((r["kernel"], t, r["threads"], r["isa"]))
        if r["cols"] != cols or t not in row_bytes:
            fail(f"unexpected record {r}")
        if not (r["seconds"] > 0 and r["gbps"] > 0 and r["gflops"] > 0 and r["bw_fraction"] > 0 and r["bw_gbps"] > 0):
            fail(f"non-positive measurement in {r}")
        if not close(r["gbps"] * 1e9 * r["seconds"], n * row_bytes[t](cols), 1e-3):
            fail(f"gbps x seconds is not the weight bytes of one call in {r}")
        if not close(r["gflops"] * 1e9 * r["seconds"], 2 * n * cols * r["batch"], 1e-3):
            fail(f"gflops x seconds is not 2 x rows x cols x batch in {r}")
        if not close(r["bw_fraction"], r["gbps"] / r["bw_gbps"], 1e-3):
            fail(f"bw_fraction is not gbps / bw_gbps in {r}")
        if r["kernel"] == "matvec":
            if r["batch"] != 1 or r["rows"] != rows:
                fail(f"matvec record {r}")
            if not (r["gbps_mean"] > 0 and r["gbps_mean"] <= r["gbps"] * (1 + 1e-6) and r["bw_fraction_mean"] > 0):
                fail(f"mean of the sweeps should be positive and at most the best sweep in {r}")
        elif r["batch"] != 4:
            fail(f"matmul record {r}")
    for kernel in ("matvec", "matmul"):
        for t in row_bytes:
            for th in (1, 2):
                for isa in isas:
                    if (kernel, t, th, isa) not in seen:
                        fail(f"no {kernel} record for {t}, {th} threads, {isa}")
    for line in ("read bandwidth, 1 thread:", "read bandwidth, 2 threads:", "matvec  q4_0", "matmul  f16"):
        if line not in text:
            fail(f"text output lacks '{line}'")
    print(f"ok: {len(recs)} llmt-kernels records")


def check_bench(exe, model):
    shared = ["model_filename", "model_type", "model_size", "model_n_params", "n_prompt", "n_gen", "n_threads",
              "avg_ts", "stddev_ts", "samples_ts", "avg_ns", "stddev_ns", "samples_ns", "test_time", "n_batch"]
    extra = ["bytes_per_token", "mem_read_bw_gbps", "bw_fraction", "load_seconds", "peak_rss_bytes", "paired_bw_gbps",
             "paired_bw_fraction"]
    base = [exe, "-m", model, "-p", "8", "-n", "4", "-pg", "8,4", "-t", "1,2", "-r", "3"]
    recs = json.loads(run(base + ["-o", "json"]))
    want = {(8, 0, 1), (8, 0, 2), (0, 4, 1), (0, 4, 2), (8, 4, 1), (8, 4, 2)}
    got = {(r["n_prompt"], r["n_gen"], r["n_threads"]) for r in recs}
    if got != want or len(recs) != len(want):
        fail(f"tests (n_prompt, n_gen, n_threads): got {sorted(got)}, want {sorted(want)}")
    for r in recs:
        for k in shared + extra:
            if k not in r:
                fail(f"llmt-bench JSON record lacks {k}: {r}")
        if r["model_filename"] != model or r["model_n_params"] <= 0 or r["model_size"] <= 0:
            fail(f"model fields in {r}")
        ts = r["samples_ts"]
        if len(ts) != 3 or len(r["samples_ns"]) != 3:
            fail(f"-r 3 should give 3 samples: {r}")
        n_tok = r["n_prompt"] + r["n_gen"]
        for t, ns in zip(ts, r["samples_ns"]):
            if not close(t, 1e9 * n_tok / ns, 1e-2):
                fail(f"samples_ts and samples_ns disagree in {r}")
        mean = sum(ts) / len(ts)
        sd = math.sqrt(sum((x - mean) ** 2 for x in ts) / (len(ts) - 1))
        if not close(r["avg_ts"], mean, 1e-4) or abs(r["stddev_ts"] - sd) > 1e-3 * max(mean, 1):
            fail(f"avg_ts / stddev_ts are not the mean / sample stddev of samples_ts in {r}")
        if r["bytes_per_token"] <= 0 or r["mem_read_bw_gbps"] <= 0 or r["peak_rss_bytes"] <= 0:
            fail(f"extra columns in {r}")
        if r["n_prompt"] == 0:
            bound = r["mem_read_bw_gbps"] * 1e9 / r["bytes_per_token"]
            if not close(r["bw_fraction"], r["avg_ts"] / bound, 1e-2):
                fail(f"bw_fraction is not avg_ts / (bandwidth / bytes per token) in {r}")
            # read passes between the tokens: a bound of their own
            paired = r["paired_bw_gbps"] * 1e9 / r["bytes_per_token"]
            if not (r["paired_bw_gbps"] > 0 and close(r["paired_bw_fraction"], r["avg_ts"] / paired, 1e-2)):
                fail(f"paired_bw_fraction is not avg_ts / (paired bandwidth / bytes per token) in {r}")
        elif r["paired_bw_gbps"] != 0 or r["paired_bw_fraction"] != 0:
            fail(f"a test with a prompt has no paired bandwidth: {r}")
    lines = [json.loads(x) for x in run(base + ["-o", "jsonl", "--no-bandwidth"]).splitlines() if x.strip()]
    if len(lines) != len(want) or any("avg_ts" not in r for r in lines):
        fail(f"jsonl: expected {len(want)} records with avg_ts")
    rows = list(csv.DictReader(io.StringIO(run(base + ["-o", "csv", "--no-bandwidth"]))))
    if len(rows) != len(want) or any(k not in rows[0] for k in ("model_filename", "n_prompt", "n_gen", "avg_ts")):
        fail(f"csv: expected {len(want)} rows with llama-bench's columns")
    md = run(base + ["-o", "md", "--no-bandwidth"])
    for name in ("pp8", "tg4", "pp8+tg4"):
        if name not in md:
            fail(f"md output lacks the test {name}")
    # -d: the tests run after N tokens already in the cache, named as llama-bench names them
    deep = [json.loads(l) for l in run([exe, "-m", model, "-p", "8", "-n", "4", "-d", "0,16", "-t", "1", "-r", "1",
                                        "-o", "jsonl", "--no-bandwidth"]).splitlines() if l.strip()]
    if sorted((r["n_prompt"], r["n_gen"], r["n_depth"]) for r in deep) != [(0, 4, 0), (0, 4, 16), (8, 0, 0), (8, 0, 16)]:
        fail(f"-d 0,16: got {[(r['n_prompt'], r['n_gen'], r['n_depth']) for r in deep]}")
    if "tg4 @ d16" not in run([exe, "-m", model, "-p", "0", "-n", "4", "-d", "16", "-r", "1", "--no-bandwidth"]):
        fail("md output lacks the test 'tg4 @ d16'")
    print(f"ok: llmt-bench json, jsonl, csv, md, -d ({len(recs)} tests)")


def check_batched(exe, model):
    md = run([exe, "-m", model, "-c", "256", "-npp", "8,16", "-ntg", "4", "-npl", "1,2,3", "-t", "1"])
    header = "|    PP |     TG |    B |   N_KV |   T_PP s | S_PP t/s |   T_TG s | S_TG t/s |      T s |    S t/s |"
    if header not in md:
        fail(f"llmt-batched-bench md lacks llama-batched-bench's header: {md}")
    rows = [l for l in md.splitlines() if l.startswith("|") and l.split("|")[1].strip().isdigit()]
    if len(rows) != 6:
        fail(f"expected 6 rows (2 PP x 1 TG x 3 B), got {len(rows)}: {md}")
    fields = ["n_kv_max", "n_batch", "n_ubatch", "is_pp_shared", "n_threads", "pp", "tg", "pl", "n_kv", "t_pp",
              "speed_pp", "t_tg", "speed_tg", "t", "speed"]
    for pps in ([], ["-pps"]):
        out = run([exe, "-m", model, "-c", "256", "-npp", "16", "-ntg", "4", "-npl", "1,4", "-t", "1",
                   "--output-format", "jsonl"] + pps)
        recs = [json.loads(l) for l in out.splitlines() if l.strip()]
        if [(r["pp"], r["tg"], r["pl"]) for r in recs] != [(16, 4, 1), (16, 4, 4)]:
            fail(f"jsonl tests: {recs}")
        for r in recs:
            for k in fields:
                if k not in r:
                    fail(f"jsonl record lacks {k}: {r}")
            n_kv = r["pp"] + r["pl"] * r["tg"] if pps else r["pl"] * (r["pp"] + r["tg"])
            if r["n_kv"] != n_kv or r["is_pp_shared"] != (1 if pps else 0):
                fail(f"n_kv / is_pp_shared inconsistent: {r}")
            # values are printed with 6 decimals: allow their rounding (a few microseconds, relatively large here)
            if abs(r["t"] - (r["t_pp"] + r["t_tg"])) > 3e-6 or not close(r["speed_tg"], r["pl"] * r["tg"] / r["t_tg"], 1e-2):
                fail(f"times and speeds inconsistent: {r}")
    # a test needing more positions than -c is skipped, as llama-batched-bench does
    out = run([exe, "-m", model, "-c", "39", "-npp", "16", "-ntg", "4", "-npl", "1,2,4", "-t", "1", "--output-format", "jsonl"])
    if [json.loads(l)["pl"] for l in out.splitlines() if l.strip()] != [1]:
        fail(f"-c 39: only B = 1 fits: {out}")
    p = subprocess.run([exe, "-m", model, "-npl", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 2 or "-npl" not in p.stderr:
        fail(f"-npl 0 should be a usage error naming -npl: {p.returncode} {p.stderr}")
    print("ok: llmt-batched-bench md and jsonl")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "kernels":
        check_kernels(sys.argv[2])
    elif len(sys.argv) >= 4 and sys.argv[1] == "bench":
        check_bench(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 4 and sys.argv[1] == "batched":
        check_batched(sys.argv[2], sys.argv[3])
    else:
        fail(__doc__)
