"""The Python binding (`import nfm`, python/nfm) on a lab guest: its objects validate against
doc/schema (the same member names as `nfm -j`), agree with the guest's own view and with `nfm
ps/ss/ip/maps/lsof/route/arp/dmesg/sym/cpuinfo/bt -j` (those whose view moves on a dump of the
guest), and failures are nfm.Error exceptions.

The package is the build tree's (BUILD/python, BUILD being NFM_BIN's build directory, or
NFM_PYTHONPATH). Needs root (reads QEMU memory) and python3-cffi.
"""
import errno
import ipaddress
import json
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from nfmcli import NFM, guest_bytes, run, run_json, validate  # noqa: E402
from test_attach import NAMED  # noqa: E402
from test_net import arp_json, check_route_arp, check_sockets, route_json, ss_json  # noqa: E402
from test_process import lived_through, maps_lines, report  # noqa: E402
from test_shell import _cpuinfo  # noqa: E402
from test_system import COLS, _proc_net_dev, dmesg_json, kmsg_escape  # noqa: E402

PYPATH = os.environ.get("NFM_PYTHONPATH", str(Path(NFM).resolve().parents[2] / "python"))
sys.path.insert(0, PYPATH)
nfm = pytest.importorskip("nfm", reason="no Python binding in %s (python3-cffi?)" % PYPATH)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads QEMU memory: needs root")


@pytest.fixture(scope="module")
def guest(lab_vm):
    with nfm.attach("pid:%d" % lab_vm.pid) as g:
        yield g


@pytest.fixture(scope="module")
def dumped(lab_vm, tmp_path_factory):
    """(ELF dump of the lab guest, the truth taken just before it, the binding attached to the
    dump): views that move on a live guest (neighbour states, the log, stacks) compared there."""
    elf, t = lab_vm.dump(tmp_path_factory.mktemp("pydump") / "guest.elf")
    with nfm.attach("file:%s" % elf) as g:
        yield elf, t, g
    os.unlink(elf)


def drain(it):
    """(the objects an iterator gave, the nfm.Error it ended with or None)."""
    out = []
    try:
        for o in it:
            out.append(o)
    except nfm.Error as e:
        return out, e
    return out, None


def test_version_is_the_library_s():
    """The binding loads the library of its build, whose version the nfm beside it reports."""
    p = run("--version")
    assert p.returncode == 0 and p.stdout.split() == ["nfm", nfm.version()], p.stdout
    assert os.path.realpath(nfm.library_path).endswith("libnfm.so." + nfm.version())


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
    t1, _ = lab_vm.fresh_truth()
    procs = list(guest.processes())
    t2, _ = lab_vm.fresh_truth()
    validate("process.json", "\n".join(json.dumps(p) for p in procs), "Guest.processes()")
    by_pid = {p["pid"]: p for p in procs}
    truth = t1.processes
    # every process alive through both truths (same start time: no pid reuse) is there
    lived = {pid for pid, x in t1.processes.items() if x.stat and pid in t2.processes and
             t2.processes[pid].stat and t2.processes[pid].stat["starttime"] == x.stat["starttime"]}
    assert len(lived) > 50 and lived <= set(by_pid), sorted(lived - set(by_pid))
    common = lived
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
    # the two reads are a moment apart: at most a few processes started or ended between
    assert checked == len(set(cli) & set(by_pid)) and checked >= len(cli) - 3, (checked, len(cli))


def test_threads_iterate_every_thread(guest):
    procs = list(guest.processes())
    threads = list(guest.processes(threads=True))
    assert len(threads) >= len(procs)
    assert {t["tgid"] for t in threads} >= {p["pid"] for p in procs if not p["kthread"]}


