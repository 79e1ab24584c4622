"""nfm diagnose on guests made unwell on purpose (nfmlab.scenario, lab/faultmod): each scenario
gives the right finding with its evidence, and a healthy guest gives none.

Scenario VMs are small (1 vCPU, 384M) and short-lived: each is stopped when its test is done.
Kernels: 6.1-cloud by default, 6.12-generic too with NFM_LAB_FULL=1 (conftest.scenario_kernels).
"""
import json
import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import scenario_kernels
from nfmcli import run, run_json, validate
from nfmlab import LabError

KERNELS = scenario_kernels()


STARVED = "the host barely ran its thread"


def diagnose(v, ok=(4,)):
    """nfm -j diagnose of v. Looked at again (twice at most) when the host starved a vCPU
    during the hard-lockup looks: nfm then says it cannot tell (exit 3, lockups incomplete),
    a fact of this host's load, not of the guest under test (test_hard_lockup checks it)."""
    t0 = time.monotonic()
    for _ in range(3):
        p = run("-j", "--vm", v.pid, "diagnose", timeout=300)
        if p.returncode != 3 or STARVED not in p.stderr:
            break
        print("%s %s: a vCPU starved by the host during the looks; again" %
              (v.kernel_name, v.scenario))
    assert p.returncode in ok, (p.returncode, p.stderr)
    validate("diagnose", p.stdout, "nfm -j diagnose")
    doc = json.loads(p.stdout)
    print("%s %s: diagnose %.2f s, %d findings" % (v.kernel_name, v.scenario,
                                                    time.monotonic() - t0, doc["nr_findings"]))
    return doc


def reliable_frames(lines):
    """The frames of a stack the kernel printed ("log [ t]  name+0xoff/0xlen"), without the
    unreliable "? " ones: what an unwinder must find."""
    out = []
    for e in lines:
        m = re.match(r"log \[ *[0-9.]+\]  ([\w.]+\+0x[0-9a-f]+/0x[0-9a-f]+( \[\w+\])?)$", e)
        if m:
            out.append(m.group(1))
    return out


def running_stack(v, pid, elf=None):
    """nfm bt PID -j of a task on a CPU (live, or on an ELF dump of v): (stack, frame texts)."""
    doc = run_json("--vm", elf or v.pid, "bt", str(pid), kind="bt", ok=(0, 3), timeout=300)
    st = doc["tasks"][0]["stack"]
    return st, [f["text"] for f in st["frames"]]


def qmp_dump(v, path):
    """An ELF dump of a guest that cannot answer the truth channel (stuck or dead)."""
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lab"))
    from nfmlab.vm import QMP
    with QMP(v.qmp, timeout=600) as q:
        q.cmd("dump-guest-memory", paging=False, protocol="file:" + str(path), format="elf")
    return str(path)


def findings(doc, kind):
    return [f for f in doc["findings"] if f["kind"] == kind]


def text(f):
    return "\n".join([f["summary"]] + f["evidence"])


@pytest.mark.parametrize("kernel", KERNELS)
def test_healthy_guest_has_no_finding(scenario_vm, kernel):
    v = scenario_vm(kernel, "healthy")
    doc = diagnose(v, ok=(0,))
    assert doc["healthy"] and doc["nr_findings"] == 0 and doc["findings"] == [], doc["findings"]
    assert doc["complete"], doc.get("errors")
    fig = doc["figures"]
    assert fig["panicked"] is False and fig["halted"] is False
    assert fig["oom_kills"] == 0 and fig["nr_hung_tasks"] == 0 and fig["nr_soft_lockup_cpus"] == 0
    assert "D" not in fig["taint"] and "O" in fig["taint"]  # the fault module, loaded, idle
    assert {c["name"] for c in doc["checks"]} == {"kernel", "log", "tasks", "lockups", "memory",
                                                   "network", "filesystems", "peers"}
    p = run("--vm", v.pid, "diagnose")
    assert p.returncode == 0 and "no findings" in p.stdout, p.stdout + p.stderr
    v.stop()


