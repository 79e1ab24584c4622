"""Zero-config attach against real guests (issue 3): nfm info and nfm sym equal what the guest
says of itself, live and on a dump of the same guest, and the fallbacks without VMCOREINFO."""
import mmap
import re
import shutil
import time

import pytest

from elfdump import load_segments
from nfmcli import one_error_line, run, run_json


def cpus_online(t):
    return len(re.findall(rb"^processor\s*:", t.files["/proc/cpuinfo"], re.M))


def mem_total_kb(t):
    return int(re.search(rb"^MemTotal:\s+(\d+) kB", t.files["/proc/meminfo"], re.M).group(1))


def info_json(*args):
    """nfm info -j's kernel object (the document validated against docs/info.json)."""
    return run_json(*args, "info", kind="info")["kernel"]


def check_identity(info, t):
    assert info["sysname"] == "Linux"
    assert info["release"].encode() == t.uname["release"]
    assert info["version"].encode() == t.uname["version"]
    assert info["machine"].encode() == t.uname["machine"]
    assert info["nodename"].encode() == t.uname["nodename"]
    assert info["banner"].encode() == t.files["/proc/version"].rstrip(b"\n")
    assert info["cpus_online"] == cpus_online(t)
    assert info["mem_total_bytes"] == mem_total_kb(t) * 1024


def test_info_live(lab_vm):
    t, _ = lab_vm.fresh_truth()
    t0 = time.monotonic()
    info = info_json("--vm", lab_vm.pid)
    elapsed = time.monotonic() - t0
    check_identity(info, t)
    assert info["paging_levels"] == (5 if lab_vm.info.get("la57") == "on" else 4)
    # /proc/kallsyms lists the core kernel's symbols first, then the modules' (lines from 0).
    core = [n for n, s in t.kallsyms_lines.items() if s.module is None]
    mods = [n for n, s in t.kallsyms_lines.items() if s.module is not None]
    assert max(core) < info["nr_symbols"] <= min(mods, default=t.kallsyms_count)
    assert info["nr_btf_types"] > 10000
    # VMCOREINFO locates kallsyms since 6.0 (5a4f0ec0e2f8), and every such lab kernel has
    # kallsyms_seqs_of_names: lookups go through it (the fast attach). Before, the tables are
    # found by their structure (the symbol count above is checked the same way).
    how = info["symbols_from"]
    if tuple(int(x) for x in lab_vm.kernel.split("-")[0].split(".")[:2]) < (6, 0):
        assert how.startswith("kallsyms, structural scan ("), how
    else:
        assert how.startswith("kallsyms, VMCOREINFO (") and how.endswith(", name index)"), how
    # Uptime as /proc/uptime would say now, within 2 s.
    guest_now = t.clock_end[1] / 1e9
    assert guest_now - 2 <= info["uptime_ns"] / 1e9 <= guest_now + elapsed + 2
    assert info["attach_ns"] > 0 and info["source"]


def test_btf_saved_and_given_back(lab_vm, tmp_path):
    """nfm btf -o writes exactly the bytes the guest serves as /sys/kernel/btf/vmlinux, and
    --btf FILE attaches with it: same types, same processes."""
    guest = lab_vm.guest_file("/sys/kernel/btf/vmlinux")
    out = tmp_path / "vmlinux.btf"
    got = run_json("--vm", lab_vm.pid, "btf", "-o", out, kind="btf")
    assert got["from"] == "guest memory (__start_BTF)"
    assert got["size_bytes"] == len(guest)
    assert out.read_bytes() == guest
    live = info_json("--vm", lab_vm.pid)
    info = info_json("--vm", lab_vm.pid, "--btf", out)
    assert info["btf_from"] == "file"
    assert info["nr_btf_types"] == live["nr_btf_types"] == got["nr_btf_types"]
    pids = {e["pid"] for e in run_json("--vm", lab_vm.pid, "ps", kind="ps")["processes"]}
    pids_file = {e["pid"] for e in
                 run_json("--vm", lab_vm.pid, "--btf", out, "ps", kind="ps")["processes"]}
    assert len(pids ^ pids_file) <= 2  # a process may come or go between the two reads
    # Bad files: one line, non-zero.
    line = one_error_line(run("--vm", lab_vm.pid, "--btf", tmp_path / "missing.btf", "info"))
    assert "missing.btf" in line
    junk = tmp_path / "junk.btf"
    junk.write_bytes(b"\x9f\xeb\x01\x00" + bytes(100))
    line = one_error_line(run("--vm", lab_vm.pid, "--btf", junk, "info"))
    assert "junk.btf" in line
    # Types of another build: the kernel's own VMCOREINFO says SIZE(list_head)=16; the same
    # file with list_head made 24 bytes is refused, naming the line it contradicts.
    other = tmp_path / "other.btf"
    other.write_bytes(btf_with_struct_size(guest, b"list_head", 24))
    line = one_error_line(run("--vm", lab_vm.pid, "--btf", other, "info"))
    assert "other.btf: SIZE(list_head) is 16 in this kernel's VMCOREINFO, 24 in the file" in line


