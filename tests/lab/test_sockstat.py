"""nfm ss -s: the kernel's socket counters against the guest's own /proc/net/sockstat{,6} and
/proc/net/snmp, iproute2's summary layout, and the cross-view check (the TCP hash tables against
the TCP inuse counters) on a stopped guest's ELF dump.

The guest is live while nfm reads it: a counter that moves (the zoo opens and closes sockets)
must lie between the guest's own reads just before and just after nfm's.
"""
import re

from nfmcli import run, run_json

# sockstat member -> (file, line label, field) of the guest's files
FIELDS = {
    "sockets_used": ("/proc/net/sockstat", "sockets:", "used"),
    "tcp_inuse": ("/proc/net/sockstat", "TCP:", "inuse"),
    "tcp_orphan": ("/proc/net/sockstat", "TCP:", "orphan"),
    "tcp_tw": ("/proc/net/sockstat", "TCP:", "tw"),
    "tcp_alloc": ("/proc/net/sockstat", "TCP:", "alloc"),
    "tcp_mem_pages": ("/proc/net/sockstat", "TCP:", "mem"),
    "udp_inuse": ("/proc/net/sockstat", "UDP:", "inuse"),
    "udp_mem_pages": ("/proc/net/sockstat", "UDP:", "mem"),
    "udplite_inuse": ("/proc/net/sockstat", "UDPLITE:", "inuse"),
    "raw_inuse": ("/proc/net/sockstat", "RAW:", "inuse"),
    "frag_inuse": ("/proc/net/sockstat", "FRAG:", "inuse"),
    "frag_mem_bytes": ("/proc/net/sockstat", "FRAG:", "memory"),
    "tcp6_inuse": ("/proc/net/sockstat6", "TCP6:", "inuse"),
    "udp6_inuse": ("/proc/net/sockstat6", "UDP6:", "inuse"),
    "udplite6_inuse": ("/proc/net/sockstat6", "UDPLITE6:", "inuse"),
    "raw6_inuse": ("/proc/net/sockstat6", "RAW6:", "inuse"),
    "frag6_inuse": ("/proc/net/sockstat6", "FRAG6:", "inuse"),
    "frag6_mem_bytes": ("/proc/net/sockstat6", "FRAG6:", "memory"),
}


def parse_sockstat(text):
    """{(label, field): int} of a /proc/net/sockstat{,6} text."""
    out = {}
    for line in text.splitlines():
        f = line.split()
        for i in range(1, len(f) - 1, 2):
            out[(f[0], f[i])] = int(f[i + 1])
    return out


def parse_snmp_estab(text):
    lines = text.splitlines()
    for head, vals in zip(lines, lines[1:]):
        if head.startswith("Tcp:") and vals.startswith("Tcp:"):
            h, v = head.split(), vals.split()
            return int(v[h.index("CurrEstab")])
    raise AssertionError("no Tcp: lines in /proc/net/snmp")


def guest_counters(vm):
    files = {p: parse_sockstat(vm.guest_file(p).decode())
             for p in ("/proc/net/sockstat", "/proc/net/sockstat6")}
    out = {k: files[p][(lab, fld)] for k, (p, lab, fld) in FIELDS.items()}
    out["tcp_curr_estab"] = parse_snmp_estab(vm.guest_file("/proc/net/snmp").decode())
    return out


def between(v, a, b):
    return min(a, b) <= v <= max(a, b)


