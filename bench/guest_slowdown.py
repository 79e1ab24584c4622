#!/usr/bin/python3
"""How much monitoring slows the guest: a CPU benchmark inside a lab guest (the zoo's BENCH job,
SCHED_FIFO integer work for --seconds), run alternately alone and while `nfm top -b` crawls the
guest at --hz on the host (or, with --record EVERY, while `nfm record` takes a memory snapshot
every EVERY seconds); prints rounds per run, the slowdown, and nfm's own CPU use.

The slowdown is the mean over pairs (a run alone and a monitored run next to it, the order
alternating) of 1 - monitored/alone, with its standard error and 95 % confidence interval:
with --until-ci H it keeps adding pairs past --runs until that interval's half-width is at
most H percentage points (or --max-runs), so that the noise is below what is measured.

    bench/guest_slowdown.py [--nfm BIN] [--kernel 6.1-cloud] [--cpus 1] [--hz 100]
                            [--record EVERY] [--seconds 10] [--runs 3]
                            [--until-ci 0.5] [--max-runs 60]

Needs root (the lab, and nfm reads QEMU memory). The guest gets one vCPU by default, so that a
host with two cores has one for the vCPU and one for nfm, as a monitoring host would.
"""
import argparse
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


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_run(name, seconds):
    vm.job_start(name, "BENCH", seconds)
    time.sleep(seconds)
    for _ in range(100):
        n = vm.job_count(name, "BENCH")
        if n is not None:
            return n
        time.sleep(0.2)
    raise SystemExit("the guest benchmark did not finish")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nfm", default=str(ROOT / "build" / "cmd" / "nfm" / "nfm"))
    ap.add_argument("--kernel", default="6.1-cloud")
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--hz", type=float, default=100)
    ap.add_argument("--record", type=float, default=0,
                    help="instead of top: nfm record --every this many seconds")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--until-ci", type=float, default=0,
                    help="add pairs until the 95%% interval's half-width is at most this (points)")
    ap.add_argument("--max-runs", type=int, default=60)
    a = ap.parse_args()
    name = "slowdown-%d" % os.getpid()
    opts = argparse.Namespace(kernel=a.kernel, name=name, mem="512M", cpus=a.cpus, procs=40,
                              qmp="on", shm="off", machine="pc", la57="off", accel="auto")
    store = tempfile.mkdtemp(prefix="nfm-slowdown-")
    info = vm.start(opts)
    try:
        time.sleep(3)
        alone, watched, nfm_cpu = [], [], []
        what = ("nfm record every %g s" % a.record) if a.record else ("nfm top at %g Hz" % a.hz)

        def monitored():
            if a.record:
                # the first snapshot copies every page: taken before, so that the runs measure
                # the steady state (a sync of what changed) as a recorder lives it
                subprocess.run([a.nfm, "record", "--vm", info["pid"], "--store", store, "-n", "1"],
                               check=True, stdout=subprocess.DEVNULL)
                cmd = [a.nfm, "record", "--vm", info["pid"], "--store", store, "--every",
                       "%gs" % a.record, "-n", "100000000"]
            else:
                cmd = [a.nfm, "--vm", info["pid"], "top", "-b", "-d", "%g" % (1 / a.hz), "-n",
                       "100000000"]
            top = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)  # attached and crawling before the benchmark starts
            c0, t0 = cpu_seconds(top.pid), time.monotonic()
            watched.append(bench_run(name, a.seconds))
            nfm_cpu.append(100 * (cpu_seconds(top.pid) - c0) / (time.monotonic() - t0))
            top.terminate()
            top.wait(timeout=10)

        def ci():
            """(mean slowdown %, 95 % half-width %) over the pairs so far."""
            d = [100 * (1 - w / x) for w, x in zip(watched, alone)]
            if len(d) < 2:
                return statistics.fmean(d), float("inf")
            return statistics.fmean(d), 1.96 * statistics.stdev(d) / len(d) ** 0.5

        r = 0
        while r < a.runs or (a.until_ci and ci()[1] > a.until_ci and r < a.max_runs):
            # Alternate which goes first, so that an order effect cancels out.
            if r % 2:
                monitored()
                alone.append(bench_run(name, a.seconds))
            else:
                alone.append(bench_run(name, a.seconds))
                monitored()
            r += 1
            print("run %d: alone %d rounds, with %s %d rounds (%+.2f %%), nfm %.1f %% "
                  "of a core" % (r, alone[-1], what, watched[-1],
                                 100 * (watched[-1] / alone[-1] - 1), nfm_cpu[-1]), flush=True)
        ratios = sorted(w / x for w, x in zip(watched, alone))
        spread = sorted(abs(alone[i + 1] / alone[i] - 1) for i in range(len(alone) - 1))
        mean, half = ci()
        print("guest CPU benchmark slowdown with %s: %.2f %% overall, median of "
              "pairs %.2f %% (%d pairs of %d s, %d vCPU); run-to-run noise of the unmonitored "
              "runs: median %.1f %%; nfm used %.1f %% of a host core" %
              (what, 100 * (1 - sum(watched) / sum(alone)), 100 * (1 - ratios[len(ratios) // 2]),
               r, a.seconds, a.cpus, 100 * spread[len(spread) // 2] if spread else 0,
               sum(nfm_cpu) / len(nfm_cpu)))
        print("mean slowdown over the pairs %.2f %%, 95 %% confidence interval %.2f .. %.2f %% "
              "(standard error %.2f points)" % (mean, mean - half, mean + half, half / 1.96))
    finally:
        vm.stop(name)
        shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main()
