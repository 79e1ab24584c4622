#!/usr/bin/env python3
"""Man pages and bash completion cannot drift from the program (no guest needed).

usage: doc_cli.py NFM HELP2MAN NFM.1 MANDIR COMPLETION COMMAND...

- COMMAND... (doc/meson.build's man page list) is exactly the commands of `nfm help`;
- nfm.1's COMMANDS section names every command;
- every generated nfm-COMMAND.1 renders without a groff warning and shows every option of
  `nfm COMMAND --help`;
- the generated bash completion, sourced in a plain bash, completes every command and every
  option of each command's --help (and the options every command takes).
"""
import json
import os
import shutil
import subprocess
import sys

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
for c in data["commands"]:
    page = os.path.join(mandir, f"nfm-{c['name']}.1")
    if c["name"] not in commands:
        continue
    if not os.path.exists(page):
        check(False, f"{page} was not generated")
        continue
    if shutil.which("groff"):
        p = run("groff", "-man", "-Tutf8", "-ww", "-z", page, env=env)
        check(p.returncode == 0 and not p.stderr.strip(), f"groff warns about {page}: {p.stderr.strip()}")
        text = run("groff", "-man", "-Tascii", "-P", "-cbou", "-rLL=200n", page, env=env).stdout
        for o in c["options"]:
            for name in o["short"] + o["long"]:
                check(name in text, f"nfm-{c['name']}.1 lacks {name}")


def complete(line):
    """COMPREPLY for the cursor at the end of LINE, as bash's programmable completion sets it."""
    script = f"""
source {completion!r}
COMP_LINE={line!r}
read -ra COMP_WORDS <<< "$COMP_LINE"
[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))
_nfm
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    p = run("bash", "--norc", "--noprofile", "-c", script)
    return set(p.stdout.split())


got = complete("nfm ")
check(got == {c["name"] for c in data["commands"]}, f"'nfm <TAB>' gives {sorted(got)}")
check(complete("nfm --vm x p") >= {"ps", "pstree"}, "'nfm --vm x p<TAB>' gives ps, pstree")
for c in data["commands"]:
    got = complete(f"nfm {c['name']} -")
    want = {n for o in c["options"] for n in o["short"] + o["long"]} | set(data["common_options"])
    check(want <= got, f"'nfm {c['name']} -<TAB>' lacks {sorted(want - got)}")
check(complete("nfm ip ro") == {"route"}, "'nfm ip ro<TAB>' gives route")
check(complete("nfm help ps") >= {"ps", "pstree"}, "'nfm help ps<TAB>' gives commands")

for f in failures:
    print("FAIL:", f)
print(f"doc-cli: {len(data['commands'])} commands, {len(failures)} failures")
sys.exit(1 if failures else 0)
