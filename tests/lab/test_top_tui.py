"""nfm top's full-screen view in a real terminal (tmux, issue 15): what a person sees at 80x24
and 200x50, checked against the guest's own process table; filter, scroll, tree, a paused VM
(QMP stop/cont), a remote nfmd on 127.0.0.1 and one that does not answer. A second VM booted and
stopped during the run is NFM_LAB_FULL=1 only (a TCG boot here takes minutes under load)."""
import argparse
import os
import socket
import subprocess
import time
import unicodedata
from pathlib import Path

import pytest

import nfmcli
from nfmlab import vm
from nfmlab.qmp import QMP

class Term:
    """One nfm top in its own tmux server (-L: never the user's), cols x rows."""

    def __init__(self, argv, cols, rows, env=None):
        self.sock = "nfm-top-test-%d-%d" % (os.getpid(), time.monotonic_ns())
        self.env = dict(os.environ, TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8",
                        **(env or {}))
        cmd = " ".join("'%s'" % a.replace("'", "'\\''") for a in argv)
        self.tmux("new-session", "-d", "-x", str(cols), "-y", str(rows), cmd)
        self.tmux("set-option", "-g", "remain-on-exit", "on")
        self.cols, self.rows = cols, rows

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.sock, *args], capture_output=True, text=True,
                              env=self.env, timeout=30, check=True).stdout

    def keys(self, *keys):
        self.tmux("send-keys", *keys)

    def screen(self):
        return self.tmux("capture-pane", "-p").splitlines()

    def wait(self, pred, what, timeout=90):
        deadline, s = time.monotonic() + timeout, []
        while time.monotonic() < deadline:
            s = self.screen()
            if pred(s):
                return s
            time.sleep(0.3)
        pytest.fail("%s not on the screen within %ds:\n%s" % (what, timeout, "\n".join(s)))

    def close(self):
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True, timeout=30)


def width(line):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def table(screen):
    """(column titles, rows split in cells) of the process table on the screen."""
    for i, l in enumerate(screen):
        if l.split()[:2] == ["VM", "PID"]:
            return l.split(), [r for r in screen[i + 1:] if r.strip()]
    return None, []


def pid_of(row):
    return int(row.split()[1])


@pytest.fixture
def term():
    made = []

    def start(args, cols, rows, env=None):
        t = Term([nfmcli.NFM, *args], cols, rows, env)
        made.append(t)
        return t
    yield start
    for t in made:
        t.close()


def test_batch_user_and_sort_field(lab_vm):
    """top -bn1 -u root -o PID (procps: highest PID first), -o -PID lowest first; USER is the
    guest's own name of the euid, and -u keeps exactly the guest's processes of that euid."""
    def rows(*args):
        p = nfmcli.run("--vm", lab_vm.pid, "top", "-bn1", "-d0.3", *args, timeout=120)
        assert p.returncode == 0, p.stderr
        lines = p.stdout.splitlines()
        head = next(i for i, l in enumerate(lines) if l.split()[:2] == ["VM", "PID"])
        return [l.split() for l in lines[head + 1:] if l.strip()]
    down = rows("-u", "root", "-o", "PID")
    pids = [int(r[1]) for r in down]
    assert pids == sorted(pids, reverse=True) and 1 in pids
    assert all(r[2] == "root" for r in down)
    up = [int(r[1]) for r in rows("-u", "0", "-o", "-PID")]
    assert up[0] == 1 and up == sorted(up)
    truth = lab_vm.truth.processes
    zoo = [p for p in truth.values() if p.stat and p.status.get("Uid", b"0 0").split()[1] != b"0"]
    assert zoo, "the zoo runs processes as other users"
    uid = zoo[0].status["Uid"].split()[1]

    def euid_pids(t):
        return {p.pid for p in t.processes.values()
                if p.stat and p.status.get("Uid", b"").split()[1:2] == [uid]}
    t1, _ = lab_vm.fresh_truth()
    got = {int(r[1]) for r in rows("-u", uid.decode())}
    t2, _ = lab_vm.fresh_truth()
    # exactly that user's processes: every one alive through both truths, none of another user
    assert euid_pids(t1) & euid_pids(t2) <= got, (euid_pids(t1), got)
    assert got <= euid_pids(t1) | euid_pids(t2), (got, euid_pids(t1), euid_pids(t2))