@pytest.mark.parametrize("kernel", KERNELS)
def test_hung_tasks_oom_oops_full_tmpfs(scenario_vm, kernel):
    v = scenario_vm(kernel, "hang")
    doc = diagnose(v)
    hung = findings(doc, "hung_task")
    names = {f.get("subject") for f in hung}
    # the kernel thread and the process stuck in the module's uninterruptible sleep
    assert {"nfm_hang/0", "cat"} <= names, [text(f) for f in hung]
    for f in hung:
        if f.get("subject") not in ("nfm_hang/0", "cat"):
            continue
        assert f["severity"] == "error" and f["pid"] > 0
        assert "sysctl_hung_task_timeout_secs = 2" in f["evidence"], text(f)
        frames = [e for e in f["evidence"] if e.startswith("[<0>] ")]
        assert frames and "[nfm_faultmod]" in frames[0], text(f)
        want = "nfm_faultmod_hang" if f["subject"] == "nfm_hang/0" else "nfm_faultmod_read"
        assert frames[0].startswith("[<0>] %s+0x" % want), text(f)
    assert doc["figures"]["nr_hung_tasks"] >= 2
    assert doc["figures"]["hung_task_timeout_ns"] == 2 * 10**9
    # Each hung task's stack, frame for frame, is the guest's own /proc/PID/stack (they do not
    # move: stuck in the module).
    t, _ = v.fresh_truth()
    threads = {tid: th for p in t.processes.values() for tid, th in p.threads.items()}
    for f in hung:
        if f.get("subject") in ("nfm_hang/0", "cat"):
            ours = [e[6:] for e in f["evidence"] if e.startswith("[<0>] ")]
            assert threads[f["pid"]].stack == ours, (f["subject"], threads[f["pid"]].stack, ours)

    oom = findings(doc, "oom_kill")
    assert len(oom) == 1 and doc["figures"]["oom_kills"] == 1, doc["findings"]
    assert any("Killed process" in e and "(nfm-hog)" in e for e in oom[0]["evidence"]), text(oom[0])
    assert "vm event OOM_KILL = 1 (summed over the CPUs)" in oom[0]["evidence"]

    oops = findings(doc, "oops")
    assert len(oops) == 1 and oops[0]["severity"] == "error", doc["findings"]
    assert "D" in doc["figures"]["taint"] and doc["figures"]["oops_count"] >= 1
    assert any("nfm_faultmod_oops" in e for e in oops[0]["evidence"]), text(oops[0])

    full = findings(doc, "fs_full")
    assert [f["subject"] for f in full] == ["/mnt/tmpfs"], doc["findings"]
    assert not findings(doc, "panic") and not findings(doc, "soft_lockup")
    assert not [f for f in doc["findings"] if f["kind"] in (
        "interface_down", "no_carrier", "no_default_route", "resolv_conf")]
    p = run("--vm", v.pid, "diagnose")
    assert p.returncode == 4 and "hung_task: task" in p.stdout, p.stdout + p.stderr


NFMD = os.environ.get("NFMD_BIN") or str(Path(os.environ.get("NFM_BIN", "build/cmd/nfm/nfm"))
                                         .resolve().parents[1] / "nfmd" / "nfmd")


def metrics(text, name):
    """{labels: value} of one metric family in Prometheus text."""
    out = {}
    for m in re.finditer(r"^%s(\{[^}]*\})? (\S+)$" % re.escape(name), text, re.M):
        out[m.group(1) or ""] = float(m.group(2))
    return out


