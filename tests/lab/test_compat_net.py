"""iproute2's habit forms of nfm ip (doc/compat.md) against what the guest itself prints: busybox's
ip addr / ip route / ip neigh in its truth snapshot, and its /proc/net files.

busybox's ip prints iproute2's layout with a few differences of its own, taken out here and no
more: no "state UNKNOWN" on a header line, no "proto kernel" (iproute2 prints it; the route's
protocol comes from /proc-independent kernel data, checked against the connected routes), and
"used A/B/C probes N" on neighbour lines (iproute2 prints those with -s only).
"""
import ipaddress
import json
import re

from nfmcli import run

FOREVER = 4294967295


def ok(p):
    assert p.returncode == 0, p.stderr
    return p.stdout


def ip(vm, *args):
    return ok(run("--vm", vm, "ip", *args))


def bb(lab_vm, label):
    assert lab_vm.truth.command_status[label] == 0
    return lab_vm.truth.commands[label].decode()


def blocks(text):
    """ip addr's text as [(header tokens, [address line tokens...])], lifetimes kept per address."""
    out = []
    for line in text.splitlines():
        if re.match(r"^\d+: ", line):
            out.append((line.split(), []))
        elif line.strip().startswith(("inet ", "inet6 ")):
            out[-1][1].append([line.split(), None])
        elif line.strip().startswith("valid_lft"):
            out[-1][1][-1][1] = line.split()
        elif line.strip().startswith("link/"):
            out[-1][0].extend(["|"] + line.split())
    return out


def no_state(tokens):
    t = list(tokens)
    if "state" in t:
        i = t.index("state")
        del t[i:i + 2]
    return t


def test_ip_addr_lines(lab_vm):
    """ip addr, ip -4 addr, ip -6 addr: busybox's lines, family by family."""
    want = blocks(bb(lab_vm, "ip addr"))
    assert want and any(a for _, a in want)
    for fam, args in ((None, ["addr"]), ("inet", ["-4", "addr"]), ("inet6", ["-6", "a"]),
                      ("inet", ["-f", "inet", "address", "show"])):
        got = blocks(ip(lab_vm.name, *args))
        exp = [(h, [a for a in addrs if fam is None or a[0][0] == fam]) for h, addrs in want]
        if fam:     # iproute2 leaves out an interface without an address of the family
            exp = [(h, a) for h, a in exp if a]
        assert [(no_state(h), a) for h, a in got] == exp, args
    # a device by name
    name = want[-1][0][1].rstrip(":")
    got = blocks(ip(lab_vm.name, "addr", "show", "dev", name))
    assert [(no_state(h), a) for h, a in got] == [want[-1]]


def test_ip_brief(lab_vm):
    want = blocks(bb(lab_vm, "ip addr"))
    states = {h[1].rstrip(":"): h[h.index("state") + 1] for h, _ in blocks(ip(lab_vm.name, "addr"))}
    for args, fam in ((["-br", "addr"], None), (["-brief", "-6", "addr"], "inet6")):
        got = [l.split() for l in ip(lab_vm.name, *args).splitlines()]
        exp = []
        for h, addrs in want:
            name = h[1].rstrip(":")
            a = [x[0][1] for x in addrs if fam is None or x[0][0] == fam]
            if fam is None or a:
                exp.append([name, states[name]] + a)
        assert got == exp, args
    got = [l.split() for l in ip(lab_vm.name, "-br", "link").splitlines()]
    exp = [[h[1].rstrip(":"), states[h[1].rstrip(":")], h[h.index("|") + 2], h[2]] for h, _ in want]
    assert got == exp


def test_ip_json_iproute2_shape(lab_vm):
    """ip -J addr: iproute2's JSON members, values as busybox's text shows them."""
    want = blocks(bb(lab_vm, "ip addr"))
    got = json.loads(ip(lab_vm.name, "-J", "addr"))
    assert [d["ifname"] for d in got] == [h[1].rstrip(":") for h, _ in want]
    for d, (h, addrs) in zip(got, want):
        assert d["ifindex"] == int(h[0].rstrip(":"))
        assert "<" + ",".join(d["flags"]) + ">" == h[2]
        assert d["mtu"] == int(h[h.index("mtu") + 1]) and d["qdisc"] == h[h.index("qdisc") + 1]
        assert d["txqlen"] == int(h[h.index("qlen") + 1])
        link = h[h.index("|") + 1:]
        assert [f"link/{d['link_type']}", d["address"], "brd", d["broadcast"]] == link[:4]
        assert len(d["addr_info"]) == len(addrs)
        for ai, (line, life) in zip(d["addr_info"], addrs):
            assert [ai["family"], f"{ai['local']}/{ai['prefixlen']}"] == line[:2]
            assert line[line.index("scope") + 1] == ai["scope"]
            if ai["family"] == "inet":
                assert line[-1] == ai["label"]
            assert life == ["valid_lft", "forever", "preferred_lft", "forever"]
            assert ai["valid_life_time"] == ai["preferred_life_time"] == FOREVER
    links = json.loads(ip(lab_vm.name, "-J", "link"))
    assert [{k: v for k, v in d.items() if k != "addr_info"} for d in got] == links


