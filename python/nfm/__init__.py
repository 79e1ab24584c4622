"""nfm: read a Linux guest's kernel state from outside the VM, from its memory.

A binding of libnfm (cffi, ABI mode) whose objects are the JSON objects of `nfm ... -j`, with the
same member names (doc/schema/): a process is a dict as process.json describes it, a module as
module.json, and so on.

    import nfm
    for vm in nfm.vms():                        # QEMU processes on this host (vm.json)
        with nfm.attach("pid:%d" % vm["pid"]) as g:
            print(vm["name"], g.kernel()["release"])
            for p in g.processes():             # process.json, as `nfm ps -j`
                print(p["pid"], p["comm"], p["rss_bytes"])

Guest.processes(), sockets(), interfaces(), routes(), neighbours(), maps(pid), files(pid),
log_records(), symbols(), cpus() and stacks(pid) are iterators; kernel(), memory(), loadavg(),
modules(), mounts() and symbol(name or address) return their objects.

Errors are nfm.Error (an OSError: errno and the library's own words). An iterator whose walk the
guest's data cut short (a partial view, `errors` in the `nfm -j` document) raises nfm.Error with
EBADMSG (or ELOOP, or the errno its method names) after the objects it could read.
"""
import errno as _errno
import math as _math
import os as _os
import socket as _socket
import sys as _sys

import cffi as _cffi

from . import _cdef

__all__ = ["Error", "Guest", "attach", "vms", "version", "library_path"]

_ffi = _cffi.FFI()
_ffi.cdef(_cdef.CDEF)
_ffi.cdef("void free(void *);")
_libc = _ffi.dlopen(None)


def _load():
    tried = []
    for path in [_os.environ.get("NFM_LIBNFM")] + list(_cdef.LIBS) + ["libnfm.so.0"]:
        if not path or (path.startswith("/") and not _os.path.exists(path)):
            continue
        try:
            return _ffi.dlopen(path), path
        except OSError as e:
            tried.append("%s: %s" % (path, e))
    raise ImportError("cannot load libnfm (set NFM_LIBNFM to its path): " + "; ".join(tried))


_lib, library_path = _load()


class Error(OSError):
    """A libnfm call failed: errno (ENOENT "no Linux kernel found in guest memory", EFAULT,
    EIO, EBADMSG, ...) and the library's last error message when it logged one."""


def _check(ret, what, log=None):
    if ret < 0:
        msg = log.last if log is not None and log.last else _os.strerror(-ret)
        raise Error(-ret, "%s: %s" % (what, msg))
    return ret


class _Log:
    """The library's log callback: keeps the last error line for the exception's message."""

    def __init__(self):
        self.last = None

        @_ffi.callback("void(void *, enum nfm_log_level, const char *)")
        def fn(userdata, level, msg):
            if level <= _lib.NFM_LOG_ERR:
                self.last = _ffi.string(msg).decode("utf-8", "backslashreplace")

        self._fn = fn  # keep the callback alive as long as the log
        self.c = _ffi.new("struct nfm_log *", {"fn": fn, "max_level": _lib.NFM_LOG_ERR})


# ---- the JSON schema's conventions (doc/schema/README.md) ----

def _addr(v):
    return "0x%x" % v


# Code points guest_escape() (cmd/common/guest_text.c) writes as \xNN bytes although they are
# valid UTF-8: C1 controls, bidirectional and invisible characters.
_HIDDEN = ((0x80, 0x9f), (0xad, 0xad), (0x34f, 0x34f), (0x61c, 0x61c), (0x115f, 0x1160),
           (0x17b4, 0x17b5), (0x180b, 0x180f), (0x200b, 0x200f), (0x2028, 0x202e),
           (0x2060, 0x206f), (0x3164, 0x3164), (0xfeff, 0xfeff), (0xffa0, 0xffa0),
           (0xfff9, 0xfffb), (0xfffe, 0xffff), (0x1d173, 0x1d17a), (0xe0000, 0xe0fff))


def _escape(b):
    """guest_escape(): printable ASCII and shown UTF-8 as they are, a backslash doubled, every
    other byte as \\xNN."""
    out, i = [], 0
    while i < len(b):
        c = b[i]
        if c == 0x5c:
            out.append("\\\\")
            i += 1
            continue
        if 0x20 <= c < 0x7f:
            out.append(chr(c))
            i += 1
            continue
        if 0xc2 <= c <= 0xf4:
            n = 4 if c >= 0xf0 else 3 if c >= 0xe0 else 2
            try:  # Python's strict decoder refuses what utf8_decode() refuses
                ch = b[i:i + n].decode("utf-8") if i + n <= len(b) else ""
            except UnicodeDecodeError:
                ch = ""
            if ch and not any(lo <= ord(ch) <= hi for lo, hi in _HIDDEN):
                out.append(ch)
                i += n
                continue
        out.append("\\x%02x" % c)
        i += 1
    return "".join(out)


def _text(b):
    """Guest bytes as the JSON writer gives them (guest_json_bytes()): the string when it is
    valid UTF-8, else guest_escape()'s form (and the caller adds KEY_hex)."""
    try:
        return b.decode("utf-8"), True
    except UnicodeDecodeError:
        return _escape(b), False


def _add_text(o, key, b):
    s, exact = _text(b)
    o[key] = s
    if not exact:
        o[key + "_hex"] = b.hex()


def _cstr(a):
    return _ffi.string(a)


_POLICIES = ["SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE",
             "SCHED_DEADLINE", "SCHED_EXT"]


def _process(t, summed, page_size=4096):
    """doc/schema/process.json, member for member as cmd/common's obj_process()."""
    o = {"task": _addr(t.addr), "mm": _addr(t.mm), "pid": t.pid, "tgid": t.tgid, "ppid": t.ppid,
         "uid": t.uid, "euid": t.euid, "suid": t.suid, "fsuid": t.fsuid,
         "gid": t.gid, "egid": t.egid, "sgid": t.sgid, "fsgid": t.fsgid,
         "state": t.state.decode("latin-1")}
    _add_text(o, "comm", _cstr(t.name))
    _add_text(o, "task_comm", _cstr(t.comm))
    o.update({
        "kthread": bool(t.kthread), "flags": t.flags, "nice": t.nice, "priority": t.priority,
        "policy": _POLICIES[t.policy] if t.policy < len(_POLICIES) else "unknown",
        "policy_code": t.policy, "rt_priority": t.rt_priority, "num_threads": t.nr_threads,
        "start_time_ns": t.start_ns, "start_time_ticks": t.start_ticks,
        "utime_ns": t.utime_ns, "stime_ns": t.stime_ns,
        "utime_ticks": t.utime_ticks, "stime_ticks": t.stime_ticks,
        "vsize_bytes": t.vsize, "rss_pages": t.rss_pages, "rss_bytes": (t.rss_exact_pages if summed else t.rss_pages) * page_size,
        "rss_exact_bytes": t.rss_exact_pages * page_size,
        "rss_anon_bytes": t.rss_anon * page_size, "rss_file_bytes": t.rss_file * page_size,
        "rss_shmem_bytes": t.rss_shmem * page_size})
    return o