def nfmd_metrics(v, tmp_path, ready):
    """/metrics of an nfmd watching v alone (everything at 1 s), once metric `ready` is there."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tok = tmp_path / "token"
    tok.write_text("t0ken\n")
    tok.chmod(0o600)
    proc = subprocess.Popen([NFMD, "--listen", "127.0.0.1:%d" % port, "--token-file", str(tok),
                             "--vm", v.name, "--interval", "1s", "--sys-interval", "1s",
                             "--rescan", "1s"], stdout=subprocess.DEVNULL,
                            stderr=open(tmp_path / "nfmd.log", "w"))
    try:
        text, deadline = "", time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                req = urllib.request.Request("http://127.0.0.1:%d/metrics" % port)
                req.add_header("Authorization", "Bearer t0ken")
                text = urllib.request.urlopen(req, timeout=10).read().decode()
            except OSError:
                text = ""
            if metrics(text, ready):
                break
            time.sleep(1)
        assert metrics(text, ready), (tmp_path / "nfmd.log").read_text()[-2000:]
        return text
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def finding_series(text, kind, severity):
    return [l for l in metrics(text, "nfm_guest_findings")
            if 'kind="%s"' % kind in l and 'severity="%s"' % severity in l]


@pytest.mark.parametrize("kernel", KERNELS)
def test_nfmd_exports_the_findings(scenario_vm, kernel, tmp_path):
    """nfmd's /metrics on the hang scenario: nfm_guest_hung_tasks, nfm_guest_oom_kills_total,
    nfm_guest_oops_total, nfm_guest_findings{kind,severity}, nfm_guest_panicked 0."""
    v = scenario_vm(kernel, "hang")
    text = nfmd_metrics(v, tmp_path, "nfm_guest_hung_tasks")
    hung = metrics(text, "nfm_guest_hung_tasks")
    assert list(hung.values())[0] >= 2, hung
    assert list(metrics(text, "nfm_guest_oom_kills_total").values()) == [1.0]
    assert list(metrics(text, "nfm_guest_panicked").values()) == [0.0]
    assert list(metrics(text, "nfm_guest_halted").values()) == [0.0]
    assert list(metrics(text, "nfm_guest_oops_total").values())[0] >= 1
    want = {"hung_task": "error", "oom_kill": "error", "oops": "error", "fs_full": "warning"}
    for kind, sev in want.items():
        assert finding_series(text, kind, sev), (kind, metrics(text, "nfm_guest_findings"))
    assert set(metrics(text, "nfm_guest_diagnose_complete").values()) == {1.0}
    v.stop()


@pytest.mark.parametrize("kernel", KERNELS)
def test_soft_lockup_under_way(scenario_vm, kernel):
    v = scenario_vm(kernel, "lockup")
    doc = diagnose(v)
    sl = findings(doc, "soft_lockup")
    assert sl and sl[0]["severity"] == "critical", doc["findings"]
    f = sl[0]
    assert f["summary"].startswith("soft lockup under way: CPU 0 stuck for"), text(f)
    assert f["cpu"] == 0 and f.get("subject") == "nfm_spin", text(f)
    assert any(e.startswith("watchdog_touch_ts ") for e in f["evidence"]), text(f)
    assert any(e.startswith("run queue of CPU 0: ") and "nfm_spin" in e for e in f["evidence"])
    assert any("soft lockup - CPU#0 stuck" in e for e in f["evidence"]), text(f)
    assert doc["figures"]["nr_soft_lockup_cpus"] == 1
    # The spinning task from its vCPU's registers (live), as the watchdog's own report shows it:
    # the module's spin function, then the frames the kernel printed as reliable after its RIP.
    logged = reliable_frames(f["evidence"])
    assert logged, text(f)
    i = f["evidence"].index("stack: running on CPU 0, from its vCPU's registers:")
    ours = [e[6:] for e in f["evidence"][i + 1:] if e.startswith("[<0>] ")]
    spin = [k for k, x in enumerate(ours) if x.startswith("nfm_faultmod_spin+0x")]
    assert spin and ours[spin[0]].endswith(" [nfm_faultmod]"), text(f)
    assert ours[spin[0] + 1:] == logged, (ours, logged)
    st, frames = running_stack(v, f["pid"])
    assert set(st["flags"]) == {"RUNNING", "REGS"} and st["cpu"] == 0, st
    assert frames[-len(logged) - 1].startswith("nfm_faultmod_spin+0x"), frames
    assert frames[-len(logged):] == logged, (frames, logged)
    # With preemption off on CPU 0 no grace period ends; the grace-period kthread starts one on
    # CPU 1 (the scenario's second vCPU). Once it has waited past rcu_cpu_stall_timeout,
    # rcu_state shows the stall, the same grace period (g=) that the guest's own warning names.
    deadline, rcu = time.monotonic() + 100, []
    while time.monotonic() < deadline:
        d2 = run_json("--vm", v.pid, "diagnose", kind="diagnose", ok=(4,), timeout=300)
        rcu = [x for x in findings(d2, "rcu_stall") if "under way" in x["summary"]]
        if rcu and any("detected stall" in e for e in rcu[0]["evidence"]):
            break
        time.sleep(3)
    assert rcu, d2["findings"]
    g = re.search(r"g=(-?\d+)", rcu[0]["summary"]).group(1)
    # "(detected by 1, t=N jiffies, g=G, ...)" from another CPU, "(t=N jiffies g=G ...)" from
    # the stalled CPU itself (self-detected)
    warned = [re.search(r"jiffies,? g=(-?\d+)", e) for e in rcu[0]["evidence"]]
    warned = [w for w in warned if w]
    assert warned and warned[0].group(1) == g, text(rcu[0])
    assert rcu[0]["severity"] == "error" and "rcu_cpu_stall_timeout = " in text(rcu[0])
    v.stop()


@pytest.mark.parametrize("kernel", KERNELS)
def test_network_misconfiguration(scenario_vm, kernel):
    v = scenario_vm(kernel, "net")
    doc = diagnose(v)
    by = {}
    for f in doc["findings"]:
        by.setdefault(f["kind"], []).append(f)
    assert [f["subject"] for f in by.get("no_carrier", [])] == ["dummy1"], doc["findings"]
    assert [f["subject"] for f in by.get("interface_down", [])] == ["dummy2"], doc["findings"]
    assert any("address 10.98.0.2/24 on dummy2" in e for e in by["interface_down"][0]["evidence"])
    assert len(by.get("no_default_route", [])) == 1, doc["findings"]
    gw = by.get("gateway_off_subnet", [])
    assert len(gw) == 1 and "192.168.5.1" in gw[0]["summary"] and gw[0]["subject"] == "dummy0", gw
    assert any("address 10.77.0.2/24 on dummy0" in e for e in gw[0]["evidence"]), text(gw[0])
    lo = by.get("loopback_only", [])
    assert len(lo) == 1 and lo[0]["subject"] == "http", doc["findings"]
    assert any(e.startswith("LISTEN 127.0.0.1:80") for e in lo[0]["evidence"]), text(lo[0])
    rc = by.get("resolv_conf", [])
    assert len(rc) == 1 and "is empty" in rc[0]["summary"], doc["findings"]
    assert set(by) == {"no_carrier", "interface_down", "no_default_route", "gateway_off_subnet",
                       "loopback_only", "resolv_conf"}, doc["findings"]
    v.stop()


def meminfo_kb(v):
    """The guest's own MemTotal and MemAvailable (kB), through the truth channel."""
    got = dict(l.split(":", 1) for l in v.guest_file("/proc/meminfo").decode().splitlines())
    return int(got["MemTotal"].split()[0]), int(got["MemAvailable"].split()[0])


