"""The Python binding (`import nfm`, python/nfm) on a lab guest: its objects validate against
doc/schema (the same member names as `nfm -j`), agree with the guest's own view and with `nfm
ps -j`, and failures are nfm.Error exceptions.

The package is the build tree's (BUILD/python, BUILD being NFM_BIN's build directory, or
NFM_PYTHONPATH). Needs root (reads QEMU memory) and python3-cffi.
"""
import errno
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from nfmcli import NFM, run_json, validate  # noqa: E402

PYPATH = os.environ.get("NFM_PYTHONPATH", str(Path(NFM).resolve().parents[2] / "python"))
sys.path.insert(0, PYPATH)
nfm = pytest.importorskip("nfm", reason="no Python binding in %s (python3-cffi?)" % PYPATH)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads QEMU memory: needs root")


@pytest.fixture(scope="module")
def guest(lab_vm):
    with nfm.attach("pid:%d" % lab_vm.pid) as g:
        yield g


def test_vms_lists_the_lab_vm(lab_vm):
    vms = nfm.vms()
    validate("vm.json", "\n".join(json.dumps(v) for v in vms), "nfm.vms()")
    mine = [v for v in vms if v["pid"] == lab_vm.pid]
    assert mine and mine[0]["name"] == lab_vm.name and mine[0]["qmp"] == lab_vm.qmp


def test_kernel_matches_the_guest(lab_vm, guest):
    k = guest.kernel()
    validate("kernel.json", json.dumps(k), "Guest.kernel()")
    assert k["release"] == lab_vm.truth.uname["release"].decode()
    assert k["nodename"] == lab_vm.truth.uname["nodename"].decode()
    assert k["cpus_online"] == lab_vm.truth.files["/proc/cpuinfo"].count(b"processor\t:")
    assert guest.uptime_ns() > 0


def test_processes_validate_and_match_nfm_ps(lab_vm, guest):
    """Every process validates against process.json; pid, ppid, comm, uids and kthread are those
    of `nfm ps -j` and of the guest's own /proc; the keys are a subset of nfm ps's."""
    procs = list(guest.processes())
    validate("process.json", "\n".join(json.dumps(p) for p in procs), "Guest.processes()")
    by_pid = {p["pid"]: p for p in procs}
    truth = lab_vm.truth.processes
    common = set(by_pid) & set(truth)
    assert len(common) >= 0.8 * len(truth), (len(common), len(truth))
    for pid in common:
        # a kworker's name changes with the work it runs
        if not by_pid[pid]["kthread"] and not truth[pid].comm.startswith(b"kworker"):
            assert by_pid[pid]["comm"] == truth[pid].comm.decode("utf-8", "backslashreplace"), pid
    cli = {p["pid"]: p for p in run_json("--vm", lab_vm.pid, "ps", kind="ps")["processes"]}
    stable = ("pid", "tgid", "ppid", "comm", "task_comm", "uid", "euid", "gid", "kthread",
              "task", "policy", "start_time_ns")
    checked = 0
    for pid in set(cli) & set(by_pid):
        assert set(by_pid[pid]) <= set(cli[pid]) | {"comm_hex", "task_comm_hex"}, pid
        # a kworker may be renamed (its work) between the binding's read and nfm ps's
        keys = [k for k in stable if not (by_pid[pid]["kthread"] and k in ("comm", "task_comm"))]
        assert {k: by_pid[pid][k] for k in keys} == {k: cli[pid][k] for k in keys}, pid
        checked += 1
    assert checked >= 0.8 * len(cli)


def test_threads_iterate_every_thread(guest):
    procs = list(guest.processes())
    threads = list(guest.processes(threads=True))
    assert len(threads) >= len(procs)
    assert {t["tgid"] for t in threads} >= {p["pid"] for p in procs if not p["kthread"]}


def test_modules_and_memory(lab_vm, guest):
    mods = guest.modules()
    validate("module.json", "\n".join(json.dumps(m) for m in mods), "Guest.modules()")
    assert len(mods) == len(lab_vm.truth.files["/proc/modules"].splitlines())
    mem = guest.memory()
    validate("memory.json", json.dumps(mem), "Guest.memory()")
    assert mem["mem_total_bytes"] == guest.kernel()["mem_total_bytes"]


def test_mounts_and_loadavg(lab_vm, guest):
    mnts = guest.mounts()
    validate("mount.json", "\n".join(json.dumps(m) for m in mnts), "Guest.mounts()")
    assert "/" in {m["path"] for m in mnts}
    truth = lab_vm.truth.files["/proc/mounts"].splitlines()
    assert abs(len(mnts) - len(truth)) <= 1, (len(mnts), len(truth))
    la = guest.loadavg()
    validate("loadavg.json", json.dumps(la), "Guest.loadavg()")
    assert la["threads"] >= len(list(guest.processes()))


def test_errors_are_exceptions(guest):
    with pytest.raises(nfm.Error) as e:
        nfm.attach("pid:999999999")
    assert e.value.errno in (errno.ESRCH, errno.ENOENT, errno.EINVAL)
    with pytest.raises(nfm.Error) as e:
        nfm.attach("no-such-source:x")
    assert isinstance(e.value, OSError) and str(e.value)
    g = nfm.attach(guest.spec)
    g.close()
    with pytest.raises(nfm.Error):
        g.kernel()
