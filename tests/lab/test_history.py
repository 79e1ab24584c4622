"""Time travel (issue 13, doc/history.md): `nfm record` snapshots of a lab guest, read back with
`nfm --at`, each compared with the guest's own view around that snapshot as the live tests
compare (ps, lsmod, ss, route/arp, ip addr, dmesg); a module unloaded between two snapshots
shows in each one's lsmod; a recorder killed with SIGKILL mid-run leaves a store that checks ok
and whose snapshots open; a flipped pack byte fails `record --check` in one line.

Each snapshot is taken with --consistent (the vCPUs paused for the copy) between two truths,
so that it is one instant that lies between them, like a live read.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from nfmcli import NFM, guest_bytes, one_error_line, run, run_json, validate
from test_net import check_route_arp, check_sockets
from test_process import compare_ps, lived_through, report
from test_system import COLS, _proc_net_dev, kmsg_escape

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lab"))
from nfmlab import vm  # noqa: E402

MODULE = "libcrc32c"  # loaded at boot, used by nothing else in the lab guest
BURN_SECONDS = 20


def record_one(lab_vm, store):
    """One snapshot (nfm record -n 1 --consistent) bracketed by two truths: (info, t1, t2)."""
    t1, _ = lab_vm.fresh_truth()
    p = run("-j", "record", "--vm", lab_vm.pid, "--store", store, "-n", "1", "--consistent",
            timeout=120)
    t2, _ = lab_vm.fresh_truth()
    assert p.returncode == 0, p.stderr
    (info,) = [json.loads(l) for l in p.stdout.splitlines()]
    assert info["kind"] == "record" and info["method"] in ("full", "softdirty")
    assert info["pause_ns"] > 0
    return info, t1, t2


@pytest.fixture(scope="module")
def store(lab_vm, tmp_path_factory):
    """Snapshot 1 with MODULE loaded, snapshot 2 after `rmmod MODULE` (loaded again after)."""
    d = str(tmp_path_factory.mktemp("history") / "store")
    snaps = {}
    t0 = time.monotonic()
    info, t1, t2 = record_one(lab_vm, d)
    assert info["id"] == 1 and info["new_pages"] > 1000
    snaps[1] = (info, t1, t2)
    assert vm.rmmod(lab_vm.name, MODULE) == 0
    # a process started between the snapshots (a 1 % burner that logs to a file it keeps
    # open): nfm diff must list it (and its files) as added
    burner = vm.burn_start(lab_vm.name, BURN_SECONDS, 1)
    try:
        info, t1, t2 = record_one(lab_vm, d)
        assert info["id"] == 2
        # only what changed was stored: a small part of the first snapshot
        assert info["new_bytes"] < snaps[1][0]["new_bytes"] / 4
        snaps[2] = (info, t1, t2)
        snaps["burner"] = burner
    finally:
        assert vm.insmod(lab_vm.name, MODULE) == 0
        # The session's first truth names the module's old address; later tests compare
        # /proc/modules and kallsyms with it: give them the guest as it is now.
        t, path = lab_vm.fresh_truth()
        if t.files["/proc/modules"] != lab_vm.truth.files["/proc/modules"]:
            lab_vm.truth, lab_vm.truth_path = t, path
    print("history: 2 snapshots and 5 truths in %.1f s; sync %s ms" % (
        time.monotonic() - t0, [snaps[i][0]["sync_ns"] // 1000000 for i in (1, 2)]))
    yield d, snaps
    # the zoo's own burners are stopped while a BURN job runs: later modules (nfm top) need them
    deadline = time.monotonic() + BURN_SECONDS + 10
    while vm.job_count(lab_vm.name, "BURN") is None and time.monotonic() < deadline:
        time.sleep(0.5)
    shutil.rmtree(os.path.dirname(d), ignore_errors=True)


def at(store, sid, *args, kind=None):
    return run_json("--at", "%s@%d" % (store, sid), *args, kind=kind)


SHELL = [("lsmod", "lsmod -j"), ("ss", "ss -aj"), ("route", "route -j"), ("arp", "arp -j"),
         ("ip", "ip addr -j"), ("dmesg", "dmesg -j")]


@pytest.fixture(scope="module")
def docs(store):
    """sid -> {kind: document} of lsmod, ss, route, arp, ip addr and dmesg on that snapshot, read
    by one `nfm --at DIR@ID shell` (one attach), each document validated."""
    d, snaps = store
    out = {}
    for sid in (1, 2):
        p = run("--at", "%s@%d" % (d, sid), "shell", "-c", "; ".join(c for _, c in SHELL))
        assert p.returncode == 0, p.stderr
        lines = p.stdout.splitlines()
        assert len(lines) == len(SHELL), p.stdout[:300]
        out[sid] = {}
        for (kind, cmd), line in zip(SHELL, lines):
            validate(kind, line, "nfm --at %s@%d %s" % (d, sid, cmd))
            out[sid][kind] = json.loads(line)
    return out


def modules(t):
    return t.files["/proc/modules"].decode().splitlines()


def test_snapshots_listed(store):
    d, snaps = store
    doc = run_json("snapshots", d)
    assert [s["id"] for s in doc["snapshots"]] == [1, 2]
    assert all(s["ram_bytes"] >= 256 << 20 for s in doc["snapshots"])
    assert run("record", "--check", d).stdout.strip() == "%s: ok" % d


@pytest.mark.parametrize("sid", [1, 2])
def test_ps_at_snapshot(store, sid):
    d, snaps = store
    _, t1, t2 = snaps[sid]
    out = at(d, sid, "ps", kind="ps")["processes"]
    diffs, checked = compare_ps(t1, t2, out)
    assert not diffs, report(diffs)
    assert len(checked) > 60
    # The zoo's processes are stable: the same pids with the same names, exactly.
    zoo = {pid: p.comm for pid, p in t2.processes.items() if p.comm.startswith(b"zoo")
           and pid in t1.processes}
    got = {e["pid"]: guest_bytes(e, "comm") for e in out if guest_bytes(e, "comm").startswith(b"zoo")}
    assert got == zoo
    # ... and every role process of the zoo (some have other names), with its name
    roles = {r.pid for r in t2.roles.values() if r.pid}
    assert roles
    by = {e["pid"]: guest_bytes(e, "comm") for e in out}
    assert {pid: by.get(pid) for pid in roles} == {pid: t2.processes[pid].comm for pid in roles}
    if sid == 2:
        # --vm DIR --at ID names the same snapshot
        again = run_json("--vm", d, "--at", str(sid), "ps")["processes"]
        assert [(e["pid"], e["utime_ticks"], e["state"]) for e in again] == \
            [(e["pid"], e["utime_ticks"], e["state"]) for e in out]


@pytest.mark.parametrize("sid", [1, 2])
def test_lsof_at_snapshot(store, sid):
    """lsof at a snapshot: every process that lived through the snapshot's two truths with the
    same descriptors in both has exactly those, named as its /proc/PID/fd links."""
    d, snaps = store
    _, t1, t2 = snaps[sid]
    got = {}
    for e in at(d, sid, "lsof", kind="lsof")["files"]:
        got.setdefault(e["pid"], {})[e["fd"]] = guest_bytes(e, "path")
    diffs, checked = [], 0
    for pid in lived_through(t1, t2):
        p1, p2 = t1.processes[pid], t2.processes[pid]
        if p1.fds != p2.fds:
            continue    # moved between the truths (the truth server's own descriptors)
        want = p1.fds
        if p1.comm == b"zoo-truthsrv":
            want = {fd: v for fd, v in want.items() if not v.startswith(b"/proc")}
        if got.get(pid, {}) != want:
            diffs.append("pid %d (%r): nfm %s /proc %s" % (
                pid, p1.comm, sorted(got.get(pid, {}).items())[:8], sorted(want.items())[:8]))
        checked += 1
    assert not diffs, report(diffs)
    assert checked > 20, checked


def test_lsmod_at_each_snapshot(store, docs):
    d, snaps = store
    for sid in (1, 2):
        _, t1, t2 = snaps[sid]
        got = [m["line"] for m in docs[sid]["lsmod"]["modules"]]
        assert modules(t1) == modules(t2)
        assert got == modules(t2), sid
    names1 = {l.split()[0] for l in modules(snaps[1][2])}
    names2 = {l.split()[0] for l in modules(snaps[2][2])}
    assert names1 - names2 == {MODULE} and names2 < names1


@pytest.mark.parametrize("sid", [1, 2])
def test_net_at_snapshot(store, docs, sid):
    d, snaps = store
    _, t1, t2 = snaps[sid]
    check_sockets(t2, docs[sid]["ss"]["sockets"])
    check_route_arp(t2, docs[sid]["route"]["routes"], docs[sid]["arp"]["neighbours"])
    devs = docs[sid]["ip"]["interfaces"]
    d1, d2 = _proc_net_dev(t1), _proc_net_dev(t2)
    by = {x["ifname"]: x for x in devs}
    assert set(d1) <= set(by)
    for name, v1 in d1.items():
        for i, col in enumerate(COLS):
            assert v1[i] <= by[name]["stats"][col] <= d2[name][i], (name, col)
    got = {"%s/%d" % (a["local"], a["prefixlen"]) for x in devs for a in x["addr_info"]}
    assert "10.77.0.2/24" in got and "fd00:77::2/64" in got


@pytest.mark.parametrize("sid", [1, 2])
def test_dmesg_at_snapshot(store, docs, sid):
    d, snaps = store
    _, t1, t2 = snaps[sid]
    recs = {r["seq"]: r for r in docs[sid]["dmesg"]["records"]}
    # every record the guest had before the snapshot is in it, as the guest prints it; none
    # that the guest did not have after it
    want = {k.seq: k for k in t2.kmsg}
    assert set(recs) <= set(want)
    assert {k.seq for k in t1.kmsg} <= set(recs)
    for seq, r in recs.items():
        k = want[seq]
        text = kmsg_escape(guest_bytes(r, "text"))
        assert (r["time_ns"] // 1000, r["facility_code"] << 3 | r["level_code"], text) == \
            (k.ts_usec, k.prio, k.text.decode()), seq


def test_killed_recorder(lab_vm, store):
    """SIGKILL of a recorder mid-run: --check ok, every listed snapshot opens, recording goes
    on in the same store."""
    d, _ = store
    p = subprocess.Popen([NFM, "-j", "record", "--vm", str(lab_vm.pid), "--store", d,
                          "--every", "0", "-n", "100"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        ids = []
        for line in p.stdout:
            ids.append(json.loads(line)["id"])
            if len(ids) == 2:
                break
        assert ids == [3, 4], p.stderr.read() if p.poll() is not None else ids
        time.sleep(0.01)  # into the next snapshot (an idle 512M guest's takes ~30 ms)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    assert p.returncode == -signal.SIGKILL
    c = run("record", "--check", d)
    assert c.returncode == 0 and c.stdout.strip() == "%s: ok" % d, (c.stdout, c.stderr)
    listed = [s["id"] for s in run_json("snapshots", d)["snapshots"]]
    assert listed[:4] == [1, 2, 3, 4] and listed == list(range(1, len(listed) + 1))
    for sid in listed[2:]:
        u = run_json("--at", "%s@%d" % (d, sid), "uname", kind="uname")
        assert u["kernel"]["release"].encode() == lab_vm.truth.uname["release"]
    ps = at(d, listed[-1], "ps", kind="ps")["processes"]
    assert {r.pid for r in lab_vm.truth.roles.values() if r.pid} <= {e["pid"] for e in ps}
    # the next recorder discards what the killed one left and goes on
    q = run("-j", "record", "--vm", lab_vm.pid, "--store", d, "-n", "1")
    assert q.returncode == 0, q.stderr
    assert json.loads(q.stdout)["id"] == listed[-1] + 1
    assert run("record", "--check", d).returncode == 0


def test_full_disk(lab_vm, store, tmp_path):
    """A store on a file system with room for a few more idle snapshots: recording goes on
    until the disk is full, then stops with one clear error line; every snapshot it completed
    is listed, --check finds the store sound, and each opens."""
    d, _ = store
    mnt = tmp_path / "small"
    mnt.mkdir()
    # every file of the store (its indexes too), in the tmpfs's 4 KiB blocks
    used = sum((os.path.getsize(os.path.join(r, f)) + 4095) // 4096 * 4096
               for r, _, fs in os.walk(d) for f in fs)
    size = used + (512 << 10)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % size, "tmpfs", str(mnt)],
                   check=True)
    try:
        full = str(mnt / "store")
        shutil.copytree(d, full, ignore=shutil.ignore_patterns("lock"))
        before = [s["id"] for s in run_json("snapshots", full)["snapshots"]]
        p = run("-j", "record", "--vm", lab_vm.pid, "--store", full, "--every", "0", "-n", "1000",
                timeout=600)
        done = [json.loads(line)["id"] for line in p.stdout.splitlines()]
        line = one_error_line(p)
        assert "the disk is full" in line, line
        listed = [s["id"] for s in run_json("snapshots", full)["snapshots"]]
        assert listed == before + done and len(done) < 1000, (listed, before, done)
        c = run("record", "--check", full)
        assert c.returncode == 0 and c.stdout.strip() == "%s: ok" % full, (c.stdout, c.stderr)
        for sid in listed:
            u = run_json("--at", "%s@%d" % (full, sid), "uname", kind="uname")
            assert u["kernel"]["release"].encode() == lab_vm.truth.uname["release"]
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_check_flipped_pack_byte(store, tmp_path):
    d, _ = store
    bad = str(tmp_path / "bad")
    shutil.copytree(d, bad, ignore=shutil.ignore_patterns("lock"))
    packs = [f for f in os.listdir(bad) if f.startswith("pack-")]
    assert len(packs) == 1
    with open(os.path.join(bad, packs[0]), "r+b") as f:
        f.seek(16 + 24 + 40)  # inside the first record's page
        b = f.read(1)
        f.seek(16 + 24 + 40)
        f.write(bytes([b[0] ^ 0x10]))
    p = run("record", "--check", bad)
    line = one_error_line(p)
    assert line == "nfm: %s: 1 problem found" % bad
    assert p.stdout.splitlines() in (["pack record at 16: its page does not match its hash"],
                                     ["pack record at 16: damaged"])


def process_in_timeline(ev, key):
    """The one "added" event of a process (key: its pid and start time) and its object as the
    timeline last shows it. A frame may catch the child between fork and exec, with its parent's
    comm and argv; the exec is then a "changed" event carrying the new object."""
    mine = [e for e in ev if e["member"] == "processes"
            and (e["object"]["pid"], e["object"]["start_time_ticks"]) == key]
    added = [e for e in mine if e["change"] == "added"]
    return added, (mine[-1]["object"] if mine else None)


def ident(p):
    """A process's identity: pid and start time (a reused pid is another process)."""
    return (p.pid, p.stat["starttime"]) if p.stat else None


