#!/usr/bin/python3
"""The seed's cTop experiment: three small lab VMs, each in its own host CPU cgroup with a 30 %
quota, running CPU burners at 100, 70 and 30 % duty; prints per VM what the guest's own
accounting says, what nfm top says the guest used (%CPU) and what the host really gave it
(%HOST, per process and per VM), and the host's truth (the cgroup's cpuacct.usage delta).

    bench/ctop_seed.py [--nfm BIN] [--kernel 6.1-cloud] [--seconds 30] [--delay 1]
                       [--quota 30] [--duties 100,70,30] [--keep]

Needs root (the lab, cgroups, nfm reading QEMU memory). VMs are named ctop-<duty>; running ones
are reused (--keep leaves them running, in their cgroups). doc/ctop.md describes the model.
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lab"))
from nfmlab import ctop, vm  # noqa: E402


def summarize(r):
    """One row of the table from a measured run (see ctop.measure)."""
    pairs = ctop.window(r)
    if not pairs:
        raise SystemExit("%s: no nfm frames in the window" % r["name"])
    first, last = ctop.vm_frame(pairs[0][0]), ctop.vm_frame(pairs[-1][1])
    u0, u1 = first["vm"]["uptime_ns"], last["vm"]["uptime_ns"]
    p0, p1 = ctop.proc_of(first, r["pid"]), ctop.proc_of(last, r["pid"])
    frames = [ctop.vm_frame(b) for _, b in pairs]
    mean = lambda xs: sum(xs) / len(xs) if xs else float("nan")  # noqa: E731
    return {
        "vm": r["name"], "duty": r["duty"],
        "guest": r["log"].pct(u0, u1) if r.get("log") and r["log"].covers(u0) and r["log"].covers(u1) else float("nan"),
        "nfm_cpu": (p1["cpu_time_ns"] - p0["cpu_time_ns"]) / (u1 - u0) * 100,
        "nfm_host": mean([ctop.proc_of(f, r["pid"]).get("host_pct", float("nan")) for f in frames]),
        "nfm_vm_host": mean([f.get("host", {}).get("cpu_pct", float("nan")) for f in frames]),
        "truth": r["cg_ns"] / (r["host_s"] * 1e9) * 100,
        "throttled": 100 * (r["stat1"]["nr_throttled"] - r["stat0"]["nr_throttled"]) /
                     max(1, r["stat1"]["nr_periods"] - r["stat0"]["nr_periods"]),
        "frames": len(pairs),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nfm", default=str(ROOT / "build" / "cmd" / "nfm" / "nfm"))
    ap.add_argument("--kernel", default="6.1-cloud")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--delay", type=float, default=1.0)
    ap.add_argument("--quota", type=int, default=30, help="CPU quota per VM, percent of a CPU")
    ap.add_argument("--duties", default="100,70,30")
    ap.add_argument("--names", help="comma-separated VM names to use instead of ctop-<duty>")
    ap.add_argument("--keep", action="store_true")
    o = ap.parse_args()
    duties = [int(x) for x in o.duties.split(",")]
    names = o.names.split(",") if o.names else ["ctop-%d" % d for d in duties]
    started = []
    try:
        for n in names:
            if n not in vm.names():
                print("starting %s ..." % n, file=sys.stderr)
                ctop.start_vm(n, o.kernel)
                started.append(n)
            ctop.cgroup_create(n, o.quota * 1000, 100000)
            ctop.cgroup_add(n, int(vm.read_info(n)["pid"]))
        runs = ctop.measure(o.nfm, list(zip(names, duties)), o.seconds, o.delay)
        rows = [summarize(r) for r in runs]
    finally:
        if not o.keep:
            for n in started:
                vm.stop(n)
                ctop.cgroup_remove(n)
    print("%d s window, nfm top -d %g, host quota %d %% of a CPU per VM (cfs_quota_us %d / "
          "cfs_period_us 100000), 1 vCPU TCG guests" % (o.seconds, o.delay, o.quota, o.quota * 1000))
    print("| VM | burner duty | guest top %CPU | nfm %CPU | nfm %HOST (burner) | nfm %HOST (VM) "
          "| host truth (cgroup) | throttled periods |")
    print("|---|---|---|---|---|---|---|---|")
    for x in rows:
        print("| %s | %d %% | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f %% |" %
              (x["vm"], x["duty"], x["guest"], x["nfm_cpu"], x["nfm_host"], x["nfm_vm_host"],
               x["truth"], x["throttled"]))


if __name__ == "__main__":
    main()
