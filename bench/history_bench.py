#!/usr/bin/python3
"""Time travel costs (issue 13, doc/history.md) on a lab guest: per snapshot, the sync's wall
time, the recorder's host CPU, the pause with --consistent, the bytes stored; the store after
all of them against as many raw dumps; `nfm --at ps` against live `ps`; for an idle guest and a
busy one (the zoo's BURN job at 100 % duty on one vCPU, writing memory as it runs); each figure
as min/median/max over --runs.

    bench/history_bench.py [--nfm BIN] [--kernel 6.1-cloud] [--mem 1G] [--runs 5]

Needs root (the lab; nfm reads QEMU memory). Starts one lab VM and stops it.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lab"))
from nfmlab import vm  # noqa: E402


def mmm(xs, scale=1.0, fmt="%.1f"):
    xs = [x * scale for x in xs]
    return "/".join(fmt % v for v in (min(xs), statistics.median(xs), max(xs)))


def record(nfm, name, store, n, consistent):
    args = [nfm, "-j", "record", "--vm", name, "--store", store, "-n", str(n), "--every", "0"]
    if consistent:
        args.append("--consistent")
    p = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if p.returncode:
        raise SystemExit("nfm record: " + p.stderr.strip())
    return [json.loads(l) for l in p.stdout.splitlines()]


def timed(args):
    t = time.monotonic()
    p = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if p.returncode:
        raise SystemExit("%s: %s" % (" ".join(args), p.stderr.strip()))
    return time.monotonic() - t


def phase(nfm, name, store, runs, label):
    snaps = record(nfm, name, store, runs, False)
    cons = record(nfm, name, store, runs, True)
    print("%-5s sync wall ms %s | host CPU ms %s | pages read %s | stored KB (pages+index) %s | "
          "--consistent pause ms %s" % (
              label, mmm([s["sync_ns"] for s in snaps], 1e-6),
              mmm([s["cpu_ns"] for s in snaps], 1e-6),
              mmm([s["read_pages"] for s in snaps], 1, "%d"),
              mmm([s["new_bytes"] + s["index_bytes"] for s in snaps], 1e-3),
              mmm([s["pause_ns"] for s in cons], 1e-6)))
    return snaps + cons


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nfm", default=str(ROOT / "build" / "cmd" / "nfm" / "nfm"))
    ap.add_argument("--kernel", default="6.1-cloud")
    ap.add_argument("--mem", default="1G")
    ap.add_argument("--runs", type=int, default=5)
    o = ap.parse_args()
    name = "hbench-%d" % os.getpid()
    opts = argparse.Namespace(kernel=o.kernel, name=name, mem=o.mem, cpus=2, procs=40, qmp="on",
                              shm="off", machine="pc", la57="off", accel="auto")
    vm.start(opts)
    store = tempfile.mkdtemp(prefix="nfm-hbench-")
    try:
        first = record(o.nfm, name, store, 1, False)[0]
        ram = first["ram_bytes"]
        print("guest %s, %d MiB RAM; first snapshot %.1f s wall, %.0f ms CPU, %.1f MB stored" % (
            o.kernel, ram >> 20, first["sync_ns"] / 1e9, first["cpu_ns"] / 1e6,
            (first["new_bytes"] + first["index_bytes"]) / 1e6))
        allsnaps = [first] + phase(o.nfm, name, store, o.runs, "idle")
        vm.burn_start(name, 600, 100)  # ends with the VM
        allsnaps += phase(o.nfm, name, store, o.runs, "busy")
        n = len(allsnaps)
        store_bytes = allsnaps[-1]["store_bytes"]
        print("store after %d snapshots: %.1f MB; %d raw dumps: %.1f MB (%.0fx smaller)" % (
            n, store_bytes / 1e6, n, n * ram / 1e6, n * ram / store_bytes))
        at = [timed([o.nfm, "--at", "%s@%d" % (store, allsnaps[-1]["id"]), "ps"])
              for _ in range(o.runs)]
        live = [timed([o.nfm, "--vm", name, "ps"]) for _ in range(o.runs)]
        print("ps: --at %s s, live %s s (min/median/max over %d runs; median ratio %.2f)" % (
            mmm(at, 1, "%.2f"), mmm(live, 1, "%.2f"), o.runs,
            statistics.median(at) / statistics.median(live)))
    finally:
        vm.stop(name)
        shutil.rmtree(store, ignore_errors=True)
    print("method: %s (full: every page the host holds data for is read and hashed)"
          % allsnaps[-1]["method"])


if __name__ == "__main__":
    main()