def test_80x24_layout_and_filter(lab_vm, term):
    """80x24: every line fits, COMMAND is the last column, the VM name is cut with '+', PR/NI/
    VIRT are left out; '/' keeps exactly the guest's zoo-burn processes."""
    t = term(["--vm", str(lab_vm.pid), "top", "-d", "0.5"], 80, 24)
    s = t.wait(lambda s: len(table(s)[1]) >= 10, "the process table")
    titles, rows = table(s)
    assert titles == ["VM", "PID", "USER", "RES", "S", "%CPU", "%HOST", "%MEM", "TIME+", "COMMAND"]
    assert len(s) <= 24 and all(width(l) <= 80 for l in s), s
    assert len(rows) == 24 - s.index(next(l for l in s if l.startswith("VM "))) - 1
    short = lab_vm.name[:7] + "+"
    assert all(r.startswith(short + " ") for r in rows), rows
    assert any(l.startswith("1 " + lab_vm.name) for l in s), "the full name in the VM header"
    # rows of processes the guest listed: the guest's own comm (cut to the column), its user
    truth = lab_vm.truth.processes
    known = [r for r in rows if pid_of(r) in truth and truth[pid_of(r)].comm.isascii()
             and truth[pid_of(r)].comm.decode().isprintable() and " " not in truth[pid_of(r)].comm.decode()
             and not truth[pid_of(r)].comm.startswith(b"kworker/")]  # its work item changes
    assert len(known) >= 5, rows
    for r in known:
        comm = truth[pid_of(r)].comm.decode()
        shown = r.split()[-1]
        assert comm == shown or (shown.endswith("+") and comm.startswith(shown[:-1])), (r, comm)
        if truth[pid_of(r)].status["Uid"].split()[1] == b"0":  # the euid; /etc/passwd names it
            assert r.split()[2] == "root", r
    t.keys("/")
    t.keys("zoo-burn", "Enter")
    s = t.wait(lambda s: "filter COMMAND=zoo-burn" in s[0] and table(s)[1], "the filtered view")
    want = {lab_vm.truth.roles[r].pid for r in ("burn30", "burn70")}
    assert {pid_of(r) for r in table(s)[1]} == want, s
    assert all(r.split()[-1].startswith("zoo-burn") for r in table(s)[1])
    t.keys("=")
    t.wait(lambda s: "filter" not in s[0] and len(table(s)[1]) > 2, "the filter cleared")


def test_80x24_scroll_and_help(lab_vm, term):
    """N sorts by PID; Down moves the table by one row, PgDn by a page, Home back; h shows the
    keys and any key returns."""
    t = term(["--vm", str(lab_vm.pid), "top", "-d", "2"], 80, 24)
    t.wait(lambda s: len(table(s)[1]) >= 10, "the process table")
    t.keys("N")
    s = t.wait(lambda s: "by PID" in s[0] and pid_of(table(s)[1][0]) == 1, "sorted by PID")
    first = [pid_of(r) for r in table(s)[1]]
    assert first == sorted(first) and len(first) >= 10
    for _ in range(3):
        t.keys("Down")
    s = t.wait(lambda s: pid_of(table(s)[1][0]) == first[3], "scrolled by 3 rows")
    assert [pid_of(r) for r in table(s)[1]][:len(first) - 3] == first[3:]
    t.keys("NPage")
    s = t.wait(lambda s: pid_of(table(s)[1][0]) > first[-1], "the next page")
    t.keys("Home")
    t.wait(lambda s: pid_of(table(s)[1][0]) == 1, "back at the top")
    t.keys("h")
    s = t.wait(lambda s: any("collapse" in l for l in s), "the help screen")
    assert all(width(l) <= 80 for l in s)
    t.keys("x")
    t.wait(lambda s: table(s)[1], "the table again")