def proc_net_dev(t):
    """name -> /proc/net/dev's 16 counters (rx: bytes packets errs drop fifo frame compressed
    multicast, tx: bytes packets errs drop fifo colls carrier compressed)."""
    out = {}
    for line in t.files["/proc/net/dev"].decode().splitlines()[2:]:
        name, rest = line.split(":", 1)
        out[name.strip()] = [int(x) for x in rest.split()]
    return out


def test_ip_s_link(lab_vm):
    """ip -s link: iproute2 6.1's two counter blocks under each interface, their headings, and
    numbers between the guest's own /proc/net/dev before and after (RX: bytes packets errors
    dropped missed mcast; TX: bytes packets errors dropped carrier collsns)."""
    t1, _ = lab_vm.fresh_truth()
    out = ip(lab_vm.name, "-s", "link")
    t2, _ = lab_vm.fresh_truth()
    d1, d2 = proc_net_dev(t1), proc_net_dev(t2)
    lines = out.splitlines()
    seen = set()
    for i, line in enumerate(lines):
        m = re.match(r"^\d+: ([^:@]+)[@:]", line)
        if not m:
            continue
        name = m.group(1)
        assert lines[i + 1].strip().startswith("link/"), lines[i:i + 6]
        assert lines[i + 2].split() == ["RX:", "bytes", "packets", "errors", "dropped", "missed",
                                        "mcast"], lines[i + 2]
        assert lines[i + 4].split() == ["TX:", "bytes", "packets", "errors", "dropped", "carrier",
                                        "collsns"], lines[i + 4]
        rx, tx = [int(x) for x in lines[i + 3].split()], [int(x) for x in lines[i + 5].split()]
        # /proc/net/dev's columns for each printed one (its drop counts missed too: 0 here)
        for got, col in zip(rx + tx, (0, 1, 2, 3, None, 7, 8, 9, 10, 11, 14, 13)):
            if col is not None:
                assert d1[name][col] <= got <= d2[name][col], (name, col, got, d1[name], d2[name])
        assert rx[4] == 0, (name, rx)	# missed: no lab device has a driver that counts it
        seen.add(name)
    assert seen == set(d1) == set(d2), (seen, set(d1))


def route_tokens(line):
    t = line.split()
    if "src" in t:
        i = t.index("src")
        del t[i:i + 2]
    return t


def test_ip_route(lab_vm):
    want = [l for l in bb(lab_vm, "ip route").splitlines() if l.strip()]
    got = ip(lab_vm.name, "route").splitlines()
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g = g.split()
        # the connected routes (busybox prints their src) are the kernel's own: proto kernel
        if "src" in w.split():
            assert g[g.index("proto") + 1] == "kernel", g
            del g[g.index("proto"):g.index("proto") + 2]
        else:
            assert "proto" not in g, g     # added by ip route add: proto boot, not printed
        assert g == route_tokens(w)
    # /proc/net/route: one line per route, same destinations and gateways
    proc = lab_vm.truth.files["/proc/net/route"].decode().splitlines()[1:]
    assert len(proc) == len(got)
    assert ip(lab_vm.name, "r", "show") == ip(lab_vm.name, "-4", "route")
    doc = json.loads(ip(lab_vm.name, "-J", "route"))
    for d, w in zip(doc, want):
        t = route_tokens(w)
        assert d["dst"] == t[0] and d.get("gateway") == (t[t.index("via") + 1] if "via" in t else None)
        assert d["dev"] == t[t.index("dev") + 1]
        assert d.get("scope") == (t[t.index("scope") + 1] if "scope" in t else None)
    p = run("--vm", lab_vm.name, "ip", "-6", "route")
    assert p.returncode == 1 and "IPv4" in p.stderr


def test_ip_neigh(lab_vm):
    want = []
    for l in bb(lab_vm, "ip neigh").splitlines():
        t = l.split()
        if "used" in t:
            i = t.index("used")
            del t[i:i + 2]
        if "probes" in t:
            i = t.index("probes")
            del t[i:i + 2]
        if t:
            want.append(t)
    assert want
    got = [l.split() for l in ip(lab_vm.name, "neigh").splitlines()]
    assert sorted(got) == sorted(want)
    assert [g for g in got if ":" not in g[0]] == [l.split() for l in ip(lab_vm.name, "-4", "n").splitlines()]
    doc = json.loads(ip(lab_vm.name, "-J", "neigh"))
    assert sorted([d["dst"], "dev", d["dev"], "lladdr", d["lladdr"]] + d["state"] for d in doc) == \
        sorted(want)


