"""The topology of a fleet computed from the guests' own view (test_topo's truth side).

Each guest's /proc/net/{tcp,tcp6,udp,udp6} rows, its processes' fd tables (socket:[inode] ->
owner pids), its addresses (/proc/net/fib_trie's "host LOCAL" entries and /proc/net/if_inet6)
joined by the rules of doc/topo.md, written again here from the document (not from topo.c):
an edge joins a connection's client end to its server end; the server end is the one whose
local port has a listener on its VM, else the lower port, else the lower (VM name, address);
a connection whose both ends are in the fleet is counted once, from its client end.
"""
import ipaddress
import re

TCP_LISTEN, TCP_CLOSE = 10, 7
STATES = ["UNKNOWN", "ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT",
          "UNCONN", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING", "NEW-SYN-RECV"]
MAPPED = b"\0" * 10 + b"\xff\xff"


def _addr(hexaddr):
    """/proc/net/tcp*'s address (32-bit words in host order) -> 16 bytes, IPv4 mapped."""
    raw = bytes.fromhex(hexaddr)
    b = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return MAPPED + b if len(b) == 4 else b


def _text(a):
    return str(ipaddress.ip_address(a[12:] if a[:12] == MAPPED else a))


def _loopback(a):
    return a == b"\0" * 15 + b"\1" or (a[:12] == MAPPED and a[12] == 127)


def _zero(a):
    return a == b"\0" * 16 or a == MAPPED + b"\0" * 4


def socket_rows(t):
    """(proto, laddr, lport, raddr, rport, state, inode) of every inet socket row."""
    rows = set()
    for path, proto in (("/proc/net/tcp", "tcp"), ("/proc/net/tcp6", "tcp"),
                        ("/proc/net/udp", "udp"), ("/proc/net/udp6", "udp")):
        for line in t.files[path].decode().splitlines()[1:]:
            f = line.split()
            la, lp = f[1].split(":")
            ra, rp = f[2].split(":")
            rows.add((proto, _addr(la), int(lp, 16), _addr(ra), int(rp, 16), int(f[3], 16),
                      int(f[9])))
    return rows


def owners(t):
    """inode -> (lowest owner pid, its comm bytes)."""
    own = {}
    for p in t.processes.values():
        for link in p.fds.values():
            m = re.fullmatch(rb"socket:\[(\d+)\]", link)
            if m:
                i = int(m.group(1))
                if i not in own or p.pid < own[i][0]:
                    own[i] = (p.pid, p.comm)
    return own


def addresses(t, fib_trie):
    """The addresses a guest holds (16 bytes each, loopback and wildcard left out)."""
    out, last = set(), None
    for line in fib_trie.decode().splitlines():
        m = re.search(r"\|-- (\S+)", line)
        if m:
            last = m.group(1)
        elif "/32 host LOCAL" in line and last:
            out.add(MAPPED + ipaddress.IPv4Address(last).packed)
    for line in t.files["/proc/net/if_inet6"].decode().splitlines():
        out.add(bytes.fromhex(line.split()[0]))
    return {a for a in out if not _loopback(a) and not _zero(a)}


class Sock:
    __slots__ = ("vm", "proto", "la", "lp", "ra", "rp", "state", "pid", "comm")

    def __init__(self, vm, row, own):
        self.vm = vm
        self.proto, self.la, self.lp, self.ra, self.rp, self.state, inode = row
        self.pid, self.comm = own.get(inode, (0, b"")) if inode else (0, b"")

    def key(self):
        return (self.vm, self.proto, self.la, self.lp, self.ra, self.rp, self.state, self.pid,
                self.comm)


def views(truths):
    """{vm: set of Sock keys} from {vm: (Truth, fib_trie bytes)}; and {vm: addresses}."""
    socks, addrs = {}, {}
    for vm, (t, fib) in truths.items():
        own = owners(t)
        socks[vm] = {Sock(vm, r, own).key() for r in socket_rows(t)}
        addrs[vm] = addresses(t, fib)
    return socks, addrs


def _conn_key(k):
    """A connection's key, the same from either end: protocol and its two (address, port)."""
    return (k[1], frozenset(((k[2], k[3]), (k[4], k[5]))))


def stable(both, either):
    """both (sockets both truths hold) without the connections one end of which changed
    between the truths (is in either but not in both)."""
    moved = {_conn_key(k) for v in either for k in either[v] - both[v]}
    return {v: {k for k in both[v] if _conn_key(k) not in moved} for v in both}


def _is_listener(s):
    return s.state == TCP_LISTEN if s.proto == "tcp" else bool(s.lp and not s.rp)


def _is_conn(s):
    if not s.rp or not s.lp or s.state == TCP_LISTEN or (s.proto == "tcp" and s.state == TCP_CLOSE):
        return False
    return not _loopback(s.la) and not _loopback(s.ra) and not _zero(s.ra)


def _sock(k):
    s = Sock.__new__(Sock)
    (s.vm, s.proto, s.la, s.lp, s.ra, s.rp, s.state, s.pid, s.comm) = k
    return s


def tcp_bytes(truths):
    """{(vm, proto, laddr, lport, raddr, rport): (bytes_acked, bytes_received)} of every TCP
    socket the guest's sock_diag dump (the kernel's tcp_info) shows, by its /proc/net inode."""
    out = {}
    for vm, (t, _) in truths.items():
        info = {}
        for line in t.files["sock_diag:tcp_info"].decode().splitlines():
            kv = dict(w.split("=", 1) for w in line.split())
            if "bytes_acked" in kv:
                info[int(kv["ino"])] = (int(kv["bytes_acked"]), int(kv["bytes_received"]))
        for proto, la, lp, ra, rp, _, inode in socket_rows(t):
            if proto == "tcp" and inode in info:
                out[(vm, proto, la, lp, ra, rp)] = info[inode]
    return out


def graph(socks, addrs, by, nbytes=None):
    """(nodes {id: dict}, edges {(src, dst, proto, port): {"count", "states"}}) as nfm topo -j
    prints them, from {vm: Sock keys} and {vm: addresses}. With nbytes (tcp_bytes()), each edge
    also has "bytes": [to_dst, to_src] as nfm counts them: the client's acked and received bytes
    when the client is a guest of the set, else the server's the other way round; None when a
    connection's counted end has none."""
    all_s = [_sock(k) for v in sorted(socks) for k in socks[v]]
    holder = {}
    for vm in sorted(addrs):
        for a in addrs[vm]:
            holder.setdefault(a, vm)
    listeners = {}
    for s in all_s:
        if _is_listener(s):
            k = (s.vm, s.proto, s.lp)
            if k not in listeners or (s.pid and (not listeners[k].pid or s.pid < listeners[k].pid)):
                listeners[k] = s
    ends = {}
    for s in all_s:
        if _is_conn(s):
            ends[(s.proto, s.la, s.lp, s.ra, s.rp)] = s
    nodes, edges = {}, {}

    def node(vm, s, server, lst, proto, port, ext=None):
        if vm is None:
            n = {"id": "external:" + _text(ext), "kind": "external", "address": _text(ext)}
        elif by == "vm":
            n = {"id": "vm:" + vm, "kind": "vm", "vm": vm}
        elif by == "service" and server:
            src = lst or s
            pid, comm = (src.pid, src.comm) if src else (0, b"")
            n = {"id": "service:%s:%s:%d" % (vm, proto, port), "kind": "service", "vm": vm,
                 "pid": pid, "comm": comm, "protocol": proto, "port": port,
                 "address": _text(src.la) if src else "::"}
        else:
            pid, comm = (s.pid, s.comm) if s else (0, b"")
            if not pid and server and lst:
                pid, comm = lst.pid, lst.comm
            n = {"id": "process:%s:%d" % (vm, pid), "kind": "process", "vm": vm, "pid": pid,
                 "comm": comm}
        if n.get("pid") == 0:
            n.pop("comm")
        nodes[n["id"]] = n
        return n["id"]

    for s in all_s:
        if not _is_conn(s):
            continue
        d = ends.get((s.proto, s.ra, s.rp, s.la, s.lp))
        if d is s:
            d = None
        peer = d.vm if d else holder.get(s.ra)
        sl = listeners.get((s.vm, s.proto, s.lp))
        pl = listeners.get((peer, s.proto, s.rp)) if peer else None
        if peer is None or (sl is None) != (pl is None):
            server = sl is not None
        elif s.lp != s.rp:
            server = s.lp < s.rp
        else:
            server = (s.vm, s.la) < (peer, s.ra)
        if server and d:
            continue
        cls, svs = (d, s) if server else (s, d)
        cvm, svm = (peer, s.vm) if server else (s.vm, peer)
        port = s.lp if server else s.rp
        src = node(cvm, cls, False, None, s.proto, port, s.ra)
        dst = node(svm, svs, True, sl if server else pl, s.proto, port, s.ra)
        e = edges.setdefault((src, dst, s.proto, port), {"count": 0, "states": {}})
        e["count"] += 1
        if nbytes is not None:
            end = cls or s
            b = nbytes.get((end.vm, end.proto, end.la, end.lp, end.ra, end.rp))
            if b is not None and "bytes" not in e:
                e["bytes"] = [0, 0]
            if b is None or e.get("bytes") is None:
                e["bytes"] = None
            else:
                sent, recv = b
                e["bytes"][0] += sent if cls else recv
                e["bytes"][1] += recv if cls else sent
        st = STATES[(cls or s).state]
        e["states"][st] = e["states"].get(st, 0) + 1
    return nodes, edges