@pytest.mark.parametrize("kernel", KERNELS)
def test_disk_full_readonly_low_memory(scenario_vm, kernel):
    """The disk scenario: an ext4 file system filled by root is 100 % full with df -k's very
    figures (the guest's df, run by the scenario, kept in /run/nfm-df.txt); one that an error
    left aborted is fs_readonly though the guest's /proc/mounts says rw (6.1.y no longer sets
    SB_RDONLY), with the kernel's own lines; little memory is available, as the guest's meminfo
    says before and after (within 1 MiB: it moves)."""
    v = scenario_vm(kernel, "disk")
    before = meminfo_kb(v)
    doc = diagnose(v, ok=(4,))
    after = meminfo_kb(v)
    by = {}
    for f in doc["findings"]:
        by.setdefault(f["kind"], []).append(f)
    df = {l.split()[-1]: l.split() for l in v.guest_file("/run/nfm-df.txt").decode().splitlines()[1:]}
    full = by.get("fs_full", [])
    fs = next(c for c in doc["checks"] if c["name"] == "filesystems")
    modules = v.guest_file("/proc/modules").decode()
    try:
        module_btf = bool(v.guest_file("/sys/kernel/btf/ext4"))
    except LabError as e:
        assert "errno 2" in str(e), e
        module_btf = False
    if re.search(r"^ext4 ", modules, re.M) and not module_btf:
        # ext4 a module on a kernel without module BTF (5.10): its superblocks can't be read,
        # and diagnose says so instead of calling the check complete
        assert not fs["complete"] and "ext4 is a module and this kernel keeps no BTF for " \
            "modules" in fs["unread"], fs
        assert not full, doc["findings"]
        kinds = {"fs_readonly", "low_memory"}
    else:
        assert fs["complete"], fs
        assert [f["subject"] for f in full] == ["/mnt/full"], doc["findings"]
        blocks, used, avail, pct = df["/mnt/full"][1:5]
        assert "/mnt/full (ext4) is %s full" % pct in full[0]["summary"], text(full[0])
        assert "df -k: 1K-blocks %s used %s available %s" % (blocks, used, avail) in \
            full[0]["evidence"], (df, text(full[0]))
        kinds = {"fs_full", "fs_readonly", "low_memory"}
    mounts = v.guest_file("/proc/mounts").decode()
    line = re.search(r"^/dev/loop1 /mnt/ro ext4 (r[wo]),", mounts, re.M)
    assert line, mounts
    ro = by.get("fs_readonly", [])
    assert [f["subject"] for f in ro] == ["/mnt/ro"] and ro[0]["severity"] == "error", \
        doc["findings"]
    if line.group(1) == "rw":
        # "ext4: don't set SB_RDONLY after filesystem errors" (6.1.y, 6.10+): only aborted
        assert "was aborted after errors, though /proc/mounts says rw" in ro[0]["summary"], \
            text(ro[0])
    else:
        # before it (5.10): the superblock went read-only under a read-write mount
        assert ro[0]["summary"].endswith("is read-only though mounted read-write: remounted "
                                         "read-only after errors"), text(ro[0])
    assert any("EXT4-fs error (device loop1)" in e for e in ro[0]["evidence"]), text(ro[0])
    assert any("EXT4-fs (loop1): Remounting filesystem read-only" in e
               for e in ro[0]["evidence"]), text(ro[0])
    low = by.get("low_memory", [])
    assert len(low) == 1, doc["findings"]
    m = re.search(r"little memory available: (\d+) kB of (\d+) kB", low[0]["summary"])
    assert m and int(m.group(2)) == before[0] == after[0], (text(low[0]), before, after)
    lo, hi = sorted((before[1], after[1]))
    assert lo - 1024 <= int(m.group(1)) <= hi + 1024, (text(low[0]), before, after)
    assert set(by) == kinds, doc["findings"]
    v.stop()