def test_200x50_tree_paused(lab_vm, term):
    """200x50: every column and the whole VM name; V shows the zoo under its spawner; a VM
    stopped by QMP is marked PAUSED within seconds and unmarked after cont; 1 collapses it."""
    t = term(["--vm", str(lab_vm.pid), "top", "-d", "0.5"], 200, 50)
    s = t.wait(lambda s: len(table(s)[1]) >= 20, "the process table")
    titles, rows = table(s)
    assert titles == ["VM", "PID", "USER", "PR", "NI", "VIRT", "RES", "S", "%CPU", "%HOST",
                      "%MEM", "TIME+", "COMMAND"]
    if len(lab_vm.name) <= 20:
        assert all(r.startswith(lab_vm.name + " ") for r in rows)
    t.keys("o")
    t.keys("COMMAND=zoo", "Enter")
    t.keys("V")
    s = t.wait(lambda s: ", tree" in s[0] and any("`- zoo-burn70" in l for l in s), "the tree")
    spawner = lab_vm.truth.roles["burn70"].pid
    ppid = lab_vm.truth.processes[spawner].stat["ppid"]
    rows = table(s)[1]
    parent = next(i for i, r in enumerate(rows) if pid_of(r) == ppid)
    child = next(i for i, r in enumerate(rows) if pid_of(r) == spawner)
    assert parent < child, "a child after its parent"
    try:
        with QMP(lab_vm.qmp) as q:
            q.cmd("stop")
        s = t.wait(lambda s: any(l.startswith("1 ") and "PAUSED" in l for l in s), "PAUSED", 30)
    finally:
        with QMP(lab_vm.qmp) as q:
            q.cmd("cont")
    t.wait(lambda s: not any("PAUSED" in l for l in s), "PAUSED gone after cont", 30)
    t.keys("1")
    s = t.wait(lambda s: any("[collapsed]" in l for l in s) and not table(s)[1], "collapsed")


def test_remote_nfmd_and_unreachable(lab_vm, term, tmp_path):
    """--remote to a local nfmd shows its VM beside the local one; a port nobody answers on is
    one line marked '!' with why, and the screen keeps refreshing."""
    nfmd = os.environ.get("NFMD_BIN", str(Path(nfmcli.NFM).resolve().parents[1] / "nfmd" / "nfmd"))
    assert os.path.exists(nfmd), "nfmd is built beside nfm"
    ports = []
    for _ in range(2):
        with socket.socket() as so:
            so.bind(("127.0.0.1", 0))
            ports.append(so.getsockname()[1])
    log = open(tmp_path / "nfmd.log", "w")
    d = subprocess.Popen([nfmd, "--listen", "127.0.0.1:%d" % ports[0], "--vm", lab_vm.name,
                          "--interval", "500ms", "--ps-interval", "1s"],
                         stdout=subprocess.DEVNULL, stderr=log)
    try:
        t = term(["--vm", str(lab_vm.pid), "top", "-d", "1", "--remote",
                  "127.0.0.1:%d,127.0.0.1:%d" % tuple(ports)], 200, 50)
        remote = "127.0.0.1:%d/%s" % (ports[0], lab_vm.name)
        s = t.wait(lambda s: any(remote in l and "up " in l for l in s)
                   and any(r.startswith("127.0.0.1:%d/" % ports[0]) for r in table(s)[1]),
                   "the remote VM and its processes", 120)
        bad = [l for l in s if "127.0.0.1:%d" % ports[1] in l]
        assert len(bad) == 1 and " ! nfmd at" in bad[0] and "did not answer" in bad[0], bad
        t.keys("v")
        s = t.wait(lambda s: "only " + lab_vm.name in s[0] or "only pytest" in s[0], "one VM")
    finally:
        d.terminate()
        d.wait(timeout=30)