def test_modules_and_memory(lab_vm, guest):
    """Guest.modules() is `nfm lsmod -j`'s list, object for object, and /proc/modules' names."""
    mods = list(guest.modules())
    validate("module.json", "\n".join(json.dumps(m) for m in mods), "Guest.modules()")
    cli = run_json("--vm", lab_vm.pid, "lsmod", kind="lsmod")["modules"]
    assert mods == [{k: v for k, v in m.items() if k != "line"} for m in cli]  # line: lsmod's
    assert sorted(m["name"] for m in mods) == sorted(
        ln.split()[0].decode() for ln in lab_vm.truth.files["/proc/modules"].splitlines())
    mem = guest.memory()
    validate("memory.json", json.dumps(mem), "Guest.memory()")
    assert mem["mem_total_bytes"] == guest.kernel()["mem_total_bytes"]


def test_mounts_and_loadavg(lab_vm, guest):
    """Guest.mounts() is `nfm mount -j`'s list (without its line), mount_parent_id() `nfm findmnt
    -j`'s parent_id (test_system.py holds both to the guest's /proc)."""
    mnts = list(guest.mounts())
    validate("mount.json", "\n".join(json.dumps(m) for m in mnts), "Guest.mounts()")
    assert "/" in {m["path"] for m in mnts}
    cli = run_json("--vm", lab_vm.pid, "findmnt", "-j", kind="mount")["mounts"]
    assert [dict(m, parent_id=guest.mount_parent_id(m)) for m in mnts] == cli
    la = guest.loadavg()
    validate("loadavg.json", json.dumps(la), "Guest.loadavg()")
    assert la["threads"] >= len(list(guest.processes()))


def jsonl(objs):
    return "\n".join(json.dumps(o) for o in objs)


def test_sockets_match_nfm_ss_and_proc_net(lab_vm, guest):
    """Guest.sockets() is `nfm ss -j`'s list, object for object, and the guest's /proc/net/{tcp,
    tcp6,udp,udp6,unix} row for row, with the owners the guest's fd tables name."""
    t, _ = lab_vm.fresh_truth()
    guest.idle()    # the last test's crawl is over: its page copies lent; this one reads anew
    guest.refresh()
    socks = list(guest.sockets())
    validate("socket.json", jsonl(socks), "Guest.sockets()")
    check_sockets(t, socks)
    cli = ss_json(lab_vm.pid)
    # nfm ss adds each socket's fds (ss -p's) and a unix socket's peer to the schema's object
    assert {s["sk"]: s for s in socks} == {
        s["sk"]: {k: v for k, v in s.items() if k not in ("fds", "peer_inode")} for s in cli}
    assert len(socks) == len(cli) >= 10
    assert {s["netid"] for s in socks} >= {"tcp", "tcp6", "udp", "udp6", "u_str", "u_dgr", "u_seq"}


def test_interfaces_match_nfm_ip_and_the_guest(lab_vm, guest):
    """Guest.interfaces() is `nfm ip -j addr`'s list (the counters between two reads of the
    guest's own /proc/net/dev) and the guest's `ip addr`: flags, MTU, link and IP addresses."""
    t1, _ = lab_vm.fresh_truth()
    guest.refresh()
    devs = list(guest.interfaces())
    t2, _ = lab_vm.fresh_truth()
    validate("interface.json", jsonl(devs), "Guest.interfaces()")
    cli = run_json("--vm", lab_vm.pid, "ip", "addr", kind="ip")["interfaces"]
    strip = [{k: v for k, v in d.items() if k != "stats"} for d in devs]
    assert strip == [{k: v for k, v in d.items() if k != "stats"} for d in cli]
    d1, d2 = _proc_net_dev(t1), _proc_net_dev(t2)
    by = {d["ifname"]: d for d in devs}
    assert set(d1) == set(by), (set(d1), set(by))
    ipout = t1.commands["ip addr"].decode()
    for name, v1 in d1.items():
        d = by[name]
        assert d["stats_exact"], name
        for i, col in enumerate(COLS):
            assert v1[i] <= d["stats"][col] <= d2[name][i], (name, col, v1[i], d["stats"][col])
        m = re.search(r"^%d: %s[@:].*<([^>]*)> mtu (\d+)" % (d["ifindex"], re.escape(name)),
                      ipout, re.M)
        assert m, name
        assert set(m.group(1).split(",")) == set(d["flags"]), name
        assert int(m.group(2)) == d["mtu_bytes"], name
    assert set(re.findall(r"^\s+link/\S+ ([0-9a-f:]+)", ipout, re.M)) <= {d["address"] for d in devs}
    want = {str(ipaddress.ip_interface(w)) for w in re.findall(r"^\s+inet6? (\S+)", ipout, re.M)}
    got = {str(ipaddress.ip_interface("%s/%d" % (a["local"], a["prefixlen"])))
           for d in devs for a in d["addr_info"]}
    assert want == got
    assert "10.77.0.2/24" in got and "fd00:77::2/64" in got


