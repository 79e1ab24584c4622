"""arm64 guests (issue 19): every view that works on x86-64 compared with the guest's own truth
the same way, and the ones that do not work yet refused with a reason, never guessed.

Boots Debian arm64 cloud guests (qemu-system-aarch64 -M virt -cpu cortex-a57, TCG) for this
module: 6.1 (VA_BITS 48, kallsyms without KALLSYMS_ALL: data symbols found in the image) and 6.12
(built for 52-bit VA, running with 48 bits on a CPU without LPA2); in the full matrix 6.12 also
on -cpu max ("6.12-cloud-arm64+la57"), whose FEAT_LPA2 gives it 52 bits and five levels. Needs qemu-system-arm and
gcc-aarch64-linux-gnu (the zoo is cross-compiled; lab/deps.txt) and the Debian mirror (kernel and
busybox-static:arm64 through a private arm64 apt index): without them the tests fail, never skip.

Kernels: conftest.arm64_kernels() (NFM_LAB_ARM64_KERNELS)."""
import json
import re

import pytest

import test_attach as attach
import test_bt as bt
import test_kmem as kmem
import test_net as net
import test_process as process
import test_system as system
import test_yara as yara
from conftest import _session_vm, arm64_kernels
from nfmcli import run, run_json, validate
from test_process import bracketed, compare_ps, compare_threads, report

# PAGE_OFFSET as built: VA_BITS 48 (6.1) or 52 (6.12, kept when running with 48 bits)
PAGE_OFFSET = {"6.1-cloud-arm64": "0xffff000000000000", "6.12-cloud-arm64": "0xfff0000000000000"}


@pytest.fixture(scope="module", params=arm64_kernels())
def arm64_vm(request):
    yield from _session_vm(request.param, "a64-")


def test_arm64_info(arm64_vm):
    t = arm64_vm.truth
    doc = run_json("--vm", arm64_vm.pid, "info", kind="info")
    k = doc["kernel"]
    assert k["release"] == arm64_vm.kernel and k["release"].endswith("-arm64")
    assert k["release"].encode() == t.uname["release"]
    assert k["version"].encode() == t.uname["version"]
    assert k["machine"] == "aarch64" and k["nodename"].encode() == t.uname["nodename"]
    lab_name = [n for n in PAGE_OFFSET if arm64_vm.kernel.startswith(n.split("-")[0] + ".")]
    assert len(lab_name) == 1 and k["page_offset"] == PAGE_OFFSET[lab_name[0]]
    meminfo = t.files["/proc/meminfo"].decode()
    mem_kb = int(re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.M).group(1))
    assert k["mem_total_bytes"] == mem_kb * 1024
    cpus = t.files["/proc/cpuinfo"].decode().count("processor\t:")
    assert k["cpus_online"] == cpus == 2
    # on 6.1, linux_banner is not in kallsyms (no KALLSYMS_ALL): found in the image
    assert k["banner"].encode() + b"\n" == t.files["/proc/version"]
    # tk_core (on 6.1 found through ktime_get's code): uptime between the truth and now
    up_then = float(t.files["/proc/uptime"].split()[0])
    assert k["uptime_ns"] / 1e9 >= up_then
    # phys_base is PHYS_OFFSET: at or below the guest's first RAM (its /proc/iomem), whose
    # linear-map address (page_offset + ram - PHYS_OFFSET) lies in the linear half of the
    # kernel range the CPU translates: 48 bits (also 6.12's, whose page_offset is the 52-bit
    # one), or 52 on a CPU with LPA2 (+la57: -cpu max), with a fifth level of tables
    bits = 52 if arm64_vm.info.get("la57") == "on" else 48
    assert k["paging_levels"] == (5 if bits == 52 else 4)
    ram = int(re.search(rb"^\s*([0-9a-f]+)-[0-9a-f]+ : System RAM$", t.files["/proc/iomem"],
                        re.M).group(1), 16)
    va = (int(k["page_offset"], 16) + ram - k["phys_base"]) % (1 << 64)
    assert k["phys_base"] <= ram and (1 << 64) - (1 << bits) <= va < (1 << 64) - (1 << (bits - 1)), \
        (k["phys_base"], ram, hex(va))
    p = run("--vm", arm64_vm.pid, "info")
    assert p.returncode == 0, p.stderr
    assert "aarch64" in p.stdout and arm64_vm.kernel in p.stdout
    assert re.search(r"^PHYS_OFFSET: +-?0x[0-9a-f]+$", p.stdout, re.M), p.stdout


