#!/usr/bin/env python3
# hardening_check: issue 17's hostile and careless runs of the llmt tools, one case per class, exit codes and messages asserted
"""Usage:
  hardening_check.py --tool llmt-run=PATH [--tool NAME=PATH ...] --model GGUF --work DIR [--sanitized] CASE...

CASE is one of: sizes files alloc exceptions models values endings habits (or all).
A tool that is not given skips the checks that need it (said on stdout). Every run is also checked
for sanitizer reports and for a crash (a negative status or 134).
"""
import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import stat
import struct
import subprocess
import sys
import time

failures = []
tools = {}
model = ""
work = ""
sanitized = False


def check(cond, what, needs=None):
    if cond:
        print(f"  ok: {what}")
    else:
        failures.append(what)
        print(f"  FAIL: {what}")
    return cond


class result:
    def __init__(self, rc, out, err, seconds):
        self.rc, self.out, self.err, self.seconds = rc, out, err, seconds

    def __repr__(self):
        return f"rc={self.rc} stderr={self.err[-600:]!r}"


def run(tool, *args, stdin=None, timeout=120, stdout=subprocess.PIPE, merge=False, preexec=None, env=None):
    """Runs a tool; rc is 'timeout' when it did not end in time. Sanitizer reports and crashes fail."""
    cmd = [tools[tool], *map(str, args)]
    t0 = time.monotonic()
    e = dict(os.environ)
    e.pop("LLMT_MODEL", None)
    if env:
        e.update(env)
    try:
        p = subprocess.run(cmd, input=stdin.encode() if isinstance(stdin, str) else stdin, stdout=stdout,
                           stderr=subprocess.STDOUT if merge else subprocess.PIPE, timeout=timeout,
                           preexec_fn=preexec, env=e, stdin=None if stdin is not None else subprocess.DEVNULL)
        r = result(p.returncode, p.stdout.decode(errors="replace") if p.stdout is not None else "",
                   p.stderr.decode(errors="replace") if p.stderr is not None else "", time.monotonic() - t0)
    except subprocess.TimeoutExpired as x:
        r = result("timeout", (x.stdout or b"").decode(errors="replace"), (x.stderr or b"").decode(errors="replace"), timeout)
    text = r.out + r.err
    if re.search(r"AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer", text):
        check(False, f"{tool} {' '.join(map(str, args))[:120]}: no sanitizer report ({text[-800:]!r})")
    if isinstance(r.rc, int) and (r.rc < 0 or r.rc == 134):
        check(False, f"{tool} {' '.join(map(str, args))[:120]}: no crash (status {r.rc}: {r.err[-400:]!r})")
    return r


def have(*names):
    missing = [n for n in names if n not in tools]
    if missing:
        print(f"  skipped: needs {', '.join(missing)}")
    return not missing


def sha(path):
    """The file's sha256, None when it is gone or not readable as a file."""
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def fresh(name):
    d = os.path.join(work, name)
    if os.path.lexists(d):
        if os.path.isdir(d) and not os.path.islink(d):
            for root, dirs, files in os.walk(d):
                for x in dirs:
                    os.chmod(os.path.join(root, x), 0o755)
                for x in files:
                    os.chmod(os.path.join(root, x), 0o644)
            shutil.rmtree(d)
        else:
            os.remove(d)
    os.makedirs(d)
    return d


def usage_error(r, *needles):
    """Exit 2 with one "error:" line that contains every needle."""
    ok = r.rc == 2 and "error:" in r.err and all(n in r.err for n in needles)
    return ok


def runtime_error(r, *needles):
    return r.rc == 1 and "error:" in r.err and all(n in r.err for n in needles)


def patched_kv(src, dst, key, value):
    """A copy of src with the uint32 metadata `key` set to value (same size: patched in the bytes)."""
    data = bytearray(open(src, "rb").read())
    k = key.encode()
    at = data.find(struct.pack("<Q", len(k)) + k)
    assert at >= 0, key
    at += 8 + len(k)
    vtype = struct.unpack_from("<I", data, at)[0]
    assert vtype == 4, f"{key} is not a uint32 (type {vtype})"
    struct.pack_into("<I", data, at + 4, value)
    open(dst, "wb").write(data)


