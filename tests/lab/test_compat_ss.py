"""iproute2's ss habit forms (doc/compat.md) against the guest's own socket tables, as text.

The guest has no ss of its own (busybox), so the expected output is built here from what the
guest kernel itself prints, at the moment of a dump: /proc/net/{tcp,tcp6,udp,udp6,unix} for the
rows, /proc/PID/fd's socket:[INODE] links for ss -p's users:(("comm",pid=N,fd=M)) (newest pid
and fd first, as iproute2 lists them), and for ss -x's queues the zoo's own SIOCINQ/SIOCOUTQ
(unix_inq_len/unix_outq_len, what unix_diag reports to ss). Which rows each form shows is
iproute2's rule, written down here independently of nfm's code: without -a or -l only
connected states (not LISTEN, UNCONN, TIME-WAIT, SYN-RECV), -u alone only ESTAB, -l LISTEN and
UNCONN; rows come unix first, then udp (IPv4, IPv6), then tcp (IPv4, IPv6), each in the order
of the kernel's tables; Netid only with several tables, State only with several states, the
Process heading always (iproute2 5.x and later).
"""
import ipaddress
import re
import struct

import pytest

from nfmcli import run, run_json

ESTAB, SYN_RECV, TIME_WAIT, CLOSE, LISTEN, NEW_SYN_RECV = 1, 3, 6, 7, 10, 12
ALL = set(range(12))
CONN = ALL - {LISTEN, CLOSE, TIME_WAIT, SYN_RECV}
NAMES = ["UNKNOWN", "ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT",
         "UNCONN", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING"]
UNIX = {"u_str", "u_dgr", "u_seq"}
INET = {"tcp", "udp"}
# form -> (tables, families, states), iproute2's rules
FORMS = {
    (): (INET | UNIX, {4, 6, "unix"}, CONN),
    ("-a",): (INET | UNIX, {4, 6, "unix"}, ALL),
    ("-l",): (INET | UNIX, {4, 6, "unix"}, {LISTEN, CLOSE}),
    ("-tulpn",): (INET, {4, 6}, {LISTEN, CLOSE}),
    ("-t",): ({"tcp"}, {4, 6}, CONN),
    ("-u",): ({"udp"}, {4, 6}, {ESTAB}),
    ("-ua",): ({"udp"}, {4, 6}, ALL),
    ("-x",): (UNIX, {"unix"}, CONN),
    ("-xap",): (UNIX, {"unix"}, ALL),
    ("-ta4",): ({"tcp"}, {4}, ALL),
    ("-6",): (INET, {6}, CONN),
    ("-tx",): ({"tcp"} | UNIX, {4, 6, "unix"}, CONN),
}


def addr(hexaddr):
    """/proc/net/tcp*'s address (host-order 32-bit words) and port, as ss -n prints them."""
    a, p = hexaddr.split(":")
    words = [int(a[i:i + 8], 16) for i in range(0, len(a), 8)]
    ip = ipaddress.ip_address(b"".join(struct.pack("<I", w) for w in words))
    port = int(p, 16)
    return ("[%s]" % ip if ip.version == 6 else str(ip)) + ":" + (str(port) if port else "*")


def users(t):
    """inode -> ss -p's users:(...) text from the guest's fd links."""
    fds = {}
    for p in t.processes.values():
        for fd, link in (p.fds or {}).items():
            m = re.fullmatch(rb"socket:\[(\d+)\]", link)
            if m:
                fds.setdefault(int(m.group(1)), []).append((p.pid, int(fd), p.comm.decode()))
    return {ino: "users:(" + ",".join('("%s",pid=%d,fd=%d)' % (c, pid, fd) for pid, fd, c in
                                     sorted(v, reverse=True)) + ")" for ino, v in fds.items()}


def truth_rows(t, backlog8):
    """Every socket as ss would print it, in ss's order: dicts of netid, family, state (the
    number), recvq, sendq (None: not known from the guest's own files), local, peer, inode,
    uid. backlog8: the inodes of the zoo's listeners (listen(s, 8))."""
    rows = []
    net = t.roles["net"].expect
    queues = {int(i): (int(r), int(s)) for i, r, s in
              (q.split(":") for q in net["unix_queues"].split())}
    for line in t.files["/proc/net/unix"].decode("utf-8", "surrogateescape").splitlines()[1:]:
        f = line.split(None, 7)
        flags, typ, st, ino = int(f[3], 16), int(f[4], 16), int(f[5], 16), int(f[6])
        state = LISTEN if flags & 0x10000 else ESTAB if st in (2, 3) else CLOSE
        rq, sq = queues.get(ino, (None, None))
        rows.append(dict(netid={1: "u_str", 2: "u_dgr", 5: "u_seq"}[typ], family="unix",
                         state=state, recvq=rq, sendq=sq,
                         local="%s %d" % (f[7] if len(f) > 7 else "*", ino), peer=None,
                         inode=ino, uid=None))
    for proto in ("udp", "tcp"):
        for fam, path in ((4, "/proc/net/" + proto), (6, "/proc/net/%s6" % proto)):
            for line in t.files[path].decode().splitlines()[1:]:
                f = line.split()
                tx, rx = (int(x, 16) for x in f[4].split(":"))
                state = int(f[3], 16)
                state = SYN_RECV if state == NEW_SYN_RECV else state
                # inet_diag's Send-Q of a listener is its backlog (the zoo's listen(s, 8))
                sq = (8 if int(f[9]) in backlog8 else None) \
                    if proto == "tcp" and state == LISTEN else tx
                rows.append(dict(netid=proto, family=fam, state=state, recvq=rx, sendq=sq,
                                 local=addr(f[1]), peer=addr(f[2]), inode=int(f[9]),
                                 uid=int(f[7])))
    return rows


def parse(text):
    """nfm ss's table: (header columns, rows as dicts)."""
    lines = text.splitlines()
    head = lines[0]
    cols = {"Netid": head.startswith("Netid"), "State": "State" in head.split()}
    assert head.rstrip().endswith("Peer Address:Port Process"), head
    rows = []
    for line in lines[1:]:
        if line.startswith("\t"):	# iproute2's line under a row (-m, -i)
            rows[-1]["note"] = line[1:]
            continue
        tok = line.split()
        r = {}
        if cols["Netid"]:
            r["netid"] = tok.pop(0)
        if cols["State"]:
            r["state"] = tok.pop(0)
        r["recvq"], r["sendq"] = int(tok.pop(0)), int(tok.pop(0))
        if r.get("netid") in UNIX:	# "PATH INODE" and "* PEER-INODE"
            r["local"] = tok.pop(0) + " " + tok.pop(0)
            r["peer"] = tok.pop(0) + " " + tok.pop(0)
        else:
            r["local"], r["peer"] = tok.pop(0), tok.pop(0)
        r["rest"] = " ".join(tok)
        rows.append(r)
    return cols, rows


@pytest.fixture(scope="module")
def frozen(lab_vm, tmp_path_factory):
    elf, t = lab_vm.dump(tmp_path_factory.mktemp("ss") / "guest.elf")
    zoo = {int(m.group(1)) for link in t.role_process("net").fds.values()
           for m in [re.fullmatch(rb"socket:\[(\d+)\]", link)] if m}
    return elf, t, truth_rows(t, zoo)


def ss(elf, *args):
    p = run("--vm", elf, "ss", *args)
    assert p.returncode == 0, p.stderr
    assert p.stderr == "", p.stderr
    return p.stdout


@pytest.mark.parametrize("form", list(FORMS), ids=lambda f: "ss " + " ".join(f) if f else "ss")
def test_ss_forms(frozen, form):
    elf, t, rows = frozen
    dbs, fams, states = FORMS[form]
    want = [r for r in rows if r["netid"] in dbs and r["family"] in fams and
            r["state"] in states]
    cols, got = parse(ss(elf, *form))
    assert cols["Netid"] == (len({"tcp", "udp", "u_str", "u_dgr", "u_seq"} & dbs) > 1)
    assert cols["State"] == (len(states) > 1)
    users_on = any("p" in a for a in form)
    assert want, "the zoo gives every form rows: an empty one would compare nothing"
    assert len(got) == len(want), ([r["local"] for r in want], [r["local"] for r in got])
    own = users(t)
    for w, g in zip(want, got):
        if cols["Netid"]:
            assert g["netid"] == w["netid"], (w, g)
        if cols["State"]:
            assert g["state"] == NAMES[w["state"]], (w, g)
        assert g["local"] == w["local"], (w, g)
        if w["peer"] is not None:
            assert g["peer"] == w["peer"], (w, g)
        for q in ("recvq", "sendq"):
            if w[q] is not None:
                assert g[q] == w[q], (q, w, g)
        assert g["rest"] == (own.get(w["inode"], "") if users_on else ""), (w, g)


def test_ss_unix_peers_and_queues(frozen):
    """ss -x's peer "port" is the peer's inode: the zoo's stream pair and seqpacket pair point
    at each other; the queues the zoo left are the guest kernel's own SIOCINQ/SIOCOUTQ."""
    elf, t, _ = frozen
    _, rows = parse(ss(elf, "-xa"))
    peer = {int(r["local"].split()[-1]): int(r["peer"].split()[-1]) for r in rows}
    q = [tuple(map(int, x.split(":"))) for x in t.roles["net"].expect["unix_queues"].split()]
    srv, cli = q[0][0], q[1][0]
    assert peer[srv] == cli and peer[cli] == srv
    seq = [int(r["local"].split()[-1]) for r in rows if r["netid"] == "u_seq"]
    assert len(seq) >= 2 and all(peer[peer[i]] == i for i in seq)
    byino = {int(r["local"].split()[-1]): r for r in rows}
    for ino, rq, sq in q:
        assert (byino[ino]["recvq"], byino[ino]["sendq"]) == (rq, sq), (ino, byino[ino])
    # the pending connection: its server end (inode 0, in the listener's queue) and the client
    assert any(r["local"].endswith(" 0") and r["netid"] == "u_str" for r in rows)


def test_ss_extended(frozen):
    """-e: uid (when not 0), ino and sk after the row, as sock_details_print()."""
    elf, _, truth = frozen
    _, rows = parse(ss(elf, "-tae"))
    want = [r for r in truth if r["netid"] == "tcp"]
    assert len(rows) == len(want) > 0
    for w, g in zip(want, rows):
        uid = "uid:%d " % w["uid"] if w["uid"] else ""
        # -e implies -o: a timer first when one runs (test_ss_timers checks it)
        assert re.fullmatch(r"(timer:\([a-z]+,[0-9.a-z]*,\d+\) )?%sino:%d sk:[0-9a-f]{16}" %
                            (uid, w["inode"]), g["rest"]), (w, g)



# ---- -o, -m and the unix part of -e ----

TIMERS = ["off", "on", "keepalive", "timewait", "persist"]


def ms_timer(ms):
    """iproute2 6.1's print_ms_timer() (misc/ss.c), written from its source."""
    secs, msecs = ms // 1000, ms % 1000
    minutes, secs = secs // 60, secs % 60
    out = ""
    if minutes:
        msecs = 0
        out += "%dmin" % minutes
        if minutes > 9:
            secs = 0
    if secs:
        if secs > 9:
            msecs = 0
        out += "%d%s" % (secs, "." if msecs else "sec")
    if msecs:
        out += "%03dms" % msecs
    return out


def proc_timers(t):
    """(local, peer) -> (tr, tm->when in ms, retrnsmt) of every /proc/net/tcp{,6} socket: the
    kernel's get_tcp4_sock/get_timewait4_sock/get_openreq4 print tm->when in clock ticks of
    USER_HZ (100), jiffies_delta_to_clock_t()."""
    out = {}
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in t.files[path].decode().splitlines()[1:]:
            f = line.split()
            tr, when = (int(x, 16) for x in f[5].split(":"))
            out[(addr(f[1]), addr(f[2]))] = (tr, when * 10, int(f[6], 16))
    return out


def diag_ss(t):
    """The guest's sock_diag dump (lab/guest/zoo-sockdiag.c rec_ss_details): a list of dicts
    (proto, ino, state, and for inet timer/expires/retrans, for unix shutdown, vfs, icons;
    skmem as a list of the kernel's SK_MEMINFO_* values)."""
    out = []
    for line in t.files["sock_diag:ss"].decode().splitlines():
        w = line.split()
        d = {"proto": w[0]}
        for kv in w[1:]:
            k, v = kv.split("=", 1)
            if k in ("skmem", "icons"):
                d[k] = [int(x) for x in v.split(",") if x]
            elif k == "vfs":
                d[k] = tuple(int(x) for x in v.split(":"))
            else:
                d[k] = int(v)
        out.append(d)
    return out


def dump_elapsed_ms(elf, t):
    """An upper bound of the time from the guest's truth (its /proc and sock_diag reads, after
    clock_start) to the dump: the dump's uptime less the truth's start."""
    up = run_json("--vm", elf, "info", kind="info")["kernel"]["uptime_ns"]
    return (up - t.clock_start[1]) / 1e6


def test_ss_timers(frozen):
    """-o: every TCP socket's timer:(NAME,EXPIRES,N) against the guest's /proc/net/tcp "tr
    tm->when retrnsmt" and its sock_diag idiag_timer/expires/retrans, both read just before the
    dump: the same timer, the same count, and the time left smaller by no more than the time
    from that read to the dump. The zoo keeps a keepalive pair (the client's after an hour)."""
    elf, t, truth = frozen
    procs = proc_timers(t)
    diag = {d["ino"]: d for d in diag_ss(t) if d["proto"] == "tcp" and d["ino"]}
    slack = dump_elapsed_ms(elf, t) + 20
    socks = run_json("--vm", elf, "ss", "-tao", kind="ss")["sockets"]
    _, rows = parse(ss(elf, "-tao"))
    want = [r for r in truth if r["netid"] == "tcp"]
    assert len(rows) == len(want) == len(socks) > 0
    keepalive = 0
    for w, g, j in zip(want, rows, socks):
        assert (g["local"], g["peer"]) == (w["local"], w["peer"]), (w, g)
        tr, proc_ms, proc_rtx = procs[(w["local"], w["peer"])]
        if tr == 0:
            assert g["rest"] == "" and j["timer"] == "off", (w, g, j)
            continue
        assert j["timer"] == TIMERS[tr], (w, j, tr)
        assert -10 <= proc_ms - j["timer_expires_ms"] <= slack, (w, j, proc_ms, slack)
        if tr == 1:	# /proc's column is icsk_retransmits: ss's count for "on" only
            assert j["timer_retrans"] == proc_rtx, (w, j, proc_rtx)
        d = diag.get(w["inode"])
        if d is not None:
            assert (d["timer"], d["retrans"]) == (tr, j["timer_retrans"]), (d, j)
            assert 0 <= d["expires"] - j["timer_expires_ms"] <= slack, (d, j, slack)
        assert g["rest"] == "timer:(%s,%s,%d)" % (TIMERS[tr], ms_timer(j["timer_expires_ms"]),
                                                  j["timer_retrans"]), (w, g, j)
        keepalive += tr == 2
    assert keepalive >= 2, "the zoo's keepalive pair"


def skmem_text(m):
    return "skmem:(r%d,rb%d,t%d,tb%d,f%d,w%d,o%d,bl%d,d%d)" % tuple(m)


JSON_SKMEM = ["rmem_alloc_bytes", "rcvbuf_bytes", "wmem_alloc_bytes", "sndbuf_bytes",
              "fwd_alloc_bytes", "wmem_queued_bytes", "optmem_bytes", "backlog_bytes", "drops"]


def zoo_inodes(t):
    return {int(m.group(1)) for link in t.role_process("net").fds.values()
            for m in [re.fullmatch(rb"socket:\[(\d+)\]", link)] if m}


def test_ss_memory(frozen):
    """-m: skmem:(...) of the zoo's sockets (idle: they hold still) equal to what the guest
    kernel's sock_diag reported for them (INET_DIAG_SKMEMINFO, UNIX_DIAG_MEMINFO, both
    sk_get_meminfo()); on the line under an inet row, on the row of a unix one."""
    elf, t, _ = frozen
    zoo = zoo_inodes(t)
    want = {(d["proto"], d["ino"]): d["skmem"] for d in diag_ss(t)
            if d["ino"] in zoo and "skmem" in d}
    assert len(want) >= 15, want	# the zoo's tcp, udp and unix sockets
    socks = run_json("--vm", elf, "ss", "-tuxam", kind="ss")["sockets"]
    seen = set()
    for s in socks:
        key = ("unix" if s["family"] == "unix" else s["netid"].rstrip("6"), s["inode"])
        if key in want:
            assert [s["skmem"][k] for k in JSON_SKMEM] == want[key], (s, want[key])
            seen.add(key)
    assert seen == set(want)
    _, rows = parse(ss(elf, "-tuxam"))
    assert len(rows) == len(socks)
    n = 0
    for r, s in zip(rows, socks):	# the same order: skmem as the JSON says, where ss puts it
        assert r["local"].split()[-1] == str(s["inode"]) or s["family"] != "unix", (r, s)
        # on a unix row after the address; under an inet row, after the tab, with its space
        text = r["rest"] if s["family"] == "unix" else r.get("note")
        sep = "" if s["family"] == "unix" else " "
        assert text == (sep + skmem_text([s["skmem"][k] for k in JSON_SKMEM]) if "skmem" in s
                        else ""), (r, s)
        n += "skmem" in s
    assert n >= len(want)


def glibc_dev(dev):
    """glibc's major()/minor() of the kernel's u32 dev_t, as ss prints UNIX_DIAG_VFS."""
    return (dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & 0xfff00)


def test_ss_unix_extended(frozen):
    """-xe: after each unix row the shutdown arrows, a bound path's ino:N dev:M/m and a
    listener's peers:, exactly as ss prints the guest's unix_diag (SHUTDOWN, VFS, ICONS)."""
    elf, t, _ = frozen
    diag = {}
    for d in diag_ss(t):
        if d["proto"] == "unix":
            diag.setdefault(d["ino"], []).append(d)
    _, rows = parse(ss(elf, "-xae"))
    checked = icons = vfs = 0
    for r in rows:
        ds = diag.get(int(r["local"].split()[-1]), [])
        if len(ds) != 1:
            continue	# an embryo (inode 0) or a socket that came or went
        d = ds[0]
        sh = d.get("shutdown", 0)
        want = "%s-%s" % ("-" if sh & 1 else "<", "-" if sh & 2 else ">")
        if "vfs" in d:
            want += " ino:%d dev:%d/%d" % ((d["vfs"][0],) + glibc_dev(d["vfs"][1]))
            vfs += 1
        if "icons" in d:
            want += " peers:" + "".join(" %d" % i for i in d["icons"])
            icons += bool(d["icons"])
        assert r["rest"] == want, (r, d)
        checked += 1
    assert checked >= 8 and vfs >= 3 and icons >= 1, (checked, vfs, icons)
    socks = run_json("--vm", elf, "ss", "-xae", kind="ss")["sockets"]
    for s in socks:
        ds = diag.get(s["inode"], [])
        if len(ds) == 1 and "vfs" in ds[0]:
            ino, dev = ds[0]["vfs"]
            assert (s["vfs_inode"], s["vfs_dev_major"], s["vfs_dev_minor"]) == \
                (ino, dev >> 20, dev & 0xfffff), (s, ds)