def test_diff_consecutive(store, docs):
    """nfm diff between the two snapshots lists what happened between them: the module
    unloaded, the burner started (with its command line and its open files), nothing that the
    guest's truths rule out; and it agrees with the two --at documents."""
    d, snaps = store
    _, a1, a2 = snaps[1]
    _, b1, b2 = snaps[2]
    p = run("-j", "diff", "%s@1" % d, "%s@2" % d)
    assert p.returncode == 0, p.stderr
    validate("diff", p.stdout, "nfm diff %s@1 %s@2" % (d, d))
    out = json.loads(p.stdout)
    assert out["complete"] is True
    views = {v["member"]: v for v in out["views"]}
    assert {"processes", "modules", "interfaces", "sockets", "mounts", "files", "records",
            "routes", "neighbours"} <= set(views)
    # modules: exactly the one unloaded
    m = views["modules"]
    assert [x["name"] for x in m["removed"]] == [MODULE] and m["added"] == [] and m["changed"] == []
    # processes: the burner is new, with its command line as the guest has it
    burner = snaps["burner"]
    pr = views["processes"]
    added = {(x["pid"], x["start_time_ticks"]): x for x in pr["added"]}
    removed = {(x["pid"], x["start_time_ticks"]) for x in pr["removed"]}
    assert burner in b1.processes and burner in b2.processes, "the burner ended too early"
    bp = b2.processes[burner]
    assert ident(bp) in added
    assert guest_bytes(added[ident(bp)], "comm") == bp.comm
    assert [w.encode() for w in added[ident(bp)]["argv"]] == bp.argv
    # nothing new that the guest had before snapshot 1, nothing gone that it had after 2
    assert not set(added) & {ident(x) for x in a1.processes.values()}
    assert not removed & {ident(x) for x in b2.processes.values()}
    # execs and other changes keep the identity: both ends exist at both snapshots
    for c in pr["changed"]:
        assert set(c["fields"]) <= {"comm", "task_comm", "comm_hex", "task_comm_hex", "mm",
                                    "cmdline", "cmdline_hex", "argv", "uid", "euid", "suid",
                                    "fsuid", "gid", "egid", "sgid", "fsgid", "ppid", "nice",
                                    "priority", "policy", "policy_code", "rt_priority",
                                    "kthread"}, c
    # open files: the burner's, as the guest lists them (fd -> path)
    fa = [x for x in views["files"]["added"] if x["pid"] == burner]
    want = {fd: t for fd, t in bp.fds.items()}
    assert {x["fd"]: guest_bytes(x, "path") for x in fa} == want
    # the log: records new in snapshot 2 are records the guest did not have at snapshot 1
    recs = views["records"]
    assert recs["removed"] == [] and recs["changed"] == []
    assert not {r["seq"] for r in recs["added"]} & {k.seq for k in a1.kmsg}
    # the diff is the set difference of the two --at documents, by identity
    for kind, member in (("lsmod", "modules"), ("ss", "sockets"), ("route", "routes")):
        v = views[member]
        k = v["keys"]
        one = {tuple(x[n] for n in k) for x in docs[1][kind][member]}
        two = {tuple(x[n] for n in k) for x in docs[2][kind][member]}
        assert {tuple(x[n] for n in k) for x in v["added"]} == two - one, member
        assert {tuple(x[n] for n in k) for x in v["removed"]} == one - two, member
    # the table: one line per difference, the module's line as lsmod names it
    t = run("diff", "%s@1" % d, "%s@2" % d, "lsmod")
    assert t.returncode == 0, t.stderr
    assert [l.split() for l in t.stdout.splitlines()] == [
        ["VIEW", "CHANGE", "KEY", "WHAT"], ["lsmod", "removed", "name=" + MODULE, MODULE]]