def test_maps_match_nfm_maps_and_proc(lab_vm, guest):
    """Guest.maps(pid) of every process is `nfm maps -j PID`'s vmas and the guest's own
    /proc/PID/maps, line for line (the truth read before and after: a process whose mappings
    moved in between may match either); a kernel thread has none; an unknown pid raises ESRCH."""
    t1, _ = lab_vm.fresh_truth()
    guest.refresh()
    diffs, checked, everything, got, gone = [], 0, [], {}, []
    for pid, p in sorted(t1.processes.items()):
        if "maps" not in p.files or p.state == "Z":
            continue
        try:
            for _ in range(2):  # the two reads agree, or are taken again once
                vmas = list(guest.maps(pid))
                cli = run_json("--vm", lab_vm.pid, "maps", pid)["vmas"]
                if vmas == cli:
                    break
        except nfm.Error as e:
            # right only for a process that exited since the truth (a kworker, pid 7, in CI)
            assert e.errno == errno.ESRCH, e
            gone.append(pid)
            continue
        everything += vmas
        got[pid] = vmas
        if vmas != cli:
            diffs.append("pid %d: binding and nfm maps -j differ: %s" % (
                pid, next(("%r != %r" % (a, b) for a, b in zip(vmas, cli) if a != b),
                          "%d vs %d" % (len(vmas), len(cli)))))
        checked += 1
    t2, _ = lab_vm.fresh_truth()
    diffs += ["pid %d: no such process, yet in both truths" % pid for pid in gone
              if pid in t2.processes]
    for pid, vmas in got.items():
        p1, p2 = t1.processes[pid], t2.processes.get(pid)
        if maps_lines(vmas) not in (p1.maps, p2.maps if p2 else p1.maps):
            diffs.append("pid %d (%r): binding %d lines, /proc %d then %s: %s" % (
                pid, p1.comm, len(vmas), len(p1.maps), len(p2.maps) if p2 else "gone",
                next(("%r != %r" % (a, b) for a, b in zip(maps_lines(vmas), p1.maps)
                      if a != b), "")))
    assert not diffs, report(diffs)
    assert checked > 20
    validate("vma.json", jsonl(everything), "Guest.maps()")
    assert any(guest_bytes(v, "name") == b"[stack]" for v in guest.maps(1))
    kthread = next(p for p in guest.processes() if p["kthread"])
    assert list(guest.maps(kthread["pid"])) == []
    with pytest.raises(nfm.Error) as e:
        list(guest.maps(4000000))
    assert e.value.errno == errno.ESRCH


