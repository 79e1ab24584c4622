"""The habit forms of procps, util-linux and iproute2 (doc/compat.md), one test per command, on a
lab guest, against what the guest itself says: its /proc files and /dev/kmsg records as its truth
snapshot holds them, and busybox's own output where the truth runs busybox (ip addr).

Values that may move while nfm reads (memory) are bracketed by two truth snapshots.
"""
import os
import re
import select
import signal
import subprocess
import time

from nfmcli import NFM, guest_bytes, run, run_json
from test_system import kmsg_escape

LEVELS = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"]
FACILITIES = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
              "authpriv", "ftp", "res0", "res1", "res2", "res3"] + [f"local{i}" for i in range(8)]


def ok(p):
    assert p.returncode == 0, p.stderr
    return p.stdout


def usage_error(p):
    assert p.returncode == 2 and p.stdout == "" and len(p.stderr.splitlines()) == 1, p


# ---- dmesg (util-linux) ----------------------------------------------------------------------

def kmsg_lines(k):
    """The lines util-linux dmesg prints for one /dev/kmsg record (its text split at newlines)."""
    return k.text.decode("utf-8", "replace").split("\n")


def test_dmesg(lab_vm):
    vm = lab_vm.name
    truth = lab_vm.truth.kmsg
    assert truth
    first = truth[0]
    # the plain form: "[    0.000000] text"
    out = ok(run("--vm", vm, "dmesg")).splitlines()
    m = re.match(r"^\[ *(\d+)\.(\d{6})\] (.*)$", out[0])
    assert m and int(m.group(1)) * 10**6 + int(m.group(2)) == first.ts_usec
    # -x: "kern  :notice: [    0.000000] text", facility and level from the record's priority
    out = ok(run("--vm", vm, "dmesg", "-x")).splitlines()
    fac, lvl = FACILITIES[first.prio >> 3], LEVELS[first.prio & 7]
    assert out[0].startswith(f"{fac:<6}:{lvl:<6}: ["), out[0]
    # -r: "<prio>[...]"
    assert ok(run("--vm", vm, "dmesg", "-r")).splitlines()[0].startswith(f"<{first.prio}>[")
    # -t: the text alone
    out = ok(run("--vm", vm, "dmesg", "-t")).splitlines()
    assert out[0] == kmsg_escape(first.text.split(b"\n")[0]), out[0]
    # --level / -l and --facility / -f / -k / -u select the records the guest has with them
    for args, keep in ((["--level=err,warn"], lambda p: p & 7 in (3, 4)),
                       (["-l", "6"], lambda p: p & 7 == 6),
                       (["-k"], lambda p: p >> 3 == 0),
                       (["-u"], lambda p: p >> 3 == 1),
                       (["--facility", "kern,user"], lambda p: p >> 3 in (0, 1)),
                       (["-k", "--level", "info"], lambda p: p == 6)):
        doc = run_json("--vm", vm, "dmesg", *args, kind="dmesg")
        got = {r["seq"] for r in doc["records"]}
        want = {k.seq for k in truth if keep(k.prio)}
        # records newer than the truth snapshot may be added; none the truth has may be missing
        assert want <= got and all(s > truth[-1].seq for s in got - want), (args, want - got)
        assert all(keep(r["facility_code"] << 3 | r["level_code"]) for r in doc["records"]), args
    marker = [k for k in truth if b"NFM-LAB-MARKER" in k.text]
    assert marker and marker[0].prio >> 3 == 1     # written to /dev/kmsg by /init: user
    assert "NFM-LAB-MARKER" in ok(run("--vm", vm, "dmesg", "-u"))
    assert "NFM-LAB-MARKER" not in ok(run("--vm", vm, "dmesg", "-k"))
    # -T: the guest's boot time (btime of its /proc/stat) plus the stamp, in ctime's form
    btime = int(re.search(rb"^btime (\d+)", lab_vm.truth.files["/proc/stat"], re.M).group(1))
    line = ok(run("--vm", vm, "dmesg", "-T")).splitlines()[-1]
    m = re.match(r"^\[(\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4})\] ", line)
    assert m, line
    t = time.mktime(time.strptime(m.group(1), "%a %b %d %H:%M:%S %Y"))
    assert btime - 2 <= t <= time.time() + 2, (m.group(1), btime)
    usage_error(run("--vm", vm, "dmesg", "--level", "loud"))
    usage_error(run("--vm", vm, "dmesg", "-f", "nosuch"))