def test_diff_snapshot_live(lab_vm, store):
    """Snapshot 2 (module unloaded) against the live guest (loaded again): the module is added,
    as the guest's /proc/modules has it now."""
    d, _ = store
    p = run("-j", "--vm", str(lab_vm.pid), "diff", "%s@2" % d, "live", "lsmod")
    assert p.returncode == 0, p.stderr
    validate("diff", p.stdout, "nfm diff %s@2 live lsmod" % d)
    out = json.loads(p.stdout)
    (v,) = out["views"]
    assert [x["name"] for x in v["added"]] == [MODULE] and v["removed"] == []
    line = [l for l in lab_vm.guest_file("/proc/modules").decode().splitlines()
            if l.split()[0] == MODULE]
    assert [x["line"] for x in v["added"]] == line
    assert out["to"]["source"] == str(lab_vm.pid)


def test_timeline(lab_vm, tmp_path):
    """nfm record --frames: the state timeline over a module unloaded and loaded again and a
    process started lists those events in order (with the guest's names for them), and the
    frame rebuilt for a moment between two truths equals the guest's processes as the live ps
    test compares them."""
    d = str(tmp_path / "timeline")
    p = subprocess.Popen([NFM, "-j", "record", "--vm", str(lab_vm.pid), "--store", d, "-n", "2",
                          "--every", "120s", "--frames", "500ms"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    def wait_frames(n):
        """Until the recorder has stored n more frames (a loaded host may be slower than its
        500 ms): each step below must fall between frames, whatever the host's speed."""
        def count():
            q = run("-j", "timeline", d)
            return json.loads(q.stdout)["frames"] if q.returncode == 0 else 0
        want, deadline = count() + n, time.monotonic() + 120
        while count() < want:
            assert time.monotonic() < deadline and p.poll() is None, "the recorder stalled"
            time.sleep(0.3)

    try:
        assert json.loads(p.stdout.readline())["id"] == 1, p.stderr.read()
        wait_frames(2)
        assert vm.rmmod(lab_vm.name, MODULE) == 0
        wait_frames(2)
        assert vm.insmod(lab_vm.name, MODULE) == 0
        burner = vm.burn_start(lab_vm.name, 12, 1)
        wait_frames(2)
        ta, _ = lab_vm.fresh_truth()
        wall_a = time.time()
        time.sleep(1)
        wait_frames(3)
        wall_b = time.time()
        tb, _ = lab_vm.fresh_truth()
    finally:
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    t, path = lab_vm.fresh_truth()
    if t.files["/proc/modules"] != lab_vm.truth.files["/proc/modules"]:
        lab_vm.truth, lab_vm.truth_path = t, path
    q = run("-j", "timeline", d)
    assert q.returncode == 0, q.stderr
    validate("timeline", q.stdout, "nfm timeline")
    doc = json.loads(q.stdout)
    assert doc["frames"] >= 10 and doc["key_frames"] >= 1
    ev = doc["events"]
    assert [e["time_ns"] for e in ev] == sorted(e["time_ns"] for e in ev)
    mods = [(e["change"], e["object"]["name"]) for e in ev if e["member"] == "modules"
            and e["object"]["name"] == MODULE and e["change"] != "changed"]
    assert mods == [("removed", MODULE), ("added", MODULE)]
    bp = tb.processes[burner]
    started, last = process_in_timeline(ev, ident(bp))
    assert len(started) == 1 and guest_bytes(last, "comm") == bp.comm
    assert [w.encode() for w in last["argv"]] == bp.argv
    opened = {e["object"]["fd"] for e in ev if e["member"] == "files" and e["change"] == "added"
              and e["object"]["pid"] == burner}
    assert set(bp.fds) <= opened
    # the frame of a moment between the two truths, rebuilt from its key frame and deltas: the
    # last whose crawl ended before the second truth began (a frame is stamped when its crawl
    # starts; the processes are read later), three frames at least ended in that window
    at = wall_b - 0.001
    for _ in range(4):
        f = run("-j", "timeline", "--frame", "@%.3f" % at, d)
        assert f.returncode == 0, f.stderr
        validate("crawl", f.stdout, "nfm timeline --frame")
        frame = json.loads(f.stdout)
        if frame["time_ns"] + frame["duration_ns"] < wall_b * 1e9:
            break
        at = frame["time_ns"] / 1e9 - 0.001
    assert wall_a * 1e9 < frame["time_ns"] and \
        frame["time_ns"] + frame["duration_ns"] < wall_b * 1e9, (frame["time_ns"], wall_a, wall_b)
    diffs, checked = compare_ps(ta, tb, frame["processes"])
    assert not diffs, report(diffs)
    assert len(checked) > 60
    # the table: one line per event
    tt = run("timeline", d)
    assert tt.returncode == 0 and len(tt.stdout.splitlines()) == len(ev) + 1
    # --since/--until: the events of the frames from the module's removal to its return, no
    # more, no fewer (bounds 1 ms outside those frames, which are >= 500 ms apart)
    t_rm = [e["time_ns"] for e in ev if e["member"] == "modules" and e["change"] == "removed"
            and e["object"]["name"] == MODULE][0]
    t_add = [e["time_ns"] for e in ev if e["member"] == "modules" and e["change"] == "added"
             and e["object"]["name"] == MODULE][0]
    since, until = t_rm - 10**6, t_add + 10**6
    w = run("-j", "timeline", "--since", "@%.3f" % (since / 1e9), "--until",
            "@%.3f" % (until / 1e9), d)
    assert w.returncode == 0, w.stderr
    validate("timeline", w.stdout, "nfm timeline --since --until")
    win = json.loads(w.stdout)["events"]
    assert win == [e for e in ev if since <= e["time_ns"] <= until] and len(win) >= 2, win
    late = json.loads(run("-j", "timeline", "--since", "@%.3f" % ((t_add + 10**6) / 1e9),
                          d).stdout)["events"]
    assert late == [e for e in ev if e["time_ns"] > t_add]
    # wait for the BURN job: the zoo's own burners are stopped while it runs
    deadline = time.monotonic() + 30
    while vm.job_count(lab_vm.name, "BURN") is None and time.monotonic() < deadline:
        time.sleep(0.5)


def test_export_elf(store, tmp_path):
    """nfm export of snapshot 2 as an ELF core: readelf sees a core with its VMCOREINFO note;
    nfm on the file prints exactly what nfm prints on the snapshot (ps, lsmod, ss, ip, dmesg,
    mount), and finds VMCOREINFO in the note."""
    d, _ = store
    elf = str(tmp_path / "snap2.elf")
    p = run("-j", "export", "--at", "%s@2" % d, "-o", elf)
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    assert info["vmcoreinfo_note"] is True and info["data_pages"] > 1000
    assert os.path.getsize(elf) > info["data_pages"] * 4096
    if shutil.which("readelf"):
        h = subprocess.run(["readelf", "-h", "-n", elf], capture_output=True, text=True)
        assert "CORE (Core file)" in h.stdout and "VMCOREINFO" in h.stdout, h.stdout[:500]
    cmds = "ps -j; lsmod -j; ss -aj; ip addr -j; dmesg -j; mount -j"
    a = run("--vm", elf, "shell", "-c", cmds)
    b = run("--at", "%s@2" % d, "shell", "-c", cmds)
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    assert len(a.stdout.splitlines()) == 6
    assert a.stdout == b.stdout
    k = run_json("--vm", elf, "info")["kernel"]
    assert k["vmcoreinfo_from"] == "dump note"


def test_nfmd_record(lab_vm, tmp_path):
    """nfmd --record: the state timeline of a VM nfmd crawls (one frame per crawl) lists a module
    unloaded and loaded again and a process started, as `nfm record --frames` does; with
    --record-every its memory snapshots answer `nfm --at` (lsmod equal to the live guest's);
    the API's vm object counts what was written; SIGTERM writes the frames still queued."""
    import socket
    import urllib.request
    nfmd = os.environ.get("NFMD_BIN") or os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(NFM))), "nfmd", "nfmd")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    top = str(tmp_path / "rec")
    d = os.path.join(top, lab_vm.name)
    p = subprocess.Popen([nfmd, "--listen", "127.0.0.1:%d" % port, "--vm", lab_vm.name,
                          "--interval", "500ms", "--ps-interval", "500ms", "--sys-interval",
                          "500ms", "--record", top, "--record-every", "5s", "-q"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def frames():
        q = run("-j", "timeline", d)
        return json.loads(q.stdout)["frames"] if q.returncode == 0 else 0

    def wait_frames(n):
        want, deadline = frames() + n, time.monotonic() + 120
        while frames() < want:
            assert time.monotonic() < deadline and p.poll() is None, "nfmd's timeline stalled"
            time.sleep(0.3)

    try:
        wait_frames(3)
        assert vm.rmmod(lab_vm.name, MODULE) == 0
        wait_frames(3)
        assert vm.insmod(lab_vm.name, MODULE) == 0
        burner = vm.burn_start(lab_vm.name, 12, 1)
        wait_frames(3)
        def snapshots():
            q = run("-j", "snapshots", d)
            return len(json.loads(q.stdout)["snapshots"]) if q.returncode == 0 else 0

        tb, _ = lab_vm.fresh_truth()
        # the truth channel's ss holds a netlink dump's reference on tcp_diag while it runs: the
        # snapshot compared with the live lsmod below is one taken after it ended
        want, deadline = max(2, snapshots() + 1), time.monotonic() + 120
        while True:
            if snapshots() >= want:
                break
            assert time.monotonic() < deadline and p.poll() is None, "no second snapshot"
            time.sleep(1)
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/vms/%s" % (port, lab_vm.name),
                                    timeout=30) as r:
            body = r.read().decode()
        validate("nfmd.vm", body, "nfmd /api/v1/vms/NAME")
        rec = json.loads(body)["vm"]["recording"]
        assert rec["frames"] >= 9 and rec["snapshots"] >= 1 and rec["errors"] == 0, rec
    finally:
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert "recording" not in err, err
    q = run("-j", "timeline", d)
    assert q.returncode == 0, q.stderr
    validate("timeline", q.stdout, "nfm timeline")
    doc = json.loads(q.stdout)
    assert doc["frames"] >= 9 and doc["key_frames"] >= 1
    ev = doc["events"]
    mods = [(e["change"], e["object"]["name"]) for e in ev if e["member"] == "modules"
            and e["object"]["name"] == MODULE and e["change"] != "changed"]
    assert mods == [("removed", MODULE), ("added", MODULE)]
    bp = tb.processes[burner]
    started, last = process_in_timeline(ev, ident(bp))
    assert len(started) == 1 and guest_bytes(last, "comm") == bp.comm
    # the last snapshot was taken after insmod: its modules are the live guest's
    at = run("-j", "--at", "%s@latest" % d, "lsmod")
    live = run("-j", "--vm", str(lab_vm.pid), "lsmod")
    assert at.returncode == 0 and live.returncode == 0, (at.stderr, live.stderr)
    assert json.loads(at.stdout)["modules"] == json.loads(live.stdout)["modules"]
    chk = run("record", "--check", d)
    assert chk.returncode == 0, chk.stdout + chk.stderr
    deadline = time.monotonic() + 30
    while vm.job_count(lab_vm.name, "BURN") is None and time.monotonic() < deadline:
        time.sleep(0.5)