# ---- lsof -i, -u (lsof 4) -------------------------------------------------------------------

def proc_net_sockets(t):
    """inode -> (proto, local (ip, port), remote (ip, port), tcp state) from /proc/net/{tcp,udp}[6]."""
    out = {}
    for name in ("tcp", "udp", "tcp6", "udp6"):
        for line in t.files["/proc/net/" + name].decode().splitlines()[1:]:
            f = line.split()
            def ep(s):
                a, p = s.split(":")
                raw = bytes.fromhex(a)
                # /proc prints the address as 32-bit words in host (little-endian) order
                raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                return ipaddress.ip_address(raw), int(p, 16)
            out[int(f[9])] = (name.rstrip("6").upper(), ep(f[1]), ep(f[2]), int(f[3], 16))
    return out


def lsof_name(proto, l, r, st):
    def ep(a, p):
        host = "*" if a.is_unspecified else f"[{a}]" if a.version == 6 else str(a)
        return f"{host}:{p if p else '*'}"
    states = ["", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
              "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"]
    s = ep(*l) + (f"->{ep(*r)}" if r[1] else "")
    return s + (f" ({states[st]})" if proto == "TCP" else "")


def test_lsof_inet(lab_vm):
    """lsof -i: zoo-net's internet sockets, each NAMEd as lsof does from the guest's /proc/net."""
    t = lab_vm.truth
    net = proc_net_sockets(t)
    p = [p for p in t.processes.values() if p.comm == b"zoo-net"][0]
    want = {}
    for fd, link in p.fds.items():
        m = re.match(rb"socket:\[(\d+)\]$", link)
        if m and int(m.group(1)) in net:
            want[int(fd)] = net[int(m.group(1))]
    assert any(w[0] == "TCP" for w in want.values()) and any(w[0] == "UDP" for w in want.values())
    out = ok(run("--vm", lab_vm.name, "lsof", "-i")).splitlines()
    assert out[0].split() == ["COMMAND", "PID", "USER", "FD", "TYPE", "DEVICE", "NODE", "PROTO", "NAME"]
    rows = [l.split(None, 8) for l in out[1:]]
    got = {int(r[3]): r[8] for r in rows if int(r[1]) == p.pid}
    assert got == {fd: lsof_name(*w) for fd, w in want.items()}
    # every row is an internet socket
    assert all(r[4] == "SOCK" and r[7].startswith(("TCP", "UDP")) for r in rows)
    for spec, keep in (("TCP", lambda w: w[0] == "TCP"), ("6UDP", lambda w: False),
                       ("UDP", lambda w: w[0] == "UDP"), ("4", lambda w: w[1][0].version == 4)):
        rows = [l.split(None, 8) for l in ok(run("--vm", lab_vm.name, "lsof", "-i", spec)).splitlines()[1:]]
        got = {int(r[3]) for r in rows if int(r[1]) == p.pid}
        exp = {fd for fd, w in want.items() if keep(w) and not (spec == "6UDP")}
        if spec == "6UDP":
            exp = {fd for fd, w in want.items() if w[0] == "UDP" and w[1][0].version == 6}
        assert got == exp, spec
    # :PORT selects a socket by its local or its remote port
    port = [w for w in want.values() if w[0] == "TCP" and w[3] == 10][0][1][1]
    rows = [l.split(None, 8) for l in ok(run("--vm", lab_vm.name, "lsof", "-i", f":{port}")).splitlines()[1:]]
    exp = {fd for fd, w in want.items() if port in (w[1][1], w[2][1])}
    assert {int(r[3]) for r in rows if int(r[1]) == p.pid} == exp and exp
    assert run("--vm", lab_vm.name, "lsof", "-i", "SCTP:x").returncode == 2


