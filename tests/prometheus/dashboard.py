#!/usr/bin/env python3
"""The PromQL of every panel of a Grafana dashboard, with its variables filled in.

As a program (unit test dashboard-queries): every query of dist/grafana/*.json must parse
(`promtool check rules` on a rule file made of them) and every panel must have one.
tests/lab/test_nfmd_prod.py runs the same queries against a Prometheus that scraped nfmd.
    dashboard.py [--promtool PROMTOOL] DASHBOARD.json...
"""
import json
import os
import re
import subprocess
import sys
import tempfile

# $__rate_interval and friends as Grafana would set them for a 1 s scrape and a short range.
DEFAULTS = {"__rate_interval": "30s", "__interval": "5s", "__range": "5m"}


def panels(dash):
    for p in dash.get("panels", []):
        yield p
        yield from p.get("panels", [])  # a collapsed row's


def queries(path, variables):
    """[(panel title, refId, expr)] with $var and ${var} replaced from variables + DEFAULTS."""
    with open(path) as f:
        dash = json.load(f)
    vals = dict(DEFAULTS, **variables)
    out = []
    for p in panels(dash):
        if p.get("type") == "row":
            continue
        for t in p.get("targets", []):
            expr = re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)",
                          lambda m: vals.get(m.group(1) or m.group(2), m.group(0)), t["expr"])
            out.append((p["title"], t.get("refId", "?"), expr))
    return out


def main(argv):
    promtool = "promtool"
    if argv[:1] == ["--promtool"]:
        promtool, argv = argv[1], argv[2:]
    bad = 0
    for path in argv:
        with open(path) as f:
            dash = json.load(f)
        for p in panels(dash):
            if p.get("type") != "row" and not p.get("targets"):
                print("%s: panel %r has no query" % (path, p.get("title")))
                bad += 1
        qs = queries(path, {"job": ".+", "instance": ".+", "vm": ".+", "datasource": "x"})
        left = [q for q in qs if "$" in q[2]]
        for title, ref, expr in left:
            print("%s: %s/%s: unknown variable in %s" % (path, title, ref, expr))
        bad += len(left)
        rules = {"groups": [{"name": "dashboard", "rules": [
            {"record": "panel_%d" % i, "expr": e} for i, (_, _, e) in enumerate(qs)]}]}
        with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
            json.dump(rules, f)  # JSON is YAML
        try:
            r = subprocess.run([promtool, "check", "rules", f.name], capture_output=True, text=True)
        finally:
            os.unlink(f.name)
        if r.returncode:
            print("%s: a query does not parse:\n%s" % (path, r.stdout + r.stderr))
            bad += 1
        else:
            print("%s: %d panels' %d queries parse" % (path, sum(1 for p in panels(dash) if p.get("type") != "row"), len(qs)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