def limit_fsize(n):
    def f():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))
    return f


def limit_memory(n):
    def f():
        resource.setrlimit(resource.RLIMIT_AS, (n, n))
    return f


# ---- 1. sizes ----
def case_sizes():
    if not have("llmt-run"):
        return
    for c in ["2305843009213693953", "2147483648", "-5"]:
        r = run("llmt-run", "-m", model, "-c", c, "-p", "Once", "-n", "1", "-t", "1")
        check(r.rc in (1, 2) and "error:" in r.err and ("-c" in r.err or "ctx-size" in r.err or "context" in r.err),
              f"llmt-run -c {c}: a clear error naming the context size, exit 1 or 2 ({r})")
    if not sanitized:  # ASan aborts on a huge allocation instead of throwing bad_alloc
        r = run("llmt-run", "-m", model, "-c", "2147483647", "-p", "Once", "-n", "1", "-t", "1", preexec=limit_memory(4 << 30))
        check(r.rc in (1, 2) and ("-c/--ctx-size" in r.err or "--ctx-size:" in r.err),
              f"llmt-run -c 2147483647: refused naming -c/--ctx-size ({r})")


# ---- 2. files ----
def case_files():
    if have("llmt-quantize"):
        d = fresh("files-quantize")
        ro = os.path.join(d, "read-only.gguf")
        with open(ro, "wb") as f:
            f.write(b"someone else's file\n")
        os.chmod(ro, 0o444)
        before = sha(ro)
        r = run("llmt-quantize", model, ro, "Q8_0", "-t", "1")
        check(r.rc == 1 and os.path.exists(ro) and sha(ro) == before,
              f"llmt-quantize to a read-only file: refused, the file unchanged ({r})")
        empty = os.path.join(d, "empty-dir")
        os.mkdir(empty)
        r = run("llmt-quantize", model, empty, "Q8_0", "-t", "1")
        check(r.rc == 1 and os.path.isdir(empty), f"llmt-quantize to an empty directory: refused, the directory kept ({r})")
        fifo = os.path.join(d, "fifo")
        os.mkfifo(fifo)
        r = run("llmt-quantize", model, fifo, "Q8_0", "-t", "1", timeout=30)
        check(r.rc == 1 and stat.S_ISFIFO(os.stat(fifo).st_mode),
              f"llmt-quantize to a FIFO: refused at once, the FIFO kept ({r})")
        # a write that fails half-way (a full disk, here RLIMIT_FSIZE): the old file stays, no temporary is left
        out = os.path.join(d, "out.gguf")
        with open(out, "wb") as f:
            f.write(b"the previous output\n")
        before = sha(out)
        r = run("llmt-quantize", model, out, "Q8_0", "-t", "1", preexec=limit_fsize(64 * 1024))
        check(r.rc == 1 and sha(out) == before and sorted(os.listdir(d)) == ["empty-dir", "fifo", "out.gguf", "read-only.gguf"],
              f"llmt-quantize failing to write: the previous output intact, no temporary file left ({r}, {os.listdir(d)})")
        r = run("llmt-quantize", model, out, "Q8_0", "-t", "1")
        check(r.rc == 0 and sha(out) != before and sha(out) is not None and open(out, "rb").read(4) == b"GGUF",
              f"llmt-quantize over an existing output: replaced by a whole GGUF ({r})")
        r = run("llmt-quantize", model, model, "Q8_0", "-t", "1")
        check(r.rc == 1, f"llmt-quantize with the input as output: refused ({r})")
    if have("llmt-run"):
        d = fresh("files-dump")
        copy = os.path.join(d, "model.gguf")
        shutil.copy(model, copy)
        before = sha(copy)
        r = run("llmt-run", "-m", copy, "--dump-logits", copy, "-p", "Once", "-n", "2", "-t", "1")
        check(r.rc == 1 and sha(copy) == before and "error:" in r.err,
              f"llmt-run --dump-logits MODEL: refused, the model unchanged ({r})")
        prompt = os.path.join(d, "prompt.txt")
        with open(prompt, "w") as f:
            f.write("Once upon a time")
        r = run("llmt-run", "-m", copy, "-f", prompt, "--dump-logits", prompt, "-n", "2", "-t", "1")
        check(r.rc == 1 and os.path.exists(prompt) and open(prompt).read() == "Once upon a time", f"llmt-run --dump-logits PROMPT_FILE: refused ({r})")
        dump = os.path.join(d, "dump.txt")
        r = run("llmt-run", "-m", copy, "-p", "Once", "-n", "2", "-t", "1", "--dump-logits", dump, preexec=limit_fsize(4096))
        check(r.rc == 1 and not os.path.exists(dump) and sorted(os.listdir(d)) == ["model.gguf", "prompt.txt"],
              f"llmt-run --dump-logits on a full disk: exit 1, no file left ({r}, {os.listdir(d)})")
        r = run("llmt-run", "-m", copy, "-p", "Once", "-n", "2", "-t", "1", "--dump-logits", dump)
        check(r.rc == 0 and os.path.exists(dump) and open(dump).read().startswith("# model"),
              f"llmt-run --dump-logits FILE writes the dump ({r})")


