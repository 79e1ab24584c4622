"""cTop (issue 12): nfm top's %CPU against the guest's own accounting at short intervals, and the
host-true %HOST against the host cgroup's own accounting, on 1-vCPU lab VMs each capped by a host
CPU cgroup (30 % of a CPU) and running a burner at a known duty cycle. The guest's own accounting
is the burner's CLOCK_PROCESS_CPUTIME_ID logged at every edge of its busy stretches and every
5 ms, each read between two CLOCK_BOOTTIME reads and stamped at their midpoint (burn_sample() in
lab/guest/zoo-truth.c; nfmlab.ctop.BurnLog), read at the guest instants nfm's frames carry.
Allowance: a frame may exceed 1 point only by what the truth proves it got wrong itself at that
frame's instants (truth_slack: a log segment where the lone burner's CPU time grew faster than its
clock, i.e. the guest's scheduler clock held back after a vCPU stall). doc/ctop.md has the model.

Costs: three TCG guests of 256 MiB on a 2-core host, ~3 minutes (3 s: 13 frames in 40 s). 0.1 s only with NFM_LAB_FULL=1.
"""
import os

import pytest

import nfmcli
from conftest import lab_kernels
from nfmlab import ctop, vm

DUTIES = (100, 70, 30)
QUOTA_US = 30000
INTERVALS = [0.5, 1.0, 3.0] + ([0.1] if os.environ.get("NFM_LAB_FULL") == "1" else [])


@pytest.fixture(scope="module")
def ctop_vms():
    """Three 1-vCPU VMs of the first lab kernel, each in its own capped host cgroup."""
    kernel = lab_kernels()[0]
    names = ["pytest-ctop%d-%d" % (d, os.getpid()) for d in DUTIES]
    try:
        for n in names:
            info = ctop.start_vm(n, kernel)
            ctop.cgroup_create(n, QUOTA_US, 100000)
            ctop.cgroup_add(n, int(info["pid"]))
        yield list(zip(names, DUTIES))
    finally:
        for n in names:
            try:
                vm.stop(n)
            except Exception:  # noqa: BLE001 - a VM that never started
                vm.kill(n)
            ctop.cgroup_remove(n)


def truth_slack(log, ns):
    """How far the guest's own truth may itself be off at guest instant ns (ns of CPU time): the
    burner is alone on its one vCPU, so its CPU time cannot grow faster than its clock; a log
    segment where it does (ΔCPU > Δtime) proves that the sample starting it was behind by at least
    the excess (the guest's scheduler clock held back after a vCPU stall, doc/ctop.md). The excess
    of the segment holding ns and of its two neighbours; 0 where the truth is self-consistent."""
    import bisect
    i = bisect.bisect_right(log.t, ns)
    worst = 0
    for j in range(max(1, i - 1), min(len(log.t), i + 2)):
        worst = max(worst, (log.cpu[j] - log.cpu[j - 1]) - (log.t[j] - log.t[j - 1]))
    return worst


def boundary_pair(errs, i, log):
    """Is frame i's excess one half of a misplaced boundary: a neighbouring frame off the other
    way, the two together within 1 point of the guest over their joint interval? Then the CPU
    time was counted right and only the instant between the two frames was off (doc/ctop.md:
    the guest's scheduler clock held a tick or more behind its monotonic clock)."""
    for j in (i - 1, i + 1):
        if j < 0 or j >= len(errs):
            continue
        a, b = sorted((errs[i], errs[j]), key=lambda e: e["u0"])
        if a["u1"] != b["u0"] or (a["got"] - a["guest"]) * (b["got"] - b["guest"]) >= 0:
            continue
        span = b["u1"] - a["u0"]
        got = (a["got"] * (a["u1"] - a["u0"]) + b["got"] * (b["u1"] - b["u0"])) / span
        if abs(got - log.pct(a["u0"], b["u1"])) <= 1.0 + a["slack"] + b["slack"]:
            return True
    return False


