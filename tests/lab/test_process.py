"""The process view (nfm ps / ps -L / maps / lsof / env / pstree) against the guest's own /proc.

Every process and thread that lived through the comparison is checked field by field. Values
that legitimately move while a live guest runs are bracketed by two truth snapshots taken before
and after nfm read the guest: a value that did not change between them must be equal; one that
changed must lie between them (CPU times, which only grow) or equal one of them.
"""
import os
import re
import subprocess
import time

import pytest

from nfmcli import NFM, guest_bytes, run, run_json, validate

# /proc/PID/stat field -> process.json member (doc/schema/process.json)
STAT_EXACT = {"ppid": "ppid", "priority": "priority", "nice": "nice",
              "num_threads": "num_threads", "starttime": "start_time_ticks",
              "vsize": "vsize_bytes"}
TICKS = {"utime": "utime_ticks", "stime": "stime_ticks"}
PF_WQ_WORKER = 0x20
UID_KEYS = ("uid", "euid", "suid", "fsuid")
GID_KEYS = ("gid", "egid", "sgid", "fsgid")


def lived_through(t1, t2):
    """pids present in both snapshots with the same start time (no pid reuse in between)."""
    out = []
    for pid, p1 in t1.processes.items():
        p2 = t2.processes.get(pid)
        if p1.stat and p2 and p2.stat and p1.stat["starttime"] == p2.stat["starttime"]:
            out.append(pid)
    return sorted(out)


def ran_between(s1, s2):
    return (s1["utime"], s1["stime"]) != (s2["utime"], s2["stime"])


def check_num(diffs, who, key, got, v1, v2, monotonic=False):
    if v1 == v2:
        if got != v1:
            diffs.append(f"{who} {key}: nfm {got!r} /proc {v1!r}")
    elif monotonic:
        if not (min(v1, v2) <= got <= max(v1, v2)):
            diffs.append(f"{who} {key}: nfm {got!r} outside /proc {v1!r}..{v2!r}")
    elif got not in (v1, v2):
        diffs.append(f"{who} {key}: nfm {got!r} /proc {v1!r} then {v2!r}")


def switched_between(st1, st2):
    """Whether the task was scheduled between the truths by its context switches: a 1 % burner
    runs a millisecond at a time, less than the tick its utime and stime count in."""
    keys = ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")
    return all(k in st1 and k in st2 for k in keys) and \
        any(st1[k].strip() != st2[k].strip() for k in keys)


def check_state(diffs, who, got, s1, s2, st1=None, st2=None):
    allowed = {s1["state"], s2["state"]}
    # A kernel thread's state is an instant's: workers wake for any event, the dump's own
    # stop/dump among them (PF_KTHREAD in stat's flags).
    if ran_between(s1, s2) or switched_between(st1 or {}, st2 or {}) or "R" in allowed or \
            s1["flags"] & 0x00200000:
        # R is an instant's state (the truth reader itself wakes kernel threads such as
        # rcu_preempt): a task that was runnable then may be asleep when nfm looks.
        allowed |= {"R", "S", "D", "I"}
    if got not in allowed:
        diffs.append(f"{who} state: nfm {got!r} /proc {s1['state']!r} then {s2['state']!r}")


def ids(status, key):
    return [int(x) for x in status[key].split()]