# ---- network and file objects: the names iproute2, ss and lsof print (cmd/common/obj_net.c) ----

def _code_name(table, code, prefix=""):
    return table.get(code, "%s%d" % (prefix, code))


def _bit_names(table, v):
    return [name for bit, name in table if v & bit]


_FAMILIES = {_socket.AF_UNIX: "unix", _socket.AF_INET: "inet", _socket.AF_INET6: "inet6",
             16: "netlink", 17: "packet", 40: "vsock", 44: "xdp", 38: "alg", 15: "key"}
_SOCK_TYPES = {1: "stream", 2: "dgram", 3: "raw", 4: "rdm", 5: "seqpacket", 6: "dccp",
               10: "packet"}
_PROTOCOLS = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6", 132: "sctp", 136: "udplite",
              255: "raw", 262: "mptcp"}
_TCP_STATES = ["UNKNOWN", "ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
               "TIME-WAIT", "UNCONN", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING",
               "NEW-SYN-RECV"]
_SO_ACCEPTCON = 1 << 16
_SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
_LINK_TYPES = {1: "ether", 32: "infiniband", 280: "can", 512: "ppp", 768: "ipip",
               769: "tunnel6", 772: "loopback", 776: "sit", 778: "gre", 823: "gre6",
               65534: "none"}
_IFF = [(0x8, "LOOPBACK"), (0x2, "BROADCAST"), (0x10, "POINTOPOINT"), (0x1000, "MULTICAST"),
        (0x80, "NOARP"), (0x200, "ALLMULTI"), (0x100, "PROMISC"), (0x400, "MASTER"),
        (0x800, "SLAVE"), (0x4, "DEBUG"), (0x8000, "DYNAMIC"), (0x4000, "AUTOMEDIA"),
        (0x2000, "PORTSEL"), (0x20, "NOTRAILERS"), (0x1, "UP"), (0x10000, "LOWER_UP"),
        (0x20000, "DORMANT"), (0x40000, "ECHO")]
_IFA_F = [(0x01, "secondary"), (0x02, "nodad"), (0x04, "optimistic"), (0x08, "dadfailed"),
          (0x10, "home"), (0x20, "deprecated"), (0x40, "tentative"), (0x80, "permanent"),
          (0x100, "mngtmpaddr"), (0x200, "noprefixroute"), (0x400, "autojoin"),
          (0x800, "stable-privacy")]
_OPERSTATES = ["UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"]
_STATS = ("rx_bytes", "rx_packets", "rx_errors", "rx_dropped", "rx_fifo", "rx_frame",
          "rx_compressed", "multicast", "tx_bytes", "tx_packets", "tx_errors", "tx_dropped",
          "tx_fifo", "collisions", "tx_carrier", "tx_compressed")


def _strn(arr):
    """A fixed char array up to its first NUL (never past its end), as j_strn()."""
    return _text(bytes(_ffi.buffer(arr)).split(b"\0", 1)[0])[0]


def _bytes(arr, n):
    """The first n bytes of a char array, n bounded by its size (a guest-given length)."""
    size = _ffi.sizeof(arr)
    return bytes(_ffi.buffer(arr))[:max(0, min(n, size))]


def _ip(family, arr):
    n = 4 if family == _socket.AF_INET else 16
    try:
        return _socket.inet_ntop(family, bytes(_ffi.buffer(arr))[:n])
    except (ValueError, OSError):
        return ""


def _hwaddr(arr, n):
    return ":".join("%02x" % b for b in _bytes(arr, n))


def _netid(s):
    if s.family == _socket.AF_UNIX:
        return {1: "u_str", 2: "u_dgr", 5: "u_seq"}.get(s.type, "u_???")
    if s.protocol == 6:
        return "tcp6" if s.family == _socket.AF_INET6 else "tcp"
    return "udp6" if s.family == _socket.AF_INET6 else "udp"


def _sock_state(s):
    if s.family == _socket.AF_UNIX:  # SS_CONNECTING 2, SS_CONNECTED 3: sk_state ESTABLISHED
        if s.unix_flags & _SO_ACCEPTCON:
            return "LISTEN"
        return "ESTAB" if s.state in (2, 3) else "UNCONN"
    return _TCP_STATES[s.state] if 0 <= s.state < len(_TCP_STATES) else "UNKNOWN"


def _sock(s):
    """doc/schema/socket.json, member for member as obj_socket()."""
    o = {"netid": _netid(s), "netns": s.netns,
         "family": _code_name(_FAMILIES, s.family, "af"), "family_code": s.family,
         "type": _code_name(_SOCK_TYPES, s.type, "type"), "type_code": s.type}
    if s.protocol in _PROTOCOLS:  # no name: 0 for AF_UNIX
        o["protocol"] = _PROTOCOLS[s.protocol]
    o.update({"protocol_code": s.protocol, "state": _sock_state(s), "state_code": s.state})
    if s.family in (_socket.AF_INET, _socket.AF_INET6):
        o.update({"local": _ip(s.family, s.laddr), "local_port": s.lport,
                  "remote": _ip(s.family, s.raddr), "remote_port": s.rport})
    elif s.family == _socket.AF_UNIX:
        if s.path_len > 0:
            n = s.path_len if s.path_len < _ffi.sizeof(s.path) else _ffi.sizeof(s.path)
            b = _bytes(s.path, n)
            if s.path_len >= _ffi.sizeof(s.path):
                b = b.split(b"\0", 1)[0]
            _add_text(o, "path", b)
        o["unix_flags"] = s.unix_flags
    owners = []
    for k in range(max(0, min(s.nr_owners, _lib.NFM_SOCK_MAX_OWNERS))):
        ow = {"pid": s.owner_pid[k]}
        _add_text(ow, "comm", bytes(_ffi.buffer(s.owner_comm[k])).split(b"\0", 1)[0])
        owners.append(ow)
    o.update({"uid": s.uid, "inode": s.inode, "rx_queue": s.rx_queue, "tx_queue": s.tx_queue,
              "owners": owners, "nr_owners": s.nr_owners, "sk": _addr(s.sk)})
    return o


def _module(m):
    """doc/schema/module.json, member for member as obj_module()."""
    users = []
    if m.users and _cstr(m.users) != b"-":
        # "a,b," -> [a, b]: each name a comma ends (what follows the last comma is not one)
        users = [_text(u)[0] for u in _cstr(m.users).split(b",")[:-1]]
    return {"name": _text(_cstr(m.name))[0], "size_bytes": m.size, "refcount": m.refcount,
            "users": users, "state": _text(_cstr(m.state))[0] if m.state else "",
            "taints": _text(_cstr(m.taints))[0], "address": _addr(m.address),
            "module": _addr(m.module)}


