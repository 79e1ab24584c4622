#!/usr/bin/env python3
"""Process-count sweep: warm crawls (ps_bench: ps, --cmdline, --full) of one or more builds on
guests of different sizes, runs interleaved so that host noise hits every build alike. Each
figure is min/median/max over the runs of the per-run median (wall and CPU microseconds per
crawl) and of the process's peak RSS. Boot the guests first, e.g.

    lab/nfm-lab start --name sw-200 --procs 200
    lab/nfm-lab start --name sw-2k --procs 2000 --mem 1G
    lab/nfm-lab start --name sw-10k --procs 10000 --mem 2G     (NFM_LAB_FULL territory)
    bench/sweep.py --vm sw-200 --vm sw-2k [--runs 5] [-n 50] BUILD [BUILD...]
"""
import argparse
import re
import statistics
import subprocess

MODES = {"ps": [], "cmdline": ["--cmdline"], "full": ["--full"]}


def ps_bench(build, vm, n, flags):
    out = subprocess.run([f"{build}/bench/ps_bench", "--vm", vm, "-n", str(n), *flags],
                         capture_output=True, text=True, check=True).stdout
    procs = int(re.search(r"per crawl: (\d+)", out).group(1))
    wall = float(re.search(r"^us/crawl: min [\d.]+ median ([\d.]+)", out, re.M).group(1))
    cpu = float(re.search(r"cpu us/crawl: min [\d.]+ median ([\d.]+)", out).group(1))
    rss = int(re.search(r"peak RSS (\d+) KB", out).group(1)) / 1024
    # nfm's own memory (older builds do not print it): peak RSS also counts the pages of a
    # shared RAM file nfm mapped, which are the guest's
    m = re.search(r"RSS now: anon (\d+) KB", out)
    return procs, wall, cpu, rss, int(m.group(1)) / 1024 if m else float("nan")


def stats(v):
    v = sorted(v)
    return f"{v[0]:9.1f} {statistics.median(v):9.1f} {v[-1]:9.1f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vm", action="append", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("-n", type=int, default=50, help="crawls per run")
    ap.add_argument("builds", nargs="+")
    a = ap.parse_args()
    res, procs = {}, {}
    for _ in range(a.runs):
        for vm in a.vm:
            for mode, flags in MODES.items():
                for b in a.builds:
                    p, *fig = ps_bench(b, vm, a.n, flags)
                    procs[vm] = p
                    r = res.setdefault((vm, mode, b), ([], [], [], []))
                    for k, v in enumerate(fig):
                        r[k].append(v)
    print(f"{'guest':10s} {'procs':>6s} {'crawl':8s} {'build':24s} "
          f"{'wall us min/median/max':>29s} {'cpu us min/median/max':>29s} "
          f"{'peak RSS MB min/med/max':>29s} {'anon RSS MB at end':>29s}  ({a.runs} runs of {a.n})")
    for (vm, mode, b), (wall, cpu, rss, anon) in res.items():
        print(f"{vm:10s} {procs[vm]:6d} {mode:8s} {b[-24:]:24s} {stats(wall)} {stats(cpu)} "
              f"{stats(rss)} {stats(anon)}")


if __name__ == "__main__":
    main()
