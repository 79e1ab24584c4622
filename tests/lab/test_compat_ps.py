"""nfm ps in procps-ng 4's habit forms (doc/compat.md "## ps") on a lab guest, against the guest's
own /proc (its truth snapshot) read with procps's field semantics: the guest has busybox ps
only, so the expected cells are computed from /proc/PID/stat and status as procps computes them.

Rows are compared for the zoo's roles and their threads: processes that do not change while nfm
reads (the truth is taken just before and just after, and a value must equal one of them).
"""
import os
import re

from nfmcli import run, run_json

PS_ROW = "pid,ppid,pgid,sid,ni,pri,stat,user,group,tty,nlwp,comm"


def ok(p):
    assert p.returncode == 0, p.stderr
    return p.stdout


def names(raw):
    """{id: name} of a passwd/group file, the first entry of an id winning (as NSS)."""
    out = {}
    for line in raw.decode("utf-8", "surrogateescape").splitlines():
        f = line.split(":")
        if len(f) >= 3 and f[2].isdigit():
            out.setdefault(int(f[2]), f[0])
    return out


def shown_name(names_, ident):
    """procps: the name when it fits the 8-wide column (nfm escapes a control byte as \\xNN, so
    a name holding one is longer), else the number."""
    n = names_.get(ident)
    if n is None or len(n) > 8 or any(ord(c) < 32 or ord(c) == 127 for c in n):
        return str(ident)
    return n


def expected(p, users, groups):
    """The PS_ROW cells procps prints for truth process p."""
    s, st = p.stat, p.status
    euid = int(st["Uid"].split()[1])
    egid = int(st["Gid"].split()[1])
    stat = s["state"]
    stat += "<" if s["nice"] < 0 else "N" if s["nice"] > 0 else ""
    if int(st.get("VmLck", b"0 kB").split()[0]):
        stat += "L"
    if s["session"] == p.pid:
        stat += "s"
    if s["num_threads"] > 1:
        stat += "l"
    if s["pgrp"] == s["tpgid"]:
        stat += "+"
    return [str(p.pid), str(s["ppid"]), str(s["pgrp"]), str(s["session"]),
            str(s["nice"]) if s["policy"] in (0, 3) else "-", str(39 - s["priority"]), stat,
            shown_name(users, euid), shown_name(groups, egid),
            "?" if s["tty_nr"] == 0 else None, str(s["num_threads"])]


def stable_pids(t):
    return {r.pid for r in t.roles.values() if r.pid in t.processes and t.processes[r.pid].stat}