def test_arm64_ps_matches_proc(arm64_vm):
    t1, out, t2 = bracketed(arm64_vm, "ps", "processes", "ps")
    diffs, checked = compare_ps(t1, t2, out)
    assert not diffs, report(diffs)
    roles = {r.pid for r in t1.roles.values() if r.pid}
    assert roles <= set(checked), f"roles not compared: {roles - set(checked)}"
    assert any(e["kthread"] for e in out) and len(checked) > 60
    t1, out, t2 = bracketed(arm64_vm, "ps", "processes", "ps", "-L")
    diffs, checked = compare_threads(t1, t2, out)
    assert not diffs, report(diffs)
    assert checked > 60


def test_arm64_memory_files_env(arm64_vm):
    process.test_maps_match_proc(arm64_vm)
    process.test_lsof_matches_proc(arm64_vm)
    process.test_env_matches_proc(arm64_vm)


def test_arm64_network(arm64_vm):
    net.test_ss_equals_proc_net(arm64_vm)
    net.test_route_equals_proc_net_route(arm64_vm)
    net.test_arp_equals_proc_net_arp(arm64_vm)
    system.test_ip_addr(arm64_vm)


def test_arm64_system_views(arm64_vm):
    system.test_lsmod_equals_proc_modules(arm64_vm)
    system.test_mount_equals_proc_mounts(arm64_vm)
    system.test_dmesg_every_record(arm64_vm)
    system.test_uname(arm64_vm)


def test_arm64_yara(arm64_vm, tmp_path):
    yara.test_every_process_finds_its_command_line(arm64_vm, tmp_path)


def test_arm64_cpuinfo_equals_proc_cpuinfo(arm64_vm):
    """arm64's /proc/cpuinfo (a 64-bit reader's), byte for byte: BogoMIPS from loops_per_jiffy
    and HZ, Features from elf_hwcap's set bits named by hwcap_str, the MIDR fields of each CPU's
    cpu_data. On 6.1 (no KALLSYMS_ALL) HZ comes from jiffies since boot (no tick_nsec), and
    elf_hwcap and hwcap_str from the code of cpu_have_feature and c_show."""
    want = arm64_vm.truth.files["/proc/cpuinfo"].decode()
    p = run("--vm", arm64_vm.pid, "cpuinfo")
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert p.stdout == want
    doc = run_json("--vm", arm64_vm.pid, "cpuinfo", kind="cpuinfo")
    assert doc["complete"] is True
    blocks = want.strip().split("\n\n")
    assert len(doc["cpus"]) == len(blocks) == 2
    # -cpu cortex-a57: Arm's 0x41, part 0xd07; -cpu max (+la57): QEMU's own MIDR, implementer 0
    a57 = arm64_vm.info.get("la57") != "on"
    for cpu, block in zip(doc["cpus"], blocks):
        f = {k.strip(): v.strip() for k, v in (ln.split(":", 1) for ln in block.splitlines())}
        assert cpu["processor"] == int(f["processor"])
        assert "%.2f" % cpu["bogomips"] == f["BogoMIPS"]
        assert cpu["features"] == f["Features"].split() and "fp" in cpu["features"]
        assert cpu["cpu_implementer"] == int(f["CPU implementer"], 16) == (0x41 if a57 else 0)
        assert cpu["cpu_architecture"] == int(f["CPU architecture"]) == 8
        assert cpu["cpu_variant"] == int(f["CPU variant"], 16)
        assert cpu["cpu_part"] == int(f["CPU part"], 16)
        assert not a57 or cpu["cpu_part"] == 0xd07
        assert cpu["cpu_revision"] == int(f["CPU revision"])


