#!/usr/bin/env python3
"""nfmd(8) cannot drift from the program's options (no guest needed).

usage: doc_nfmd.py NFMD NFMD.8 COMPLETION

- every option of `nfmd --help` (its option column: "  --long ARG", "  -x, --long", and the
  specs that name two) is in the tag of an entry of nfmd.8's OPTIONS section;
- every option such a tag names is one of `nfmd --help`'s (no option the program lost);
- nfmd.8 renders without a groff warning (groff is required: a missing groff fails);
- the generated bash completion for nfmd, sourced in a plain bash, completes every option of
  `nfmd --help`, files after a FILE option, nothing after a value of another kind.
"""
import os
import re
import shutil
import subprocess
import sys

import bash_complete

nfmd, page, completion = sys.argv[1:]
failures = []
OPTION = re.compile(r"(?<![\w-])(--?[a-zA-Z][\w-]*)")


def check(cond, what):
    if not cond:
        failures.append(what)


env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="200")
p = subprocess.run([nfmd, "--help"], capture_output=True, text=True, timeout=30, env=env)
check(p.returncode == 0, f"nfmd --help exited {p.returncode}: {p.stderr.strip()}")
helped = set()
for line in p.stdout.splitlines():
    m = re.match(r"  (-\S.*?)(?: {2,}|$)", line)
    if m:
        helped.update(OPTION.findall(m.group(1)))
# a --help whose layout this parser no longer reads must not pass as "nothing to check"
check(len(helped) >= 20 and {"--listen", "--help"} <= helped,
      f"read only {sorted(helped)} from nfmd --help")

with open(page) as f:
    sections = re.split(r"^\.SH ", f.read(), flags=re.M)
opts = next((s for s in sections if s.startswith("OPTIONS")), "")
check(opts, f"{page} has no OPTIONS section")
documented = set()
for tag in re.findall(r"^\.TP\n(.*)$", opts, flags=re.M):
    tag = re.sub(r"\\f[BIRP]", "", tag).replace("\\-", "-").replace('"', " ")
    documented.update(OPTION.findall(re.sub(r"^\.\w+", "", tag)))
for o in sorted(helped - documented):
    check(False, f"{os.path.basename(page)}'s OPTIONS lacks {o} (in nfmd --help)")
for o in sorted(documented - helped):
    check(False, f"{os.path.basename(page)}'s OPTIONS has {o}, which nfmd --help does not")

groff = shutil.which("groff")
check(groff, "groff is missing (scripts/install-deps installs it): nfmd.8 is unchecked")
if groff:
    p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page], capture_output=True,
                       text=True, timeout=60, env=env)
    check(p.returncode == 0 and not p.stderr.strip(), f"groff warns about {page}: {p.stderr.strip()}")


def complete(line):
    got, err = bash_complete.complete(completion, "_nfmd", line,
                                      cwd=os.path.dirname(os.path.abspath(page)))
    check(not err, f"the nfmd completion of {line!r} says {err!r}")
    return got


got = complete("nfmd -")
check(got == helped, f"'nfmd -<TAB>' gives {sorted(got ^ helped)} more or less than nfmd --help")
check(complete("nfmd --rec") == {"--record", "--record-vm", "--record-every", "--record-keep",
                                 "--record-max-size"}, "'nfmd --rec<TAB>'")
check(complete("nfmd --config nfmd.") >= {"nfmd.8"}, "'nfmd --config nfmd.<TAB>' gives files")
check(complete("nfmd --listen ") == set(), "'nfmd --listen <TAB>' offers something")

for f in failures:
    print("FAIL:", f)
print(f"doc-nfmd: {len(helped)} options, {len(failures)} failures")
sys.exit(1 if failures else 0)
