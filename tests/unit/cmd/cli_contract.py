#!/usr/bin/env python3
"""The command-line contract of every nfm command (no guest needed):
`nfm CMD --help` and `nfm help CMD` exit 0 with a usage line on stdout; an unknown option and
a missing option value exit 2 with exactly one line on stderr and nothing on stdout."""
import re
import subprocess
import sys

NFM = sys.argv[1]
failures = []


def run(*args):
    return subprocess.run([NFM, *args], capture_output=True, text=True, timeout=20,
                          stdin=subprocess.DEVNULL)


def check(cond, what):
    if not cond:
        failures.append(what)


top = run("help")
check(top.returncode == 0, "nfm help exits 0")
commands = re.findall(r"^  (\S+) ", top.stdout.split("Commands:", 1)[-1], re.M)
check(len(commands) >= 20, f"nfm help lists the commands (saw {commands})")
check(run("--help").stdout == top.stdout, "nfm --help equals nfm help")
p = run()
check(p.returncode == 2 and p.stderr, "nfm without a command is a usage error (2)")
p = run("no-such-command")
check(p.returncode == 2 and len(p.stderr.splitlines()) == 1, "unknown command: 2, one line")
p = run("--no-such-global")
check(p.returncode == 2 and len(p.stderr.splitlines()) == 1, "unknown global option: 2, one line")

for c in commands:
    for args in ((c, "--help"), ("help", c), (c, "-h") if c != "free" else (c, "--help")):
        p = run(*args)
        check(p.returncode == 0, f"nfm {' '.join(args)}: exit {p.returncode} ({p.stderr.strip()})")
        check(p.stdout.startswith(f"usage: nfm [--vm SPEC] {c} "),
              f"nfm {' '.join(args)}: usage line (saw {p.stdout[:80]!r})")
    p = run(c, "--no-such-option")
    check(p.returncode == 2, f"nfm {c} --no-such-option: exit {p.returncode}")
    check(len(p.stderr.splitlines()) == 1 and not p.stdout,
          f"nfm {c} --no-such-option: one stderr line, no stdout (saw {p.stderr!r})")
    p = run(c, "--vm")
    check(p.returncode == 2 and len(p.stderr.splitlines()) == 1,
          f"nfm {c} --vm (no value): exit {p.returncode}, {p.stderr!r}")

for f in failures:
    print("FAIL:", f)
print(f"{len(commands)} commands checked, {len(failures)} failures")
sys.exit(1 if failures else 0)
