#!/usr/bin/env python3
# meson_glob: lists source files for meson.build (meson has no glob), sorted, one per line
"""Usage:
  meson_glob.py files DIR PATTERN              files in DIR matching PATTERN (DIR/NAME per line)
  meson_glob.py containing DIR PATTERN TEXT    the same, only files whose text contains TEXT
  meson_glob.py version                        LLMT_VERSION_STRING from include/llmt/version.hpp
Paths are relative to the repository root (where meson.build is)."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def files(directory: str, pattern: str) -> list[str]:
    return sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / directory).glob(pattern) if p.is_file())


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[1] == "files":
        out = files(argv[2], argv[3])
    elif len(argv) == 5 and argv[1] == "containing":
        out = [f for f in files(argv[2], argv[3]) if argv[4] in (ROOT / f).read_text(encoding="utf-8")]
    elif len(argv) == 2 and argv[1] == "version":
        text = (ROOT / "include/llmt/version.hpp").read_text(encoding="utf-8")
        out = [re.search(r'#define\s+LLMT_VERSION_STRING\s+"([^"]+)"', text).group(1)]
    else:
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.write("".join(line + "\n" for line in out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
