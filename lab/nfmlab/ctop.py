"""The cTop scenario (issue 12, after the seed's experiment): small lab VMs, each in its own host
CPU cgroup with a CFS quota, each running a CPU burner at a known duty cycle; and the guest's own
accounting of that burner to compare nfm against.

Host cgroups are v1 here: the cpu and cpuacct controllers are separate hierarchies under
/sys/fs/cgroup; a group of the same name is made in both (NFM_LAB_CGROUP_ROOT overrides the root).
"""
import argparse
import bisect
import os

from . import LabError, vm

CG_ROOT = os.environ.get("NFM_LAB_CGROUP_ROOT", "/sys/fs/cgroup")
PREFIX = "nfm-ctop-"


def _cg_dirs(name):
    return [os.path.join(CG_ROOT, c, PREFIX + name) for c in ("cpu", "cpuacct")]


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def cgroup_create(name, quota_us=30000, period_us=100000):
    """A group NAME in the cpu and cpuacct hierarchies, quota_us per period_us (-1: no cap)."""
    for d in _cg_dirs(name):
        os.makedirs(d, exist_ok=True)
    cpu = _cg_dirs(name)[0]
    _write(os.path.join(cpu, "cpu.cfs_period_us"), str(period_us))
    _write(os.path.join(cpu, "cpu.cfs_quota_us"), str(quota_us))


def cgroup_add(name, pid):
    """Moves every thread of process pid into the group."""
    for d in _cg_dirs(name):
        _write(os.path.join(d, "cgroup.procs"), str(pid))


def cgroup_remove(name):
    """Moves what is left to the root group and removes the group (quietly if gone; retried for
    a few seconds while an exiting QEMU still holds it)."""
    import time
    for d in _cg_dirs(name):
        for _ in range(50):
            if not os.path.isdir(d):
                break
            try:
                with open(os.path.join(d, "cgroup.procs")) as f:
                    for pid in f.read().split():
                        try:
                            _write(os.path.join(os.path.dirname(d), "cgroup.procs"), pid)
                        except OSError:
                            pass
                os.rmdir(d)
            except OSError:
                time.sleep(0.1)


def cgroup_usage_ns(name):
    """The group's CPU time as the host accounts it (cpuacct.usage)."""
    with open(os.path.join(_cg_dirs(name)[1], "cpuacct.usage")) as f:
        return int(f.read())


def cgroup_stat(name):
    """cpu.stat: nr_periods, nr_throttled, throttled_time (ns)."""
    with open(os.path.join(_cg_dirs(name)[0], "cpu.stat")) as f:
        return {k: int(v) for k, v in (l.split() for l in f if l.strip())}


def start_vm(name, kernel, mem="256M"):
    """A 1-vCPU lab VM with named vCPU threads and few extra processes; returns its info."""
    opts = argparse.Namespace(kernel=kernel, name=name, mem=mem, cpus=1, procs=4, qmp="on",
                              shm="off", machine="pc", la57="off", accel="auto",
                              debug_threads=True)
    try:
        return vm.start(opts)
    except LabError:
        vm.kill(name)
        raise


class BurnLog:
    """A BURN job's own accounting: its CPU time at any guest instant by linear interpolation
    between its samples (exact while the burner is alone on its CPU: the curve is flat asleep and
    of slope 1 busy, and it samples at every edge)."""

    def __init__(self, samples):
        self.t = [s[0] for s in samples]
        self.cpu = [s[1] for s in samples]
        if len(self.t) < 2:
            raise LabError("the burner logged %d samples" % len(self.t))

    def covers(self, ns):
        return self.t[0] <= ns <= self.t[-1]

    def cpu_at(self, ns):
        i = bisect.bisect_right(self.t, ns)
        if i <= 0 or i >= len(self.t):
            raise ValueError("guest time %.3f s outside the burner's log" % (ns / 1e9))
        t0, t1, c0, c1 = self.t[i - 1], self.t[i], self.cpu[i - 1], self.cpu[i]
        return c0 + (c1 - c0) * (ns - t0) / (t1 - t0) if t1 > t0 else c1

    def pct(self, u0, u1):
        """%CPU over the guest interval [u0, u1] (ns), as the guest's own clocks say."""
        return (self.cpu_at(u1) - self.cpu_at(u0)) / (u1 - u0) * 100