# ---- 3. allocation out of proportion to the file ----
def case_alloc():
    if not have("llmt-run"):
        return
    d = fresh("alloc")
    for n in [1 << 22, 1 << 31]:
        bad = os.path.join(d, f"block_count_{n}.gguf")
        patched_kv(model, bad, "llama.block_count", n)
        pre = None if sanitized else limit_memory(1 << 30)  # ASan reserves terabytes of address space
        r = run("llmt-run", "-m", bad, "-p", "Once", "-n", "1", "-t", "1", timeout=60, preexec=pre)
        check(r.rc == 1 and "error:" in r.err and r.seconds < 20,
              f"llmt-run on a model with block_count {n}: exit 1 at once, within 1 GiB of memory ({r}, {r.seconds:.1f} s)")


# ---- 4. exceptions and unchecked writes ----
def case_exceptions():
    if have("llmt-run"):
        r = run("llmt-run", "-m", model, "-t", "1000", "-p", "Once", "-n", "1")
        check(usage_error(r, "512"), f"llmt-run -t 1000: refused naming the limit 512, exit 2 ({r})")
        r = run("llmt-run", "-m", model, "-f", "/dev/zero", "-n", "1", timeout=30)
        check(r.rc in (1, 2) and "regular file" in r.err, f"llmt-run -f /dev/zero: refused as not a regular file ({r})")
        d = fresh("exceptions")
        fifo = os.path.join(d, "model.fifo")
        os.mkfifo(fifo)
        r = run("llmt-run", "-m", fifo, "-p", "Once", "-n", "1", timeout=20)
        check(r.rc == 1 and "regular file" in r.err, f"llmt-run -m FIFO: an error at once, no blocking ({r})")
        r = run("llmt-run", "-m", model, "-f", fifo, "-n", "1", timeout=20)
        check(r.rc == 1 and "regular file" in r.err, f"llmt-run -f FIFO: an error at once, no blocking ({r})")
    if have("llmt-bench"):
        r = run("llmt-bench", "-m", model, "-b", "0", "-p", "8", "-n", "0", "-r", "1", "--no-bandwidth")
        check(usage_error(r, "-b"), f"llmt-bench -b 0: a usage error, exit 2 ({r})")
    # stdout on a full device: every tool exits non-zero with a message
    full = open("/dev/full", "wb")
    runs = {
        "llmt-run": (["-m", model, "-p", "Once", "-n", "4", "-t", "1"], None),
        "llmt-chat": (["-m", model, "--chat-template", "chatml", "-n", "4", "-t", "1"], "Hello\n"),
        "llmt-info": ([model], None),
        "llmt-tokenize": (["-m", model, "-p", "Once upon a time"], None),
        "llmt-quantize": (["--help"], None),
        "llmt-bench": (["-m", model, "-p", "0", "-n", "2", "-r", "1", "--no-bandwidth", "--no-warmup", "-t", "1"], None),
        "llmt-kernels": (["--help"], None),
    }
    for tool, (args, stdin) in runs.items():
        if tool not in tools:
            print(f"  skipped: {tool} to /dev/full (no {tool})")
            continue
        r = run(tool, *args, stdin=stdin, stdout=full, timeout=120)
        check(r.rc == 1 and "cannot write" in r.err, f"{tool} with stdout on /dev/full: exit 1 with a message ({r})")
    full.close()


