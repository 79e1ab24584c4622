#!/usr/bin/env python3
"""Man pages and bash completion cannot drift from the program (no guest needed).

usage: doc_cli.py NFM HELP2MAN NFM.1 MANDIR COMPLETION COMMAND...

- COMMAND... (doc/meson.build's man page list) is exactly the commands of `nfm help`;
- nfm.1's COMMANDS section names every command;
- nfm.1's OPTIONS section names exactly the options of `nfm --help` (both ways);
- nfm.1 and every generated nfm-COMMAND.1 render without a groff warning, and each
  nfm-COMMAND.1 shows every option of `nfm COMMAND --help` (groff is required: a missing groff
  fails, it does not skip);
- the generated bash completion, sourced in a plain bash, completes every command and every
  option of each command's --help (and the options every command takes), the global options
  of `nfm --help` with their values skipped, and the names an option's value is one of.
"""
import json
import os
import shutil
import subprocess
import sys

import bash_complete

nfm, help2man, nfm1, mandir, completion, *commands = sys.argv[1:]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120, **kw)


p = run(help2man, nfm, "--check-list", *commands)
check(p.returncode == 0, p.stderr.strip())
p = run(help2man, nfm, "--check-man", nfm1)
check(p.returncode == 0, p.stderr.strip())
data = json.loads(run(help2man, nfm, "--dump").stdout)

env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="200")
groff = shutil.which("groff")
check(groff, "groff is missing (scripts/install-deps installs it): the man pages are unchecked")
if groff:
    p = run("groff", "-man", "-Tutf8", "-ww", "-z", nfm1, env=env)
    check(p.returncode == 0 and not p.stderr.strip(), f"groff warns about {nfm1}: {p.stderr.strip()}")
for c in data["commands"]:
    page = os.path.join(mandir, f"nfm-{c['name']}.1")
    if c["name"] not in commands:
        continue
    if not os.path.exists(page):
        check(False, f"{page} was not generated")
        continue
    if groff:
        p = run("groff", "-man", "-Tutf8", "-ww", "-z", page, env=env)
        check(p.returncode == 0 and not p.stderr.strip(), f"groff warns about {page}: {p.stderr.strip()}")
        text = run("groff", "-man", "-Tascii", "-P", "-cbou", "-rLL=200n", page, env=env).stdout
        for o in c["options"]:
            for name in o["short"] + o["long"]:
                check(name in text, f"nfm-{c['name']}.1 lacks {name}")


def complete(line):
    got, err = bash_complete.complete(completion, "_nfm", line)
    check(not err, f"the completion of {line!r} says {err!r}")
    return got


got = complete("nfm ")
check(got == {c["name"] for c in data["commands"]}, f"'nfm <TAB>' gives {sorted(got)}")
check(complete("nfm --vm x p") >= {"ps", "pstree"}, "'nfm --vm x p<TAB>' gives ps, pstree")
for c in data["commands"]:
    got = complete(f"nfm {c['name']} -")
    want = {n for o in c["options"] for n in o["short"] + o["long"]} | set(data["common_options"])
    check(want <= got, f"'nfm {c['name']} -<TAB>' lacks {sorted(want - got)}")
check(complete("nfm ip ro") == {"route"}, "'nfm ip ro<TAB>' gives route")
check(complete("nfm help ps") >= {"ps", "pstree"}, "'nfm help ps<TAB>' gives commands")
# the options before the command are nfm --help's; a global option's value is not the command
glob = {n for o in data["global_options"] for n in o["short"] + o["long"]}
check(glob >= {"--vm", "--at", "--system-map", "--btf", "-j", "-v", "--help", "--version"},
      f"nfm --help's options: {sorted(glob)}")
got = complete("nfm -")
check(got == glob, f"'nfm -<TAB>' gives {sorted(got)}, nfm --help has {sorted(glob)}")
for g in ("--at X", "--vm X", "--system-map F", "--btf F", "-v --at X -j --vm Y"):
    got = complete(f"nfm {g} ps --fo")
    check(got == {"--format", "--forest"}, f"'nfm {g} ps --fo<TAB>' gives {sorted(got)}")
check(complete("nfm --at X ") == {c["name"] for c in data["commands"]},
      "'nfm --at X <TAB>' gives the commands")
got = complete("nfm --at ")
check(not got & {c["name"] for c in data["commands"]}, "'nfm --at <TAB>' offers commands")
# option values: ps's field names (after a comma too, with a sort sign), top's, dmesg's names
fields = complete("nfm ps -o ")
check(fields >= {"pid", "ppid", "%cpu", "args", "wchan"} and not any(f.startswith("-") for f in fields),
      f"'nfm ps -o <TAB>' gives {sorted(fields)[:20]}")
check(complete("nfm ps --format pid,pp") == {"pid,ppid"}, "'nfm ps --format pid,pp<TAB>': pid,ppid")
check(complete("nfm ps --sort -%c") == {"-%cpu"}, "'nfm ps --sort -%c<TAB>' gives -%cpu")
check(complete("nfm --vm x ps -o p") >= {"pid", "ppid", "pcpu"}, "'nfm --vm x ps -o p<TAB>'")
check(complete("nfm top -o %M") == {"%MEM"}, "'nfm top -o %M<TAB>' gives %MEM")
check(complete("nfm dmesg -l e") == {"emerg", "err"}, "'nfm dmesg -l e<TAB>': emerg err")
check(complete("nfm dmesg --facility err,lo") == {f"err,local{i}" for i in range(8)},
      "'nfm dmesg --facility err,lo<TAB>': err,local0..7")
# options the commands take are all offered, none as a literal "--opt[=ARG]"
check(complete("nfm topo --wa") == {"--watch"}, "'nfm topo --wa<TAB>' gives --watch")
for c in data["commands"]:
    bad = {w for w in complete(f"nfm {c['name']} -") if "[" in w or "=" in w}
    check(not bad, f"'nfm {c['name']} -<TAB>' offers {sorted(bad)}")
check(complete("nfm ps --no-h") == {"--no-headers", "--no-heading"}, "'nfm ps --no-h<TAB>'")
check(complete("nfm ps -") >= {"-U", "--User", "-y", "-w", "--columns", "--width"},
      "'nfm ps -<TAB>' lacks an option ps accepts")
check(complete("nfm lsof --i") == {"--inet"}, "'nfm lsof --i<TAB>' gives --inet")

for f in failures:
    print("FAIL:", f)
print(f"doc-cli: {len(data['commands'])} commands, {len(failures)} failures")
sys.exit(1 if failures else 0)