def _mount(m):
    """doc/schema/mount.json, as obj_mount()."""
    def s(p):
        return _text(_cstr(p))[0] if p else ""
    return {"device": s(m.device), "path": s(m.path), "fstype": s(m.fstype),
            "options": s(m.options), "options_complete": bool(m.options_complete),
            "mnt_id": m.mnt_id, "mount": _addr(m.mount)}


_TCPI_OPTS = ["ts", "sack", "wscale", "ecn", "ecnseen", "syn_data", "usec_ts", "tfo_child"]
_U64_MAX = (1 << 64) - 1


def _tcp_info(t):
    """doc/schema/tcp_info.json, member for member as obj_tcp_info()."""
    o = {}
    if t.congestion[0] != b"\0":
        _add_text(o, "congestion", _cstr(t.congestion))
    o["pacing_rate_bytes_per_second"] = None if t.pacing_rate == _U64_MAX else t.pacing_rate
    o["max_pacing_rate_bytes_per_second"] = (None if t.max_pacing_rate == _U64_MAX
                                             else t.max_pacing_rate)
    o.update({"reordering": t.reordering, "snd_cwnd": t.snd_cwnd})
    if t.listener:
        o.update({"accept_queue": t.unacked, "accept_queue_max": t.sacked})
        return o
    o.update({"ca_state": t.ca_state, "retransmits": t.retransmits, "probes": t.probes,
              "backoff": t.backoff,
              "options": [n for i, n in enumerate(_TCPI_OPTS) if t.options & (1 << i)],
              "options_code": t.options})
    if t.options & _lib.NFM_TCPI_OPT_WSCALE:
        o.update({"snd_wscale": t.snd_wscale, "rcv_wscale": t.rcv_wscale})
    for k, f in (("rto_us", "rto_us"), ("ato_us", "ato_us"), ("snd_mss_bytes", "snd_mss"),
                 ("rcv_mss_bytes", "rcv_mss"), ("advmss_bytes", "advmss"), ("pmtu_bytes", "pmtu"),
                 ("unacked", "unacked"), ("sacked", "sacked"), ("lost", "lost"),
                 ("retrans", "retrans"), ("total_retrans", "total_retrans"),
                 ("last_data_sent_ms", "last_data_sent_ms"),
                 ("last_data_recv_ms", "last_data_recv_ms"),
                 ("last_ack_recv_ms", "last_ack_recv_ms"), ("rcv_ssthresh_bytes", "rcv_ssthresh"),
                 ("rtt_us", "rtt_us"), ("rttvar_us", "rttvar_us"), ("snd_ssthresh", "snd_ssthresh"),
                 ("rcv_rtt_us", "rcv_rtt_us"), ("rcv_space_bytes", "rcv_space"),
                 ("bytes_acked", "bytes_acked"), ("bytes_received", "bytes_received"),
                 ("bytes_sent", "bytes_sent"), ("bytes_retrans", "bytes_retrans"),
                 ("notsent_bytes", "notsent_bytes"), ("segs_out", "segs_out"),
                 ("segs_in", "segs_in"), ("data_segs_out", "data_segs_out"),
                 ("data_segs_in", "data_segs_in"), ("min_rtt_us", "min_rtt_us"),
                 ("delivery_rate_bytes_per_second", "delivery_rate")):
        o[k] = getattr(t, f)
    o["delivery_rate_app_limited"] = bool(t.delivery_rate_app_limited)
    for k, f in (("delivered", "delivered"), ("delivered_ce", "delivered_ce"),
                 ("dsack_dups", "dsack_dups"), ("reord_seen", "reord_seen"),
                 ("rcv_ooopack", "rcv_ooopack"), ("snd_wnd_bytes", "snd_wnd")):
        o[k] = getattr(t, f)
    return o


def _ifaddr(a):
    """interface.json#/$defs/address, as obj_ifaddr()."""
    inet6 = a.family == _socket.AF_INET6
    o = {"family": "inet6" if inet6 else "inet",
         "local": _ip(_socket.AF_INET6 if inet6 else _socket.AF_INET, a.addr),
         "prefixlen": a.prefixlen}
    if a.family == _socket.AF_INET:
        o["broadcast"] = _ip(_socket.AF_INET, a.broadcast)
        o["label"] = _strn(a.label)
    flags = _bit_names(_IFA_F, a.flags)
    if inet6 and a.flags & 1:  # IFA_F_TEMPORARY shares IFA_F_SECONDARY's bit
        flags[0] = "temporary"
    o.update({"scope": _code_name(_SCOPES, a.scope), "scope_code": a.scope,
              "flags": flags, "flags_code": a.flags})
    return o


def _interface(d):
    """doc/schema/interface.json with addr_info (`nfm ip -j addr`), as obj_interface()."""
    return {"netns": d.netns, "ifindex": d.ifindex, "ifname": _strn(d.name),
            "flags": _bit_names(_IFF, d.flags), "flags_code": d.flags, "mtu_bytes": d.mtu,
            "qdisc": _strn(d.qdisc),
            "operstate": _OPERSTATES[d.operstate] if 0 <= d.operstate < len(_OPERSTATES)
            else "UNKNOWN",
            "operstate_code": d.operstate, "txqlen": d.txqlen,
            "link_type": _LINK_TYPES.get(d.type, "unknown"), "link_type_code": d.type,
            "address": _hwaddr(d.addr, d.addr_len), "broadcast": _hwaddr(d.broadcast, d.addr_len),
            "stats": {k: getattr(d.stats, k) for k in _STATS},
            "stats_exact": bool(d.stats_exact), "dev": _addr(d.dev),
            "addr_info": [_ifaddr(d.addrs[i]) for i in
                          range(max(0, min(d.nr_addrs, _lib.NFM_NETDEV_MAX_ADDRS)))]}


def _vma(v):
    """doc/schema/vma.json, as obj_vma()."""
    o = {"start": _addr(v.start), "end": _addr(v.end), "size_bytes": v.end - v.start,
         "perms": _strn(v.perms), "flags": v.flags, "offset_bytes": v.offset,
         "dev_major": v.dev_major, "dev_minor": v.dev_minor, "inode": v.ino,
         "file": _addr(v.file)}
    _add_text(o, "name", _bytes(v.name, v.name_len))
    return o


def _fd(f):
    """doc/schema/fd.json, as obj_fd()."""
    o = {"fd": f.fd, "type": _strn(f.type)}
    _add_text(o, "path", _bytes(f.path, f.path_len))
    o.update({"flags": f.f_flags, "pos_bytes": f.pos, "mode": f.mode, "inode": f.ino,
              "dev_major": f.dev_major, "dev_minor": f.dev_minor, "file": _addr(f.file)})
    if f.sock_family >= 0:
        o.update({"sock_family": _code_name(_FAMILIES, f.sock_family, "af"),
                  "sock_family_code": f.sock_family,
                  "sock_type": _code_name(_SOCK_TYPES, f.sock_type, "type"),
                  "sock_type_code": f.sock_type, "sock_protocol_code": f.sock_protocol,
                  "proto": _strn(f.proto)})
    return o