def test_lsof_user(lab_vm):
    """lsof -u NAME and -u UID: the processes of that effective uid; USER by the guest's own
    /etc/passwd name, the number when it has none."""
    t = lab_vm.truth
    passwd = {int(l.split(b":")[2]): l.split(b":")[0].decode("utf-8", "replace")
              for l in lab_vm.guest_file("/etc/passwd").splitlines() if l.count(b":") >= 6}
    euid = {pid: int(p.status["Uid"].split()[1]) for pid, p in t.processes.items()
            if "Uid" in p.status}
    zoo = [pid for pid, u in euid.items() if u == 1000]
    assert zoo and passwd.get(1000)
    for sel in (passwd[1000], "1000"):
        rows = [l.split(None, 8) for l in ok(run("--vm", lab_vm.name, "lsof", "-u", sel)).splitlines()[1:]]
        pids = {int(r[1]) for r in rows}
        # processes that started after the truth may join; every one the truth has is there
        assert set(zoo) <= pids and all(euid.get(p, 1000) == 1000 for p in pids), sel
        assert {r[2] for r in rows} == {passwd[1000]}
    # a name with control bytes reaches the terminal escaped (the lab's uid 1001)
    evil = [u for u, n in passwd.items() if "\x1b" in n]
    if evil and evil[0] in euid.values():
        rows = ok(run("--vm", lab_vm.name, "lsof", "-u", str(evil[0]))).splitlines()[1:]
        assert rows and all(r.split()[2] == passwd[evil[0]].replace("\x1b", "\\x1b")
                            .replace("\x07", "\\x07") for r in rows)
        assert all("\x1b" not in r for r in rows)
    unnamed = [pid for pid, u in euid.items() if u not in passwd]
    if unnamed:     # the lab's zoo has one (uid 1001)
        u = euid[unnamed[0]]
        rows = [l.split(None, 8) for l in ok(run("--vm", lab_vm.name, "lsof", "-u", str(u))).splitlines()[1:]]
        assert rows and {r[2] for r in rows} == {str(u)}
    # -u and -i are OR'ed as lsof's; -a ANDs them (the zoo's user 1000 holds no internet socket)
    both = ok(run("--vm", lab_vm.name, "lsof", "-a", "-u", "1000", "-i")).splitlines()[1:]
    either = ok(run("--vm", lab_vm.name, "lsof", "-u", "1000", "-i")).splitlines()[1:]
    alone = ok(run("--vm", lab_vm.name, "lsof", "-i")).splitlines()[1:]
    assert both == [] and len(either) > len(alone)
    assert run("--vm", lab_vm.name, "lsof", "-u", "no-such-user").returncode == 2


def test_lsof_pid(lab_vm):
    """lsof -p PID: that process's descriptors alone, each NAMEd as the guest's own
    /proc/PID/fd link (zoo-files: regular, deleted, FIFO and anonymous-inode files); an
    unknown pid is an error."""
    t = lab_vm.truth
    p = t.processes[t.roles["files"].pid]
    lines = ok(run("--vm", lab_vm.name, "lsof", "-p", str(p.pid))).splitlines()
    assert lines[0].split() == ["COMMAND", "PID", "USER", "FD", "TYPE", "DEVICE", "NODE", "PROTO",
                                "NAME"]
    col = lines[0].index("NAME")
    rows = [(l.split(), l[col:]) for l in lines[1:]]
    assert rows and all(int(r[1]) == p.pid for r, _ in rows), lines
    got = {int(r[3]): name for r, name in rows}
    want = {int(fd): link.decode("utf-8", "backslashreplace") for fd, link in p.fds.items()}
    assert got == want, (got, want)
    # no such process: lsof's exit status 1, and one line saying why
    q = run("--vm", lab_vm.name, "lsof", "-p", "999999")
    assert q.returncode == 1 and not q.stdout and q.stderr == "nfm: pid 999999: no such process\n"


def test_lsof_pid_list(lab_vm):
    """lsof -p A,B lists both processes' descriptors; ^PID excludes a process before any other
    selection; a listed pid that is not there is lsof's status 1 after the others are listed."""
    t = lab_vm.truth
    a, b = t.roles["files"].pid, 1

    def pids(*args):
        p = run("--vm", lab_vm.name, "-j", "lsof", *args)
        return p, [f["pid"] for f in json.loads(p.stdout)["files"]] if p.stdout else []
    p, got = pids("-p", "%d,%d" % (a, b))
    assert p.returncode == 0, p.stderr
    assert got.count(a) == len(t.processes[a].fds) and got.count(b) == len(t.processes[b].fds) \
        and set(got) == {a, b}, got
    # -p ^A with -u root: root's processes without A (the zoo's files process runs as root)
    p, got = pids("-u", "root", "-p", "^%d" % a)
    assert p.returncode in (0, 3), p.stderr
    assert a not in got and b in got
    # one there, one not: the one listed, then one line for the other, status 1
    q, got = pids("-p", "%d,999999" % a)
    assert q.returncode == 1 and set(got) == {a}, (q.returncode, q.stderr)
    assert q.stderr == "nfm: pid 999999: no such process\n"
    r = run("--vm", lab_vm.name, "lsof", "-p", "1,x")
    assert r.returncode == 2 and "not a pid list" in r.stderr
