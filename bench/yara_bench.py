#!/usr/bin/python3
"""PaVScan throughput (issue 16): `nfm yara` with a 10-rule set over every process's memory and
over the kernel's, on a lab guest; bytes scanned (the document's scanned_bytes) per second of
nfm's CPU time (user + system: per core) and of wall time, min/median/max over --runs. The
guest is booted twice: RAM read through /proc/PID/mem, then through a shared memory file
(memory-backend-file share=on, which nfm maps), so the read path's share of the cost shows.

    bench/yara_bench.py [--nfm BIN] [--raw yara_raw_bench] [--kernel 6.1-cloud] [--mem 1G]
                        [--procs 200] [--runs 5]

Needs root (the lab; nfm reads QEMU memory). Starts one lab VM at a time and stops it.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lab"))
from nfmlab import vm  # noqa: E402

# Ten rules of the kinds people hunt with: plain, nocase and wide strings, hex with wildcards
# and jumps, a regular expression with a literal atom.
RULES = r"""
rule shell_reverse { strings: $a = "/bin/sh -i" $b = "bash -i >& /dev/tcp/" condition: any of them }
rule miner_pool { strings: $a = "stratum+tcp://" nocase $b = "xmrig" nocase condition: any of them }
rule ssh_key { strings: $a = "-----BEGIN OPENSSH PRIVATE KEY-----" condition: $a }
rule aws_key { strings: $a = /AKIA[0-9A-Z]{16}/ condition: $a }
rule ld_preload { strings: $a = "LD_PRELOAD=" $b = "/etc/ld.so.preload" condition: any of them }
rule elf_upx { strings: $a = { 55 50 58 21 [4-8] 55 50 58 30 } condition: $a }
rule wide_cmd { strings: $a = "cmd.exe /c" wide ascii condition: $a }
rule nop_sled { strings: $a = { 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 31 c0 } condition: $a }
rule webshell { strings: $a = "eval(base64_decode(" $b = "system($_GET[" condition: any of them }
rule zoo_marker { strings: $a = "zoo-sleep" condition: $a }
"""


def mmm(xs, fmt="%.1f"):
    return "/".join(fmt % v for v in (min(xs), statistics.median(xs), max(xs)))


def scan(nfm, name, rules, extra):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    p = subprocess.run([nfm, "-j", "--vm", name, "yara", *extra, rules], capture_output=True,
                       text=True, timeout=600)
    wall = time.monotonic() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode not in (0, 3):
        raise SystemExit("nfm yara: " + p.stderr.strip())
    doc = json.loads(p.stdout)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return doc["scanned_bytes"], cpu, wall, doc["nr_matches"]


def phase(o, rules, shm):
    name = "ybench-%d" % os.getpid()
    opts = argparse.Namespace(kernel=o.kernel, name=name, mem=o.mem, cpus=2, procs=o.procs,
                              qmp="on", shm="on" if shm else "off", machine="pc", la57="off",
                              accel="auto")
    vm.start(opts)
    try:
        if not shm and os.path.exists(o.raw):
            # libyara alone over this guest's RAM (its ELF dump, held in memory): the ceiling
            with tempfile.TemporaryDirectory(prefix="nfm-ybench-") as d:
                elf, _ = vm.dump(name, os.path.join(d, "g.elf"))
                p = subprocess.run([o.raw, rules, elf, str(o.runs)], capture_output=True,
                                   text=True, timeout=600)
                if p.returncode:
                    raise SystemExit("yara_raw_bench: " + p.stderr.strip())
                print("libyara alone over the guest's %s of RAM (1 MiB blocks): MB/s %s" % (
                    o.mem, mmm([float(x) for x in p.stdout.split()], "%.0f")))
        for label, extra in (("processes", []), ("kernel", ["--kernel"])):
            rows = [scan(o.nfm, name, rules, extra) for _ in range(o.runs)]
            mb = [r[0] / 1e6 for r in rows]
            print("%-10s %-9s scanned MB %s | nfm CPU s %s | wall s %s | MB/s per core %s | "
                  "MB/s wall %s | matches %d" % (
                      "shm" if shm else "/proc/mem", label, mmm(mb), mmm([r[1] for r in rows], "%.3f"),
                      mmm([r[2] for r in rows], "%.3f"),
                      mmm([r[0] / 1e6 / r[1] for r in rows], "%.0f"),
                      mmm([r[0] / 1e6 / r[2] for r in rows], "%.0f"), rows[-1][3]))
    finally:
        vm.stop(name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nfm", default=str(ROOT / "build" / "cmd" / "nfm" / "nfm"))
    ap.add_argument("--kernel", default="6.1-cloud")
    ap.add_argument("--mem", default="1G")
    ap.add_argument("--procs", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--raw", default=str(ROOT / "build" / "bench" / "yara_raw_bench"),
                    help="the libyara-alone bench (skipped when it is not built)")
    o = ap.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".yar") as f:
        f.write(RULES)
        f.flush()
        print("guest %s, %s RAM, %d extra processes; 10 rules; min/median/max of %d runs" % (
            o.kernel, o.mem, o.procs, o.runs))
        for shm in (False, True):
            phase(o, f.name, shm)


if __name__ == "__main__":
    main()