def compare_task(diffs, who, e, f1, f2, stat1, stat2, status1, status2, whole):
    """e: nfm's JSON entry; f1/f2: the two truths' files of this task."""
    c1, c2 = f1["comm"][:-1], f2["comm"][:-1]  # /proc/PID/comm ends with a newline
    got = guest_bytes(e, "comm")
    if stat1["flags"] & PF_WQ_WORKER and stat2["flags"] & PF_WQ_WORKER:
        # A workqueue worker's name ends in "+desc"/"-desc", the last work item it ran: that
        # changes whenever it runs (the truth reader's own activity queues work), so only the
        # worker's own name must match.
        got, c1, c2, s1, s2 = (re.sub(rb"[-+][^-+]*$", b"", x) for x in
                               (got, c1, c2, stat1["comm"], stat2["comm"]))
    else:
        s1, s2 = stat1["comm"], stat2["comm"]
    if got not in (c1, c2):
        diffs.append(f"{who} comm: nfm {got!r} /proc {c1!r}")
    if got not in (s1, s2):
        diffs.append(f"{who} stat comm: nfm {got!r} /proc {s1!r}")
    check_state(diffs, who, e["state"], stat1, stat2, status1, status2)
    for k, member in STAT_EXACT.items():
        check_num(diffs, who, k, e[member], stat1[k], stat2[k])
    # cputime_adjust() splits the runtime by the tick-sampled user/system ratio of the moment it
    # runs, so utime alone is not monotonic between two readers; their runtime is. /proc floors
    # the two parts separately, so its sum of ticks is the runtime's whole ticks or one less
    # (tot <= floor(rt) <= tot + 1), and a split at nfm's instant may floor to one more than a
    # later reader's (seen: nfm 10, /proc 7 then 9, the burner asleep between). So: nfm's
    # runtime in whole ticks lies in [tot1, tot2 + 1], and its own two fields floor that
    # runtime as /proc does.
    tot1, tot2 = stat1["utime"] + stat1["stime"], stat2["utime"] + stat2["stime"]
    rt = (e["utime_ns"] + e["stime_ns"]) // 10_000_000
    if not min(tot1, tot2) <= rt <= max(tot1, tot2) + 1:
        diffs.append(f"{who} utime+stime: nfm {rt} ticks of runtime outside /proc "
                     f"{tot1}..{tot2} (+1 for its flooring of two parts)")
    if not rt - 1 <= e["utime_ticks"] + e["stime_ticks"] <= rt:
        diffs.append(f"{who} utime_ticks+stime_ticks: {e['utime_ticks'] + e['stime_ticks']}, "
                     f"not the floor of its runtime's {rt} ticks")
    # The split itself is the one cputime_adjust() would give at nfm's instant: from the raw
    # tick-sampled ratio then, floored only by the prev_cputime the last /proc reader left (nfm
    # never advances it). A tick that lands after the first truth moves that ratio and the
    # ratio at the second truth can move back, so even with the same total either part may round
    # one tick apart from both truths (seen: a kworker's utime 1 between two readings of 0).
    slack = max(tot2 - tot1, 1)
    for k, member in TICKS.items():
        if not (min(stat1[k], stat2[k]) - slack <= e[member] <= max(stat1[k], stat2[k]) + slack):
            diffs.append(f"{who} {k}: nfm {e[member]} outside /proc {stat1[k]}..{stat2[k]} (±{slack})")
    # The truth server itself runs between the two truths (it answers the second): its RSS
    # may be anywhere from one to the other when nfm reads (seen on arm64: 901, 917, 918 pages).
    busy = c1 == b"zoo-truthsrv"
    check_num(diffs, who, "rss", e["rss_pages"], stat1["rss"], stat2["rss"], monotonic=busy)
    if "VmRSS" in status1 and "VmRSS" in status2 and whole:  # none once it exits
        kb1 = int(status1["VmRSS"].split()[0])
        kb2 = int(status2["VmRSS"].split()[0])
        kbs = range(min(kb1, kb2), max(kb1, kb2) + 1) if busy else (kb1, kb2)
        # rss_bytes is VmRSS: the per-CPU parts added where the kernel's task_mem() adds them
        # (6.12.39+, 6.16+), the counters elsewhere; the lab's 6.12 guests show the sum.
        if e["rss_bytes"] // 1024 not in kbs:
            diffs.append(f"{who} VmRSS: nfm {e['rss_bytes'] // 1024} kB /proc {kb1}, {kb2} kB")
    for keys, field in ((UID_KEYS, "Uid"), (GID_KEYS, "Gid")):
        want = ids(status1, field)
        got = [e[k] for k in keys]
        if got != want and got != ids(status2, field):
            diffs.append(f"{who} {field}: nfm {got} /proc {want}")


def compare_ps(t1, t2, entries):
    """Compare `nfm -j ps` processes with the two snapshots; returns (diffs, checked pids)."""
    diffs, by_pid = [], {e["pid"]: e for e in entries}
    checked = []
    for pid in lived_through(t1, t2):
        p1, p2 = t1.processes[pid], t2.processes[pid]
        e = by_pid.get(pid)
        if e is None:
            diffs.append(f"pid {pid} ({p1.comm!r}) missing from nfm ps")
            continue
        who = f"pid {pid} ({p1.comm!r})"
        compare_task(diffs, who, e, p1.files, p2.files, p1.stat, p2.stat, p1.status, p2.status,
                     True)
        got = guest_bytes(e, "cmdline")
        if got not in (p1.cmdline, p2.cmdline):
            if not e.get("cmdline_pages_missing"):
                diffs.append(f"{who} cmdline: nfm {got[:80]!r} /proc {p1.cmdline[:80]!r}")
        tids1, tids2 = sorted(p1.threads), sorted(p2.threads)
        if sorted(e["tids"]) not in (tids1, tids2):
            diffs.append(f"{who} threads: nfm {sorted(e['tids'])} /proc {tids1}")
        checked.append(pid)
    return diffs, checked