_RTN = ["unspec", "unicast", "local", "broadcast", "anycast", "multicast", "blackhole",
        "unreachable", "prohibit", "throw", "nat", "xresolve"]
_RTPROT = {0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static", 8: "gated", 9: "ra",
           10: "mrt", 11: "zebra", 12: "bird", 13: "dnrouted", 14: "xorp", 15: "ntk", 16: "dhcp",
           17: "mrouted", 18: "keepalived", 42: "babel", 99: "openr", 186: "bgp", 187: "isis",
           188: "ospf", 189: "rip", 192: "eigrp"}
_NUD = [(0x01, "INCOMPLETE"), (0x02, "REACHABLE"), (0x04, "STALE"), (0x08, "DELAY"),
        (0x10, "PROBE"), (0x20, "FAILED"), (0x40, "NOARP"), (0x80, "PERMANENT")]


def _be32(v):
    """A uint32_t the kernel keeps in network byte order, as its 4 bytes."""
    return v.to_bytes(4, _sys.byteorder)


def _int32(v):
    return v - (1 << 32) if v >= 1 << 31 else v


def _route(r):
    """doc/schema/route.json, as obj_route() with the line `nfm route -j` adds."""
    fl = ("U" if r.flags & 1 else "") + ("G" if r.flags & 2 else "") + \
        ("!" if r.flags & 0x200 else "") + ("H" if r.flags & 4 else "")
    dst, gw, mask = (_socket.inet_ntop(_socket.AF_INET, _be32(v))
                     for v in (r.dst, r.gateway, r.mask))
    ifname = bytes(_ffi.buffer(r.ifname)).split(b"\0", 1)[0]
    # fib_route_seq_show()'s line, without its padding to 127 columns (cmd_route.c proc_line())
    line = b"%s\t%08X\t%08X\t%04X\t0\t0\t%d\t%08X\t%d\t%d\t%d" % (
        ifname, r.dst, r.gateway, r.flags, r.metric, r.mask, _int32(r.mtu), r.window, r.irtt)
    return {"netns": r.netns, "dev": _text(ifname)[0], "dst": dst, "prefixlen": r.prefixlen,
            "gateway": gw, "mask": mask, "flags": fl, "flags_code": r.flags, "metric": r.metric,
            "mtu_bytes": r.mtu, "window_bytes": r.window, "irtt_ms": r.irtt,
            "scope": _code_name(_SCOPES, r.scope), "scope_code": r.scope,
            "type": _RTN[r.type] if 0 <= r.type < len(_RTN) else str(r.type),
            "type_code": r.type, "protocol": _code_name(_RTPROT, r.protocol),
            "protocol_code": r.protocol, "table": r.table, "exact": bool(r.exact),
            "line": _text(line)[0]}


def _neighbour(n):
    """doc/schema/neighbour.json, as obj_neighbour() with the /proc/net/arp line `nfm arp -j`
    adds to the entries that file shows (IPv4, not only NOARP)."""
    fam = _socket.AF_INET6 if n.family == _socket.AF_INET6 else _socket.AF_INET
    ifname = bytes(_ffi.buffer(n.ifname)).split(b"\0", 1)[0]
    o = {"netns": n.netns, "family": "inet6" if fam == _socket.AF_INET6 else "inet",
         "dst": _ip(fam, n.addr), "dev": _text(ifname)[0],
         "lladdr": _hwaddr(n.lladdr, n.lladdr_len), "state": _bit_names(_NUD, n.state),
         "state_code": n.state, "flags_code": n.flags,
         "link_type": _LINK_TYPES.get(n.type, "unknown"), "link_type_code": n.type}
    if n.family == _socket.AF_INET and n.state & ~0x40:
        # arp_format_neigh_entry(): at most 9 address bytes; ATF_PERM|ATF_COM, ATF_COM
        flags = 0x6 if n.state & 0x80 else 0x2 if n.state & 0xde else 0
        line = "%-16s 0x%-10x0x%-10x%-17s     *        " % (
            _ip(_socket.AF_INET, n.addr), n.type, flags,
            _hwaddr(n.lladdr, min(n.lladdr_len, 9)))
        o["line"] = _text(line.encode() + ifname)[0]
    return o


_LEVELS = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"]
_FACILITIES = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
               "authpriv", "ftp", "ntp", "security", "console", "solaris-cron", "local0",
               "local1", "local2", "local3", "local4", "local5", "local6", "local7"]


def _log_record(r):
    """doc/schema/log_record.json, as obj_log_record()."""
    o = {"seq": r.seq, "time_ns": r.ts_nsec,
         "level": _LEVELS[r.level] if 0 <= r.level < 8 else "unknown", "level_code": r.level,
         "facility": _FACILITIES[r.facility] if 0 <= r.facility < 24 else "unknown",
         "facility_code": r.facility, "caller_id": r.caller_id,
         "caller": "%s%d" % ("C" if r.caller_id & 0x80000000 else "T", r.caller_id & 0x7fffffff)}
    _add_text(o, "text", bytes(_ffi.buffer(r.text, r.text_len)) if r.text else b"")
    return o


def _symbol(name, type_, address, module):
    """doc/schema/symbol.json, as obj_symbol(): name and module (NULL: the core kernel) are the
    context's strings, type_ the kallsyms letter (a char)."""
    o = {"name": _text(_cstr(name))[0] if name else ""}
    if type_ != b"\0":
        o["type"] = _text(type_)[0]
    o["address"] = _addr(address)
    o["module"] = _text(_cstr(module))[0] if module else None
    return o


def _words(p):
    """A space-separated list of the context's (flags, bugs, features) as a list."""
    return [_text(w)[0] for w in _cstr(p).split(b" ") if w] if p else []


def _fixed(v, decimals):
    """j_fixed(): v as printed with that many decimals (None when not finite)."""
    return float("%.*f" % (decimals, v)) + 0.0 if _math.isfinite(v) else None


def _cpuinfo(c):
    """doc/schema/cpuinfo.json (x86-64), as obj_cpuinfo()."""
    o = {"processor": c.cpu, "vendor_id": _strn(c.vendor_id), "cpu_family": c.family,
         "model": c.model, "model_name": _strn(c.model_name), "stepping": c.stepping,
         "microcode": c.microcode, "cpu_mhz": _fixed(c.mhz, 3)}
    if c.cache_size_kb:
        o["cache_size_bytes"] = c.cache_size_kb * 1024
    o.update({"physical_id": c.physical_id, "siblings": c.siblings, "core_id": c.core_id,
              "cpu_cores": c.cores, "apicid": c.apicid, "initial_apicid": c.initial_apicid,
              "cpuid_level": c.cpuid_level, "phys_bits": c.phys_bits, "virt_bits": c.virt_bits,
              "flags": _words(c.flags), "bugs": _words(c.bugs)})
    return o