@pytest.mark.parametrize("kernel", KERNELS)
def test_panic(scenario_vm, kernel, tmp_path):
    v = scenario_vm(kernel, "panic")
    doc = diagnose(v)
    p = findings(doc, "panic")
    assert len(p) == 1 and p[0]["severity"] == "critical", doc["findings"]
    f = p[0]
    assert f["summary"] == "the kernel panicked: sysrq triggered crash", text(f)
    assert f["cpu"] == 0 and doc["figures"]["panic_cpu"] == 0 and doc["figures"]["panicked"]
    assert f.get("subject") == "nfm-scenario" and f["pid"] > 0, text(f)
    ev = f["evidence"]
    assert any("Kernel panic - not syncing: sysrq triggered crash" in e for e in ev)
    assert any(" sysrq_handle_crash+0x" in e for e in ev), text(f)
    assert any("PID: %d " % f["pid"] in e for e in ev), text(f)
    assert doc["findings"][0] is not None and doc["findings"][0]["kind"] == "panic"
    p = run("--vm", v.pid, "diagnose")
    assert p.returncode == 4 and p.stdout.splitlines()[2].startswith("CRITICAL  panic:"), p.stdout
    # The panicking task, still on CPU 0, unwound from its vCPU's registers: from the sysrq
    # handler down, the frames the kernel printed as reliable in its own panic trace.
    logged = reliable_frames(ev)
    logged = logged[logged.index(next(x for x in logged if x.startswith("sysrq_handle_crash+"))):]
    i = ev.index("stack: running on CPU 0, from its vCPU's registers:")
    ours = [e[6:] for e in ev[i + 1:] if e.startswith("[<0>] ")]
    assert ours[ours.index(logged[0]):] == logged, (ours, logged)
    assert any(x.startswith("panic+0x") for x in ours[:ours.index(logged[0])]), ours
    elf = qmp_dump(v, tmp_path / "panic.elf")
    for where in (None, elf):
        st, frames = running_stack(v, f["pid"], where)
        assert set(st["flags"]) == {"RUNNING", "REGS"} and st["cpu"] == 0, (where, st)
        # Above the panic the CPU spins in panic's loop: in its delay, or (trixie's 6.12 read
        # once) in the delay of panic_blink's i8042_panic_blink, so the frames above panic
        # differ with the instant read; from the sysrq handler down they are the same frames.
        assert frames[frames.index(logged[0]):] == ours[ours.index(logged[0]):], \
            (where, frames, ours)
        above = [x.split("+")[0] for x in frames[:frames.index(logged[0])]]
        assert "panic" in above or "vpanic" in above, (where, frames)
        assert set(above) <= {x.split("+")[0] for x in ours[:ours.index(logged[0])]} | \
            {"i8042_panic_blink"} and above[0] == ours[0].split("+")[0], (where, frames, ours)
    os.unlink(elf)
    text = nfmd_metrics(v, tmp_path, "nfm_guest_panicked")
    assert list(metrics(text, "nfm_guest_panicked").values()) == [1.0], text
    assert finding_series(text, "panic", "critical"), metrics(text, "nfm_guest_findings")
    v.stop()