def compare_threads(t1, t2, entries):
    # -L: "pid" is the thread's id, "tgid" its process's (as /proc/PID/task/TID/status)
    diffs, by_tid = [], {(e["tgid"], e["pid"]): e for e in entries}
    checked = 0
    for pid in lived_through(t1, t2):
        p1, p2 = t1.processes[pid], t2.processes[pid]
        for tid, th1 in p1.threads.items():
            th2 = p2.threads.get(tid)
            if not th2 or not th1.stat or not th2.stat:
                continue
            e = by_tid.get((pid, tid))
            who = f"tid {pid}/{tid} ({th1.comm!r})"
            if e is None:
                diffs.append(f"{who} missing from nfm ps -L")
                continue
            compare_task(diffs, who, e, th1.files, th2.files, th1.stat, th2.stat, th1.status,
                         th2.status, False)
            checked += 1
    return diffs, checked


def report(diffs):
    return "\n".join(diffs[:60]) + (f"\n... {len(diffs) - 60} more" if len(diffs) > 60 else "")


def bracketed(lab_vm, kind, member, *args):
    """Truth, nfm -j (its document validated, the member's list returned), truth."""
    t1, _ = lab_vm.fresh_truth()
    doc = run_json("--vm", lab_vm.pid, *args, kind=kind)
    t2, _ = lab_vm.fresh_truth()
    return t1, doc[member], t2


def test_ps_matches_proc(lab_vm):
    t1, out, t2 = bracketed(lab_vm, "ps", "processes", "ps")
    diffs, checked = compare_ps(t1, t2, out)
    assert not diffs, report(diffs)
    roles = {r.pid for r in t1.roles.values() if r.pid}
    assert roles <= set(checked), f"roles not compared: {roles - set(checked)}"
    assert any(e["kthread"] for e in out) and len(checked) > 60


def test_ps_threads_match_proc(lab_vm):
    t1, out, t2 = bracketed(lab_vm, "ps", "processes", "ps", "-L")
    diffs, checked = compare_threads(t1, t2, out)
    assert not diffs, report(diffs)
    assert checked > 60


def test_ps_on_dump_matches_proc(lab_vm, tmp_path):
    elf, t1 = lab_vm.dump(tmp_path / "guest.elf")
    out = run_json("--vm", elf, "ps", kind="ps")["processes"]
    t2, _ = lab_vm.fresh_truth()
    diffs, checked = compare_ps(t1, t2, out)
    assert not diffs, report(diffs)
    assert len(checked) > 60
    out = run_json("--vm", elf, "ps", "-L", kind="ps")["processes"]
    diffs, checked = compare_threads(t1, t2, out)
    assert not diffs, report(diffs)
    os.unlink(elf)


def test_ps_table_is_terminal_safe(lab_vm):
    p = run("--vm", lab_vm.pid, "ps", "-ef")
    assert p.returncode == 0, p.stderr
    assert "\x1b" not in p.stdout and "\x07" not in p.stdout
    lines = p.stdout.splitlines()
    assert lines[0].split()[:3] == ["UID", "PID", "PPID"]
    assert any("[kthreadd]" in l for l in lines)
    assert any("\\x1b[31mred\\x1b[0m" in l for l in lines)


def test_ps_sort_and_select(lab_vm):
    out = run_json("--vm", lab_vm.pid, "ps", "--sort", "-rss", kind="ps")["processes"]
    rss = [e["rss_bytes"] for e in out]	# procps's RSS: status VmRSS
    assert rss == sorted(rss, reverse=True)
    one = run_json("--vm", lab_vm.pid, "ps", "-p", "1", kind="ps")["processes"]
    assert [e["pid"] for e in one] == [1]
    # -L and -p bundle as getopt options do; "aux" is accepted for habit
    both = run_json("--vm", lab_vm.pid, "ps", "-Lp1", kind="ps")["processes"]
    assert both and {e["tgid"] for e in both} == {1}
    assert run("--vm", lab_vm.pid, "ps", "aux").returncode == 0
    # usage errors: exit 2, one line naming the command
    for bad in (["--sort", "bogus"], ["-p", "x"], ["-Z"], ["nonsense"]):
        p = run("--vm", lab_vm.pid, "ps", *bad)
        assert p.returncode == 2 and p.stderr.startswith("nfm ps: "), (bad, p.stderr)
        assert len(p.stderr.splitlines()) == 1, p.stderr
    assert run("--vm", lab_vm.pid, "ps", "-p", "4000000").returncode == 1  # none found