def test_files_match_nfm_lsof_and_proc(lab_vm, guest):
    """Guest.files() is `nfm lsof -j`'s list for every process whose descriptors did not move,
    and the guest's own /proc/PID/fd (links) and fdinfo (flags, inode, position)."""
    t1, _ = lab_vm.fresh_truth()
    guest.refresh()
    out = list(guest.files())
    t2, _ = lab_vm.fresh_truth()
    validate("fd.json", jsonl(out), "Guest.files()")
    cli = run_json("--vm", lab_vm.pid, "lsof", kind="lsof")["files"]
    got, by_cli = {}, {}
    for e in out:
        got.setdefault(e["pid"], {})[e["fd"]] = e
    for e in cli:
        by_cli.setdefault(e["pid"], {})[e["fd"]] = e
    diffs, checked = [], 0
    for pid in lived_through(t1, t2):
        p1, p2 = t1.processes[pid], t2.processes[pid]
        if p1.fds != p2.fds or p1.comm == b"zoo-truthsrv":
            continue  # descriptors that moved while the guest read them
        mine = {fd: guest_bytes(e, "path") for fd, e in got.get(pid, {}).items()}
        if mine != p1.fds:
            diffs.append("pid %d (%r): binding %s /proc %s" % (
                pid, p1.comm, sorted(mine.items())[:8], sorted(p1.fds.items())[:8]))
        if got.get(pid, {}) != by_cli.get(pid, {}):
            diffs.append("pid %d: binding and nfm lsof -j differ" % pid)
        for fd, e in got.get(pid, {}).items():
            fields = dict(l.split(b":\t", 1) for l in p1.fdinfo.get(fd, b"").splitlines()
                          if b":\t" in l)
            if not fields:
                continue
            # fdinfo has ino: since 5.14; before, a socket's, pipe's or anonymous inode's
            # number is in the fd's link ("socket:[1234]"), a file's is not shown
            link = re.fullmatch(rb"[a-z_]+:\[(\d+)\]", p1.fds.get(fd, b""))
            ino = fields.get(b"ino") or (link.group(1) if link else None)
            if int(fields[b"flags"], 8) != e["flags"] or (ino is not None and int(ino) != e["inode"]):
                diffs.append("pid %d fd %d: binding flags %o ino %d, /proc %r" % (
                    pid, fd, e["flags"], e["inode"], fields))
            if p1.fdinfo.get(fd) == p2.fdinfo.get(fd) and int(fields[b"pos"]) != e["pos_bytes"]:
                diffs.append("pid %d fd %d pos: binding %d /proc %r" % (pid, fd, e["pos_bytes"],
                                                                       fields[b"pos"]))
        checked += 1
    assert not diffs, report(diffs)
    assert checked > 20
    net = t1.role_process("net").pid
    assert any(e.get("proto") == "TCP" for e in got[net].values())
    assert list(guest.files(pid=net)) == [e for e in out if e["pid"] == net]
    with pytest.raises(nfm.Error) as e:
        list(guest.files(pid=4000000))
    assert e.value.errno == errno.ESRCH


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


def test_routes_and_neighbours_match_nfm_and_proc_net(lab_vm, guest, dumped):
    """Guest.routes() is `nfm route -j`'s list (live and on a dump) and, line for line, the
    guest's /proc/net/route; Guest.neighbours() is `nfm arp -6 -j`'s and /proc/net/arp."""
    elf, t, g = dumped
    routes, neighs = list(g.routes()), list(g.neighbours())
    validate("route.json", jsonl(routes), "Guest.routes()")
    validate("neighbour.json", jsonl(neighs), "Guest.neighbours()")
    assert routes == route_json(elf)
    assert neighs == arp_json(elf, "-6")
    check_route_arp(t, routes, neighs)
    assert any(r["dst"] == "10.78.0.0" and r["gateway"] == "10.77.0.1" for r in routes)
    assert any(n["dst"] == "10.77.0.1" and n["lladdr"] == "52:54:00:77:00:01" and
               "PERMANENT" in n["state"] for n in neighs)
    assert list(guest.routes()) == route_json(lab_vm.pid)


def test_log_records_match_nfm_dmesg_and_kmsg(dumped):
    """Guest.log_records() is `nfm dmesg -j`'s records and the guest's /dev/kmsg."""
    elf, t, g = dumped
    recs = list(g.log_records())
    validate("log_record.json", jsonl(recs), "Guest.log_records()")
    assert {r["seq"]: r for r in recs} == dmesg_json(elf)
    assert [r["seq"] for r in recs] == sorted(r["seq"] for r in recs)
    by_seq = {r["seq"]: r for r in recs}
    assert t.kmsg
    for k in t.kmsg:
        r = by_seq[k.seq]
        assert (r["time_ns"] // 1000, r["facility_code"] << 3 | r["level_code"],
                kmsg_escape(guest_bytes(r, "text"))) == (k.ts_usec, k.prio, k.text.decode())


