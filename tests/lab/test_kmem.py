"""nfm kmem against the guest's own allocator views: /proc/slabinfo (each cache's stride and slab
order), /sys/kernel/slab/CACHE/object_size and /proc/vmallocinfo (each vmalloc area), collected
as root by the truth channel.

The objects asked about are ones whose allocator is known: every task_struct, every mm_struct,
open files (filp), and the modules' memory (vmalloc areas); the kernel image is in no allocation.
"""
import re

from nfmcli import run, run_json, one_error_line


def slabinfo(t):
    """{cache name: (slot size, order)} from /proc/slabinfo (its objsize is kmem_cache.size)."""
    out = {}
    for line in t.files["/proc/slabinfo"].decode().splitlines()[2:]:
        f = line.split()
        pages = int(f[5])
        assert pages & (pages - 1) == 0, line
        out[f[0]] = (int(f[3]), pages.bit_length() - 1)
    return out


def vmalloc_areas(t):
    """[(start, end, size)] from /proc/vmallocinfo (size with the guard page, as it prints it)."""
    out = []
    for line in t.files["/proc/vmallocinfo"].decode().splitlines():
        m = re.match(r"0x([0-9a-f]+)-0x([0-9a-f]+)\s+(\d+)", line)
        if m:
            out.append((int(m[1], 16), int(m[2], 16), int(m[3])))
    return out


def kmem(vm, addrs):
    doc = run_json("--vm", vm, "kmem", *("0x%x" % a for a in addrs), kind="kmem")
    assert doc["complete"] is True
    got = doc["allocations"]
    assert [int(a["query"], 16) for a in got] == list(addrs)
    return got


def test_kmem_slab_objects_match_slabinfo(lab_vm):
    caches = slabinfo(lab_vm.truth)
    procs = run_json("--vm", lab_vm.name, "ps", kind="ps")["processes"]
    tasks = [int(p["task"], 16) for p in procs]
    mms = sorted({int(p["mm"], 16) for p in procs if p.get("mm") and int(p["mm"], 16)})
    files = sorted({int(f["file"], 16) for f in
                    run_json("--vm", lab_vm.name, "lsof", kind="lsof")["files"]})[:64]
    assert len(tasks) > 60 and len(mms) > 30 and len(files) > 30
    for addrs, cache in ((tasks, "task_struct"), (mms, "mm_struct"), (files, "filp")):
        slot, order = caches[cache]
        size = int(lab_vm.truth.files["/sys/kernel/slab/%s/object_size" % cache])
        for a in kmem(lab_vm.name, addrs):
            assert (a["kind"], a["cache_name"]) == ("slab", cache), a
            assert (a["size_bytes"], a["slot_size_bytes"], a["order"], a["offset_bytes"]) == (
                size, slot, order, 0), a
            assert a["start"] == a["query"]
    # an address inside an object: the same object, at its offset
    inner = kmem(lab_vm.name, [tasks[0] + 0x18])[0]
    assert int(inner["start"], 16) == tasks[0] and inner["offset_bytes"] == 0x18


def test_kmem_module_memory_is_its_vmalloc_area(lab_vm):
    areas = vmalloc_areas(lab_vm.truth)
    mods = run_json("--vm", lab_vm.name, "lsmod", kind="lsmod")["modules"]
    addrs = [int(m["address"], 16) for m in mods]
    assert addrs
    for m, a in zip(mods, kmem(lab_vm.name, addrs)):
        q = int(a["query"], 16)
        start, end, size = next(x for x in areas if x[0] <= q < x[1])
        # vmallocinfo counts the guard page; nfm gives the usable bytes
        assert (a["kind"], int(a["start"], 16), a["size_bytes"]) == (
            "vmalloc", start, size - 4096), (m["name"], a)


def test_kmem_kernel_image_and_errors(lab_vm):
    p = run("--vm", lab_vm.name, "kmem", "init_task", "jiffies")
    assert p.returncode == 0, p.stderr
    rows = [l.split() for l in p.stdout.splitlines()]
    assert rows[0][:3] == ["ADDRESS", "KIND", "START"]
    assert [r[1] for r in rows[1:]] == ["none", "none"]
    sym = lab_vm.truth.kallsyms["init_task"].addr
    assert int(rows[1][0], 16) == sym
    assert "not a 0xADDRESS" in one_error_line(run("--vm", lab_vm.name, "kmem", "0xzz"))
    assert "no symbol" in one_error_line(run("--vm", lab_vm.name, "kmem", "no_such_symbol_x"))