def test_ps_churn(lab_vm):
    """nfm ps (processes, then threads) in a loop for half a minute (a minute in the full
    matrix) while the guest forks and reaps thousands of short-lived processes: no crash, no hang, every output well-formed JSON, the
    long-lived processes always present, churned processes seen now and then."""
    import json
    t = lab_vm.truth
    long_lived = {r.pid for r in t.roles.values() if r.pid} | {1, 2}
    # 30 s fork ~3,900 children on 6.1 under TCG; the full matrix churns for a minute
    full = os.environ.get("NFM_LAB_FULL") == "1"
    seconds = int(os.environ.get("NFM_CHURN_SECONDS", "60" if full else "30"))
    lab_vm.churn_start(seconds)
    deadline = time.time() + seconds
    rounds, kids_seen, partial = 0, 0, 0
    while time.time() < deadline:
        args = ["ps", "-L"] if rounds % 2 else ["ps"]
        p = subprocess.run([NFM, "--vm", str(lab_vm.pid), "-j"] + args, capture_output=True,
                           timeout=30)
        # 3: a partial view (tasks that changed while read were skipped), said in the document
        assert p.returncode in (0, 3), p.stderr
        doc = json.loads(p.stdout)
        assert doc["kind"] == "ps" and doc["complete"] == (p.returncode == 0), doc.get("errors")
        if rounds < 2:
            validate("ps", doc, "nfm -j " + " ".join(args))
        out = doc["processes"]
        partial += p.returncode == 3
        pids = {e["tgid"] for e in out}
        assert long_lived <= pids, "missing: %s" % sorted(long_lived - pids)
        assert all(e["pid"] > 0 and e["ppid"] >= 0 and e["state"] in "RSDTtZXI" for e in out)
        kids_seen += sum(1 for e in out if guest_bytes(e, "comm") == b"zoo-churnkid")
        rounds += 1
    count = None
    for _ in range(60):
        count = lab_vm.churn_count()
        if count is not None:
            break
        time.sleep(0.5)
    print("churn: %s children in %d s, %d ps rounds (%d partial), %d churned processes seen"
          % (count, seconds, rounds, partial, kids_seen))
    assert count is not None and count >= 1000, "the guest forked only %s children" % count
    assert rounds >= 5
    assert kids_seen > 0

def maps_lines(entries):
    """/proc/PID/maps lines rebuilt from `nfm -j maps` vmas (seq_pad to column 73)."""
    out = []
    for v in entries:
        line = ("%08x-%08x %s %08x %02x:%02x %d " % (
            int(v["start"], 16), int(v["end"], 16), v["perms"], v["offset_bytes"],
            v["dev_major"], v["dev_minor"], v["inode"])).encode()
        name = guest_bytes(v, "name")
        out.append(line.ljust(72) + b" " + name if name else line)
    return out


def test_maps_match_proc(lab_vm):
    t1, _ = lab_vm.fresh_truth()
    import json
    diffs, checked, docs, gone = [], 0, [], []
    for pid, p in sorted(t1.processes.items()):
        if "maps" not in p.files or p.state == "Z":
            continue
        r = run("-j", "--vm", lab_vm.pid, "maps", pid)
        if r.returncode != 0:
            (gone if "no such process" in r.stderr else diffs).append(
                f"pid {pid}: {r.stderr.strip()}")
            continue
        docs.append(r.stdout)
        doc = json.loads(r.stdout)
        assert doc["pid"] == pid
        got = maps_lines(doc["vmas"])
        if got != p.maps:
            diffs.append(f"pid {pid} ({p.comm!r}): nfm {len(got)} lines, /proc {len(p.maps)}: "
                         + next((f"{a!r} != {b!r}" for a, b in zip(got, p.maps) if a != b), ""))
        checked += 1
    # "no such process" is right only for a process that really exited since the truth
    t2, _ = lab_vm.fresh_truth()
    diffs += [g for g in gone if int(g.split()[1].rstrip(":")) in t2.processes]
    assert not diffs, report(diffs)
    assert checked > 20
    validate("maps", "".join(docs), "nfm -j maps PID (every process)")