# ---- 5. inconsistent models ----
def copy_gguf(src, dst, fields=None, drop_tensors=(), extra_tensors=()):
    """A copy of the GGUF src through python's gguf package: fields maps a key to a new value (None
    drops it, a callable edits it, a (value, GGUFValueType) pair adds it)."""
    import gguf
    import numpy as np
    fields = fields or {}
    r = gguf.GGUFReader(src)
    arch = r.fields["general.architecture"].contents()
    w = gguf.GGUFWriter(dst, arch)
    for k, f in r.fields.items():
        if k.startswith("GGUF.") or k == "general.architecture":
            continue
        val = f.contents()
        if k in fields:
            if fields[k] is None:
                continue
            val = fields[k](val) if callable(fields[k]) else fields[k]
        w.add_key_value(k, val, f.types[0], f.types[1] if len(f.types) > 1 else None)
    for k, v in fields.items():
        if isinstance(v, tuple) and k not in r.fields:
            w.add_key_value(k, v[0], v[1])
    for t in r.tensors:
        if t.name not in drop_tensors:
            w.add_tensor(t.name, np.array(t.data), raw_dtype=t.tensor_type)
    for name, arr in extra_tensors:
        w.add_tensor(name, arr)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def case_models():
    if not have("llmt-run"):
        return
    import gguf  # scripts/setup.sh installs it (PyPI)
    import numpy as np
    d = fresh("models")
    f32 = gguf.GGUFValueType.FLOAT32
    bad = {
        "vocab_100": dict(fields={"tokenizer.ggml.tokens": lambda v: v[:100], "tokenizer.ggml.scores": lambda v: v[:100],
                                  "tokenizer.ggml.token_type": lambda v: v[:100]}),
        "rope_freq_base_inf": dict(fields={"llama.rope.freq_base": (float("inf"), f32)}),
        "eps_nan": dict(fields={"llama.attention.layer_norm_rms_epsilon": float("nan")}),
        "bos_out_of_vocab": dict(fields={"tokenizer.ggml.bos_token_id": 100000}),
        "block_count_4": dict(fields={"llama.block_count": 4}),
        "block_count_6": dict(fields={"llama.block_count": 6}),
        "unknown_tensor": dict(extra_tensors=[("blk.0.mystery.weight", np.zeros((4, 64), dtype=np.float32))]),
    }
    for name, how in bad.items():
        path = os.path.join(d, name + ".gguf")
        copy_gguf(model, path, **how)
        r = run("llmt-run", "-m", path, "-p", "Once", "-n", "1", "-t", "1", "--temp", "0")
        check(r.rc == 1 and "error:" in r.err, f"llmt-run on an inconsistent model ({name}): refused, exit 1 ({r})", needs="loader")
    r = run("llmt-run", "-m", os.path.join(d, "unknown_tensor.gguf"), "-p", "Once", "-n", "1", "-t", "1", "--allow-unknown-tensors")
    check(r.rc == 0, f"llmt-run --allow-unknown-tensors loads the file with an unknown tensor ({r})", needs="loader")
    good = os.path.join(d, "copy.gguf")
    copy_gguf(model, good)
    r = run("llmt-run", "-m", good, "-p", "Once", "-n", "1", "-t", "1")
    check(r.rc == 0, f"llmt-run on an unchanged copy made the same way loads it ({r})")


