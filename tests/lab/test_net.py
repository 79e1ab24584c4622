"""Sockets, routes and neighbours (nfm ss/netstat, route, arp) against the guest's /proc/net.

The lab guest runs everything in its initial network namespace; the zoo's `net` role holds TCP
listeners and connections over IPv4 and IPv6, bound and connected UDP sockets, and UNIX stream,
datagram, abstract and seqpacket sockets. Every row of /proc/net/{tcp,tcp6,udp,udp6,unix} must be
in nfm's list with the same address, port, state, queues, uid and inode (unix: flags, type,
state, inode and path), and the owner PIDs must be the processes whose fd table holds
socket:[inode].
"""
import ipaddress
import re
import struct

from nfmcli import guest_bytes, run, run_json

NETIDS = {"/proc/net/tcp": "tcp", "/proc/net/tcp6": "tcp6", "/proc/net/udp": "udp",
          "/proc/net/udp6": "udp6"}


def proc_inet(t, path):
    """(local, remote, state, tx, rx, uid, inode) of every row of /proc/net/{tcp,udp}[6]."""
    out = set()
    for line in t.files[path].decode().splitlines()[1:]:
        f = line.split()
        tx, rx = (int(x, 16) for x in f[4].split(":"))
        out.add((f[1], f[2], int(f[3], 16), tx, rx, int(f[7]), int(f[9])))
    return out


def proc_unix(t):
    """(flags, type, st, inode, path) of every row of /proc/net/unix."""
    out = set()
    for line in t.files["/proc/net/unix"].decode("utf-8", "surrogateescape").splitlines()[1:]:
        f = line.split(None, 7)
        out.add((int(f[3], 16), int(f[4], 16), int(f[5], 16), int(f[6]), f[7] if len(f) > 7 else ""))
    return out


