"""Bad input gets one clear error line and a non-zero exit, never a crash (issue 3)."""
import os
import struct
import subprocess
import time

import pytest

from nfmcli import one_error_line, run


@pytest.fixture(scope="module")
def bios_vm(tmp_path_factory):
    """A QEMU VM that runs only its firmware: a guest with no Linux kernel in memory."""
    d = tmp_path_factory.mktemp("bios")
    pidfile = d / "pid"
    subprocess.run(["qemu-system-x86_64", "-name", "nfm-test-bios", "-m", "64", "-display", "none",
                    "-accel", "tcg", "-daemonize", "-pidfile", str(pidfile)], check=True)
    pid = int(pidfile.read_text())
    time.sleep(1)
    yield pid
    os.kill(pid, 15)


def test_pid_does_not_exist():
    line = one_error_line(run("--vm", "999999", "info"))
    assert line == "nfm: no process 999999"


def test_pid_is_not_qemu():
    line = one_error_line(run("--vm", os.getpid(), "info"))
    assert line == f"nfm: pid {os.getpid()} is not a QEMU process"


def test_no_permission(bios_vm):
    line = one_error_line(run("--vm", bios_vm, "info", user=65534))
    assert line == f"nfm: no permission to read QEMU pid {bios_vm} (run as root)"


def test_guest_without_linux(bios_vm):
    line = one_error_line(run("--vm", bios_vm, "info"))
    assert "no Linux kernel found in guest memory" in line


def test_unknown_vm_name():
    line = one_error_line(run("--vm", "name:no-such-vm", "info"))
    assert "no VM named no-such-vm" in line


def test_zero_filled_dump(tmp_path):
    f = tmp_path / "zeros.raw"
    with open(f, "wb") as o:
        o.truncate(64 << 20)
    line = one_error_line(run("--vm", f, "info"))
    assert "no Linux kernel found in guest memory" in line


def test_empty_dump(tmp_path):
    f = tmp_path / "empty.elf"
    f.write_bytes(b"")
    assert one_error_line(run("--vm", f, "info")) == f"nfm: {f}: empty file"


def elf_core(machine=62, phnum=1, truncate=None):
    """A minimal ELF64 core header (x86-64 unless machine says otherwise)."""
    eh = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    eh += struct.pack("<HHIQQQIHHHHHH", 4, machine, 1, 0, 64, 0, 0, 64, 56, phnum, 64, 0, 0)
    ph = struct.pack("<IIQQQQQQ", 1, 6, 0x1000, 0, 0, 0x1000, 0x1000, 0x1000)
    data = eh + ph + bytes(0x1000 - len(eh) - len(ph)) + bytes(0x1000)
    return data[:truncate] if truncate else data


def test_truncated_elf_dump(tmp_path):
    f = tmp_path / "trunc.elf"
    f.write_bytes(elf_core(truncate=100))
    line = one_error_line(run("--vm", f, "info"))
    assert "truncated ELF dump" in line


def test_elf_dump_of_other_architecture(tmp_path):
    f = tmp_path / "riscv.elf"
    f.write_bytes(elf_core(machine=243))
    line = one_error_line(run("--vm", f, "info"))
    assert "not an x86-64 or arm64 core dump" in line


def test_unknown_command():
    p = run("frobnicate")
    assert p.returncode != 0
    assert p.stderr.strip() == "nfm: unknown command 'frobnicate' (see nfm --help)"


def test_directory_is_not_a_dump(tmp_path):
    line = one_error_line(run("--vm", tmp_path, "ps"))
    assert line == f"nfm: not a memory dump: {tmp_path} is a directory"


def test_fifo_is_not_a_dump(tmp_path):
    f = tmp_path / "fifo"
    os.mkfifo(f)
    line = one_error_line(run("--vm", f, "ps", timeout=10))
    assert line.startswith(f"nfm: not a memory dump: {f} is a FIFO")


def test_list_as_non_root_says_permission(bios_vm):
    """A user who may not read QEMU's memory is told so, not that the guest has no kernel."""
    p = run("list", user=65534)
    assert p.returncode == 0, p.stderr
    row = next(x for x in p.stdout.splitlines() if x.split()[0] == str(bios_vm))
    assert "(permission denied: run as root)" in row and "no Linux kernel" not in row