def test_arm64_check_partial_without_hooks(arm64_vm):
    """check: the cross views stand; the x86-only hook checks are named as not done (and on 6.1,
    whose kallsyms has no data symbols, the system call table whose length is then unknown),
    the document is not complete and the exit status says partial (3)."""
    p = run("--vm", arm64_vm.pid, "-j", "check")
    assert p.returncode == 3, p.stderr
    assert "arm64" in p.stderr
    doc = json.loads(p.stdout)
    validate("check", p.stdout, "nfm -j check")
    old = arm64_vm.kernel.startswith("6.1.")
    assert doc["complete"] is False
    assert [e["view"] for e in doc["errors"]] == (["syscalls", "hooks"] if old else ["hooks"])
    assert old or (doc["nr_syscalls"] > 400 and doc["hooked_syscalls"] == [])
    assert doc["nr_findings"] == 0 and doc["hidden_processes"] == []
    modules = run_json("--vm", arm64_vm.pid, "lsmod", kind="lsmod")["modules"]
    assert doc["hidden_modules"] == [] and doc["nr_modules"] == len(modules) > 0
    assert doc["nr_processes"] > 60
    p = run("--vm", arm64_vm.pid, "check")
    assert p.returncode == 3 and "processes:" in p.stdout and "none hidden" in p.stdout


def test_arm64_ps_on_dump_matches_proc(arm64_vm, tmp_path):
    """An ELF dump of the arm64 guest (QEMU dump-guest-memory): memory and VMCOREINFO."""
    process.test_ps_on_dump_matches_proc(arm64_vm, tmp_path)


def test_arm64_bt_on_dump_equals_proc_stack(arm64_vm, tmp_path):
    """bt by frame records, on a dump: every sleeping thread's stack and wchan exactly as the
    guest's /proc/PID/task/TID/stack and wchan showed them just before."""
    bt.test_bt_on_dump_equals_proc_stack(arm64_vm, tmp_path)


def test_arm64_bt_live_mostly_equals_proc_stack(arm64_vm):
    bt.test_bt_live_mostly_equals_proc_stack(arm64_vm)


def test_arm64_kmem(arm64_vm):
    """kmem with arm64's PHYS_OFFSET and vmemmap: every task_struct, mm_struct and open file's
    slab object as the guest's slabinfo sizes it, each module's memory as its vmalloc area; the
    kernel image lies in the vmalloc areas of its segments (/proc/vmallocinfo: paging_init),
    its text mapped without a guard page (VM_NO_GUARD), its data with one. On 6.1, whose
    kallsyms lacks slab_caches and the vmap tree, the refusal says so."""
    if arm64_vm.kernel.startswith("6.1."):
        p = run("--vm", arm64_vm.pid, "kmem", "init_task")
        assert p.returncode == 3 and "allocator tables are not found" in p.stderr, p.stderr
        return
    kmem.test_kmem_slab_objects_match_slabinfo(arm64_vm)
    kmem.test_kmem_module_memory_is_its_vmalloc_area(arm64_vm)
    areas = kmem.vmalloc_areas(arm64_vm.truth)
    doc = run_json("--vm", arm64_vm.pid, "kmem", "_stext", "init_task", "jiffies", kind="kmem")
    for a, guard in zip(doc["allocations"], (0, 4096, 4096)):
        q = int(a["query"], 16)
        start, end, size = next(x for x in areas if x[0] <= q < x[1])
        assert (a["kind"], int(a["start"], 16), a["size_bytes"]) == (
            "vmalloc", start, size - guard), a