def test_symbols_match_nfm_sym_and_kallsyms(dumped):
    """Guest.symbols() is `nfm sym --all -j`'s list and the guest's /proc/kallsyms, line for
    line (the core kernel's symbols, then the modules'); Guest.symbol() is `nfm sym -j`."""
    elf, t, g = dumped
    syms = list(g.symbols())
    assert syms == run_json("--vm", elf, "sym", "--all", kind="sym", timeout=300)["symbols"]
    validate("symbol.json", jsonl(syms[:2000] + [s for s in syms if s["module"]]),
             "Guest.symbols()")
    mods = {m["name"] for m in g.modules()}
    checked = 0
    for lineno, k in t.kallsyms_lines.items():
        if k.module is not None and k.module.decode() not in mods:
            continue  # [bpf], [__builtin__ftrace]: not modules
        want = {"name": k.name.decode(), "type": k.type, "address": "0x%x" % k.addr,
                "module": k.module.decode() if k.module is not None else None}
        assert syms[lineno] == want, lineno
        checked += k.module is not None
    assert checked >= 10
    mod = next(s for s in syms if s["module"] and not s["name"].startswith((".L", "L0", "$")))
    queries = NAMED + ["%s:%s" % (mod["module"], mod["name"])]
    addrs = [int(t.kallsyms["init_task"].addr) + 8, int(mod["address"], 16)]
    cli = run_json("--vm", elf, "sym", *queries, *map(hex, addrs), kind="sym")["symbols"]
    assert [g.symbol(q) for q in queries + addrs] == cli
    assert cli[-2]["name"] == "init_task" and cli[-2]["offset_bytes"] == 8
    with pytest.raises(nfm.Error) as e:
        g.symbol("no_such_symbol_anywhere")
    assert e.value.errno == errno.ENOENT


def test_cpus_match_nfm_cpuinfo_and_proc(lab_vm, guest):
    """Guest.cpus() is `nfm cpuinfo -j`'s list and the guest's own /proc/cpuinfo."""
    cpus = list(guest.cpus())
    validate("cpuinfo.json", jsonl(cpus), "Guest.cpus()")
    assert cpus == run_json("--vm", lab_vm.pid, "cpuinfo", kind="cpuinfo")["cpus"]
    want = _cpuinfo(lab_vm.truth)
    assert len(cpus) == len(want) == lab_vm.truth.files["/proc/cpuinfo"].count(b"processor\t:")
    for c, w in zip(cpus, want):
        assert (str(c["processor"]), c["vendor_id"], c["model_name"], hex(c["microcode"])) == \
            (w["processor"], w["vendor_id"], w["model name"], w["microcode"])
        assert (c["cpu_family"], c["model"], c["stepping"], c["apicid"], c["cpuid_level"]) == \
            (int(w["cpu family"]), int(w["model"]), int(w["stepping"]), int(w["apicid"]),
             int(w["cpuid level"]))
        assert (c["flags"], c["bugs"]) == (w["flags"].split(), w["bugs"].split())
        assert "%d bits physical, %d bits virtual" % (c["phys_bits"], c["virt_bits"]) == \
            w["address sizes"]


def test_stacks_match_nfm_bt(dumped):
    """Guest.stacks() is `nfm bt --all -j`'s tasks on a dump (which test_bt.py holds to the
    guest's /proc/PID/stack), and ends in nfm.Error exactly when that document has errors;
    Guest.stacks(pid) is `nfm bt -j PID`'s."""
    elf, t, g = dumped
    stacks, err = drain(g.stacks())
    doc = run_json("--vm", elf, "bt", "--all", kind="bt", ok=(0, 3), timeout=300)
    assert stacks == doc["tasks"]
    assert (err is None) == doc["complete"], (err, doc.get("errors"))
    validate("process.json", jsonl(stacks), "Guest.stacks()")
    assert sum(1 for s in stacks if s["stack"]["frames"]) > 60
    init = next(s for s in stacks if s["pid"] == 1)
    assert drain(g.stacks(1))[0] == [init] == run_json("--vm", elf, "bt", 1, ok=(0, 3))["tasks"]
    assert init["wchan"] and init["stack"]["frames"][0]["text"]
    with pytest.raises(nfm.Error) as e:
        list(g.stacks(4000000))
    assert e.value.errno == errno.ESRCH


