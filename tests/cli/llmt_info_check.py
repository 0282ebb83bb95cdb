#!/usr/bin/env python3
# llmt_info_check: runs the llmt-info CLI on a GGUF file (or on hostile / odd files it builds) and checks its output
"""Usage:
  llmt_info_check.py LLMT_INFO file PATH   text and JSON listings of a real file agree with each other
  llmt_info_check.py LLMT_INFO odd TMPDIR  odd strings are escaped / replaced; bad files and bad
                                           arguments fail with one stderr line and the right status
"""
import json
import os
import struct
import subprocess
import sys

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}", file=sys.stderr)


def run(exe, *args):
    p = subprocess.run([exe, *args], capture_output=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def json_tool(data):
    """Validates with `python3 -m json.tool`, as a user would."""
    p = subprocess.run([sys.executable, "-m", "json.tool"], input=data, capture_output=True, timeout=120)
    return p.returncode == 0


def no_raw_controls(text):
    return all(b >= 0x20 and b != 0x7F or b == 0x0A for b in text)


def check_file(exe, path):
    rc, out, err = run(exe, path)
    check(rc == 0, f"text listing of {path} exits 0 (got {rc}: {err!r})")
    check(err == b"", "text listing writes nothing to stderr")
    text = out.decode("utf-8")
    check(no_raw_controls(out), "text output has no raw control characters")

    rc, jout, err = run(exe, "--json", path)
    check(rc == 0, f"--json exits 0 (got {rc})")
    check(json_tool(jout), "--json output passes python3 -m json.tool")
    doc = json.loads(jout)
    check(doc["version"] in (1, 2, 3), "version is 1, 2 or 3")
    check(doc["size"] == os.path.getsize(path), "size is the file size")
    check(f"GGUF version {doc['version']}, {doc['size']} bytes" in text, "text names version and size")
    n_kv = len(doc["metadata"])
    n_t = len(doc["tensors"])
    check(f"metadata: {n_kv} keys" in text, "text and JSON agree on the key count")
    check(f"tensors: {n_t}" in text, "text and JSON agree on the tensor count")
    arch = doc["architecture"]
    check("llama" in arch["known"] and "qwen2" in arch["known"], "JSON lists the architectures llmt knows")
    md_arch = doc["metadata"].get("general.architecture", {}).get("value")
    check(arch["name"] == (md_arch if isinstance(md_arch, str) else None), "the architecture is general.architecture's")
    if arch["supported"]:
        check(arch["name"] in arch["known"] and arch["kv_types"], "a supported architecture has KV types")
        check(f"architecture: {arch['name']} (llmt runs it; KV cache {', '.join(arch['kv_types'])})" in text,
              "text says llmt runs the architecture, with its KV types")
    elif arch["name"] is not None:
        check(f"architecture '{arch['name']}' is not supported; llmt knows: {', '.join(arch['known'])}" in text,
              "text says the architecture is not supported and lists the known ones")
    check(doc["totals"]["tensors"] == n_t, "totals count the tensors")
    check(doc["totals"]["parameters"] == sum(t["elements"] for t in doc["tensors"]), "parameters add up")
    check(doc["totals"]["bytes"] == sum(t["bytes"] for t in doc["tensors"]), "bytes add up")
    check(f"{doc['totals']['parameters']} parameters" in text, "text shows the parameter total")
    for t in doc["tensors"]:
        check(t["file_offset"] == doc["data_offset"] + t["offset"], "file offset = data offset + offset")
        check(t["file_offset"] + t["bytes"] <= doc["size"], "tensor inside the file")
        check(t["name"] in text, "text lists every tensor")
    for key in doc["metadata"]:
        check(key in text, f"text lists key {key}")

    # flags combine, in any order; --all lists every element
    rc, aout, _ = run(exe, path, "--all", "--json")
    check(rc == 0 and json_tool(aout), "--all --json exits 0 with valid JSON")
    full = json.loads(aout)
    for key, e in full["metadata"].items():
        if e["type"] == "array":
            check(len(e["value"]["values"]) == e["value"]["count"], f"--all lists every element of {key}")
            check("more" not in e["value"], "--all leaves nothing out")
    for key, e in doc["metadata"].items():
        if e["type"] == "array":
            v = e["value"]
            check(len(v["values"]) == min(v["count"], 8), f"{key}: 8 elements shown by default")
            check(v.get("more", 0) == v["count"] - len(v["values"]), f"{key}: 'more' counts the rest")
            if v["count"] > 8:
                check(f"... ({v['count'] - 8} more)" in text, f"text abbreviates {key}")
    rc, tall, _ = run(exe, "--all", path)
    check(rc == 0 and len(tall) >= len(out), "--all text is at least as long")


def gguf_string(s):
    return struct.pack("<Q", len(s)) + s


def odd_gguf():
    """A valid v3 file whose strings hold invalid UTF-8, control characters and an escape sequence."""
    kvs = [
        (b"bad.utf8", 8, gguf_string(b"caf\xc3 \xff\xfe end")),
        (b"ctrl\x1b[31mkey", 8, gguf_string(b"line1\nline2\ttab\r\x07bell\x00nul")),
        (b"ok.utf8", 8, gguf_string("café ▁ 😀".encode())),
        (b"arr", 9, struct.pack("<IQ", 8, 3) + gguf_string(b"\xff") + gguf_string(b"") + gguf_string(b"\x1b]0;x\x07")),
        (b"nested", 9, struct.pack("<IQ", 9, 2) + struct.pack("<IQ", 5, 2) + struct.pack("<ii", -1, 2)
         + struct.pack("<IQ", 8, 0)),
        (b"f", 6, struct.pack("<f", float("nan"))),
        (b"inf", 12, struct.pack("<d", float("inf"))),
        (b"long", 9, struct.pack("<IQ", 4, 100) + struct.pack("<100I", *range(100))),
    ]
    out = b"GGUF" + struct.pack("<IQQ", 3, 1, len(kvs))
    for k, t, v in kvs:
        out += gguf_string(k) + struct.pack("<I", t) + v
    name = b"w\x1b[2Jname\xff"
    out += gguf_string(name) + struct.pack("<I", 1) + struct.pack("<Q", 4) + struct.pack("<I", 0) + struct.pack("<Q", 0)
    out += b"\0" * ((32 - len(out) % 32) % 32)
    out += struct.pack("<4f", 1, 2, 3, 4)
    return out


def one_error_line(rc, out, err, status, needle):
    check(rc == status, f"exit status {status} (got {rc}) for {needle}")
    check(out == b"", f"nothing on stdout for {needle}")
    lines = err.decode("utf-8", "replace").splitlines()
    check(len(lines) == 1, f"exactly one stderr line for {needle} (got {lines})")
    check(lines and lines[0].startswith("llmt-info: "), "the line names the program")
    check(lines and needle in lines[0], f"the line says '{needle}': {lines}")


def check_odd(exe, tmp):
    os.makedirs(tmp, exist_ok=True)
    odd = os.path.join(tmp, "odd.gguf")
    with open(odd, "wb") as f:
        f.write(odd_gguf())
    rc, out, err = run(exe, odd)
    check(rc == 0, f"odd strings list (got {rc}: {err!r})")
    check(no_raw_controls(out), "odd strings: no raw control characters in text")
    text = out.decode("utf-8")  # invalid UTF-8 was escaped, so this decodes
    check("\\x1b[31m" in text and "line1\\nline2\\ttab\\r\\x07bell\\x00nul" in text, "controls shown escaped")
    check("caf\\xc3 \\xff\\xfe end" in text, "invalid UTF-8 shown as \\x escapes")
    check("café ▁ 😀" in text, "valid UTF-8 kept")
    check("... (92 more)" in text, "a long array is abbreviated")
    check("w\\x1b[2Jname\\xff" in text, "tensor names escaped")
    for args in (["--json", odd], ["--json", "--all", odd]):
        rc, jout, err = run(exe, *args)
        check(rc == 0 and json_tool(jout), f"{args}: valid JSON despite invalid UTF-8")
        doc = json.loads(jout)
        check(doc["metadata"]["bad.utf8"]["value"] == "caf\ufffd \ufffd\ufffd end", "invalid bytes become U+FFFD")
        check(doc["metadata"]["ok.utf8"]["value"] == "café ▁ 😀", "valid UTF-8 kept in JSON")
        check(doc["metadata"]["ctrl\x1b[31mkey"]["value"] == "line1\nline2\ttab\r\x07bell\x00nul", "controls kept in JSON")
        check(doc["metadata"]["f"]["value"] is None, "NaN becomes null")
        nested = doc["metadata"]["nested"]["value"]
        check(nested["element_type"] == "array" and nested["values"][0]["values"] == [-1, 2], "arrays of arrays")
    check(len(json.loads(run(exe, "--json", "--all", odd)[1])["metadata"]["long"]["value"]["values"]) == 100,
          "--all --json has all 100 elements")

    # the architecture line: the odd file has no general.architecture; one naming an unknown one
    check("architecture: none (no string key 'general.architecture'); llmt knows: llama" in text,
          "no architecture key: said, with the known ones")
    olmo = os.path.join(tmp, "olmo2.gguf")
    kv = gguf_string(b"general.architecture") + struct.pack("<I", 8) + gguf_string(b"olmo2")
    with open(olmo, "wb") as f:
        f.write(b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + kv)
    rc, out, err = run(exe, olmo)
    check(rc == 0, f"an unknown architecture still lists (got {rc}: {err!r})")
    check(b"architecture 'olmo2' is not supported; llmt knows: llama, qwen2" in out, "unknown architecture named")
    rc, jout, _ = run(exe, "--json", olmo)
    doc = json.loads(jout)
    check(doc["architecture"]["name"] == "olmo2" and doc["architecture"]["supported"] is False
          and doc["architecture"]["kv_types"] == [], "JSON: olmo2 is not supported")

    # bad files: one line, status 1
    real = open(odd, "rb").read()
    cases = {
        "magic.gguf": (b"GGML" + real[4:], "wrong magic"),
        "trunc.gguf": (real[:60], "byte"),
        "version.gguf": (real[:4] + struct.pack("<I", 9) + real[8:], "unsupported version 9"),
        "huge.gguf": (b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + gguf_string(b"a") + struct.pack("<IIQ", 9, 10, 1 << 60)
                      + b"\0" * 40, "array length"),
        "empty.gguf": (b"", "truncated"),
    }
    for name, (data, needle) in cases.items():
        p = os.path.join(tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        for args in ([p], ["--json", p], ["--all", p]):
            one_error_line(*run(exe, *args), 1, needle)
    one_error_line(*run(exe, os.path.join(tmp, "missing.gguf")), 1, "cannot open")
    one_error_line(*run(exe, tmp), 1, "not a regular file")

    # usage errors: status 2 and a message; --help succeeds
    rc, out, err = run(exe)
    check(rc == 2 and b"no FILE given" in err and out == b"", "no argument: status 2")
    rc, out, err = run(exe, "--bogus", odd)
    check(rc == 2 and b"unknown option '--bogus'" in err, "unknown option: status 2")
    rc, out, err = run(exe, odd, odd)
    check(rc == 2 and b"one FILE expected" in err, "two files: status 2")
    rc, out, err = run(exe, "--help")
    check(rc == 0 and b"usage: llmt-info" in out, "--help: status 0, usage on stdout")


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in ("file", "odd"):
        print(__doc__, file=sys.stderr)
        return 2
    exe, mode, arg = sys.argv[1:]
    if mode == "file":
        check_file(exe, arg)
    else:
        check_odd(exe, arg)
    print("llmt_info_check: ok" if not failures else f"llmt_info_check: {len(failures)} checks failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
