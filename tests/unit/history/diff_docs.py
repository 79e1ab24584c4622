#!/usr/bin/env python3
"""nfm diff on saved documents (json:FILE; no guest): identity keys, exec as a change, a pid
reused by a new process, ignored members and --all-fields, duplicate keys, a partial side (exit
3, complete false), hostile strings escaped in the table, refused input (not JSON, too deep,
different kinds) with one error line, and every -j output valid against docs/diff.json.

usage: diff_docs.py NFM VALIDATE-JSON
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

nfm, validate = sys.argv[1:3]
failures = []
tmp = tempfile.mkdtemp(prefix="nfm-diff-")


def check(cond, what):
    if not cond:
        failures.append(what)


def doc(kind, member, objs, complete=True):
    d = {"schema_version": 1, "kind": kind, "complete": complete, member: objs}
    if not complete:
        d["errors"] = [{"view": member, "error": "cut short"}]
    return d


def save(name, d):
    p = os.path.join(tmp, name)
    with open(p, "w") as f:
        f.write(d if isinstance(d, str) else json.dumps(d))
    return p


def run(*args):
    return subprocess.run([nfm, *args], capture_output=True, text=True, timeout=60)


def diff_json(a, b, *opts):
    p = run("-j", "diff", *opts, "json:" + a, "json:" + b)
    out = json.loads(p.stdout) if p.stdout.strip() else None
    if out is not None:
        v = subprocess.run([validate, "diff", "-"], input=p.stdout, capture_output=True, text=True)
        check(v.returncode == 0, "diff -j not valid: " + v.stdout + v.stderr)
    return p, out


def proc(pid, start, comm, utime=0, argv=None, uid=0):
    return {"pid": pid, "start_time_ticks": start, "comm": comm, "utime_ticks": utime,
            "uid": uid, "argv": argv or [comm]}


A = [proc(1, 5, "init", 10), proc(2, 7, "sh", 1), proc(3, 9, "gone"), proc(5, 11, "old")]
B = [proc(1, 5, "init", 99), proc(2, 7, "ls", 1, ["ls", "-l"]), proc(4, 20, "new"),
     proc(5, 30, "reused"), ]
B[0]["uid"] = 0
a = save("a.json", doc("ps", "processes", A))
b = save("b.json", doc("ps", "processes", B))

p, out = diff_json(a, b)
check(p.returncode == 0, "ps diff exit %d: %s" % (p.returncode, p.stderr))
(v,) = out["views"]
check(v["view"] == "ps" and v["member"] == "processes" and v["keys"] == ["pid", "start_time_ticks"],
      "view header %r" % v)
check([(o["pid"], o["start_time_ticks"]) for o in v["added"]] == [(4, 20), (5, 30)], "added %r" % v["added"])
check([(o["pid"], o["start_time_ticks"]) for o in v["removed"]] == [(3, 9), (5, 11)],
      "removed %r" % v["removed"])
# the exec of pid 2 is one change (comm and argv); pid 1's CPU time is not a change
check(len(v["changed"]) == 1, "changed %r" % v["changed"])
c = v["changed"][0]
check(c["key"] == {"pid": 2, "start_time_ticks": 7}, "key %r" % c["key"])
check(c["fields"] == {"comm": {"from": "sh", "to": "ls"},
                      "argv": {"from": ["sh"], "to": ["ls", "-l"]}}, "fields %r" % c["fields"])
check(c["object"] == B[1], "object %r" % c["object"])
check(out["changes"] == 5 and out["complete"] is True, "changes %r" % out["changes"])
check(out["from"] == {"at": "json:" + a, "file": a}, "from %r" % out["from"])

# --all-fields: pid 1's utime too
p, out = diff_json(a, b, "--all-fields")
ch = {tuple(c["key"].values()): c["fields"] for c in out["views"][0]["changed"]}
check(ch.get((1, 5)) == {"utime_ticks": {"from": 10, "to": 99}}, "--all-fields %r" % ch)

# the same document: nothing
p, out = diff_json(a, a)
check(p.returncode == 0 and out["changes"] == 0, "self diff %r" % out)
p = run("diff", "json:" + a, "json:" + a)
check(p.returncode == 0 and p.stdout.split() in ([], ["VIEW", "CHANGE", "KEY", "WHAT"]),
      "self diff table %r" % p.stdout)

# the table: one line per difference, guest strings escaped
B2 = copy.deepcopy(B)
B2[2]["comm"] = "ev\x1b[2Jil"
b2 = save("b2.json", doc("ps", "processes", B2))
p = run("diff", "json:" + a, "json:" + b2)
lines = p.stdout.splitlines()
check(len(lines) == 6, "table lines %r" % lines)
check(any("\\x1b[2J" in l and l.split()[:3] == ["ps", "added", "pid=4"] for l in lines),
      "escaped table %r" % lines)
check(not any("\x1b" in l for l in lines), "raw ESC in the table")
check(any(l.split()[:4] == ["ps", "changed", "pid=2", "start_time_ticks=7"] and
          "comm: sh -> ls" in l for l in lines), "changed line %r" % lines)

# duplicates (a torn or hostile document): the Nth meets the Nth
d1 = save("d1.json", doc("lsmod", "modules", [{"name": "x", "size_bytes": 1}] * 2))
d2 = save("d2.json", doc("lsmod", "modules", [{"name": "x", "size_bytes": 1}]))
p, out = diff_json(d1, d2)
v = out["views"][0]
check((len(v["added"]), len(v["removed"]), len(v["changed"])) == (0, 1, 0), "dups %r" % v)

# members without a rule are matched by their whole value; modules' refcount is ignored
g1 = save("g1.json", {"schema_version": 1, "kind": "env", "complete": True, "environ": ["A=1", "B=2"]})
g2 = save("g2.json", {"schema_version": 1, "kind": "env", "complete": True, "environ": ["B=2", "C=3"]})
p, out = diff_json(g1, g2)
v = out["views"][0]
check((v["view"], v["keys"], v["added"], v["removed"]) == ("env", [], ["C=3"], ["A=1"]), "env %r" % v)
m1 = save("m1.json", doc("lsmod", "modules", [{"name": "a", "refcount": 1, "line": "a 1"}]))
m2 = save("m2.json", doc("lsmod", "modules", [{"name": "a", "refcount": 2, "line": "a 2"}]))
p, out = diff_json(m1, m2)
check(out["changes"] == 0, "refcount is not a change: %r" % out)

# a partial side: exit 3, complete false, the errors name it
pa = save("pa.json", doc("ps", "processes", A, complete=False))
p, out = diff_json(pa, b)
check(p.returncode == 3 and out["complete"] is False and
      out["errors"][0]["view"] == "document at T1", "partial %d %r" % (p.returncode, out))
check(p.stderr.startswith("nfm: warning: "), "partial warning %r" % p.stderr)

# refused input: one error line, exit 1 (usage: 2)
for name, text in (("bad.json", "{\"kind\": "), ("two.json", "{} {}"), ("arr.json", "[1]"),
                   ("deep.json", "[" * 100 + "]" * 100)):
    p = run("diff", "json:" + save(name, text), "json:" + a)
    check(p.returncode == 1 and len(p.stderr.splitlines()) == 1 and "not one JSON document" in p.stderr,
          "%s: %d %r" % (name, p.returncode, p.stderr))
k = save("kind.json", doc("lsmod", "modules", []))
p = run("diff", "json:" + k, "json:" + a)
check(p.returncode == 1 and "not documents of the same kind" in p.stderr, "kinds %r" % p.stderr)
p = run("diff", "json:" + a, "json:" + os.path.join(tmp, "missing.json"))
check(p.returncode == 1 and len(p.stderr.splitlines()) == 1, "missing file %r" % p.stderr)
for args in (["json:" + a], ["json:" + a, "live"], ["json:" + a, "json:" + b, "ps"],
             ["1", "2", "record"], ["1", "2", "nosuch"]):
    p = run("diff", *args)
    check(p.returncode == 2 and len(p.stderr.splitlines()) == 1, "usage %r: %d %r" % (args, p.returncode, p.stderr))
p = run("--vm", tmp, "diff", "1", "live")
check(p.returncode == 2 and "live:SPEC" in p.stderr, "live with a store %r" % p.stderr)

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("ok")