@pytest.mark.parametrize("kernel", KERNELS)
def test_halted(scenario_vm, kernel, tmp_path):
    """halt -f: system_state SYSTEM_HALT and every CPU offline, QEMU still running. The finding
    names the state, the kernel's own "System halted" line and the task that halted it, unwound
    from its stopped vCPU's registers (live and on an ELF dump alike): from stop_this_cpu down
    through the reboot system call."""
    v = scenario_vm(kernel, "halt")
    doc = diagnose(v)
    h = findings(doc, "halted")
    assert len(h) == 1 and h[0]["severity"] == "critical" and doc["figures"]["halted"], \
        doc["findings"]
    f = h[0]
    assert f["summary"] == "the kernel is halted", text(f)
    ev = f["evidence"]
    assert ev[0].startswith("system_state = SYSTEM_HALT (") and \
        re.match(r"log \[ *[0-9.]+\] reboot: System halted$", ev[1]), text(f)
    m = re.match(r"CPU 0 stopped running pid (\d+) halt:$", ev[2])
    assert m and ev[3] == "stack: running on CPU 0, from its vCPU's registers:", text(f)
    ours = [e[6:] for e in ev[4:] if e.startswith("[<0>] ")]
    names = [x.split("+")[0] for x in ours]
    assert names[0] == "stop_this_cpu" and "__do_sys_reboot" in names and \
        names[-1].startswith("entry_SYSCALL_64"), ours
    p = run("--vm", v.pid, "diagnose")
    assert p.returncode == 4 and "CRITICAL  halted: the kernel is halted" in p.stdout, p.stdout
    elf = qmp_dump(v, tmp_path / "halt.elf")
    for where in (None, elf):
        st, frames = running_stack(v, int(m.group(1)), where)
        assert set(st["flags"]) == {"RUNNING", "REGS"} and st["cpu"] == 0, (where, st)
        assert frames == ours, (where, frames, ours)
    os.unlink(elf)
    text = nfmd_metrics(v, tmp_path, "nfm_guest_halted")
    assert list(metrics(text, "nfm_guest_halted").values()) == [1.0], text
    assert list(metrics(text, "nfm_guest_panicked").values()) == [0.0], text
    assert finding_series(text, "halted", "critical"), metrics(text, "nfm_guest_findings")
    v.stop()