def _cpuinfo_arm64(c):
    """doc/schema/cpuinfo.json (arm64), as obj_cpuinfo_arm64()."""
    o = {"processor": c.cpu}
    if c.bogomips_centi >= 0:
        o["bogomips"] = _fixed(c.bogomips_centi / 100.0, 2)
    if c.features:
        o["features"] = _words(c.features)
    o.update({"cpu_implementer": c.midr >> 24, "cpu_architecture": 8,
              "cpu_variant": c.midr >> 20 & 0xf, "cpu_part": c.midr >> 4 & 0xfff,
              "cpu_revision": c.midr & 0xf})
    return o


_STACK_FLAGS = ["TRUNCATED", "ERROR", "RUNNING", "NO_STACK", "GUESSED", "REGS", "USER"]


def _stack(frames, n, flags, cpu):
    """doc/schema/stack.json, as obj_stack()."""
    out = []
    text = _ffi.new("char[]", 512)
    for i in range(n):
        f = frames[i]
        _lib.nfm_stack_frame_format(frames + i, text, 512)
        out.append({"ip": _addr(f.ip),
                    "symbol": _text(_cstr(f.symbol))[0] if f.symbol else None,
                    "offset_bytes": f.offset, "size_bytes": f.size,
                    "module": _text(_cstr(f.module))[0] if f.module else None,
                    "text": _text(_cstr(text))[0]})
    o = {"frames": out, "flags": [name for i, name in enumerate(_STACK_FLAGS) if flags & 1 << i],
         "flags_code": flags}
    if cpu >= 0:
        o["cpu"] = cpu
    return o


def _finding(f):
    """finding.json, as cmd/common's obj_finding()."""
    o = {"kind": _cstr(_lib.nfm_diag_kind_name(f.kind)).decode(),
         "severity": _cstr(_lib.nfm_diag_severity_name(f.severity)).decode(),
         "summary": _text(_cstr(f.summary))[0],
         "evidence": [_text(_ffi.string(f.evidence[i]))[0] for i in range(f.nr_evidence)]}
    if f.pid >= 0:
        o["pid"] = f.pid
    if f.cpu >= 0:
        o["cpu"] = f.cpu
    if f.subject != _ffi.NULL:
        o["subject"] = _text(_cstr(f.subject))[0]
    return o


def _diag_figures(g):
    """The figures of `nfm diagnose -j`, as obj_diag_figures(): null where unknown."""
    def opt(v):
        return None if v < 0 else v
    taint = None
    if g.taint >= 0:
        buf = _ffi.new("char[32]")
        _lib.nfm_diag_taint_text(g.taint, buf, 32)
        taint = list(_cstr(buf).decode())
    return {"panicked": None if g.panicked < 0 else bool(g.panicked),
            "panic_cpu": opt(g.panic_cpu), "halted": None if g.halted < 0 else bool(g.halted),
            "taint": taint, "taint_code": opt(g.taint), "oops_count": opt(g.oops_count),
            "hung_task_timeout_ns": None if g.hung_task_timeout_s < 0
            else g.hung_task_timeout_s * 1000000000,
            "nr_hung_tasks": opt(g.nr_hung_tasks), "nr_dstate_tasks": opt(g.nr_dstate_tasks),
            "nr_soft_lockup_cpus": opt(g.nr_soft_lockup_cpus), "oom_kills": opt(g.oom_kills),
            "allocstall": opt(g.allocstall),
            "mem_total_bytes": None if g.mem_total_kb < 0 else g.mem_total_kb << 10,
            "mem_available_bytes": None if g.mem_available_kb < 0 else g.mem_available_kb << 10,
            "nr_log_soft_lockups": opt(g.nr_log_soft_lockups),
            "nr_log_hard_lockups": opt(g.nr_log_hard_lockups),
            "nr_log_rcu_stalls": opt(g.nr_log_rcu_stalls)}


def _hook(h):
    """hook.json, as cmd/common's obj_hook()."""
    def addr(v):
        return _addr(v) if v else None

    def text(p):
        return _text(_cstr(p))[0] if p != _ffi.NULL else None
    return {"kind": _cstr(_lib.nfm_hook_kind_name(h.kind)).decode(), "ok": bool(h.ok),
            "what": text(h.what), "object": addr(h.object), "site": addr(h.site),
            "site_symbol": text(h.site_symbol), "site_offset_bytes": h.site_offset,
            "nr_sites": h.nr_sites, "vector": h.vector if h.kind == _lib.NFM_HOOK_IDT else None,
            "target": addr(h.target), "owner": _cstr(_lib.nfm_owner_name(h.owner)).decode(),
            "symbol": text(h.symbol), "offset_bytes": h.offset, "module": text(h.module)}


def version():
    """libnfm's version, e.g. "0.2.0" (the project's; libnfm(3), VERSIONS)."""
    return _ffi.string(_lib.nfm_version()).decode()


def vms():
    """The QEMU processes on this host, as `nfm list -j` lists them (vm.json: pid, name,
    ram_bytes, qmp)."""
    n = 64
    while True:
        buf = _ffi.new("struct nfm_vm_info[]", n)
        got = _check(_lib.nfm_vm_list(buf, n), "listing QEMU processes")
        if got <= n:
            return [{"pid": v.pid, "name": _text(_cstr(v.name))[0], "ram_bytes": v.ram_size,
                     "qmp": _text(_cstr(v.qmp))[0]} for v in buf[0:got]]
        n = got