def proc_endpoint(addr, port):
    """An address and port as /proc/net/tcp* prints them: the address's 32-bit words in host
    (little-endian) order, %08X each, then ":%04X" of the port."""
    b = ipaddress.ip_address(addr).packed
    words = struct.unpack("<%dI" % (len(b) // 4), b)
    return "".join("%08X" % w for w in words) + ":%04X" % port


def nfm_inet(socks, netid):
    return {(proc_endpoint(s["local"], s["local_port"]), proc_endpoint(s["remote"], s["remote_port"]),
             s["state_code"], s["tx_queue"], s["rx_queue"], s["uid"], s["inode"])
            for s in socks if s["netid"] == netid}


def nfm_unix(socks):
    return {(s["unix_flags"], s["type_code"], s["state_code"], s["inode"],
             guest_bytes(s, "path").decode("utf-8", "surrogateescape"))
            for s in socks if s["family"] == "unix"}


def ss_json(vm, *args):
    """nfm ss -j -a's sockets, every state (the document validated against
    doc/schema/docs/ss.json)."""
    return run_json("--vm", vm, "ss", "-a", *args, kind="ss")["sockets"]


def fd_owners(t):
    """inode -> set of pids whose fd table holds socket:[inode]."""
    own = {}
    for p in t.processes.values():
        for link in p.fds.values():
            m = re.fullmatch(rb"socket:\[(\d+)\]", link)
            if m:
                own.setdefault(int(m.group(1)), set()).add(p.pid)
    return own


def check_sockets(t, socks):
    assert len({s["netns"] for s in socks}) == 1, "the lab guest has one network namespace"
    for path, netid in NETIDS.items():
        want, got = proc_inet(t, path), nfm_inet(socks, netid)
        assert want == got, (path, sorted(want - got), sorted(got - want))
    want, got = proc_unix(t), nfm_unix(socks)
    assert want == got, (sorted(want - got), sorted(got - want))
    own = fd_owners(t)
    for s in socks:
        if s["inode"] == 0 or s["nr_owners"] > 4:
            continue
        assert {o["pid"] for o in s["owners"]} == own.get(s["inode"], set()), s
        for o in s["owners"]:
            assert guest_bytes(o, "comm") == t.processes[o["pid"]].comm, o
    # every fd (ss -p's), not only the first 4 processes: the guest's socket:[inode] links
    links = {}
    for p in t.processes.values():
        for fd, link in p.fds.items():
            m = re.fullmatch(rb"socket:\[(\d+)\]", link)
            if m:
                links.setdefault(int(m.group(1)), set()).add((p.pid, int(fd)))
    for s in socks:
        if s["inode"] and "fds" in s:	# nfm ss's (not crawl's or the binding's)
            assert {(f["pid"], f["fd"]) for f in s["fds"]} == links.get(s["inode"], set()), s


def test_ss_equals_proc_net(lab_vm):
    t, _ = lab_vm.fresh_truth()
    socks = ss_json(lab_vm.name)
    check_sockets(t, socks)
    net = t.role_process("net").pid
    mine = [s for s in socks if any(o["pid"] == net for o in s["owners"])]
    # what the zoo set up: 4 listeners, 2 connections each way, 3 UDP, 7 UNIX
    assert {(s["netid"], s["state"]) for s in mine} >= {
        ("tcp", "LISTEN"), ("tcp6", "LISTEN"), ("tcp", "ESTAB"), ("tcp6", "ESTAB"),
        ("udp", "UNCONN"), ("udp", "ESTAB"), ("udp6", "UNCONN"), ("u_str", "LISTEN"),
        ("u_dgr", "UNCONN"), ("u_seq", "ESTAB")}
    paths = {s.get("path") for s in mine}
    assert {"/run/zoo-stream.sock", "/run/zoo-dgram.sock", "@nfm-zoo-abstract"} <= paths


def test_netstat_alias_and_filters(lab_vm):
    socks = run_json("--vm", lab_vm.name, "netstat", "-tl", kind="ss")["sockets"]
    assert socks and all(s["netid"] in ("tcp", "tcp6") and s["state"] == "LISTEN" for s in socks)
    p = run("--vm", lab_vm.name, "ss", "-xap")
    assert p.returncode == 0, p.stderr
    assert "@nfm-zoo-abstract" in p.stdout and "zoo-net" in p.stdout
    p = run("--vm", lab_vm.name, "ss", "--bogus")
    assert p.returncode == 2 and p.stderr.startswith("nfm ss: ") and len(p.stderr.splitlines()) == 1


def test_ss_dump(lab_vm, tmp_path):
    elf, t = lab_vm.dump(tmp_path / "guest.elf")
    check_sockets(t, ss_json(elf))


def _lines(t, path):
    return [l.rstrip() for l in t.files[path].decode().splitlines()[1:]]


def check_route_arp(t, routes, neighs):
    assert [r["line"] for r in routes] == _lines(t, "/proc/net/route")
    assert [n["line"] for n in neighs if "line" in n] == _lines(t, "/proc/net/arp")


def route_json(vm, *args):
    return run_json("--vm", vm, *(args or ("route",)), kind="route")["routes"]


def arp_json(vm, *args):
    return run_json("--vm", vm, "arp", *args, kind="arp")["neighbours"]


def test_route_equals_proc_net_route(lab_vm):
    t = lab_vm.truth
    routes = route_json(lab_vm.name)
    neighs = arp_json(lab_vm.name)
    check_route_arp(t, routes, neighs)
    gw = [r for r in routes if r["dst"] == "10.78.0.0"]
    assert gw and gw[0]["gateway"] == "10.77.0.1" and gw[0]["prefixlen"] == 16 and gw[0]["dev"] == "dummy0"
    # busybox `ip route` lists the same prefixes
    want = {l.split()[0] for l in t.commands["ip route"].decode().splitlines() if l.strip()}
    want = {"0.0.0.0/0" if w == "default" else w for w in want}  # busybox names 0/0 "default"
    assert want == {"%s/%d" % (r["dst"], r["prefixlen"]) if r["prefixlen"] < 32 else r["dst"]
                    for r in routes}
    p = run("--vm", lab_vm.name, "route", "-p")
    assert p.returncode == 0, p.stderr
    assert [l.rstrip() for l in p.stdout.splitlines()[1:]] == _lines(t, "/proc/net/route")
    gwr = [r for r in routes if r["dst"] == "10.78.0.0"][0]
    assert gwr["flags"] == "UG" and gwr["protocol"] in ("boot", "kernel", "static")
    # ip route is nfm route (its table, its document)
    assert route_json(lab_vm.name, "ip", "route") == routes
    p = run("--vm", lab_vm.name, "route")
    assert p.returncode == 0, p.stderr
    assert re.search(r"^10\.78\.0\.0 +10\.77\.0\.1 +255\.255\.0\.0 +UG .* dummy0$", p.stdout, re.M)


def test_arp_equals_proc_net_arp(lab_vm):
    t = lab_vm.truth
    neighs = arp_json(lab_vm.name, "-6")
    static = [n for n in neighs if n["dst"] == "10.77.0.1"]
    assert static and static[0]["lladdr"] == "52:54:00:77:00:01" and "PERMANENT" in static[0]["state"]
    # ip neigh is nfm arp -6 (its lines, its document)
    via_ip = run_json("--vm", lab_vm.name, "ip", "neigh", kind="arp")["neighbours"]
    assert [n for n in via_ip if n["dst"] == "10.77.0.1"] == static
    m = re.search(r"^10\.77\.0\.1 dev (\S+) lladdr (\S+)", t.commands["ip neigh"].decode(), re.M)
    assert m and (static[0]["dev"], static[0]["lladdr"]) == (m.group(1), m.group(2))
    p = run("--vm", lab_vm.name, "arp")
    assert p.returncode == 0, p.stderr
    assert [l.rstrip() for l in p.stdout.splitlines()[1:]] == _lines(t, "/proc/net/arp")
    p = run("--vm", lab_vm.name, "arp", "--bogus")
    assert p.returncode == 2 and p.stderr.startswith("nfm arp: ") and len(p.stderr.splitlines()) == 1


def test_route_arp_dump(lab_vm, tmp_path):
    elf, t = lab_vm.dump(tmp_path / "guest.elf")
    check_route_arp(t, route_json(elf), arp_json(elf))
