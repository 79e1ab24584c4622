#!/usr/bin/python3
"""Writes a C file holding nfmd's web files (web_assets.h's table): embed.py FILE... OUT.c
The pages are part of the binary: nfmd serves no file from disk."""
import os
import sys

TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8"}


def main(out, files):
    lines = ['#include "web_assets.h"', "", "const struct web_asset web_assets[] = {"]
    for f in files:
        name = os.path.basename(f)
        with open(f, "rb") as fh:
            data = fh.read()
        body = "".join("\\x%02x" % b for b in data)
        lines.append('\t{ "%s", "%s", "%s", %d },' % (name, TYPES[os.path.splitext(name)[1]], body, len(data)))
    lines += ["\t{ 0 }", "};", ""]
    with open(out, "w") as fh:
        fh.write("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[-1], sys.argv[1:-1])
