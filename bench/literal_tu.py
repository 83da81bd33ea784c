#!/usr/bin/env python3
"""Baseline for bench/embed.sh: one C++ translation unit with each file of a folder as a plain
string literal, what a hand-written embedder does when it avoids array initialisers.

    bench/literal_tu.py FOLDER OUT.cc

Printable bytes stay as they are; everything else, and any character that would end or
change the literal (quote, backslash, '?' for trigraphs, a hex digit right after a \\x
escape), becomes a \\x escape.
"""
import os
import sys

HEX_DIGITS = set(b"0123456789abcdefABCDEF")
SPECIAL = set(b'"\\?')


def escape(data: bytes) -> str:
    out = []
    prev_hex = False
    for b in data:
        if 0x20 <= b < 0x7F and b not in SPECIAL and not (prev_hex and b in HEX_DIGITS):
            out.append(chr(b))
            prev_hex = False
        else:
            out.append("\\x%02x" % b)
            prev_hex = True
    return "".join(out)


def main() -> None:
    site, target = sys.argv[1], sys.argv[2]
    with open(target, "w") as f:
        n = 0
        for folder, dirs, names in os.walk(site):
            dirs.sort()
            for name in sorted(names):
                with open(os.path.join(folder, name), "rb") as src:
                    f.write('extern const char f%d[] = "%s";\n' % (n, escape(src.read())))
                n += 1


if __name__ == "__main__":
    main()
