"""kdump-compressed dumps (read through libkdumpfile): QEMU writes the same stopped guest as an ELF
core and as kdump-compressed files (zlib, and lzo/snappy where this QEMU has them); every view
read from a kdump file equals the same view from the ELF file, and the kdump file is recognised
as such. A kdump file cut short or with a damaged page says so, without a crash."""
import os
import shutil
import struct

import pytest

from nfmlab.qmp import QMP
from nfmcli import run, run_json, one_error_line

# Views whose documents must be equal between the two files (the "source" text aside).
VIEWS = [["ps", "-L"], ["env", "1"], ["lsof"], ["lsmod"], ["ss", "-a"], ["dmesg"], ["info"],
         ["maps", "1"]]


@pytest.fixture(scope="module")
def dumps(lab_vm, tmp_path_factory):
    """{format: path} of one moment of the lab guest: "elf" plus each kdump format QEMU has."""
    d = tmp_path_factory.mktemp("kdump")
    out = {}
    with QMP(lab_vm.qmp, timeout=600) as q:
        caps = q.cmd("query-dump-guest-memory-capability")["formats"]
        fmts = ["elf"] + [f for f in ("kdump-zlib", "kdump-lzo", "kdump-snappy") if f in caps]
        assert "kdump-zlib" in fmts, caps
        q.cmd("stop")
        try:
            for f in fmts:
                out[f] = str(d / ("guest." + f))
                q.cmd("dump-guest-memory", paging=False, protocol="file:" + out[f], format=f)
        finally:
            q.cmd("cont")
    yield out
    shutil.rmtree(d, ignore_errors=True)


def doc(path, args):
    return run_json("--vm", path, *args, kind="auto", ok=(0, 4))


def test_kdump_views_equal_elf(dumps):
    elf = dumps["elf"]
    for fmt, path in dumps.items():
        if fmt == "elf":
            continue
        assert os.path.getsize(path) < os.path.getsize(elf)
        for args in VIEWS:
            a, b = doc(elf, args), doc(path, args)
            if args == ["info"]:  # the source's description and the attach time differ
                for k in ("source", "attach_ns"):
                    a["kernel"].pop(k), b["kernel"].pop(k)
            assert a == b, (fmt, args)
        # the source is named for what it is
        info = run_json("--vm", path, "info", kind="info")
        assert info["kernel"]["source"].startswith("kdump-compressed dump "), info["kernel"]


def test_kdump_damaged(dumps, tmp_path):
    src = dumps["kdump-zlib"]
    size = os.path.getsize(src)
    # cut short: the header and bitmaps hold, most pages are gone
    cut = tmp_path / "cut.kdump"
    with open(src, "rb") as f, open(cut, "wb") as g:
        g.write(f.read(size // 3))
    p = run("--vm", cut, "ps")
    assert p.returncode != 0 and "Traceback" not in p.stderr and p.stderr.strip()
    # a header that is no kdump header at all beyond its magic
    bad = tmp_path / "bad.kdump"
    with open(src, "rb") as f:
        head = f.read(4096)
    bad.write_bytes(head[:8] + b"\xff" * 4088)
    line = one_error_line(run("--vm", bad, "ps"))
    assert "kdump" in line, line
    # flattened: a record that would write 1 TiB away, and a stream without its end record
    flat = tmp_path / "flat.kdump"
    with open(src, "rb") as f:
        head = f.read(4096)
    assert head.startswith(b"makedumpfile")  # QEMU < 8.2 writes the flattened form
    flat.write_bytes(head + struct.pack(">qq", 1 << 40, 16) + b"x" * 16 + struct.pack(">qq", -1, -1))
    assert "record out of bounds" in one_error_line(run("--vm", flat, "ps"))
    flat.write_bytes(head + struct.pack(">qq", 0, 16) + b"x" * 16)
    assert "no end record" in one_error_line(run("--vm", flat, "ps"))