# ---- 6. values silently reinterpreted ----
def case_values():
    if have("llmt-run"):
        r = run("llmt-run", "-m", model, "--temp", "nan", "-p", "Once", "-n", "1")
        check(usage_error(r, "--temp"), f"llmt-run --temp nan: refused naming --temp, exit 2 ({r})")
        r = run("llmt-run", "-m", model, "--repeat-last-n", "1099511627776", "-p", "Once", "-n", "1")
        check(usage_error(r, "--repeat-last-n"), f"llmt-run --repeat-last-n 2^40: refused naming the option, exit 2 ({r})")
        r = run("llmt-run", "-m", model, "--top-k", "99999999999", "-p", "Once", "-n", "1")
        check(usage_error(r, "--top-k"), f"llmt-run --top-k 99999999999: refused naming the option, exit 2 ({r})")
    if have("llmt-quantize", "llmt-info"):
        d = fresh("values")
        out = os.path.join(d, "q.gguf")
        r = run("llmt-quantize", "--override-kv", "llama.context_length=int:5000000000", model, out, "Q8_0", "-t", "1")
        check(r.rc == 2 and "llama.context_length" in r.err and not os.path.exists(out),
              f"--override-kv on a uint32 key with 5000000000: refused, no output ({r})")
        r = run("llmt-quantize", "--override-kv", "llama.context_length=int:-5", model, out, "Q8_0", "-t", "1")
        check(r.rc == 2 and not os.path.exists(out), f"--override-kv on a uint32 key with -5: refused ({r})")
        r = run("llmt-quantize", "--override-kv", "test.big=int:5000000000", "--override-kv", "test.neg=int:-5",
                "--override-kv", "llama.context_length=int:128", model, out, "Q8_0", "-t", "1")
        if check(r.rc == 0, f"llmt-quantize with new int keys: exit 0 ({r})"):
            info = run("llmt-info", "--json", out)
            meta = {}
            try:
                doc = json.loads(info.out)
                md = doc.get("metadata")
                items = md if isinstance(md, list) else [dict(key=k, **(v if isinstance(v, dict) else {"value": v})) for k, v in md.items()]
                meta = {m["key"]: m for m in items}
            except Exception as x:  # noqa: BLE001
                check(False, f"llmt-info --json reads the output ({x}: {info})")
            big, neg, ctx = meta.get("test.big", {}), meta.get("test.neg", {}), meta.get("llama.context_length", {})
            check(big.get("value") == 5000000000 and big.get("type") == "int64", f"test.big=int:5000000000 is int64 5000000000 ({big})")
            check(neg.get("value") == -5 and neg.get("type") == "int32", f"test.neg=int:-5 is int32 -5 ({neg})")
            check(ctx.get("value") == 128 and ctx.get("type") == "uint32", f"llama.context_length keeps uint32 ({ctx})")


