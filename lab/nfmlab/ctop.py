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
    """Moves what is left to the root group and removes the group (quietly if gone)."""
    for d in _cg_dirs(name):
        if not os.path.isdir(d):
            continue
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                for pid in f.read().split():
                    try:
                        _write(os.path.join(os.path.dirname(d), "cgroup.procs"), pid)
                    except OSError:
                        pass
            os.rmdir(d)
        except OSError:
            pass


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