def btf_with_struct_size(blob, name, size):
    """A raw BTF blob with struct `name`'s byte size replaced (the kinds' record sizes from
    include/uapi/linux/btf.h)."""
    import struct as st
    magic, _, _, hdr_len, type_off, type_len, str_off, _ = st.unpack_from("<HBBIIIII", blob)
    assert magic == 0xEB9F
    strs = hdr_len + str_off
    out, p, end = bytearray(blob), hdr_len + type_off, hdr_len + type_off + type_len
    extra = {1: lambda v: 4, 3: lambda v: 12, 4: lambda v: 12 * v, 5: lambda v: 12 * v,
             6: lambda v: 8 * v, 13: lambda v: 8 * v, 14: lambda v: 4, 15: lambda v: 12 * v,
             17: lambda v: 4, 19: lambda v: 12 * v}
    while p < end:
        name_off, info, _ = st.unpack_from("<III", blob, p)
        kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
        if kind == 4 and blob[strs + name_off:].split(b"\0", 1)[0] == name:
            st.pack_into("<I", out, p + 8, size)
            return bytes(out)
        p += 12 + extra.get(kind, lambda v: 0)(vlen)
    raise AssertionError("no struct %r in the BTF" % name)


def test_info_by_name(lab_vm):
    info = info_json("--vm", lab_vm.name)
    assert info["release"] == lab_vm.kernel


# Symbols the truth always samples (unique names, so "the first of that name" is unambiguous).
NAMED = ["init_task", "init_uts_ns", "init_top_pgt", "_stext", "_text", "linux_banner",
         "jiffies", "init_net", "modules", "prb"]


def test_sym_equals_kallsyms(lab_vm):
    syms = lab_vm.truth.kallsyms
    assert set(NAMED) <= syms.keys()
    names = NAMED
    got = run_json("--vm", lab_vm.pid, "sym", *names, kind="sym")["symbols"]
    assert len(got) == len(names)
    for name, g in zip(names, got):
        s = syms[name]
        assert g["name"] == name
        assert int(g["address"], 16) == s.addr, name
        assert g["type"] == s.type, name


def test_sym_address_to_name(lab_vm):
    s = lab_vm.truth.kallsyms["init_task"]
    got = run_json("--vm", lab_vm.pid, "sym", hex(s.addr + 8), kind="sym")["symbols"]
    assert got[0]["name"] == "init_task" and got[0]["offset_bytes"] == 8
    assert int(got[0]["address"], 16) == s.addr and int(got[0]["query"], 16) == s.addr + 8


def test_sym_all_is_proc_kallsyms(lab_vm):
    """Every sampled /proc/kallsyms line is the same line of `nfm sym --all`: the core kernel's,
    then the loaded modules' ("addr t name\t[module]", upper case when exported)."""
    p = run("--vm", lab_vm.pid, "sym", "--all")
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    mods = {m["name"] for m in run_json("--vm", lab_vm.pid, "lsmod", kind="lsmod")["modules"]}
    checked = 0
    for lineno, s in lab_vm.truth.kallsyms_lines.items():
        if s.module is None:
            assert lines[lineno] == "%016x %s %s" % (s.addr, s.type, s.name.decode())
        elif s.module.decode() in mods:  # not [bpf], [__builtin__ftrace]: not modules
            want = "%016x %s %s\t[%s]" % (s.addr, s.type, s.name.decode(), s.module.decode())
            assert lines[lineno] == want
            checked += 1
    # The truth has every module line: nfm lists as many (the lab guest loads dummy at least).
    nmod = sum(1 for s in lab_vm.truth.kallsyms_lines.values()
               if s.module is not None and s.module.decode() in mods)
    assert checked == nmod >= 10
    assert sum(1 for ln in lines if "\t[" in ln) == nmod