@pytest.mark.parametrize("delay", INTERVALS)
def test_cpu_matches_guest(ctop_vms, delay):
    """Every frame's %CPU of the burners at 30 and 70 % duty within 1 point of what the guest's
    own clocks say over the same guest interval at 0.5, 1 and 3 s, but for a rare misplaced frame
    boundary whose two frames together are within 1 point (0.1 s: the outlier rule below)."""
    runs = ctop.measure(nfmcli.NFM, ctop_vms[1:], seconds=min(max(8, 40 * delay), 40), delay=delay)
    for r in runs:
        pairs = ctop.window(r)
        assert len(pairs) >= 6, (r["name"], len(r["frames"]))
        errs = []
        for a, b in pairs:
            fa, fb = ctop.vm_frame(a), ctop.vm_frame(b)
            u0, u1 = fa["vm"]["uptime_ns"], fb["vm"]["uptime_ns"]
            if not (r["log"].covers(u0) and r["log"].covers(u1)) or u1 <= u0:
                continue
            guest = r["log"].pct(u0, u1)
            got = ctop.proc_of(fb, r["pid"])["cpu_pct"]
            slack = (truth_slack(r["log"], u0) + truth_slack(r["log"], u1)) / (u1 - u0) * 100
            errs.append({"err": abs(got - guest), "u0": u0, "u1": u1, "got": got,
                         "guest": guest, "slack": slack})
        assert len(errs) >= 6
        worst = max(errs, key=lambda e: e["err"])
        print("%s duty %d -d %g: %d frames, mean |err| %.2f, %d beyond 1, worst %.2f (nfm %.1f "
              "guest %.2f at %.2f s, truth slack %.2f); %d frames with truth slack, max %.2f"
              % (r["name"], r["duty"], delay, len(errs), sum(e["err"] for e in errs) / len(errs),
                 sum(e["err"] > 1.0 for e in errs), worst["err"], worst["got"], worst["guest"],
                 worst["u0"] / 1e9, worst["slack"], sum(e["slack"] > 0.01 for e in errs),
                 max(e["slack"] for e in errs)))
        # A frame may exceed 1 point only by what the truth itself proves it got wrong there.
        outliers = [i for i, e in enumerate(errs) if e["err"] > 1.0 + e["slack"]]
        show = [errs[i] for i in outliers]
        if delay >= 0.5:
            # Every frame within 1 point (plus the truth's own proven error, truth_slack): the
            # walk, its uptime and each running task's uncharged time are one scheduler instant
            # (nfm_ctx_sched_gen, nfm_ctx_sched_pending; doc/ctop.md). What remains under host
            # load is a rare boundary between two frames misplaced by a tick or so (+x then -x;
            # CI saw +1.07/-1.26 at 1 s): allowed only as such a pair, at most 1 frame in 20.
            assert all(boundary_pair(errs, i, r["log"]) for i in outliers), show
            assert len(outliers) <= max(2, len(errs) // 20), show
        else:
            # At 0.1 s a tick is 4 points and the rare outliers of doc/ctop.md (either binary,
            # varying with the host's load) are not removed: at most 1 frame in 20 beyond 1 point,
            # none beyond 3 but half of a misplaced boundary (the CPU time of the two frames
            # right to 1 point; only the instant between them off by a tick, as the guest's
            # clamped scheduler clock does). The "every frame" is not met here
            # (doc/ctop.md says why).
            assert len(outliers) <= max(1, len(errs) // 20), show
            big = [e for i, e in enumerate(errs)
                   if e["err"] > 3.0 + e["slack"] and not boundary_pair(errs, i, r["log"])]
            assert not big, (big, show)


def test_capped_host(ctop_vms):
    """Each VM's %HOST within 2 points of its cgroup's cpuacct.usage over the same window, the
    processes' %HOST summing to the VM's within 2 points in every frame, the 100 % burner's
    guest %CPU far above what the host gave it, and the cgroup's quota and throttling counters
    as its own files say."""
    runs = ctop.measure(nfmcli.NFM, ctop_vms, seconds=20, delay=1.0, only_burner=False)
    for r in runs:
        pairs = ctop.window(r)
        assert len(pairs) >= 10, (r["name"], len(r["frames"]))
        frames = [ctop.vm_frame(b) for _, b in pairs]
        nfmcli.validate("top", pairs[-1][1])
        for f in frames:
            total = sum(p.get("host_pct", 0) for p in f["processes"])
            assert abs(total - f["host"]["cpu_pct"]) <= 2.0, (r["name"], total, f["host"]["cpu_pct"])
        vm_host = sum(f["host"]["cpu_pct"] for f in frames) / len(frames)
        truth = r["cg_ns"] / (r["host_s"] * 1e9) * 100
        print("%s duty %d: nfm VM %%HOST %.1f, cgroup %.1f" % (r["name"], r["duty"], vm_host, truth))
        assert abs(vm_host - truth) <= 2.0, (r["name"], vm_host, truth)
        assert truth <= QUOTA_US / 1000 + 2
        if r["duty"] == 100:
            cpu = sum(ctop.proc_of(f, r["pid"])["cpu_pct"] for f in frames) / len(frames)
            assert cpu > 80 and vm_host < 35, (cpu, vm_host)
        # The cgroup as nfm reads it: the quota and period set, and the throttling counters
        # (monotone) bracketing cpu.stat as read at both ends of the window; the 100 % burner's
        # VM is throttled in it.
        cgs = [ctop.vm_frame(d)["host"]["cgroup"] for d in r["frames"]]
        assert cgs and all((c["quota_us"], c["period_us"]) == (QUOTA_US, 100000) for c in cgs)
        for mine, theirs in (("nr_throttled", "nr_throttled"), ("throttled_ns", "throttled_time")):
            v = [c[mine] for c in cgs]
            assert v == sorted(v) and v[0] <= r["stat0"][theirs] <= r["stat1"][theirs] <= v[-1], \
                (r["name"], mine, v[0], r["stat0"][theirs], r["stat1"][theirs], v[-1])
        if r["duty"] == 100:
            assert r["stat1"]["nr_throttled"] > r["stat0"]["nr_throttled"]