def test_ps_o_rows_against_proc(lab_vm):
    """ps -e -o pid,ppid,pgid,sid,ni,pri,stat,user,group,tty,nlwp,comm: every role's row equals
    what procps computes from the guest's /proc/PID/stat and status."""
    users = names(lab_vm.guest_file("/etc/passwd"))
    groups = names(lab_vm.guest_file("/etc/group"))
    assert users.get(1000) == "zoo" and groups.get(2002) == "zoostaff"
    before, _ = lab_vm.fresh_truth()
    out = ok(run("--vm", lab_vm.name, "ps", "-e", "-o", PS_ROW))
    after, _ = lab_vm.fresh_truth()
    lines = out.splitlines()
    assert lines[0].split() == ["PID", "PPID", "PGID", "SID", "NI", "PRI", "STAT", "USER",
                                "GROUP", "TT", "NLWP", "COMMAND"]
    assert "\x1b" not in out and "\x07" not in out
    rows = {}
    for l in lines[1:]:
        f = l.split(None, 11)
        rows[int(f[0])] = f
    pids = stable_pids(before) & stable_pids(after)
    assert len(pids) >= 20, pids
    burners = {before.roles[r].pid for r in ("burn30", "burn70") if r in before.roles}
    compared = 0
    for pid in sorted(pids):
        want = [expected(t.processes[pid], users, groups) for t in (before, after)
                if pid in t.processes and t.processes[pid].stat]
        got = rows.get(pid)
        assert got, (pid, "missing from nfm ps")
        cells = got[:11]
        if pid in burners:
            # a burner runs and sleeps in 100 ms windows: R or S at any read, whatever the two
            # snapshots around it caught
            want = [w[:6] + [c + w[6][1:] for c in "RS"][i:i + 1] + w[7:]
                    for w in want for i in range(2)]
        assert any(all(w is None or w == g for w, g in zip(w_, cells)) for w_ in want), \
            "pid %d: nfm %r, want one of %r" % (pid, cells, want)
        comm = before.processes[pid].comm
        if comm and all(32 < b < 127 for b in comm):
            suffix = " <defunct>" if before.processes[pid].state == "Z" else ""
            assert got[11] == comm.decode() + suffix, (pid, got[11], comm)
        compared += 1
    assert compared >= 20
    # names from the guest's /etc/passwd: uid 1000 is "zoo"; 1001's name holds an escape, 1002's
    # is longer than 8: numbers, as procps shows a name that does not fit
    uid1000 = [r for r in rows.values() if len(r) > 11 and r[11].startswith("zoo-uid1000")]
    assert uid1000 and uid1000[0][7] == "zoo"
    mix = [r for r in rows.values() if len(r) > 11 and r[11].startswith("zoo-uidmix")]
    assert mix and mix[0][7] == "1001" and mix[0][8] == "zoostaff"


def test_ps_stat_columns_against_proc(lab_vm):
    """ps -o tpgid,blocked,ignored,caught,majflt (text: nfm reads /proc/PID/stat's part only,
    as procps does for these columns): each stable role's cells equal the guest's stat and
    status."""
    before, _ = lab_vm.fresh_truth()
    out = ok(run("--vm", lab_vm.name, "ps", "-e", "-o", "pid,tpgid,blocked,ignored,caught,majflt"))
    after, _ = lab_vm.fresh_truth()
    lines = out.splitlines()
    assert lines[0].split() == ["PID", "TPGID", "BLOCKED", "IGNORED", "CAUGHT", "MAJFLT"]
    rows = {int(l.split()[0]): l.split() for l in lines[1:]}
    compared = 0
    for pid in sorted(stable_pids(before) & stable_pids(after)):
        want = []
        for t in (before, after):
            p = t.processes.get(pid)
            if p and p.stat:
                want.append([str(pid), str(p.stat["tpgid"])] +
                            ["%016x" % int(p.status[k], 16) for k in ("SigBlk", "SigIgn", "SigCgt")] +
                            [str(p.stat["majflt"])])
        assert rows.get(pid) in want, (pid, rows.get(pid), want)
        compared += 1
    assert compared >= 20