def test_remote_silent_host_does_not_freeze(lab_vm, term):
    """An nfmd that accepts the connection and never answers (held until the 5 s timeout):
    the local VM's rows keep refreshing meanwhile, the host is marked as waited for."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel accepts; nobody reads or answers
        hp = "127.0.0.1:%d" % silent.getsockname()[1]
        t = term(["--vm", str(lab_vm.pid), "top", "-d", "0.3", "--remote", hp], 200, 50)
        burn = lab_vm.truth.roles["burn70"].pid

        def burn_time(s):
            r = [r for r in table(s)[1] if pid_of(r) == burn]
            return r[0].split()[-2] if r else None
        s = t.wait(lambda s: burn_time(s) and any("waiting for nfmd at " + hp in l for l in s),
                   "the local rows beside the waited-for host")
        first, t0 = burn_time(s), time.monotonic()
        s = t.wait(lambda s: burn_time(s) not in (None, first), "a refreshed row", 4)
        assert time.monotonic() - t0 < 4 and any("waiting for nfmd at " + hp in l for l in s), s


def test_vm_appears_and_exits(lab_vm, term):
    """Without --vm: a VM booted during the run is added, and removed when it exits (a second
    boot: about half a minute under TCG here, in the default suite as the issue asks)."""
    name = "pytest-tui2-%d" % os.getpid()
    t = term(["top", "-d", "1", "-o", "PID"], 200, 50)
    t.wait(lambda s: any(lab_vm.name in l for l in s), "the lab VM")
    opts = argparse.Namespace(kernel=os.environ.get("NFM_LAB_KERNELS", "6.1-cloud").split()[0], name=name, mem="256M", cpus=1, procs=10,
                              qmp="on", shm="off", machine="pc", la57="off", accel="auto")
    try:
        vm.start(opts)
        t.wait(lambda s: any(name in l and "up " in l for l in s), "the new VM", 120)
    finally:
        vm.stop(name)
    t.wait(lambda s: not any(name in l for l in s), "the VM gone", 60)



def test_wchan_key(lab_vm, term):
    """w adds a WCHAN column before COMMAND (init's is the wchan the guest's own /proc/1/wchan
    gives) and takes it away again."""
    from test_bt import frame_pointer_wchan, truth_threads
    t = term(["--vm", str(lab_vm.pid), "top", "-d", "1", "-p", "1"], 200, 50)
    t.wait(lambda s: table(s)[1], "the process table")
    t.keys("w")
    s = t.wait(lambda s: (table(s)[0] or [])[-2:] == ["WCHAN", "COMMAND"], "the WCHAN column")
    truth = lab_vm.fresh_truth()[0]
    _, stack, want, _ = truth_threads(truth)[1]
    if want == "0" and frame_pointer_wchan(truth) and stack:
        # before 5.16 an ORC kernel's own wchan is 0 for every task (test_bt.py says why):
        # the first frame of its /proc/1/stack is what 5.16+ and nfm give
        want = stack[0].split("+")[0]
    # the column is 14 wide: a longer name is cut as top cuts it, its last cell a "+"
    # (trixie's gcc-14 kernel: init waits in sigsuspend.isra.0)
    shown = want if len(want) <= 14 else want[:13] + "+"
    assert want not in ("", "0") and table(s)[1][0].split()[-2] == shown, (want, s)
    t.keys("w")
    t.wait(lambda s: "WCHAN" not in (table(s)[0] or []), "the WCHAN column gone")


def cells_from(line, col):
    """line's text from terminal cell col on (wide characters take two cells)."""
    at = 0
    for i, ch in enumerate(line):
        if at >= col:
            return line[i:]
        at += width(ch)
    return ""


def test_80x24_command_line_wide(lab_vm, term):
    """c shows the command line as procps top -c does (a kernel thread's comm in []): in 80
    columns the wide-character one is cut at a character boundary with '+' in its last cell, a
    prefix of the guest's own cmdline, and every line fits in 80 cells; c again shows the
    comm; batch -c prints the whole command line."""
    wide = lab_vm.truth.roles["wide"].pid
    argv = lab_vm.truth.processes[wide].cmdline.rstrip(b"\0").split(b"\0")
    full = b" ".join(argv).decode()
    t = term(["--vm", str(lab_vm.pid), "top", "-d", "0.5", "-p", "2,%d" % wide], 80, 24)
    t.wait(lambda s: len(table(s)[1]) == 2, "the two processes")
    t.keys("c")

    def shown(s):
        titles = next(l for l in s if l.split()[:2] == ["VM", "PID"])
        col = titles.index("COMMAND")
        return {pid_of(r): cells_from(r, col).rstrip() for r in table(s)[1]}, col
    first = argv[0].decode() + " "
    s = t.wait(lambda s: shown(s)[0].get(wide, "").startswith(first), "the command line")
    cmds, col = shown(s)
    assert all(width(l) <= 80 for l in s), s
    assert cmds[2] == "[kthreadd]", cmds
    cut = cmds[wide]
    room = 80 - col
    assert cut.endswith("+") and full.startswith(cut[:-1]), (cut, full)
    # cut to the room left, less one cell when the next wide character would straddle the edge
    assert room - 2 <= width(cut) <= room, (cut, room)
    t.keys("c")
    t.wait(lambda s: shown(s)[0].get(wide) == lab_vm.truth.processes[wide].comm.decode(),
           "the program name again")
    p = nfmcli.run("--vm", lab_vm.pid, "top", "-bn1", "-c", "-d0.3", "-p", "2,%d" % wide,
                   timeout=120)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert any(l.endswith(" " + full) for l in lines), lines
    assert any(l.endswith(" [kthreadd]") for l in lines), lines
