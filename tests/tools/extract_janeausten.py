#!/usr/bin/env python3
"""extract_janeausten: the text of one Jane Austen novel from Debian's r-cran-janeaustenr package.

The package (MIT, Julia Silge) holds the six novels as R character vectors, one line per element, in
its lazy-load database data/Rdata.rdb: blocks of [4-byte big-endian length][zlib stream] each holding
an R serialization (XDR, version 3) of a STRSXP. This reads them without R and writes one novel with
its lines joined by '\\n' (NA lines dropped). Made tests/data/text/persuasion.txt:

  apt-get download r-cran-janeaustenr   # 1.0.0-1, sha256 df6bddf2...8c95 (bookworm)
  dpkg-deb -x r-cran-janeaustenr_1.0.0-1_all.deb jr
  python3 tests/tools/extract_janeausten.py jr/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb Persuasion out.txt
"""
import struct
import sys
import zlib


def blocks(data):
    pos = 0
    while pos < len(data):
        d = zlib.decompressobj()
        out = d.decompress(data[pos + 4:])
        pos = len(data) - len(d.unused_data)
        yield out


def strings(obj):
    assert obj[:2] == b"X\n", "not an XDR R serialization"
    p = 2 + 12  # format version, writer's R version, minimal R version
    n_enc = struct.unpack(">i", obj[p:p + 4])[0]
    p += 4 + n_enc  # native encoding name (version 3)
    flags, n = struct.unpack(">ii", obj[p:p + 8])
    p += 8
    assert flags & 0xFF == 16, "not a character vector"
    lines = []
    for _ in range(n):
        f, length = struct.unpack(">ii", obj[p:p + 8])
        p += 8
        assert f & 0xFF == 9, "not a CHARSXP"
        if length >= 0:
            lines.append(obj[p:p + length].decode("utf-8"))
            p += length
    return lines


def main():
    rdb, title, out = sys.argv[1:4]
    with open(rdb, "rb") as f:
        data = f.read()
    for obj in blocks(data):
        lines = strings(obj)
        if lines and lines[0].strip().lower() == title.lower():
            with open(out, "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
            return 0
    sys.exit(f"extract_janeausten: no novel titled '{title}' in {rdb}")


if __name__ == "__main__":
    sys.exit(main())