def test_ps_aux_and_ef_layouts(lab_vm):
    """ps aux and ps -ef: procps's headers, column positions (pid_max's digits) and values."""
    t = lab_vm.truth
    pid_max = int(t.files["/proc/sys/kernel/pid_max"])
    w = max(5, len(str(pid_max)))
    aux = ok(run("--vm", lab_vm.name, "ps", "aux")).splitlines()
    assert aux[0] == ("USER" + " " * 4 + " " + "PID".rjust(w) +
                      " %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND")
    one = [l for l in aux[1:] if l.split()[1] == "1"][0]
    f = one.split(None, 10)
    st = t.processes[1].status
    assert f[0] == "root" and f[4] == st["VmSize"].split()[0].decode()
    # RSS as procps 4 reads it, status VmRSS (on 6.12 the per-CPU sum, not stat's counters)
    assert f[5] == st["VmRSS"].split()[0].decode(), one
    assert f[6] == "?" and f[10] == b" ".join(t.processes[1].argv).decode(), one
    # %MEM as procps's pr_pmem(): RSS * 1000 / MemTotal, cut (not rounded) to one decimal, on
    # every row (RSS itself is held to VmRSS in test_process)
    mem_total = int(re.search(rb"MemTotal:\s+(\d+)", t.files["/proc/meminfo"]).group(1))
    for l in aux[1:]:
        c = l.split(None, 10)
        tenths = min(int(c[5]) * 1000 // mem_total, 999)
        assert c[3] == "%d.%d" % (tenths // 10, tenths % 10), l
    # columns line up as procps's: PID right-aligned under its header
    end = aux[0].index("PID") + 3
    assert one[end - 1] == "1" and one[end - 2] == " ", one
    ef = ok(run("--vm", lab_vm.name, "ps", "-ef")).splitlines()
    assert ef[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    k = [l for l in ef if l.split()[1] == "2"][0].split()
    assert k[2] == "0" and k[7] == "[kthreadd]" and k[6] == "00:00:00"
    # -eLf: LWP and NLWP; the threads role's five named threads
    role = t.roles["threads"]
    elf = ok(run("--vm", lab_vm.name, "ps", "-eLf")).splitlines()
    assert elf[0].split() == ["UID", "PID", "PPID", "LWP", "C", "NLWP", "STIME", "TTY", "TIME",
                              "CMD"]
    mine = [l.split() for l in elf[1:] if l.split()[1] == str(role.pid)]
    assert {int(x[3]) for x in mine} >= set(role.threads)
    assert {x[5] for x in mine} == {str(len(mine))}


def test_ps_sort_select_forest(lab_vm):
    t = lab_vm.truth
    # several sort keys: -ni first, then pid
    out = ok(run("--vm", lab_vm.name, "ps", "-e", "-o", "ni,pid", "--sort=-ni,pid")).splitlines()
    # a real-time task shows "-" but sorts by its nice value, as procps (stat's nice)
    nice = {p.pid: p.stat["nice"] for p in t.processes.values() if p.stat}
    keys = [(-int(a) if a != "-" else -nice.get(int(b), 0), int(b))
            for a, b in (l.split() for l in out[1:])]
    assert keys == sorted(keys), keys[:10]
    # -u by name (the guest's /etc/passwd) and by number; -C by comm; -p
    by_name = ok(run("--vm", lab_vm.name, "ps", "-u", "zoo", "-o", "pid=")).split()
    by_uid = ok(run("--vm", lab_vm.name, "ps", "-u", "1000", "-o", "pid=")).split()
    want = {str(p.pid) for p in t.processes.values()
            if p.status.get("Uid") and int(p.status["Uid"].split()[1]) == 1000}
    assert set(by_name) == set(by_uid) and set(by_name) >= {str(t.roles["uid"].pid)}
    assert want >= {str(t.roles["uid"].pid)}
    # no process of another user: every pid listed that the truth knows has euid 1000
    other = [p for p in by_name if int(p) in t.processes and t.processes[int(p)].status.get("Uid")
             and int(t.processes[int(p)].status["Uid"].split()[1]) != 1000]
    assert not other, other
    c = ok(run("--vm", lab_vm.name, "ps", "-C", "zoo-uid1000", "-o", "pid=,comm="))
    assert c.split() == [str(t.roles["uid"].pid), "zoo-uid1000"]
    assert run("--vm", lab_vm.name, "ps", "-u", "nosuchuser").returncode == 1
    assert run("--vm", lab_vm.name, "ps", "-p", "4000000").returncode == 1
    # --forest: a role under the spawner is drawn " \_ " below its parent
    spawner = t.roles["spawner"].pid
    fo = ok(run("--vm", lab_vm.name, "ps", "-e", "--forest", "-o", "pid,ppid,args")).splitlines()
    assert fo[0].split() == ["PID", "PPID", "COMMAND"]
    kids = [l for l in fo[1:] if l.split()[1] == "2"]
    assert kids and all(" \\_ [" in l for l in kids), kids[:3]
    i = [n for n, l in enumerate(fo) if l.split()[0] == str(spawner)][0]
    assert "\\_ " in fo[i + 1] and fo[i + 1].split()[1] == str(spawner)
    # BSD words bundled; unknown field: exit 2, one line
    assert ok(run("--vm", lab_vm.name, "ps", "axo", "pid,stat")).splitlines()[0].split() == \
        ["PID", "STAT"]
    p = run("--vm", lab_vm.name, "ps", "-o", "bogus")
    assert p.returncode == 2 and len(p.stderr.splitlines()) == 1


def kb_bytes(status, name):
    """A status "N kB" line in bytes; 0 where the task has no mm (no such line), as nfm."""
    return int(status[name].split()[0]) * 1024 if name in status else 0


def moving(p):
    """The process.json members of truth process p that change while the process runs (faults,
    context switches, its resident memory), or may (its flags, policy, pending signals)."""
    s, st = p.stat, p.status
    out = {"flags": s["flags"], "min_flt": s["minflt"], "maj_flt": s["majflt"],
           "policy_code": s["policy"], "rt_priority": s["rt_priority"],
           "sig_pending": st["SigPnd"].decode(),
           "seccomp": int(st["Seccomp"]) if "Seccomp" in st else None,
           "voluntary_ctxt_switches": int(st["voluntary_ctxt_switches"]),
           "nonvoluntary_ctxt_switches": int(st["nonvoluntary_ctxt_switches"])}
    for key, name in (("vm_hwm_bytes", "VmHWM"), ("vm_pte_bytes", "VmPTE"),
                      ("rss_anon_bytes", "RssAnon"), ("rss_file_bytes", "RssFile"),
                      ("rss_shmem_bytes", "RssShmem"), ("hugetlb_bytes", "HugetlbPages")):
        out[key] = kb_bytes(st, name)
    return out


def test_ps_json_process_object_complete(lab_vm):
    """ps -j: every /proc/PID/stat and status field nfm reads equals the guest's (roles). Values
    a running process changes (faults, context switches, RSS) must equal the guest's where the
    truths before and after nfm agree (the sleepers), and lie between them where the process ran
    between them (the burners, the spawner)."""
    before, _ = lab_vm.fresh_truth()
    doc = run_json("--vm", lab_vm.name, "ps", kind="ps")
    after, _ = lab_vm.fresh_truth()
    procs = {p["pid"]: p for p in doc["processes"]}
    checked = unchanged = 0
    for pid in stable_pids(after):
        p, q = after.processes[pid], procs.get(pid)
        assert q, pid
        s, st = p.stat, p.status
        want = {"pgrp": s["pgrp"], "session": s["session"], "tty_nr": s["tty_nr"],
                "tpgid": s["tpgid"], "exit_signal": s["exit_signal"], "cmin_flt": s["cminflt"],
                "cmaj_flt": s["cmajflt"], "rsslim_bytes": s["rsslim"],
                "start_code": "0x%x" % s["startcode"], "end_code": "0x%x" % s["endcode"],
                "start_stack": "0x%x" % s["startstack"], "start_data": "0x%x" % s["start_data"],
                "end_data": "0x%x" % s["end_data"], "start_brk": "0x%x" % s["start_brk"],
                "arg_start": "0x%x" % s["arg_start"], "arg_end": "0x%x" % s["arg_end"],
                "env_start": "0x%x" % s["env_start"], "env_end": "0x%x" % s["env_end"],
                "exit_code": s["exit_code"], "cutime_ticks": s["cutime"],
                "cstime_ticks": s["cstime"]}
        for key, name in (("sig_blocked", "SigBlk"), ("sig_ignored", "SigIgn"),
                          ("sig_caught", "SigCgt"), ("sig_shared_pending", "ShdPnd"),
                          ("cap_inheritable", "CapInh"), ("cap_permitted", "CapPrm"),
                          ("cap_effective", "CapEff"), ("cap_bounding", "CapBnd"),
                          ("cap_ambient", "CapAmb")):
            want[key] = st[name].decode()
        want["tracer_pid"] = int(st["TracerPid"])
        want["no_new_privs"] = int(st["NoNewPrivs"])
        want["fd_size"] = int(st["FDSize"])
        want["guest_time_ticks"], want["cguest_time_ticks"] = s["guest_time"], s["cguest_time"]
        for key, name in (("seccomp_filters", "Seccomp_filters"), ("core_dumping", "CoreDumping"),
                          ("thp_enabled", "THP_enabled")):
            want[key] = int(st[name]) if name in st else None	# shown with an mm only
        for key, name in (("cpus_allowed", "Cpus_allowed"), ("mems_allowed", "Mems_allowed")):
            want[key] = st[name].decode()
            want[key + "_list"] = st[name + "_list"].decode()
        for key, name in (("ns_tgid", "NStgid"), ("ns_pid", "NSpid"), ("ns_pgid", "NSpgid"),
                          ("ns_sid", "NSsid"), ("groups", "Groups")):
            want[key] = [int(x) for x in st[name].split()]
        want["sigq_queued"], want["sigq_limit"] = (int(x) for x in st["SigQ"].split(b"/"))
        if "Umask" in st:
            want["umask"] = int(st["Umask"], 8)
        for key, name in (("vm_lck", "VmLck"), ("vm_pin", "VmPin"), ("vm_data", "VmData"),
                          ("vm_stk", "VmStk"), ("vm_exe", "VmExe"), ("vm_lib", "VmLib"),
                          ("vm_swap", "VmSwap"), ("vm_peak", "VmPeak")):
            if name in st:
                want[key + "_bytes"] = int(st[name].split()[0]) * 1024
        bad = {k: (q.get(k), v) for k, v in want.items() if q.get(k) != v}
        p0 = before.processes.get(pid)
        assert p0 and p0.stat and p0.stat["starttime"] == s["starttime"], pid
        m0, m1 = moving(p0), moving(p)
        for k in m1:
            got, v0, v1 = q.get(k), m0[k], m1[k]
            if v0 == v1:
                ok_ = got == v1
            elif isinstance(v1, int) and isinstance(got, int):
                ok_ = min(v0, v1) <= got <= max(v0, v1)	# ran between the truths
            else:
                ok_ = got in (v0, v1)
            if not ok_:
                bad[k] = (got, v0, v1)
        unchanged += m0 == m1
        assert not bad, (pid, p.comm, bad)
        checked += 1
    assert checked >= 20 and unchanged >= 20, (checked, unchanged)
    # the zoo's nested pid namespaces: pid 1 and 2 one level down, pid 1 two levels down and
    # a session of its own (its ids at every level); the others' pgid and sid are not theirs
    levels = {r: after.roles[r].pid for r in ("pidns1", "pidns1b", "pidns2")}
    assert all(pid in stable_pids(after) for pid in levels.values()), levels
    assert procs[levels["pidns1"]]["ns_pid"] == [levels["pidns1"], 1]
    assert procs[levels["pidns1b"]]["ns_pid"] == [levels["pidns1b"], 2]
    two = procs[levels["pidns2"]]
    assert two["ns_pid"][2] == 1 and len(two["ns_pid"]) == 3
    assert two["ns_sid"] == two["ns_pid"] and procs[levels["pidns1"]]["ns_sid"][1] == 0


def test_pstree_uid_changes(lab_vm):
    """pstree -pu (psmisc): name(pid,user) where the user differs from the parent's, the name
    from the guest's /etc/passwd, escaped; the same uid as the parent: name(pid)."""
    t = lab_vm.truth
    out = ok(run("--vm", lab_vm.name, "pstree", "-pu"))
    assert "\x1b" not in out and "\x07" not in out
    uid, mix = t.roles["uid"].pid, t.roles["uidmix"].pid
    assert "zoo-uid1000(%d,zoo)" % uid in out
    assert "zoo-uidmix(%d,ev\\x1b]0;x\\x07il)" % mix in out
    assert "init(1)\n" in out