def test_dmesg_follow(lab_vm):
    """-w prints the ring once, then only what is new: a record the guest logs while nfm
    follows appears, once, within a few polls; nothing is printed twice."""
    p = subprocess.Popen([NFM, "--vm", lab_vm.name, "dmesg", "-w"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, errors="replace")
    # attach first (seconds on a loaded host)
    ready, _, _ = select.select([p.stdout], [], [], 60)
    assert ready, "dmesg -w printed nothing in 60 s"
    time.sleep(2)
    assert p.poll() is None, p.stderr.read()
    mark = "nfm-lab-follow-%d" % os.getpid()
    assert lab_vm.kmsg(mark) == 0
    fd, raw = p.stdout.fileno(), b""

    def more(until):
        nonlocal raw
        while time.monotonic() < until:
            if select.select([fd], [], [], 0.5)[0]:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return
                raw += chunk
                if until == deadline and mark.encode() in raw:
                    return
    deadline = time.monotonic() + 30
    more(deadline)
    more(time.monotonic() + 2)   # a few more polls: the record must not come again
    out = raw.decode("utf-8", "replace")
    # SIGTERM, not SIGINT: a job started in the background (as CI runs) ignores SIGINT, and so
    # would nfm, inheriting it
    p.send_signal(signal.SIGTERM)
    rest, _ = p.communicate(timeout=10)
    lines = (out + (rest or "")).splitlines()
    assert sum(mark in l for l in lines) == 1, lines[-5:]
    once = ok(run("--vm", lab_vm.name, "dmesg")).splitlines()
    assert once[-1].endswith(" " + mark) or mark in "\n".join(once[-5:]), once[-5:]
    assert lines[:len(once) - 5] == once[:len(once) - 5]
    assert len(lines) <= len(once) + 5, "dmesg -w printed records again"


# ---- free (procps-ng 4) ----------------------------------------------------------------------

def meminfo(t):
    return {l.split(":")[0]: int(l.split()[1]) for l in t.files["/proc/meminfo"].decode().splitlines()}


def test_free(lab_vm):
    vm = lab_vm.name
    t1, _ = lab_vm.fresh_truth()
    rows = {l.split()[0]: l.split()[1:] for l in ok(run("--vm", vm, "free", "-b")).splitlines()[1:]}
    t2, _ = lab_vm.fresh_truth()
    m1, m2 = meminfo(t1), meminfo(t2)
    total, used, free, shared, bc, avail = (int(x) // 1024 for x in rows["Mem:"])
    assert total == m1["MemTotal"]
    # procps-ng 4: used = total - available; buff/cache = Buffers + Cached + SReclaimable
    lo = min(m1["MemTotal"] - m1["MemAvailable"], m2["MemTotal"] - m2["MemAvailable"]) - 2048
    hi = max(m1["MemTotal"] - m1["MemAvailable"], m2["MemTotal"] - m2["MemAvailable"]) + 2048
    assert lo <= used <= hi and used == total - avail
    bcs = [m["Buffers"] + m["Cached"] + m["SReclaimable"] for m in (m1, m2)]
    assert min(bcs) - 2048 <= bc <= max(bcs) + 2048
    assert rows["Swap:"][0] == str(m1["SwapTotal"] * 1024)
    # units: -k (default) -m -g truncate; -h is the shortest unit of 1024
    k = ok(run("--vm", vm, "free")).splitlines()[1].split()
    assert k[1] == str(m1["MemTotal"])
    assert ok(run("--vm", vm, "free", "-k")).splitlines()[1].split()[1] == k[1]
    assert ok(run("--vm", vm, "free", "-m")).splitlines()[1].split()[1] == str(m1["MemTotal"] // 1024)
    assert ok(run("--vm", vm, "free", "-g")).splitlines()[1].split()[1] == str(m1["MemTotal"] // 1024**2)
    h = ok(run("--vm", vm, "free", "-h")).splitlines()[1].split()
    assert re.fullmatch(r"\d+(\.\d)?Mi", h[1]) and abs(float(h[1][:-2]) - m1["MemTotal"] / 1024) < 1
    si = ok(run("--vm", vm, "free", "--si", "-h")).splitlines()[1].split()
    assert re.fullmatch(r"\d+(\.\d)?M", si[1]), si
    # -w: buffers and cache apart; -t: a Total line
    out = ok(run("--vm", vm, "free", "-wt")).splitlines()
    assert out[0].split() == ["total", "used", "free", "shared", "buffers", "cache", "available"]
    assert out[3].split()[0] == "Total:" and int(out[3].split()[1]) == m1["MemTotal"] + m1["SwapTotal"]
    # -s / -c: frames separated by a blank line, as procps prints them
    out = ok(run("--vm", vm, "free", "-c", "3", "-s", "0.1"))
    assert out.count("Mem:") == 3 and out.count("\n\n") == 3
    assert len(ok(run("--vm", vm, "free", "-j", "-c", "2", "-s", "0.1")).splitlines()) == 2
    usage_error(run("--vm", vm, "free", "-c", "0"))
    usage_error(run("--vm", vm, "free", "-s", "x"))


# ---- uname (coreutils) ----------------------------------------------------------------------

def test_uname(lab_vm):
    u = {k: v.decode() for k, v in lab_vm.truth.uname.items()}
    vm = lab_vm.name
    for opt, key in (("-s", "sysname"), ("-n", "nodename"), ("-r", "release"), ("-v", "version"),
                     ("-m", "machine")):
        assert ok(run("--vm", vm, "uname", opt)) == u[key] + "\n", opt
    assert ok(run("--vm", vm, "uname")) == u["sysname"] + "\n"
    assert ok(run("--vm", vm, "uname", "-rn")) == f"{u['nodename']} {u['release']}\n"
    assert ok(run("--vm", vm, "uname", "-a")).split()[-1] == "GNU/Linux"


# ---- lsmod, mount (kmod, util-linux) ---------------------------------------------------------

def test_lsmod(lab_vm):
    want = [l.split() for l in lab_vm.truth.files["/proc/modules"].decode().splitlines()]
    out = ok(run("--vm", lab_vm.name, "lsmod")).splitlines()
    assert out[0].split() == ["Module", "Size", "Used", "by"]
    got = [l.split() for l in out[1:]]
    # lsmod: name, size, use count, then the users without /proc/modules' trailing comma
    assert [g[:3] for g in got] == [w[:3] for w in want]
    for g, w in zip(got, want):
        users = [u for u in w[3].split(",") if u and u != "-"]
        assert (g[3].split(",") if len(g) > 3 else []) == users, (g, w)


def test_mount(lab_vm):
    want = [l.split() for l in lab_vm.truth.files["/proc/mounts"].decode().splitlines()]
    got = ok(run("--vm", lab_vm.name, "mount")).splitlines()
    # mount(8): "DEV on PATH type FSTYPE (OPTIONS)" in /proc/mounts' order
    for line, w in zip(got, want):
        m = re.match(r"^(\S+) on (\S+) type (\S+) \((.*)\)$", line)
        assert m and m.group(1, 2, 3) == (w[0], w[1], w[2]), (line, w)
    assert len(got) == len(want)
    assert ok(run("--vm", lab_vm.name, "mount", "-p")).splitlines() == \
        [l for l in lab_vm.truth.files["/proc/mounts"].decode().splitlines()]


# ---- ip addr (iproute2; busybox's ip in the guest) -------------------------------------------

def test_ip_addr_as_busybox(lab_vm):
    """Every address line busybox's ip addr prints in the guest, nfm ip addr prints too."""
    want = lab_vm.truth.commands["ip addr"].decode().splitlines()
    got = ok(run("--vm", lab_vm.name, "ip", "addr")).splitlines()
    addr = lambda lines: sorted(tuple(l.split()[:2]) for l in lines if l.strip().startswith("inet"))
    assert addr(got) == addr(want)
    ifs = lambda lines: [re.match(r"^\d+: (\S+):", l).group(1) for l in lines if re.match(r"^\d+: ", l)]
    assert ifs(got) == ifs(want)