def test_sockstat_equals_guest(lab_vm):
    """Every counter of nfm ss -s -j's initial namespace equals the guest's own, or lies
    between the guest's reads before and after nfm's (a live guest's counters move)."""
    for attempt in range(3):
        before = guest_counters(lab_vm)
        doc = run_json("--vm", lab_vm.name, "ss", "-s", kind="ss.summary")
        after = guest_counters(lab_vm)
        st = doc["sockstat"][0]
        bad = {k: (before[k], st.get(k), after[k]) for k in before
               if st.get(k) is None or not between(st[k], before[k], after[k])}
        if not bad:
            break
    assert not bad, bad
    assert doc["complete"], doc.get("errors")
    # the guest's namespaces: the zoo runs in the initial one (more are listed after it)
    assert all(isinstance(s["netns"], int) and s["netns"] > 0 for s in doc["sockstat"])
    s = doc["summary"]
    assert s["total"] == st["sockets_used"]
    assert s["tcp_total"] == st["tcp_alloc"] + st["tcp_tw"]
    assert s["tcp_closed"] == st["tcp_alloc"] - (st["tcp_inuse"] + st["tcp6_inuse"] - st["tcp_tw"])
    assert s["inet_ip"] == st["raw_inuse"] + st["udp_inuse"] + st["tcp_inuse"]
    assert s["inet_ipv6"] == st["raw6_inuse"] + st["udp6_inuse"] + st["tcp6_inuse"]
    # the zoo holds TCP listeners and connections of both families
    assert st["tcp_inuse"] > 0 and st["tcp6_inuse"] > 0 and st["udp_inuse"] > 0


def expected_text(c):
    """iproute2 ss -s (5.5 and later) printed from counters c, line by line."""
    def row(name, v4, v6):
        return "%s\t  %-9d %-9d %-9d" % (name, v4 + v6, v4, v6)
    inet4 = c["raw_inuse"] + c["udp_inuse"] + c["tcp_inuse"]
    inet6 = c["raw6_inuse"] + c["udp6_inuse"] + c["tcp6_inuse"]
    return [
        "Total: %d" % c["sockets_used"],
        "TCP:   %d (estab %d, closed %d, orphaned %d, timewait %d)" % (
            c["tcp_alloc"] + c["tcp_tw"], c["tcp_curr_estab"],
            c["tcp_alloc"] - (c["tcp_inuse"] + c["tcp6_inuse"] - c["tcp_tw"]),
            c["tcp_orphan"], c["tcp_tw"]),
        "",
        "Transport Total     IP        IPv6",
        row("RAW", c["raw_inuse"], c["raw6_inuse"]),
        row("UDP", c["udp_inuse"], c["udp6_inuse"]),
        row("TCP", c["tcp_inuse"], c["tcp6_inuse"]),
        row("INET", inet4, inet6),
        row("FRAG", c["frag_inuse"], c["frag6_inuse"]),
        "",
    ]


def test_summary_text_layout(lab_vm, tmp_path):
    """The text is iproute2's layout, line by line, of the same counters (read from a dump, so
    that the text and the JSON are of one moment)."""
    elf, _ = lab_vm.dump(tmp_path / "ss")
    doc = run_json("--vm", elf, "ss", "-s", kind="ss.summary")
    p = run("--vm", elf, "ss", "-s")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[:-1] == expected_text(doc["sockstat"][0])
    assert re.fullmatch(r"Total: \d+", p.stdout.split("\n")[0])


def test_cross_check_exact_on_dump(lab_vm, tmp_path):
    """On a stopped guest the hash tables and the inuse counters agree exactly: ss and ss -s
    exit 0 with nothing on stderr, and the dump's counters are the guest's of that moment."""
    before = guest_counters(lab_vm)
    elf, _ = lab_vm.dump(tmp_path / "x")
    after = guest_counters(lab_vm)
    for args in (["ss"], ["ss", "-s"], ["-j", "ss", "-s"], ["ss", "-t"]):
        p = run("--vm", elf, *args)
        assert p.returncode == 0, (args, p.returncode, p.stderr)
        assert p.stderr == "", (args, p.stderr)
    st = run_json("--vm", elf, "ss", "-s", kind="ss.summary")["sockstat"][0]
    for k in ("tcp_inuse", "tcp6_inuse", "udp_inuse", "udp6_inuse", "raw_inuse", "raw6_inuse"):
        assert between(st[k], before[k], after[k]), (k, before[k], st[k], after[k])


def test_live_ss_no_false_alarm(lab_vm):
    """On the live guest plain ss passes the cross-view check (the before/after rule)."""
    for _ in range(3):
        p = run("--vm", lab_vm.name, "ss", "-t")
        assert p.returncode == 0, p.stderr
        assert "kernel counts" not in p.stderr, p.stderr