def test_lsof_matches_proc(lab_vm):
    t1, out, t2 = bracketed(lab_vm, "lsof", "files", "lsof")
    got, inos_checked = {}, 0
    for e in out:
        got.setdefault(e["pid"], {})[e["fd"]] = e
    diffs, checked = [], 0
    for pid in lived_through(t1, t2):
        p1, p2 = t1.processes[pid], t2.processes[pid]
        if p1.fds != p2.fds:
            continue  # the truth server's own descriptors move while it reads
        mine = {fd: guest_bytes(e, "path") for fd, e in got.get(pid, {}).items()}
        want = p1.fds
        if p1.comm == b"zoo-truthsrv":
            # Its /proc directory descriptors exist only while it is answering a request.
            want = {fd: v for fd, v in want.items() if not v.startswith(b"/proc")}
        if mine != want:
            diffs.append(f"pid {pid} ({p1.comm!r}): nfm {sorted(mine.items())[:8]} "
                         f"/proc {sorted(p1.fds.items())[:8]}")
        for fd, e in got.get(pid, {}).items():
            info = p1.fdinfo.get(fd, b"")
            fields = dict(l.split(b":\t", 1) for l in info.splitlines() if b":\t" in l)
            if fields and int(fields[b"flags"], 8) != e["flags"]:
                diffs.append(f"pid {pid} fd {fd} flags: nfm {e['flags']:o} /proc {fields[b'flags']!r}")
            # fdinfo has ino: since 5.14 (3845f256a8b5); before, the guest shows a socket's,
            # pipe's or anonymous inode's number in the fd's link ("socket:[1234]").
            link = re.fullmatch(rb"[a-z_]+:\[(\d+)\]", p1.fds.get(fd, b""))
            guest_ino = fields.get(b"ino") or (link.group(1) if link else None)
            if fields and guest_ino is not None:
                inos_checked += 1
                if int(guest_ino) != e["inode"]:
                    diffs.append(f"pid {pid} fd {fd} ino: nfm {e['inode']} /proc {guest_ino!r}")
            if fields and p1.fdinfo.get(fd) == p2.fdinfo.get(fd) and int(fields[b"pos"]) != e["pos_bytes"]:
                diffs.append(f"pid {pid} fd {fd} pos: nfm {e['pos_bytes']} /proc {fields[b'pos']!r}")
        checked += 1
    assert not diffs, report(diffs)
    assert checked > 20
    assert inos_checked >= 10, inos_checked
    files = got[t1.roles["files"].pid]
    assert any(guest_bytes(e, "path").endswith(b" (deleted)") for e in files.values())
    net = got[t1.roles["net"].pid]
    assert {"TCP", "UDP"} <= {e.get("proto") for e in net.values()}


def test_env_matches_proc(lab_vm):
    t = lab_vm.truth
    checked = 0
    for name, r in t.roles.items():
        if not r.pid or t.processes[r.pid].state == "Z":
            continue
        out = run_json("--vm", lab_vm.pid, "env", r.pid, kind="env")
        assert out["pid"] == r.pid and out["pages_missing"] == 0, name
        want = t.processes[r.pid].environ
        if "environ_hex" in out:
            got = bytes.fromhex(out["environ_hex"])
        else:  # the strings are exact: NUL-separated, as the kernel keeps them
            got = b"\0".join(s.encode() for s in out["environ"])
            got += b"\0" if want.endswith(b"\0") else b""
        assert got == want, name
        checked += 1
    assert checked > 20


def test_pstree(lab_vm):
    """Every process that lived through two fresh truths around nfm's read is in the tree once,
    under the parent its /proc/PID/stat names (either truth's, for one reparented between)."""
    t1, _ = lab_vm.fresh_truth()
    out = run_json("--vm", lab_vm.pid, "pstree", kind="pstree")["processes"]
    t2, _ = lab_vm.fresh_truth()
    assert {1, 2} <= {n["pid"] for n in out}
    parent_of = {}

    def walk(n, parent):
        assert n["pid"] not in parent_of, n["pid"]
        assert n["ppid"] == parent or parent == 0
        parent_of[n["pid"]] = parent
        for c in n["children"]:
            walk(c, n["pid"])
    for n in out:
        walk(n, 0)
    lived = lived_through(t1, t2)
    assert len(lived) > 50
    assert [p for p in lived if p not in parent_of] == []
    wrong = [(p, parent_of[p], t1.processes[p].stat["ppid"]) for p in lived
             if parent_of[p] not in (t1.processes[p].stat["ppid"], t2.processes[p].stat["ppid"])]
    assert not wrong, wrong
    p = run("--vm", lab_vm.pid, "pstree", "-p")
    assert p.returncode == 0 and "\x1b" not in p.stdout and "(1)" in p.stdout