def starved_vcpu_is_undecided(v):
    """The same locked vCPU, its host thread starved (pinned to host CPU 0 under a SCHED_FIFO
    spinner there, a few seconds): from inside it stands still as a locked one does, so no
    hard lockup is reported; the lockups check says it could not tell (incomplete, exit 3)."""
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lab"))
    from nfmlab.vm import QMP
    with QMP(v.qmp, timeout=60) as q:
        tid = int(re.search(r"CPU #0: thread_id=(\d+)", q.hmp("info cpus")).group(1))
    was = os.sched_getaffinity(tid)
    # bounded by itself (20 s): a FIFO spinner's own timeout(1) could never run beside it
    spinner = subprocess.Popen(
        [sys.executable, "-c", "import time\nt = time.monotonic() + 20\n"
         "while time.monotonic() < t:\n    pass"],
        preexec_fn=lambda: (os.sched_setaffinity(0, {0}),
                            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))))
    try:
        os.sched_setaffinity(tid, {0})
        time.sleep(1)
        p = run("--vm", v.pid, "-j", "diagnose", timeout=120)
    finally:
        spinner.kill()
        spinner.wait()
        os.sched_setaffinity(tid, was)
    assert p.returncode == 3, (p.returncode, p.stderr)
    doc = json.loads(p.stdout)
    assert not findings(doc, "hard_lockup") and doc["complete"] is False, doc["findings"]
    lk = [c for c in doc["checks"] if c["name"] == "lockups"]
    assert lk[0]["complete"] is False and STARVED in lk[0]["unread"], lk
    assert "lockups: could not read whether a vCPU is locked up" in p.stderr, p.stderr


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("how,handler,entry", [
    ("nmi", "nfm_faultmod_nmi", "exc_nmi"),
    ("irq", "nfm_faultmod_irq", "sysvec_apic_timer_interrupt"),
])
def test_hard_lockup(scenario_vm, kernel, tmp_path, how, handler, entry):
    """The module's thread spins with preemption off; then a handler that never returns takes
    the CPU with every interrupt blocked: an NMI's (QMP inject-nmi; the CPU spins on its NMI
    stack) or a timer interrupt's (an hrtimer 1 s after loading; on the CPU's IRQ stack). nfm bt
    unwinds from the handler through that stack back to the thread's own frames (live and on an
    ELF dump), and diagnose reports a hard lockup under way from the vCPU's registers; a dump,
    one look, reports none."""
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lab"))
    from nfmlab.vm import QMP
    v = scenario_vm(kernel, how)
    # in place once the vCPU runs module text (the module's init, at the earliest)
    deadline = time.monotonic() + 30
    while True:
        ps = run_json("--vm", v.pid, "ps", "-e", kind="ps")
        spin = [p["pid"] for p in ps["processes"] if p["comm"] == "nfm_spin"]
        if spin or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(spin) == 1, ps["processes"]
    if how == "nmi":
        deadline = time.monotonic() + 30
        st, before = running_stack(v, spin[0])
        while not (before and before[0].startswith("nfm_faultmod_spin+0x")) and \
                time.monotonic() < deadline:
            time.sleep(0.5)
            st, before = running_stack(v, spin[0])
        assert before and before[0].startswith("nfm_faultmod_spin+0x"), before
        with QMP(v.qmp, timeout=60) as q:
            q.cmd("inject-nmi")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        st, frames = running_stack(v, spin[0])
        if frames and frames[0].startswith(handler + "+0x"):
            break
        time.sleep(0.5)
    names = [f.split("+")[0] for f in frames]
    assert frames[0].endswith(" [nfm_faultmod]") and entry in names, frames
    k = names.index("nfm_faultmod_spin")
    assert k > names.index(entry) and frames[k].endswith(" [nfm_faultmod]"), frames
    # kthread, then ret_from_fork (6.1) or ret_from_fork and ret_from_fork_asm (6.12)
    assert names[k + 1] == "kthread" and len(names) > k + 2 and \
        all(n.startswith("ret_from_fork") for n in names[k + 2:]), frames
    if how == "nmi":
        assert frames[k + 1:] == before[1:], (frames, before)
    assert set(st["flags"]) == {"RUNNING", "REGS"} and st["cpu"] == 0, st
    doc = diagnose(v)
    h = findings(doc, "hard_lockup")
    assert len(h) == 1 and h[0]["severity"] == "critical" and h[0]["cpu"] == 0, doc["findings"]
    f = h[0]
    assert f["summary"].startswith("hard lockup under way: CPU 0 runs with interrupts off"), text(f)
    assert f["pid"] == spin[0] and f.get("subject") == "nfm_spin", text(f)
    ev = f["evidence"]
    assert any(re.match(r"RIP 0x[0-9a-f]{16} %s\+0x[0-9a-f]+ \[nfm_faultmod\] " % handler, e)
               for e in ev), text(f)
    assert any(re.match(r"irq_stat\.apic_timer_irqs = \d+, unchanged$", e) for e in ev), text(f)
    # the vCPU spun: its host thread ran (a starved one is no lockup of the guest's)
    ran = [re.match(r"vCPU 0's host thread ran (\d+) ms of those (\d+) ms$", e) for e in ev]
    ran = [m for m in ran if m]
    assert len(ran) == 1 and 4 * int(ran[0].group(1)) >= int(ran[0].group(2)) >= 900, text(f)
    ours = [e[6:] for e in ev if e.startswith("[<0>] ")]
    assert ours[1:] == frames[1:] and ours[0].startswith(handler + "+0x"), (ours, frames)
    if how == "irq":
        starved_vcpu_is_undecided(v)
    elf = qmp_dump(v, tmp_path / (how + ".elf"))
    st, on_dump = running_stack(v, spin[0], elf)
    assert set(st["flags"]) == {"RUNNING", "REGS"} and on_dump[1:] == frames[1:], on_dump
    d2 = run_json("--vm", elf, "diagnose", kind="diagnose", ok=(0, 4), timeout=300)
    assert not findings(d2, "hard_lockup"), d2["findings"]
    os.unlink(elf)
    v.stop()


