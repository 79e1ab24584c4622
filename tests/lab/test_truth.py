"""The guest's truth is complete and says what the zoo set up (the baseline nfm is compared to)."""
import errno
import os
import struct
import subprocess

from conftest import NFM_LAB

# Independent expectations for a few roles (the manifest is the zoo's own claim; these pin it).
KNOWN = {
    "space": (b"zoo with space", b"zoo with space\0arg two\0x y\0"),
    "utf8": ("zoo-ünïcødé".encode(), "zoo-ünïcødé\0ärg\0".encode()),
    "utf8cut": ("zoo-ééééééé".encode()[:15], "zoo-ééééééé\0".encode()),
    "wide": ("zoo-漢字寬".encode(), "zoo-漢字寬\0寬字元寬字元寬字元寬字元寬字元寬字元寬字元\0x\0".encode()),
    "tab": (b"zoo\ttab\tname", b"zoo\ttab\0a\tb\0"),
    "escape": (b"\x1b[31mzoo-red\x1b[0", b"\x1b[31mred\x1b[0m\0\x1b]0;title\x07\0"),
    "longname": (b"zoo-this-name-i", b"zoo-this-name-is-much-longer-than-fifteen\0--flag=value\0"),
    "kthread": (b"kworker/0:9", b"[kworker/0:9]\0"),
    "emptyargv": (b"", b"\0"),
    "emptyargs": (b"zoo-emptyargs", b"zoo-emptyargs\0\0\0"),
}


def port_hex(port):
    return ("%04X" % port).encode()


def test_truth_is_complete(lab_vm):
    t = lab_vm.truth
    assert t.clock_start and t.clock_end and t.clock_end[1] >= t.clock_start[1]
    assert len(t.processes) > 60
    for path in ("/proc/modules", "/proc/mounts", "/proc/meminfo", "/proc/stat", "/proc/cpuinfo",
                 "/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp", "/proc/net/udp6",
                 "/proc/net/unix", "/proc/net/route", "/proc/net/arp", "/proc/net/dev",
                 "/proc/net/if_inet6", "/proc/version", "/proc/cmdline", "/proc/uptime"):
        assert t.files.get(path), path
    init = t.processes[1]
    assert init.stat["ppid"] == 0 and init.fds is not None and init.threads
    # A process may exit between the guest's readdir of /proc and its read of stat (a short-lived
    # helper): the snapshot then records the read's errno. Only that, only for a few, and never a
    # zoo role; every other process has its stat.
    vanished = {p.pid for p in t.processes.values() if p.stat is None}
    assert all(t.processes[pid].errors.get("stat") in (errno.ENOENT, errno.ESRCH)
               for pid in vanished), {pid: t.processes[pid].errors for pid in vanished}
    assert len(vanished) <= 3, vanished
    assert not vanished & {r.pid for r in t.roles.values()}, vanished


def test_every_role_matches_its_manifest(lab_vm):
    t = lab_vm.truth
    assert len(t.roles) >= 25 + 40  # fixed roles + default --procs 40 sleepers
    for name, r in t.roles.items():
        p = t.processes.get(r.pid)
        assert p is not None, name
        assert p.comm == r.comm, name
        assert p.stat["comm"] == r.comm, name
        assert p.cmdline == r.cmdline, name
        assert p.environ == r.environ, name


def test_known_names_and_cmdlines(lab_vm):
    t = lab_vm.truth
    for name, (comm, cmdline) in KNOWN.items():
        r, p = t.roles[name], t.role_process(name)
        assert (r.comm, r.cmdline) == (comm, cmdline), name
        assert (p.comm, p.cmdline) == (comm, cmdline), name
    assert len(t.role_process("longargv").cmdline) > 5000
    assert t.role_process("proctitle").cmdline.startswith(b"zoo: rewritten title (idle)\0")
    env = t.role_process("env").environ.split(b"\0")
    assert "ZOO_ENV_UTF8=ünïcødé".encode() in env and b"ZOO_ENV_EMPTY=" in env


def test_threads_are_named(lab_vm):
    t = lab_vm.truth
    r, p = t.roles["threads"], t.role_process("threads")
    assert len(r.threads) >= 4 and len(p.threads) == int(r.expect["threads"])
    for tid, comm in r.threads.items():
        assert p.threads[tid].comm == comm
    assert "zt-long-name-over-15"[:15].encode() in r.threads.values()


def test_process_states(lab_vm):
    t = lab_vm.truth
    assert t.role_process("zombie1").state == "Z"
    assert t.role_process("zombie2").state == "Z"
    assert t.role_process("zombie1").stat["ppid"] == t.roles["zparent"].pid
    assert t.role_process("stopped").state == "T"


def test_uids_and_nice(lab_vm):
    t = lab_vm.truth
    for role in ("uid", "uidmix"):
        st = t.role_process(role).status
        assert st["Uid"].split() == t.roles[role].expect["uid"].encode().split()
        assert st["Gid"].split() == t.roles[role].expect["gid"].encode().split()
    for role, nice in (("uid", 10), ("nice-5", -5), ("nice19", 19)):
        assert t.role_process(role).stat["nice"] == nice


