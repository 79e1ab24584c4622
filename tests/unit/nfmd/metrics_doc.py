#!/usr/bin/env python3
"""Every metric name in cmd/nfmd/*.c is listed in doc/metrics.md (fails otherwise); a name the
tables list that nfmd lacks is noted (a renamed metric's stale row, or one documented before its
code lands). Usage: metrics_doc.py ROOT"""
import re
import sys
from pathlib import Path

root = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
NAME = re.compile(r'"((?:nfm|nfmd|process)_[A-Za-z0-9_]+)"')
code = set()
for f in sorted((root / "cmd" / "nfmd").glob("*.c")):
    for m in NAME.finditer(f.read_text()):
        n = m.group(1)
        if re.search(r"_(bucket|sum|count)$", n) and n.rsplit("_", 1)[0] in code:
            continue
        code.add(n)
doc_text = (root / "doc" / "metrics.md").read_text()
# Names in table rows' first column, before the "Renamed" section (which lists old names).
tables = doc_text.split("## Renamed")[0]
doc = set()
for line in tables.splitlines():
    if line.startswith("| `"):
        doc.update(re.findall(r"`((?:nfm|nfmd|process)_[A-Za-z0-9_]+)`", line.split("|")[1]))
missing = sorted(code - doc)
stale = sorted(doc - code)
if missing:
    print("doc/metrics.md does not list (add a row: type, unit, labels, series):", *missing)
if stale:
    print("note: doc/metrics.md lists metrics nfmd does not have (yet?):", *stale)
print("%d metrics in cmd/nfmd, %d in doc/metrics.md" % (len(code), len(doc)))
sys.exit(1 if missing else 0)
