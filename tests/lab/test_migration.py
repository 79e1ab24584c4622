"""QEMU migration streams (`migrate "exec:cat > FILE"`) read as dumps: a stopped guest migrated
to a file shows every view as the ELF dump of the same moment does; a running guest migrated
live (pages sent again as they are dirtied, the last copy winning) shows every view as the
guest itself does once migration has paused it. A stream cut short, or one whose pages QEMU
compressed, says so in one line."""
import os
import shutil
import struct
import time

import pytest

from nfmlab.qmp import QMP
from nfmcli import run, run_json, one_error_line

VIEWS = [["ps", "-L"], ["env", "1"], ["lsof"], ["lsmod"], ["ss", "-a"], ["dmesg"], ["maps", "1"],
         ["mount"], ["ip", "addr"]]


def migrate(q, path, **caps):
    """Migrate to path through cat; the guest stays paused (postmigrate) until the caller's cont."""
    if caps:
        q.cmd("migrate-set-capabilities",
              capabilities=[{"capability": k, "state": v} for k, v in caps.items()])
    try:
        q.cmd("migrate", uri="exec:cat > " + path)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            st = q.cmd("query-migrate")
            if st.get("status") in ("completed", "failed", "cancelled"):
                break
            time.sleep(0.2)
        assert st.get("status") == "completed", st
        assert q.cmd("query-status")["status"] == "postmigrate"
        return st
    finally:
        if caps:
            q.cmd("migrate-set-capabilities",
                  capabilities=[{"capability": k, "state": False} for k in caps])


def doc(target, args):
    return run_json("--vm", str(target), *args, kind="auto", ok=(0, 4))


@pytest.fixture(scope="module")
def streams(lab_vm, tmp_path_factory):
    d = tmp_path_factory.mktemp("migration")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_migration_stopped_equals_elf(lab_vm, streams):
    elf, mig = str(streams / "guest.elf"), str(streams / "stopped.qevm")
    with QMP(lab_vm.qmp, timeout=600) as q:
        q.cmd("stop")
        try:
            q.cmd("dump-guest-memory", paging=False, protocol="file:" + elf, format="elf")
            migrate(q, mig)
        finally:
            q.cmd("cont")
    for args in VIEWS:
        assert doc(elf, args) == doc(mig, args), args
    info = run_json("--vm", mig, "info", kind="info")
    assert info["kernel"]["source"].startswith("QEMU migration stream %s (pc-" % mig), info["kernel"]
    assert info["kernel"]["release"].encode() == lab_vm.truth.uname["release"]


def test_migration_live_equals_paused_guest(lab_vm, streams):
    """Live: the guest runs (its burners dirty pages) while RAM is sent, so pages go out more than
    once; at completion QEMU pauses it, and its memory then is what the stream's last copies hold."""
    mig = str(streams / "live.qevm")
    with QMP(lab_vm.qmp, timeout=600) as q:
        try:
            st = migrate(q, mig)
            assert st["ram"]["dirty-sync-count"] >= 2, st["ram"]
            for args in VIEWS:
                assert doc(lab_vm.pid, args) == doc(mig, args), args
        finally:
            q.cmd("cont")
    ps = doc(mig, ["ps"])
    pids = {p["pid"] for p in ps["processes"]}
    assert {lab_vm.truth.roles[r].pid for r in ("burn30", "burn70")} <= pids


def test_migration_damaged(lab_vm, streams, tmp_path):
    src = streams / "stopped.qevm"
    if not src.exists():
        pytest.fail("test_migration_stopped_equals_elf did not leave its stream")
    size = os.path.getsize(src)
    cut = tmp_path / "cut.qevm"
    with open(src, "rb") as f:
        cut.write_bytes(f.read(size // 2))
    line = one_error_line(run("--vm", cut, "ps"))
    assert "incomplete QEMU migration stream" in line or "corrupt QEMU migration stream" in line, line
    # compressed pages (the compress capability): refused by name
    comp = str(streams / "compressed.qevm")
    with QMP(lab_vm.qmp, timeout=600) as q:
        try:
            migrate(q, comp, compress=True)
        finally:
            q.cmd("cont")
    line = one_error_line(run("--vm", comp, "ps"))
    assert "with compressed pages, which nfm cannot read" in line, line


def save_image(stream, out, fmt=0, magic=b"LibvirtQemudSave", xml=b"<domain type='kvm'/>"):
    """A `virsh save` image of a migration stream, to libvirt's on-disk format
    (src/qemu/qemu_saveimage.h): magic, then u32 version 2, data_len, was_running, format,
    cookieOffset and 14 unused words, then the domain XML (NUL-terminated, padded as libvirt
    pads it) and the stream. No libvirt in the lab: the image is built around QEMU's stream."""
    data = xml + b"\0" * (1024 - len(xml))
    hdr = magic + struct.pack("<5I14I", 2, len(data), 1, fmt, 0, *([0] * 14))
    with open(out, "wb") as o, open(stream, "rb") as f:
        o.write(hdr + data)
        shutil.copyfileobj(f, o)
    return out


def test_virsh_save_image(lab_vm, streams, tmp_path):
    """A save image reads as the stream inside it; a compressed one, one whose save did not
    finish, and one whose XML runs past the file are refused in one line each."""
    src = streams / "stopped.qevm"
    if not src.exists():
        pytest.fail("test_migration_stopped_equals_elf did not leave its stream")
    img = save_image(src, str(tmp_path / "web1.save"))
    for args in VIEWS:
        assert doc(src, args) == doc(img, args), args
    info = run_json("--vm", img, "info", kind="info")
    assert info["kernel"]["source"].startswith("QEMU migration stream %s (pc-" % img)
    gz = save_image(src, str(tmp_path / "gz.save"), fmt=1)
    line = one_error_line(run("--vm", gz, "ps"))
    assert "compressed with gzip" in line, line
    part = save_image(src, str(tmp_path / "part.save"), magic=b"LibvirtQemudPart")
    line = one_error_line(run("--vm", part, "ps"))
    assert "save did not finish" in line, line
    bad = tmp_path / "bad.save"
    with open(img, "rb") as f:
        head = bytearray(f.read(4096))
    head[20:24] = struct.pack("<I", 1 << 30)
    bad.write_bytes(bytes(head))
    line = one_error_line(run("--vm", bad, "ps"))
    assert "corrupt libvirt save image" in line, line