def test_files_and_memory(lab_vm):
    t = lab_vm.truth
    r, p = t.roles["files"], t.role_process("files")
    ex = r.expect
    assert p.fds[int(ex["fd_regular"])] == b"/etc/nfm-lab.txt"
    assert p.fds[int(ex["fd_deleted"])] == b"/mnt/tmpfs/zoo-deleted.txt (deleted)"
    assert p.fds[int(ex["fd_mmap_shared"])] == b"/mnt/tmpfs/zoo-shared.bin"
    assert p.fds[int(ex["pipe"].split()[0])].startswith(b"pipe:[")
    assert p.fds[int(ex["eventfd"])] == b"anon_inode:[eventfd]"
    assert int(ex["fd_high"]) == 200 and p.fds[200] == p.fds[int(ex["pipe"].split()[0])]
    assert b"flags:\t0102001" in p.fdinfo[int(ex["fd_append"])]  # O_APPEND|O_WRONLY|O_LARGEFILE
    maps = b"\n".join(p.maps)
    assert ex["mmap_shared"].encode() + b" rw-s" in maps
    assert ex["mmap_private"].encode() + b" rw-p" in maps
    lo, hi = (int(x, 16) for x in ex["anon"].split("-"))
    assert any(int(m.split(b"-")[0], 16) <= lo and int(m.split()[0].split(b"-")[1], 16) >= hi
               for m in p.maps)
    assert int(p.status["VmRSS"].split()[0]) * 1024 >= int(ex["anon_bytes"])
    assert t.files["/etc/nfm-lab.txt"].startswith(b"nfm-lab known content\n")


def test_network(lab_vm):
    t = lab_vm.truth
    assert b"dummy " in t.files["/proc/modules"]
    addr = t.commands["ip addr"]
    assert b"inet 10.77.0.2/24" in addr and b"inet6 fd00:77::2/64" in addr
    assert b"10.78.0.0/16 via 10.77.0.1 dev dummy0" in t.commands["ip route"]
    assert b"10.77.0.1" in t.files["/proc/net/arp"] and b"52:54:00:77:00:01" in t.files[
        "/proc/net/arp"]
    assert b"00004E0A" in t.files["/proc/net/route"]  # 10.78.0.0 little-endian
    tcp, tcp6 = t.files["/proc/net/tcp"], t.files["/proc/net/tcp6"]
    assert b"0100007F:%s 00000000:0000 0A" % port_hex(7701) in tcp
    assert b"0100007F:%s 01" % port_hex(7701) in tcp  # the remote side of an established pair
    lo6 = b"00000000000000000000000001000000"
    assert b"%s:%s %s:0000 0A" % (lo6, port_hex(7702), b"0" * 32) in tcp6
    assert b"%s:%s 01" % (lo6, port_hex(7702)) in tcp6
    assert b"0100007F:%s" % port_hex(7703) in t.files["/proc/net/udp"]
    assert b":%s" % port_hex(7704) in t.files["/proc/net/udp6"]
    unix = t.files["/proc/net/unix"]
    for path in (b"/run/zoo-stream.sock", b"/run/zoo-dgram.sock", b"@nfm-zoo-abstract"):
        assert path in unix


def test_system(lab_vm):
    t = lab_vm.truth
    assert b" /mnt/tmpfs tmpfs " in t.files["/proc/mounts"]
    marker = ("NFM-LAB-MARKER " + lab_vm.info["marker"]).encode()
    assert any(rec.text == marker for rec in t.kmsg)
    seqs = [rec.seq for rec in t.kmsg]
    assert seqs == sorted(seqs)
    assert t.uname["release"].decode() == lab_vm.kernel
    assert lab_vm.info["package"] == "linux-image-" + lab_vm.kernel
    assert t.files["/proc/sys/kernel/osrelease"].strip().decode() == lab_vm.kernel
    for sym in ("init_task", "init_uts_ns", "_stext", "_text", "linux_banner", "init_net", "prb"):
        s = t.kallsyms[sym]
        assert s.addr >= 0xffffffff80000000, sym
    assert t.kallsyms_count > 10000 and len(t.kallsyms_lines) >= t.kallsyms_count // 500


def test_fresh_truth_same_zoo(lab_vm):
    t2, path = lab_vm.fresh_truth()
    assert os.path.exists(path) and t2.id != lab_vm.truth.id
    assert {n: r.pid for n, r in t2.roles.items()} == {
        n: r.pid for n, r in lab_vm.truth.roles.items()}


def test_dump(lab_vm, tmp_path):
    elf, t = lab_vm.dump(tmp_path / "guest.elf")
    with open(elf, "rb") as f:
        hdr = f.read(64)
    assert hdr[:4] == b"\x7fELF" and struct.unpack_from("<H", hdr, 16)[0] == 4  # ET_CORE
    assert os.path.getsize(elf) >= 256 << 20
    assert os.path.exists(elf + ".truth")
    assert t.role_process("stopped").state == "T"
    assert {n: r.pid for n, r in t.roles.items()} == {
        n: r.pid for n, r in lab_vm.truth.roles.items()}
    os.unlink(elf)


def test_bogus_kernel_is_one_line_error():
    r = subprocess.run([NFM_LAB, "start", "--kernel", "bogus"], capture_output=True, text=True)
    assert r.returncode != 0
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "bogus" in r.stderr