def _frames(path):
    """The complete JSON frames of an `nfm top -b -j` output file (the last may be cut)."""
    import json
    with open(path) as f:
        lines = f.read().splitlines()
    out = []
    for l in lines:
        try:
            out.append(json.loads(l))
        except ValueError:
            pass
    return out


def measure(nfm, vms, seconds, delay, warmup=3.0, workdir="/tmp", only_burner=True):
    """The scenario's run: in each VM (name, duty) a BURN job at duty %, one `nfm top -b -j -d
    delay [-p PID]` per VM for `seconds` after `warmup` (every process unless only_burner), and
    each VM's cgroup usage at both ends.
    Returns one dict per VM: name, duty, pid (the burner's), frames (top documents), log
    (BurnLog), cg_ns (cpuacct.usage delta), host_s (host seconds between the cgroup reads),
    stat0/stat1 (cpu.stat at both ends)."""
    import subprocess
    import time
    runs = []
    for name, duty in vms:
        pid = vm.burn_start(name, int(warmup + seconds + 6), duty)
        runs.append({"name": name, "duty": duty, "pid": pid, "info": vm.read_info(name)})
    procs = []
    try:
        for r in runs:
            r["out"] = os.path.join(workdir, "ctop-%s-%d.jsonl" % (r["name"], os.getpid()))
            with open(r["out"], "w") as out:
                procs.append(subprocess.Popen(
                    [nfm, "--vm", r["info"]["pid"], "-j", "top", "-b", "-d", str(delay)]
                    + (["-p", str(r["pid"])] if only_burner else []),
                    stdout=out, stderr=subprocess.DEVNULL))
        time.sleep(warmup)
        for r in runs:
            r["rt0"], r["t0"] = time.time_ns(), time.monotonic()
            r["cg0"], r["stat0"] = cgroup_usage_ns(r["name"]), cgroup_stat(r["name"])
        time.sleep(seconds)
        for r in runs:
            r["rt1"], r["t1"] = time.time_ns(), time.monotonic()
            r["cg1"], r["stat1"] = cgroup_usage_ns(r["name"]), cgroup_stat(r["name"])
        time.sleep(delay * 2)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
    time.sleep(6)  # the burners end and write their logs
    for r in runs:
        r["frames"] = _frames(r["out"])
        os.unlink(r["out"])
        r["cg_ns"] = r["cg1"] - r["cg0"]
        r["host_s"] = r["t1"] - r["t0"]
        for _ in range(20):
            try:
                r["log"] = BurnLog(vm.burn_log(r["name"]))
                break
            except (LabError, ValueError):
                time.sleep(1)
    return runs


def vm_frame(doc):
    """The VM of a one-VM top document."""
    return doc["vms"][0]


def proc_of(frame, pid):
    return next((p for p in frame.get("processes", []) if p["pid"] == pid), None)


def window(run):
    """Consecutive frames (a, b) both inside the host window [rt0, rt1] of the cgroup reads (by
    the documents' time_ns, host CLOCK_REALTIME), both listing the burner."""
    frames = [d for d in run["frames"] if d.get("vms") and "vm" in vm_frame(d)
              and run["rt0"] <= d["time_ns"] <= run["rt1"]]
    pairs = []
    for a, b in zip(frames, frames[1:]):
        if proc_of(vm_frame(a), run["pid"]) and proc_of(vm_frame(b), run["pid"]):
            pairs.append((a, b))
    return pairs
