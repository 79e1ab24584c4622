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

from nfmcli import run

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
        assert re.fullmatch(r"%sino:%d sk:[0-9a-f]{16}" % (uid, w["inode"]), g["rest"]), (w, g)