class Guest:
    """One guest kernel, attached to through a memory source spec ("pid:1234", "name:web1",
    "file:/x.elf"... as `nfm --vm`). Use as a context manager, or call close().

    A live guest is read as one crawl until refresh(): a page a call read is kept and served
    again to later calls, while pages no call read yet come fresh. Call refresh() before each
    look at the guest as it is now (as nfmd does before each crawl); a Guest held for minutes
    without it mixes old copies with new reads."""

    def __init__(self, spec):
        self._log = _Log()
        src = _ffi.new("struct nfm_source **")
        ctx = _ffi.new("struct nfm_ctx **")
        self._src = self._ctx = None
        _check(_lib.nfm_source_open(spec.encode(), self._log.c, src), "opening %s" % spec,
               self._log)
        self._src = src[0]
        try:
            _check(_lib.nfm_ctx_new(self._src, _ffi.NULL, self._log.c, ctx),
                   "attaching to %s" % spec, self._log)
        except Error:
            _lib.nfm_source_free(self._src)
            self._src = None
            raise
        self._ctx = ctx[0]
        self.spec = spec

    def close(self):
        if self._ctx is not None:
            _lib.nfm_ctx_free(self._ctx)
            self._ctx = None
        if self._src is not None:
            _lib.nfm_source_free(self._src)
            self._src = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def _c(self):
        if self._ctx is None:
            raise Error(_errno.EINVAL, "this guest is closed")
        return self._ctx

    def refresh(self):
        """Read a live guest as it is now (drop what was cached), as every new crawl does."""
        _lib.nfm_ctx_refresh(self._c())

    def idle(self):
        """The crawl is over for now: lend the memory of its page copies to the next crawl of
        any guest (nfm_ctx_idle; for a program that holds many and crawls a few at a time)."""
        _lib.nfm_ctx_idle(self._c())

    def kernel(self):
        """kernel.json, as `nfm info -j`."""
        ki = _ffi.new("struct nfm_kernel_info *")
        _check(_lib.nfm_ctx_kernel_info(self._c(), ki), "kernel identity", self._log)
        o = {k: _text(_cstr(getattr(ki, k)))[0] for k in
             ("sysname", "nodename", "release", "version", "machine", "domainname", "banner")}
        o.update({
            "paging_levels": ki.paging_levels, "kaslr_offset": _addr(ki.kaslr_offset),
            "phys_base": ki.phys_base, "page_offset": _addr(ki.page_offset),
            "kernel_pgd": _addr(ki.kernel_pgd), "vmcoreinfo_pa": _addr(ki.vmcoreinfo_pa),
            "cpus_online": ki.nr_cpus_online, "cpus_possible": ki.nr_cpus_possible,
            "mem_total_bytes": ki.mem_total, "ram_bytes": ki.ram_size,
            "nr_symbols": ki.nr_symbols, "nr_btf_types": ki.nr_btf_types,
            "vmcoreinfo_from": _text(_cstr(ki.vmcoreinfo_how))[0],
            "symbols_from": _text(_cstr(ki.symbols_how))[0],
            "btf_from": _text(_cstr(ki.btf_how))[0],
            "attach_ns": round(ki.attach_ms * 1e6) if ki.attach_ms > 0 else 0})
        return o

    def uptime_ns(self):
        v = _ffi.new("uint64_t *")
        _check(_lib.nfm_ctx_uptime_ns(self._c(), v), "uptime", self._log)
        return v[0]

    def processes(self, threads=False):
        """Iterate over the guest's processes (threads=True: every thread) as process.json
        objects, in task-list order. A task that changed while read is skipped."""
        it = _ffi.new("struct nfm_task_iter **")
        _check(_lib.nfm_task_iter_new(self._c(), _lib.NFM_TASK_THREADS if threads else 0, it),
               "task list", self._log)
        it = _ffi.gc(it[0], _lib.nfm_task_iter_free)
        t = _ffi.new("struct nfm_task *")
        summed = bool(_lib.nfm_vmrss_summed(self._c()))
        while True:
            ret = _check(_lib.nfm_task_iter_next(it, t), "task list", self._log)
            if ret == 0:
                return
            yield _process(t, summed)

    def modules(self):
        """Iterate over the loaded modules as module.json objects (`nfm lsmod -j`); nfm.Error
        EBADMSG after them when the module list was cut short."""
        return self._block("struct nfm_module", _lib.nfm_module_list, "module list", _module)

    def mounts(self):
        """Iterate over PID 1's mounts as mount.json objects (`nfm mount -j` without its
        /proc/mounts line; /proc/mounts escapes kept); nfm.Error EBADMSG after them when the
        mount list was cut short."""
        return self._block("struct nfm_mount", _lib.nfm_mount_list, "mount list", _mount)

    def mount_parent_id(self, mount):
        """The mount id of the mount a mount.json object (or its struct mount address) is
        mounted on, as /proc/PID/mountinfo and `nfm findmnt -j`'s parent_id."""
        addr = int(mount["mount"], 16) if isinstance(mount, dict) else int(mount)
        pid = _ffi.new("int *")
        _check(_lib.nfm_mount_parent_id(self._c(), addr, pid), "mount parent", self._log)
        return pid[0]

    def loadavg(self):
        """loadavg.json, as `nfm uptime -j`'s loadavg."""
        la = _ffi.new("struct nfm_loadavg *")
        _check(_lib.nfm_loadavg(self._c(), la), "loadavg", self._log)
        return {"load1": round(la.load[0], 2), "load5": round(la.load[1], 2),
                "load15": round(la.load[2], 2), "avenrun": list(la.avenrun),
                "running": la.running, "threads": la.threads, "last_pid": la.last_pid,
                "text": _text(_cstr(la.text))[0]}

    def _partial(self, ret, what):
        """Raise for a walk the guest's data cut short (after what it yielded)."""
        raise Error(-ret, "%s: %s" % (what, self._log.last or _os.strerror(-ret)))

    def _block(self, ctype, fn, what, conv):
        """Yield conv() of each element of a one-block list that fn(ctx, &block, &truncated)
        returns (the caller frees the block), then raise EBADMSG if the list was cut short."""
        block = _ffi.new(ctype + " **")
        trunc = _ffi.new("bool *")
        n = _check(fn(self._c(), block, trunc), what, self._log)
        arr = _ffi.gc(block[0], _libc.free) if block[0] != _ffi.NULL else None
        for i in range(n):
            yield conv(arr[i])
        if trunc[0]:
            self._partial(-_errno.EBADMSG, "the %s was cut short" % what)

    def sockets(self):
        """Iterate over the guest's TCP, UDP (IPv4 and IPv6) and unix sockets as socket.json
        objects (`nfm ss -j`), each with the processes holding an fd on it (owners)."""
        return self._block("struct nfm_socket", _lib.nfm_socket_list, "socket list", _sock)

    def tcp_info(self, sock):
        """The kernel's tcp_info of a TCP socket (a socket.json object from sockets(), or its
        struct sock address) as a tcp_info.json object: what `nfm ss -i -j` puts under
        "tcp_info". nfm.Error EINVAL for a TIME-WAIT or SYN-RECV socket (they keep none)."""
        sk = int(sock["sk"], 16) if isinstance(sock, dict) else int(sock)
        t = _ffi.new("struct nfm_tcp_info *")
        _check(_lib.nfm_socket_tcp_info(self._c(), sk, t), "TCP info", self._log)
        return _tcp_info(t)

    def interfaces(self):
        """Iterate over the guest's network interfaces, every namespace, as interface.json
        objects with their addresses in addr_info (`nfm ip -j addr`)."""
        return self._block("struct nfm_netdev", _lib.nfm_netdev_list, "interface list",
                           _interface)

    def routes(self):
        """Iterate over the IPv4 main routing table of every namespace as route.json objects,
        each with its /proc/net/route line (`nfm route -j`)."""
        return self._block("struct nfm_route", _lib.nfm_route_list, "routing table", _route)

    def neighbours(self):
        """Iterate over the neighbours of every namespace, ARP (inet) and NDP (inet6), as
        neighbour.json objects, those /proc/net/arp shows with its line (`nfm arp -6 -j`,
        `nfm ip neigh -j`)."""
        return self._block("struct nfm_neigh", _lib.nfm_neigh_list, "neighbour table",
                           _neighbour)

    def log_records(self):
        """Iterate over the kernel log, the printk ring buffer's records oldest first, as
        log_record.json objects (`nfm dmesg -j`)."""
        return self._block("struct nfm_log_record", _lib.nfm_log_records, "kernel log",
                           _log_record)

    def symbols(self):
        """Iterate over every kernel symbol as symbol.json objects in /proc/kallsyms order: the
        core kernel's, then the loaded modules' (`nfm sym --all -j`)."""
        name, mod = _ffi.new("const char **"), _ffi.new("const char **")
        t, a = _ffi.new("char *"), _ffi.new("uint64_t *")
        for i in range(_lib.nfm_sym_count(self._c())):
            if _lib.nfm_sym_get(self._c(), i, name, t, a) >= 0:
                yield _symbol(name[0], t[0], a[0], _ffi.NULL)
        for i in range(_lib.nfm_modsym_count(self._c())):
            if _lib.nfm_modsym_get(self._c(), i, name, t, a, mod) >= 0:
                yield _symbol(name[0], t[0], a[0], mod[0])

    def symbol(self, query):
        """One symbol.json object, as `nfm sym -j QUERY`: a name (str; "MODULE:NAME" for that
        module's) gives the symbol so named, an address (int) the symbol holding it, with query
        and offset_bytes. nfm.Error ENOENT when there is none."""
        name, mod = _ffi.new("const char **"), _ffi.new("const char **")
        t, a = _ffi.new("char *", b"?"), _ffi.new("uint64_t *")
        if isinstance(query, int):
            ret = _lib.nfm_sym_symbolize_module(self._c(), query, name, t, a, mod)
            if ret < 0:
                raise Error(-ret, "no symbol at 0x%x" % query)
            o = _symbol(name[0], t[0], query - a[0], mod[0])
            o.update({"query": _addr(query), "offset_bytes": a[0]})
            return o
        ret = _lib.nfm_sym_lookup_module(self._c(), query.encode(), a, t, mod)
        if ret < 0:
            raise Error(-ret, "no symbol named %s" % query)
        shown = query.split(":", 1)[1] if ":" in query and mod[0] else query  # MODULE: dropped
        return _symbol(_ffi.new("char[]", shown.encode()), t[0], a[0], mod[0])

    def cpus(self):
        """Iterate over the online CPUs as cpuinfo.json objects (`nfm cpuinfo -j`): x86-64's
        fields, or arm64's. On arm64, BogoMIPS or Features that the guest's tables do not give
        are left out, and an nfm.Error ENOENT follows the CPUs (`nfm cpuinfo -j`'s errors)."""
        ki = _ffi.new("struct nfm_kernel_info *")
        if _lib.nfm_ctx_kernel_info(self._c(), ki) < 0 or _cstr(ki.machine) != b"aarch64":
            yield from self._block("struct nfm_cpuinfo",
                                   lambda c, ret, trunc: _lib.nfm_cpuinfo_list(c, ret),
                                   "CPU list", _cpuinfo)
            return
        cpus = list(self._block("struct nfm_cpuinfo_arm64",
                                lambda c, ret, trunc: _lib.nfm_cpuinfo_arm64_list(c, ret),
                                "CPU list", _cpuinfo_arm64))
        yield from cpus
        # system-wide: every CPU has both or neither
        missing = [k for k in ("bogomips", "features") if cpus and k not in cpus[0]]
        if missing:
            raise Error(_errno.ENOENT, "no %s: loops_per_jiffy, HZ, elf_hwcap or hwcap_str not "
                        "found or not readable" % " and no ".join(missing))

    def _task(self, pid):
        """The process pid (or, as /proc does, the thread tid): a struct nfm_task."""
        t = _ffi.new("struct nfm_task *")
        ret = _lib.nfm_task_get(self._c(), pid, 0, t)
        if ret == -_errno.ENOENT:
            ret = _lib.nfm_task_get(self._c(), pid, _lib.NFM_TASK_THREADS, t)
        if ret == -_errno.ENOENT:
            raise Error(_errno.ESRCH, "pid %d: no such process" % pid)
        _check(ret, "pid %d" % pid, self._log)
        return t

    def maps(self, pid):
        """Iterate over a process's memory mappings in address order as vma.json objects (`nfm
        maps -j PID`; a kernel thread or zombie has none). nfm.Error ESRCH: no such pid."""
        t = self._task(int(pid))
        if not t.mm:
            return
        it = _ffi.new("struct nfm_vma_iter **")
        _check(_lib.nfm_vma_iter_new(self._c(), t, it), "pid %d: memory map" % pid, self._log)
        it = _ffi.gc(it[0], _lib.nfm_vma_iter_free)
        v = _ffi.new("struct nfm_vma *")
        while True:
            ret = _lib.nfm_vma_iter_next(it, v)
            if ret < 0:
                self._partial(ret, "pid %d: the memory map is damaged" % pid)
            if ret == 0:
                break
            yield _vma(v)
        status = _lib.nfm_vma_iter_status(it)  # the walk against map_count and total_vm
        if status < 0:
            self._partial(status, "pid %d: the memory map disagrees with mm->map_count or "
                          "mm->total_vm" % pid)

    def files(self, pid=None):
        """Iterate over the open files of every process (or of process pid) as fd.json objects
        with the process's pid and comm, in task-list then fd order (`nfm lsof -j [-p PID]`).
        Entries that did not read (changed while read, inconsistent) are left out and reported
        by an nfm.Error EAGAIN at the end, as `nfm lsof -j` lists them in its errors."""
        it = _ffi.new("struct nfm_task_iter **")
        _check(_lib.nfm_task_iter_new(self._c(), 0, it), "task list", self._log)
        it = _ffi.gc(it[0], _lib.nfm_task_iter_free)
        t = _ffi.new("struct nfm_task *")
        f = _ffi.new("struct nfm_fd *")
        fi = _ffi.new("struct nfm_fd_iter **")
        found = skipped = 0
        while True:
            ret = _lib.nfm_task_iter_next(it, t)
            if ret <= 0:
                break
            if pid is not None and t.tgid != pid:
                continue
            found += 1
            if _lib.nfm_fd_iter_new(self._c(), t, fi) < 0:
                # kernel threads and zombies have no files; a live process should
                skipped += not t.kthread and t.state != b"Z" and t.mm != 0
                continue
            fit = _ffi.gc(fi[0], _lib.nfm_fd_iter_free)
            comm = bytes(_ffi.buffer(t.comm)).split(b"\0", 1)[0]
            while True:
                r = _lib.nfm_fd_iter_next(fit, f)
                if r < 0:
                    skipped += 1
                if r <= 0:
                    break
                o = _fd(f)
                o["pid"] = t.tgid
                _add_text(o, "comm", comm)
                yield o
            skipped += _lib.nfm_fd_iter_skipped(fit)
        skipped += _lib.nfm_task_iter_skipped(it)
        if ret in (-_errno.ELOOP, -_errno.EBADMSG):
            self._partial(ret, "the task list is damaged")
        _check(ret, "task list", self._log)
        status = _lib.nfm_task_iter_status(it)
        if status < 0:
            self._partial(status, "the task list disagrees with the kernel's thread count")
        if pid is not None and not found:
            raise Error(_errno.ESRCH, "pid %d: no such process" % pid)
        if skipped:
            raise Error(_errno.EAGAIN, "%d entr%s skipped (changed while being read, unreadable "
                        "or inconsistent)" % (skipped, "y" if skipped == 1 else "ies"))

    def _stack_of(self, t, frames, bad):
        """`nfm bt -j`'s entry for task t: its process.json object with wchan and stack (the
        vCPU's registers for a task on a CPU). bad counts the stacks cut short, and keeps the
        first error that left one unread."""
        fl, cpu = _ffi.new("unsigned int *"), _ffi.new("int *", -1)
        wchan = _ffi.new("const char **")
        n = _lib.nfm_task_stack(self._c(), t, frames, _lib.NFM_STACK_MAX_FRAMES, fl)
        if n == -_errno.ENOENT:
            raise Error(_errno.ENOENT, "no way to unwind this kernel's stacks: x86-64 needs "
                        "CONFIG_UNWINDER_ORC's tables, arm64 its saved contexts in BTF")
        if n < 0:
            bad["err"] = bad["err"] or n
            n, fl[0] = 0, fl[0] | _lib.NFM_STACK_ERROR
        if fl[0] & _lib.NFM_STACK_RUNNING:
            rfl = _ffi.new("unsigned int *")
            m = _lib.nfm_task_stack_running(self._c(), t, frames, _lib.NFM_STACK_MAX_FRAMES,
                                            rfl, cpu)
            if m >= 0:
                n, fl[0] = m, rfl[0]
            if cpu[0] < 0 and _lib.nfm_task_cpu(self._c(), t, cpu) < 0:
                cpu[0] = -1
        if fl[0] & (_lib.NFM_STACK_TRUNCATED | _lib.NFM_STACK_ERROR):
            bad["n"] += 1
        o = _process(t, bool(_lib.nfm_vmrss_summed(self._c())))
        o["wchan"] = (_text(_cstr(wchan[0]))[0] if _lib.nfm_task_wchan(self._c(), t, wchan) >= 0
                      and wchan[0] else None)
        o["stack"] = _stack(frames, n, fl[0], cpu[0])
        return o

    def stacks(self, pid=None):
        """Iterate over the kernel stacks of every thread of every process (or of the task
        pid, a process or thread id) as `nfm bt -j` lists them: process.json objects with wchan
        and stack (stack.json: /proc/PID/stack's frames; flags say a stack cut short, a task
        on a CPU...). After the stacks, nfm.Error EBADMSG when some were cut short (the document's
        errors), or the error that left one unread; ESRCH: no such pid; ENOENT: this kernel's
        stacks cannot be unwound."""
        frames = _ffi.new("struct nfm_stack_frame[]", _lib.NFM_STACK_MAX_FRAMES)
        bad = {"n": 0, "err": 0}
        t = _ffi.new("struct nfm_task *")
        if pid is not None:
            pid = int(pid)
            ret = _lib.nfm_task_get(self._c(), pid, _lib.NFM_TASK_THREADS, t)
            if ret == -_errno.ENOENT:
                raise Error(_errno.ESRCH, "pid %d: no such task" % pid)
            _check(ret, "pid %d" % pid, self._log)
            yield self._stack_of(t, frames, bad)
        else:
            it = _ffi.new("struct nfm_task_iter **")
            _check(_lib.nfm_task_iter_new(self._c(), _lib.NFM_TASK_THREADS, it), "task list",
                   self._log)
            it = _ffi.gc(it[0], _lib.nfm_task_iter_free)
            while True:
                ret = _lib.nfm_task_iter_next(it, t)
                if ret <= 0:
                    break
                yield self._stack_of(t, frames, bad)
            if ret < 0 or _lib.nfm_task_iter_skipped(it):
                self._partial(ret if ret < 0 else -_errno.EAGAIN,
                              "the task list was cut short or had tasks that did not read")
        if bad["err"]:
            self._partial(bad["err"], "some stacks could not be read")
        if bad["n"]:
            raise Error(_errno.EBADMSG, "%d stack%s cut short (a frame that does not check "
                        "out, or too deep)" % (bad["n"], " was" if bad["n"] == 1 else "s were"))

    def memory(self):
        """memory.json, as `nfm free -j` (bytes)."""
        mi = _ffi.new("struct nfm_meminfo *")
        _check(_lib.nfm_meminfo(self._c(), mi), "meminfo", self._log)
        keys = {"mem_total": "mem_total_bytes", "mem_free": "mem_free_bytes",
                "mem_available": "mem_available_bytes", "buffers": "buffers_bytes",
                "cached": "cached_bytes", "swap_cached": "swap_cached_bytes",
                "swap_total": "swap_total_bytes", "swap_free": "swap_free_bytes",
                "shmem": "shmem_bytes", "slab_reclaimable": "slab_reclaimable_bytes",
                "slab_unreclaimable": "slab_unreclaimable_bytes"}
        return {v: getattr(mi, k) * 1024 for k, v in keys.items()}

    def diagnose(self):
        """Why the guest is unwell: `nfm diagnose -j` below its envelope (uptime_ns, healthy,
        nr_findings, findings as finding.json worst first, checks, figures), with "complete":
        False when a check could not read what it needs (that check says what, in checks). A
        live VM is compared with the host's other VMs as the CLI does (the peers check:
        an address another VM on the same wire holds)."""
        rp = _ffi.new("struct nfm_diag_report **")
        _check(_lib.nfm_diagnose(self._c(), rp), "diagnose", self._log)
        r = _ffi.gc(rp[0], _lib.nfm_diag_report_free)
        _check(_lib.nfm_diagnose_peers(self._c(), r), "diagnose", self._log)
        checks = []
        for i in range(r.nr_checks):
            c = r.checks[i]
            o = {"name": _cstr(c.name).decode(), "complete": not c.err}
            if c.err:
                o["errno"] = -c.err
                o["unread"] = _text(_cstr(c.what))[0] if c.what != _ffi.NULL else None
            checks.append(o)
        return {"complete": not _lib.nfm_diag_report_partial(r), "uptime_ns": r.uptime_ns,
                "healthy": not r.nr_findings, "nr_findings": r.nr_findings,
                "findings": [_finding(r.findings[i]) for i in range(r.nr_findings)],
                "checks": checks, "figures": _diag_figures(r.fig)}

    def hooks(self):
        """Every hook of the running kernel's system call path, ftrace ops, kprobe, livepatch
        and IDT gate as hook.json objects (`nfm check -j`'s hooks): ok False is a finding."""
        hp = _ffi.new("struct nfm_hook **")
        st = _ffi.new("struct nfm_hook_stats *")
        n = _check(_lib.nfm_hooks(self._c(), _lib.NFM_HOOKS_ALL, hp, st), "hooks", self._log)
        block = _ffi.gc(hp[0], _libc.free) if hp[0] != _ffi.NULL else None
        return [_hook(block[i]) for i in range(n)]


def attach(spec):
    """Attach to the guest kernel of spec ("pid:1234", "name:web1", "file:dump.elf"): a Guest."""
    return Guest(spec)