def test_tcp_info_matches_nfm_ss_i(dumped):
    """Guest.tcp_info() is what `nfm ss -ti -j` puts under "tcp_info" (test_ss_info.py holds that
    to the guest's own sock_diag), socket for socket on a dump (a stopped guest: even the
    "milliseconds since" fields agree), and EINVAL for a socket that keeps none."""
    elf, t, g = dumped
    cli = run_json("--vm", elf, "ss", "-t", "-a", "-i", kind="ss")["sockets"]
    got = {s["sk"]: g.tcp_info(s) for s in g.sockets() if s.get("protocol") == "tcp"}
    validate("tcp_info.json", jsonl(list(got.values())), "Guest.tcp_info()")
    assert got == {s["sk"]: s["tcp_info"] for s in cli}
    assert sum("rtt_us" in v for v in got.values()) >= 4 and len(got) >= 8
    with pytest.raises(nfm.Error) as e:
        g.tcp_info(0)
    assert e.value.errno == errno.EINVAL


def test_readme_example_runs(lab_vm):
    """README's Python example, as printed there, run as a program: one line per QEMU VM on the
    host; the lab VM's names its release and a process of the guest with a resident size."""
    import subprocess
    text = (ROOT / "README.md").read_text()
    block = text[text.index("## From Python and C"):]
    code = block[block.index("```python\n") + 10:]
    code = code[:code.index("```")]
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, PYTHONPATH=PYPATH))
    assert p.returncode == 0, p.stderr
    mine = [l.split() for l in p.stdout.splitlines() if l.split()[:1] == [lab_vm.name]]
    assert len(mine) == 1 and len(mine[0]) == 4, p.stdout
    _, release, comm, rss = mine[0]
    assert release == lab_vm.truth.uname["release"].decode(), mine
    assert int(rss) > 0 and any(t.comm.decode("utf-8", "replace") == comm
                                for t in lab_vm.truth.processes.values()), mine


def test_diagnose_equals_the_cli(lab_vm, guest):
    """Guest.diagnose() is `nfm diagnose -j` below its envelope: the same findings (finding.json),
    checks and the figures that do not move between two reads. (Guest.hooks(): test_check.)
    Refreshed first, as the CLI's context is new: without it, the copies earlier tests left
    in the module's context (watchdog stamps minutes old) meet fresh run-queue clocks, and every
    CPU looks stuck (seen on trixie: two "soft lockups" on idle CPUs)."""
    guest.refresh()
    d = guest.diagnose()
    cli = run_json("--vm", lab_vm.pid, "diagnose", kind="diagnose", ok=(0, 4))
    if d["findings"]:
        validate("finding.json", "\n".join(json.dumps(f) for f in d["findings"]),
                 "Guest.diagnose() findings")
    assert d["complete"] is cli["complete"] is True
    assert [(f["kind"], f["severity"], f.get("pid"), f.get("subject")) for f in d["findings"]] == \
        [(f["kind"], f["severity"], f.get("pid"), f.get("subject")) for f in cli["findings"]]
    assert d["checks"] == cli["checks"] and len(d["checks"]) == 8  # with peers (a live VM)
    assert d["healthy"] == cli["healthy"] and d["nr_findings"] == cli["nr_findings"]
    assert set(d["figures"]) == set(cli["figures"])
    for k in ("panicked", "panic_cpu", "halted", "taint", "taint_code", "oops_count",
              "hung_task_timeout_ns", "oom_kills", "mem_total_bytes", "nr_log_soft_lockups",
              "nr_log_hard_lockups", "nr_log_rcu_stalls"):
        assert d["figures"][k] == cli["figures"][k], k
    assert 0 < d["uptime_ns"] <= cli["uptime_ns"]