def test_sym_module_symbols(lab_vm):
    """A module's symbols by name and by address, as the guest's /proc/kallsyms has them."""
    samples = [s for s in lab_vm.truth.kallsyms_lines.values() if s.module is not None]
    assert samples
    exported = [s for s in samples if s.type.isupper()]
    assert exported, "libcrc32c's crc32c is exported: upper case"
    for s in samples[:5] + exported[:2]:
        mod, name = s.module.decode(), s.name.decode()
        got = run_json("--vm", lab_vm.pid, "sym", "%s:%s" % (mod, name), kind="sym")["symbols"][0]
        assert (got["name"], got["module"], int(got["address"], 16)) == (name, mod, s.addr)
        assert got["type"] == s.type
        if name.startswith((".L", "L0", "$")):
            continue  # mapping symbols name no address (is_mapping_symbol())
        at = run_json("--vm", lab_vm.pid, "sym", hex(s.addr), kind="sym")["symbols"][0]
        assert at["module"] == mod and at["offset_bytes"] == 0


@pytest.fixture(scope="module")
def dump(lab_vm, tmp_path_factory):
    d = tmp_path_factory.mktemp("dump")
    elf, t = lab_vm.dump(d / "guest.elf")
    live = info_json("--vm", lab_vm.pid)
    yield d, elf, t, live
    shutil.rmtree(d, ignore_errors=True)


def test_info_dump(dump):
    d, elf, t, live = dump
    info = info_json("--vm", elf)
    check_identity(info, t)
    for k in ("kaslr_offset", "phys_base", "page_offset", "kernel_pgd", "nr_symbols", "nr_btf_types"):
        assert info[k] == live[k], k
    assert t.clock_start[1] / 1e9 - 2 <= info["uptime_ns"] / 1e9 <= t.clock_end[1] / 1e9 + 10


def elf_to_raw(elf, raw):
    """A raw physical image of the RAM below the PCI hole (as pmemsave of it gives)."""
    with open(elf, "rb") as src, open(raw, "wb") as out:
        for paddr, off, filesz in load_segments(elf):
            if paddr >= 0xc0000000:  # RAM below the PCI hole, not VGA or ROM
                continue
            src.seek(off)
            out.seek(paddr)
            left = filesz
            while left:
                chunk = src.read(min(left, 16 << 20))
                out.write(chunk)
                left -= len(chunk)


def scrub_vmcoreinfo(src, dst):
    """A copy of a dump with every VMCOREINFO copy wiped, as a guest that lost it would be."""
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as f, mmap.mmap(f.fileno(), 0) as m:
        hits = [h.start() for h in re.finditer(rb"VMCOREINFO\0\0OSRELEASE=|OSRELEASE=\d", m)]
        assert hits
        for o in hits:
            m[o:o + 3000] = bytes(3000)


@pytest.fixture(scope="module")
def system_map(lab_vm, dump):
    d = dump[0]
    p = run("--vm", lab_vm.pid, "sym", "--all", "--no-kaslr")
    assert p.returncode == 0
    path = d / "System.map"
    path.write_text(p.stdout)
    assert "ffffffff81000000 T _text" in p.stdout
    return path


def test_fallback_cpu_notes(dump, system_map):
    d, elf, t, live = dump
    scrub_vmcoreinfo(elf, d / "novmci.elf")
    line = one_error_line(run("--vm", d / "novmci.elf", "info"))
    assert "no Linux kernel found in guest memory" in line and "--system-map" in line
    info = info_json("--vm", d / "novmci.elf", "--system-map", system_map)
    check_identity(info, t)
    assert info["vmcoreinfo_from"] == "none; CR3 from the dump's CPU notes"
    assert info["kaslr_offset"] == live["kaslr_offset"]
    assert info["phys_base"] == live["phys_base"]


def test_fallback_page_table_scan(dump, system_map):
    d, elf, t, live = dump
    elf_to_raw(elf, d / "guest.raw")
    info = info_json("--vm", d / "guest.raw")
    assert info["kaslr_offset"] == live["kaslr_offset"]
    scrub_vmcoreinfo(d / "guest.raw", d / "novmci.raw")
    info = info_json("--vm", d / "novmci.raw", "--system-map", system_map)
    check_identity(info, t)
    assert info["vmcoreinfo_from"] == "none; page-table scan found the kernel PGD"
    assert info["kaslr_offset"] == live["kaslr_offset"]
    assert info["phys_base"] == live["phys_base"]