@pytest.mark.parametrize("kernel", KERNELS)
def test_offline_guest(scenario_vm, kernel):
    """Every interface but lo down and /etc/resolv.conf removed: no interface up (an error),
    each downed interface with its address, resolv.conf absent; and ip shows each downed
    interface's state as the guest's own /sys/class/net/IF/operstate does (DOWN)."""
    v = scenario_vm(kernel, "offline")
    doc = diagnose(v)
    by = {}
    for f in doc["findings"]:
        by.setdefault(f["kind"], []).append(f)
    assert set(by) == {"no_interface_up", "interface_down", "resolv_conf"}, doc["findings"]
    nu = by["no_interface_up"][0]
    assert nu["severity"] == "error" and nu["summary"].startswith(
        "no network interface but loopback is up"), text(nu)
    links = run_json("--vm", v.pid, "ip", "link", kind="ip")["interfaces"]
    down = [l["ifname"] for l in links if l["ifname"] != "lo"]
    # the lab guest's one other interface (dummy0) has an address: a finding of its own
    assert down and sorted(f["subject"] for f in by["interface_down"]) == sorted(down), by
    for l in links:
        want = v.guest_file("/sys/class/net/%s/operstate" % l["ifname"]).decode().strip().upper()
        assert l["operstate"] == want, (l["ifname"], l["operstate"], want)
    assert [l["operstate"] for l in links if l["ifname"] != "lo"] == ["DOWN"] * len(down)
    rc = by["resolv_conf"][0]
    assert rc["summary"] == "/etc/resolv.conf is absent: names do not resolve", text(rc)
    v.stop()
