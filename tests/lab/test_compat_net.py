"""iproute2's habit forms of nfm ip (doc/compat.md) against what the guest itself prints: busybox's
ip addr / ip route / ip neigh in its truth snapshot, and its /proc/net files.

busybox's ip prints iproute2's layout with a few differences of its own, taken out here and no
more: no "state UNKNOWN" on a header line, no "proto kernel" (iproute2 prints it; the route's
protocol comes from /proc-independent kernel data, checked against the connected routes), and
"used A/B/C probes N" on neighbour lines (iproute2 prints those with -s only).
"""
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
