#!/usr/bin/env python3
"""A/B benchmark of two nfm builds on one running guest, runs interleaved so that host noise
hits both alike. For each build: warm crawls (ps_bench: ps, --cmdline, --full), attach
(attach_bench), cold `nfm info` (cold_bench), and `nfm ps` / `nfm -j ps` end to end as a user
runs them (wall time and peak RSS of the process). Each figure is min/median/max over the runs.

    bench/ab.py --vm NAME [--runs 5] BUILD_A BUILD_B      (e.g. /tmp/base/build build)
"""
import argparse
import re
import resource
import statistics
import subprocess
import time


def stats(v):
    v = sorted(v)
    return f"{v[0]:9.2f} {statistics.median(v):9.2f} {v[-1]:9.2f}"


def ps_bench(build, vm, *flags):
    out = subprocess.run([f"{build}/bench/ps_bench", "--vm", vm, "-n", "200", *flags],
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"us/crawl: min [\d.]+ median ([\d.]+)", out).group(1))


def attach_bench(build, vm):
    out = subprocess.run([f"{build}/bench/attach_bench", "--vm", vm, "-n", "5"],
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"median ([\d.]+) ms", out).group(1))


def end_to_end(build, vm, *args):
    """Wall ms and peak RSS (MB) of one nfm process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    p = subprocess.run([f"{build}/cmd/nfm/nfm", "--vm", vm, *args], capture_output=True)
    wall = (time.perf_counter() - t) * 1e3
    if p.returncode:
        raise SystemExit(f"{build}: nfm {' '.join(args)} failed: {p.stderr.decode()[:200]}")
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(rss, before) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vm", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("builds", nargs=2)
    a = ap.parse_args()
    measures = {
        "ps_bench ps (us/crawl, median of 200)": lambda b: ps_bench(b, a.vm),
        "ps_bench --cmdline (us/crawl)": lambda b: ps_bench(b, a.vm, "--cmdline"),
        "ps_bench --full (us/crawl)": lambda b: ps_bench(b, a.vm, "--full"),
        "attach_bench (ms, median of 5)": lambda b: attach_bench(b, a.vm),
        "nfm ps end to end (ms)": lambda b: end_to_end(b, a.vm, "ps")[0],
        "nfm -j ps end to end (ms)": lambda b: end_to_end(b, a.vm, "-j", "ps")[0],
        "nfm -j lsof end to end (ms)": lambda b: end_to_end(b, a.vm, "-j", "lsof")[0],
    }
    res = {m: {b: [] for b in a.builds} for m in measures}
    for _ in range(a.runs):
        for m, f in measures.items():
            for b in a.builds:
                res[m][b].append(f(b))
    print(f"{'measure':42s} {'build':20s} {'min':>9s} {'median':>9s} {'max':>9s}  ({a.runs} runs)")
    for m in measures:
        for b in a.builds:
            print(f"{m:42s} {b[-20:]:20s} {stats(res[m][b])}")


if __name__ == "__main__":
    main()