# ---- 7. normal endings ----
def case_endings():
    if have("llmt-run"):
        r = run("llmt-run", "-m", model, "-c", "48", "-n", "-1", "--temp", "0", "-p", "Once upon a time", "-t", "1")
        check(r.rc == 0 and "stop: context_full" in r.err and "--context-shift" in r.err and len(r.out) > 20,
              f"llmt-run -n -1 on a small context: the text, exit 0, stop context_full and a hint ({r})", needs=None)
        r = run("llmt-run", "-m", model, "-c", "48", "-n", "-1", "--temp", "0", "-p", "Once upon a time", "-t", "1", "--ids")
        ids = r.out.split()
        check(r.rc == 0 and len(ids) >= 20 and all(x.isdigit() for x in ids),
              f"llmt-run --ids stopping at a full context: the ids printed, exit 0 ({r}, out {r.out[:80]!r})", needs=None)
        # the ids come as they are generated: a run cut short by SIGINT has printed some already
        p = subprocess.Popen([tools["llmt-run"], "-m", model, "-c", "4096", "-n", "-1", "--ignore-eos", "--context-shift",
                              "--temp", "0", "-p", "Once", "-t", "1", "--ids"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.set_blocking(p.stdout.fileno(), False)
        got = b""
        t0 = time.monotonic()
        while time.monotonic() - t0 < 20 and len(got.split()) < 3:
            time.sleep(0.1)
            try:
                got += p.stdout.read() or b""
            except (BlockingIOError, TypeError):
                pass
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        check(len(got.split()) >= 3, f"llmt-run --ids prints ids while it generates ({got[:80]!r})", needs=None)
        r = run("llmt-run", "-m", model, "-n", "8", "--temp", "0", "-p", "Once upon a time", "-t", "1", merge=True)
        lines = r.out.splitlines()
        stats = [l for l in lines if "generated" in l and "tokens/s" in l]
        check(r.rc == 0 and len(stats) == 1 and stats[0].startswith("llmt-run: prompt"),
              f"llmt-run with stdout and stderr on one pipe: the statistics on a line of their own ({r.out[-300:]!r})")
    if have("llmt-chat"):
        convo = "".join(f"Tell me story number {i} about a cat and a dog.\n" for i in range(8))
        r = run("llmt-chat", "-m", model, "--chat-template", "chatml", "-c", "96", "-n", "40", "--temp", "0", "-t", "1", stdin=convo)
        turns = r.err.count("stop:") + r.err.count("this turn")
        check(r.rc == 0 and "context" in r.err and turns == 8,
              f"llmt-chat filling its context: every turn answered or reported, exit 0 ({r})")


# ---- 8. habits of llama.cpp users ----
def case_habits():
    if have("llmt-run"):
        base = ["-m", model, "-p", "Once upon a time", "-n", "4", "--temp", "0", "-t", "1"]
        r = run("llmt-run", *base, "-fa")
        check(r.rc == 0 and "flash-attn" in r.err and "CPU" in r.err, f"llmt-run -fa: accepted with a note ({r})")
        r = run("llmt-run", *base, "-fa", "on", "-ngl", "99", "-sm", "none", "-mg", "0")
        check(r.rc == 0 and "n-gpu-layers" in r.err and r.err.count("does not apply") >= 4,
              f"llmt-run -fa on -ngl 99 -sm none -mg 0: accepted, one note each ({r})")
        r = run("llmt-run", "-m", model, "-cnv", "--chat-template", "chatml", "-p", "You are kind.", "-n", "6", "--temp", "0", "-t", "1",
                stdin="Hello\n/help\nHow are you?\n")
        check(r.rc == 0 and "chat format chatml" in r.err and r.err.count("stop:") == 2 and "/clear" in r.err,
              f"llmt-run -cnv: the chat loop on a piped conversation, -p as the system prompt ({r})")
        r = run("llmt-run", *base, "-no-cnv")
        check(r.rc == 0 and r.out.startswith("Once upon a time"), f"llmt-run -no-cnv: plain completion ({r})")
        r = run("llmt-run", "-m", model, "-p", "Once\\nupon\\x41", "-e", "-n", "0", "-t", "1")
        check(r.rc == 0 and r.out.startswith("Once\nuponA"), f"llmt-run -e: escapes processed in the prompt ({r}, {r.out!r})")
        r = run("llmt-run", "-m", model, "-p", "Once", "-n", "60", "--temp", "0", "-t", "1", "--ignore-eos", "-c", "256")
        check(r.rc == 0 and "generated 60 tokens" in r.err, f"llmt-run --ignore-eos: 60 tokens generated ({r})", needs=None)
        r = run("llmt-run", "-m", model, "-p", "Once upon a time", "-n", "80", "--temp", "0", "-t", "1", "-c", "32",
                "--context-shift", "--keep", "2")
        check(r.rc == 0 and "generated 80 tokens" in r.err, f"llmt-run --keep 2 --context-shift: goes on past the context ({r})")
        r = run("llmt-run", *base, "--samplers", "top_k;temperature")
        check(r.rc == 0, f"llmt-run --samplers top_k;temperature: accepted ({r})", needs=None)
        r = run("llmt-run", *base, "--no-display-prompt")
        check(r.rc == 0 and not r.out.startswith("Once upon a time"), f"llmt-run --no-display-prompt: no echo ({r}, {r.out!r})")
        r = run("llmt-run", *base, "-ctk", "f16", "-ctv", "f16")
        check(r.rc == 0, f"llmt-run -ctk f16 -ctv f16: a KV cache in f16 ({r})", needs="kv_type")
        r = run("llmt-run", *base, "-ctk", "f16", "-ctv", "f32")
        check(usage_error(r, "-ctk", "-ctv"), f"llmt-run -ctk f16 -ctv f32: a usage error saying K and V share a type ({r})")
        r = run("llmt-run", "--help")
        check(r.rc == 0 and "=128" in r.out and "=0.8" in r.out and "LLMT_MODEL" in r.out,
              f"llmt-run --help: exit 0, the defaults listed ({r}, {r.out[:200]!r})")
        r = run("llmt-run", "-p", "Once")
        check(usage_error(r, "no model", "LLMT_MODEL"), f"llmt-run without -m: no model by default ({r})")
    if have("llmt-chat"):
        r = run("llmt-chat", "-m", model, "--chat-template", "chatml", "-n", "4", "-t", "1", stdin="/help\n/unknown\n//x\n")
        check(r.rc == 0 and "/clear" in r.err and "unknown command /unknown" in r.err and r.err.count("stop:") == 1,
              f"llmt-chat: /help lists the commands, /unknown is refused, //x is sent ({r})")
        r = run("llmt-chat", "-m", model, "-no-cnv")
        check(usage_error(r, "llmt-run"), f"llmt-chat -no-cnv: a usage error pointing to llmt-run ({r})")
    if have("llmt-bench"):
        r = run("llmt-bench", "--help")
        check(r.rc == 0 and "-b, --batch-size" in r.out and "default" in r.out, f"llmt-bench --help: the full help, exit 0 ({r})")
    for tool in ["llmt-run", "llmt-chat", "llmt-info", "llmt-quantize", "llmt-tokenize", "llmt-bench", "llmt-kernels"]:
        if tool in tools:
            r = run(tool, "--no-such-option")
            check(usage_error(r), f"{tool} --no-such-option: exit 2 with one error line ({r})")


cases = {"sizes": case_sizes, "files": case_files, "alloc": case_alloc, "exceptions": case_exceptions,
         "models": case_models, "values": case_values, "endings": case_endings, "habits": case_habits}


def main():
    global model, work, sanitized
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", action="append", default=[], help="NAME=PATH")
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--sanitized", action="store_true", help="the tools are built with ASan (no address-space limit)")
    ap.add_argument("case", nargs="+", choices=[*cases, "all"])
    a = ap.parse_args()
    for t in a.tool:
        name, _, path = t.partition("=")
        if os.path.exists(path):
            tools[name] = path
    model, work, sanitized = os.path.abspath(a.model), os.path.abspath(a.work), a.sanitized
    os.makedirs(work, exist_ok=True)
    for name in (list(cases) if "all" in a.case else a.case):
        print(f"[{name}]")
        try:
            cases[name]()
        except Exception as x:  # noqa: BLE001 (a case that raises is a failure, the others still run)
            check(False, f"case {name} ran to its end (raised {type(x).__name__}: {x})")
    if failures:
        print(f"{len(failures)} check(s) failed:")
        for f in failures:
            print(f"  - {f}")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
