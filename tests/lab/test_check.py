"""nfm check, the cross-view checks: a clean guest has no findings; a dump of it with one
system call table entry pointed into a module, one module unlinked from the modules list, or
one process unlinked from the task list (what rootkits do in memory), has exactly that finding
(exit status 4). On a guest with the lab's test module (lab/hookmod), each way of hooking a
system call on kernels that dispatch through x64_sys_call (ftrace, kprobe, an inline call, an
ftrace handler of a module hidden from the modules list) is reported, and only it; so is an
interrupt gate (idt_table's int $0x80) pointed into the module. Every -j
document validates against doc/schema."""
import argparse
import json
import os
import shutil
import struct
import time

import pytest

from conftest import lab_kernels
from elfdump import load_segments
from nfmcli import run, run_json, validate
from nfmlab import LabError, vm

FINDINGS = 4  # nfm check's exit status when it found something (EXIT_FINDINGS)


def file_offset(elf, pa):
    """Offset in an ELF dump (QEMU dump-guest-memory) of guest-physical address pa."""
    for paddr, off, size in load_segments(elf):
        if paddr <= pa < paddr + size:
            return off + pa - paddr
    raise AssertionError("pa %#x not in the dump" % pa)


def kimage_pa(info, va):
    """The kernel image is mapped linearly: pa = va - __START_KERNEL_map + phys_base."""
    return va - 0xffffffff80000000 + info["phys_base"]


def patch(path, off, value):
    with open(path, "r+b") as f:
        f.seek(off)
        old, = struct.unpack("<Q", f.read(8))
        f.seek(off)
        f.write(struct.pack("<Q", value))
    return old


def check(*args):
    p = run(*args, "check", "-j")
    assert p.returncode in (0, FINDINGS), p.stderr
    validate("check", p.stdout, "nfm check -j")
    return p.returncode, json.loads(p.stdout)


def sym(vm, *names):
    return run_json("--vm", vm, "sym", *names, kind="sym")["symbols"]


@pytest.fixture(scope="module")
def dumped(lab_vm, tmp_path_factory):
    d = tmp_path_factory.mktemp("check")
    elf, _ = lab_vm.dump(d / "guest.elf")
    yield d, elf, run_json("--vm", elf, "info", kind="info")["kernel"]
    shutil.rmtree(d, ignore_errors=True)


def test_clean_guest(lab_vm):
    rc, got = check("--vm", lab_vm.pid)
    assert rc == 0 and got["nr_findings"] == 0 and not got["hooked_syscalls"]
    assert got["complete"] is True
    assert 300 <= got["nr_syscalls"] <= 1024
    want = {line.split()[0] for line in
            lab_vm.truth.files["/proc/modules"].decode().splitlines()}
    assert got["nr_modules"] == got["nr_modules_in_sysfs"] == len(want)
    assert not got["hidden_modules"]
    assert not got["hidden_processes"]
    assert got["nr_processes"] == got["nr_processes_in_pid_table"] >= 40
    # Current kernels' hooks: none, though the whole system call path was decoded.
    assert [h for h in got["hooks"] if not h["ok"]] == []
    assert got["nr_dispatch_targets"] >= 300 and got["nr_text_functions"] >= got["nr_dispatch_targets"]
    assert got["nr_text_undecoded"] == 0
    assert got["nr_idt_gates"] >= 200 and got["nr_ftrace_ops"] == got["nr_kprobes"] == 0
    # The text form: one summary line per check, nothing hidden.
    p = run("--vm", lab_vm.pid, "check")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert [l.split(":")[0] for l in lines] == ["syscalls", "modules", "processes", "text"], lines


def test_hooked_syscall_in_dump(lab_vm, dumped):
    d, elf, info = dumped
    table, target = sym(elf, "sys_call_table", "dummy:dummy_dev_init")
    assert target["module"] == "dummy"
    bad = d / "hooked.elf"
    shutil.copyfile(elf, bad)
    # read(2) now "handled" by a function of the dummy module.
    off = file_offset(bad, kimage_pa(info, int(table["address"], 16)))
    old = patch(bad, off, int(target["address"], 16))
    rc, got = check("--vm", bad)
    assert rc == FINDINGS and got["nr_findings"] == 1
    (h,) = got["hooked_syscalls"]
    assert (h["nr"], h["table"], h["ok"], h["module"], h["symbol"], h["offset_bytes"]) == \
        (0, "sys_call_table", False, "dummy", "dummy_dev_init", 0)
    assert h["handler"] == target["address"]
    p = run("--vm", bad, "check")
    assert p.returncode == FINDINGS
    assert p.stdout.startswith("HOOKED  sys_call_table[0] = ")
    # The untouched dump: clean, and entry 0 was the core kernel's read.
    rc, clean = check("--vm", elf)
    assert rc == 0 and clean["nr_findings"] == 0
    (s,) = sym(elf, hex(old))
    assert s["name"] == "__x64_sys_read" and s["offset_bytes"] == 0 and s["module"] is None


def test_hidden_module_in_dump(lab_vm, dumped):
    d, elf, info = dumped
    # lsmod lists the modules in list order: mods[0] is the first on the list.
    mods = run_json("--vm", elf, "lsmod", kind="lsmod")["modules"]
    assert len(mods) >= 2
    head = int(sym(elf, "modules")[0]["address"], 16)
    bad = d / "hidden.elf"
    shutil.copyfile(elf, bad)
    # list_del() of the first module, as far as the walk from the head goes: head.next skips it.
    off = file_offset(bad, kimage_pa(info, head))
    with open(bad, "rb") as f:
        f.seek(off)
        first_node, = struct.unpack("<Q", f.read(8))
    list_off = first_node - int(mods[0]["module"], 16)
    assert 0 < list_off < 4096
    patch(bad, off, int(mods[1]["module"], 16) + list_off)
    rc, got = check("--vm", bad)
    assert rc == FINDINGS and got["nr_findings"] == 1
    assert [(m["name"], m["module"], m["in_list"], m["in_sysfs"]) for m in got["hidden_modules"]] \
        == [(mods[0]["name"], mods[0]["module"], False, True)]
    assert got["nr_modules"] == len(mods) - 1 and got["nr_modules_in_sysfs"] == len(mods)
    assert mods[0]["name"] not in {m["name"] for m in
                                   run_json("--vm", bad, "lsmod", kind="lsmod")["modules"]}


def dm_pa(info, va):
    """Slab objects (task_struct) live in the direct map: pa = va - page_offset."""
    return va - int(info["page_offset"], 16)


def read_u64(path, off):
    with open(path, "rb") as f:
        f.seek(off)
        return struct.unpack("<Q", f.read(8))[0]


def test_hidden_process_in_dump(lab_vm, dumped):
    d, elf, info = dumped
    procs = run_json("--vm", elf, "ps", kind="ps")["processes"]
    task = {p["pid"]: int(p["task"], 16) for p in procs}
    init_task = int(sym(elf, "init_task")[0]["address"], 16)
    # task_struct.tasks: init_task.tasks.next is pid 1's task plus that offset.
    init_off = file_offset(elf, kimage_pa(info, init_task))
    with open(elf, "rb") as f:
        f.seek(init_off)
        image = f.read(8192)
    tasks = next(x for x in range(0, 8192, 8)
                 if struct.unpack_from("<Q", image, x)[0] == task[1] + x)
    # A user process in the middle of the list, and the one before it.
    victim = next(p for p in procs[len(procs) // 2:] if not p["kthread"] and p["pid"] > 1)
    t = task[victim["pid"]] + tasks
    prev = init_task + tasks
    for _ in range(len(procs) + 1):
        nxt = read_u64(elf, file_offset(elf, kimage_pa(info, prev) if prev == init_task + tasks
                                        else dm_pa(info, prev)))
        if nxt == t:
            break
        prev = nxt
    assert nxt == t
    bad = d / "hidden-task.elf"
    shutil.copyfile(elf, bad)
    after = read_u64(bad, file_offset(bad, dm_pa(info, t)))
    prev_off = file_offset(bad, kimage_pa(info, prev) if prev == init_task + tasks
                           else dm_pa(info, prev))
    patch(bad, prev_off, after)  # list_del(&victim->tasks), as seen going forward
    assert victim["pid"] not in {p["pid"] for p in
                                 run_json("--vm", bad, "ps", kind="ps")["processes"]}
    rc, got = check("--vm", bad)
    assert rc == FINDINGS and got["nr_findings"] == 1
    (h,) = got["hidden_processes"]
    assert (h["pid"], h["in_list"], h["in_pid_table"]) == (victim["pid"], False, True)
    assert int(h["task"], 16) == task[victim["pid"]] and h["comm"] == victim["task_comm"]
    rc, clean = check("--vm", elf)
    assert rc == 0 and clean["nr_processes"] == len(procs) == clean["nr_processes_in_pid_table"]


def test_no_false_findings_under_churn(lab_vm):
    """While the guest forks and reaps processes, a process starting or ending between the
    views is not reported: nfm check stays clean."""
    seconds = 8
    lab_vm.churn_start(seconds)
    deadline = time.time() + seconds
    rounds = 0
    while time.time() < deadline:
        rc, got = check("--vm", lab_vm.pid)
        assert rc == 0 and got["nr_findings"] == 0, got
        rounds += 1
    for _ in range(60):  # let the churn job end before the next test
        if lab_vm.churn_count() is not None:
            break
        time.sleep(0.5)
    assert rounds >= 2


@pytest.fixture(scope="module")
def hook_vm():
    """A 6.1-cloud guest with lab/hookmod in /lib/modules (loaded per test by the truth
    channel's INSMOD); skipped when 6.1-cloud is not among the lab kernels."""
    if "6.1-cloud" not in lab_kernels():
        pytest.skip("hook modes run on 6.1-cloud")
    name = "pytest-hook-%d" % os.getpid()
    opts = argparse.Namespace(kernel="6.1-cloud", name=name, mem="384M", cpus=1, procs=4,
                              qmp="on", shm="off", machine="pc", la57="off", accel="auto",
                              hookmod=True)
    try:
        info = vm.start(opts)
    except LabError as e:
        vm.kill(name)
        pytest.fail("hook VM did not start: %s" % e, pytrace=False)
    try:
        yield name, info["pid"]
    finally:
        vm.stop(name)


def findings(pid):
    rc, got = check("--vm", pid)
    return rc, got, [h for h in got["hooks"] if not h["ok"]]


@pytest.mark.parametrize("mode,kind,what,site", [
    ("ftrace", "ftrace", ["ftrace_ops func"], "__x64_sys_getdents64"),
    ("kprobe", "kprobe", ["kprobe pre_handler", "kprobe post_handler"], "__x64_sys_kill"),
    ("inline", "text", ["call out of kernel text"], "__x64_sys_getdents64"),
])
def test_hook_mode(hook_vm, mode, kind, what, site):
    name, pid = hook_vm
    assert vm.insmod(name, "hookmod", "mode=" + mode) == 0
    try:
        rc, got, bad = findings(pid)
        assert rc == FINDINGS and got["nr_findings"] == len(what), bad
        assert [(h["kind"], h["what"], h["site_symbol"], h["site_offset_bytes"], h["owner"],
                 h["module"]) for h in bad] == \
            [(kind, w, site, 0, "module", "hookmod") for w in what]
        assert all(h["symbol"].startswith("hookmod_") and h["offset_bytes"] == 0 for h in bad)
        p = run("--vm", pid, "check")
        assert p.returncode == FINDINGS
        assert sum(l.startswith("HOOKED  %s: " % kind) for l in p.stdout.splitlines()) == len(what)
    finally:
        assert vm.rmmod(name, "hookmod") == 0
    rc, got, bad = findings(pid)
    assert rc == 0 and not bad


def test_python_hooks_equal_check(hook_vm):
    """Guest.hooks() of the Python binding is nfm check -j's hooks, member for member
    (hook.json), with a kprobe hook in place and after it is gone."""
    import test_python	# the binding as test_python loads it (the build's python/)
    name, pid = hook_vm
    assert vm.insmod(name, "hookmod", "mode=kprobe") == 0
    try:
        with test_python.nfm.attach("pid:%d" % int(pid)) as g:
            hooks = g.hooks()
        rc, got, bad = findings(pid)
        assert rc == FINDINGS and len(bad) == 2 and hooks == got["hooks"], (hooks, got["hooks"])
        validate("hook.json", "\n".join(json.dumps(h) for h in hooks), "Guest.hooks()")
    finally:
        assert vm.rmmod(name, "hookmod") == 0
    with test_python.nfm.attach("pid:%d" % int(pid)) as g:
        assert g.hooks() == findings(pid)[1]["hooks"]


def test_hook_idt(hook_vm):
    """The int $0x80 gate of idt_table redirected into the module: one IDT finding, vector 128,
    owned by hookmod; the gate restored at rmmod, no finding again."""
    name, pid = hook_vm
    assert vm.insmod(name, "hookmod", "mode=idt") == 0
    try:
        rc, got, bad = findings(pid)
        assert rc == FINDINGS and got["nr_findings"] == 1, bad
        assert [(h["kind"], h["what"], h["vector"], h["owner"], h["module"], h["symbol"],
                 h["offset_bytes"]) for h in bad] == \
            [("idt", "gate handler out of kernel text", 128, "module", "hookmod",
              "hookmod_idt_stub", 0)]
        p = run("--vm", pid, "check")
        assert p.returncode == FINDINGS
        assert [l for l in p.stdout.splitlines() if l.startswith("HOOKED")] == [
            "HOOKED  idt: gate handler out of kernel text, vector 128 -> %s hookmod_idt_stub+0x0 "
            "[hookmod] (owner: a listed module)" % bad[0]["target"]]
    finally:
        assert vm.rmmod(name, "hookmod") == 0
    rc, got, bad = findings(pid)
    assert rc == 0 and not bad


def test_hook_livepatch(hook_vm):
    """lab/hookmod/hookpatch.c livepatches __x64_sys_sysfs: its ftrace ops are the core's
    (klp_ftrace_handler, ok), the finding is the klp_func, followed from the old function to the
    new one in hookpatch; gone once the patch is off and the module unloaded."""
    name, pid = hook_vm
    assert vm.insmod(name, "hookpatch") == 0
    try:
        rc, got, bad = findings(pid)
        assert rc == FINDINGS and got["nr_findings"] == 1 and got["nr_livepatches"] == 1, bad
        assert [(h["kind"], h["what"], h["site_symbol"], h["site_offset_bytes"], h["owner"],
                 h["module"], h["symbol"], h["offset_bytes"]) for h in bad] == \
            [("livepatch", "livepatch func", "__x64_sys_sysfs", 0, "module", "hookpatch",
              "hookpatch_sysfs", 0)]
        lp_ops = [h for h in got["hooks"] if h["kind"] == "ftrace" and
                  h["symbol"] == "klp_ftrace_handler"]
        assert len(lp_ops) == 1 and lp_ops[0]["ok"] and lp_ops[0]["owner"] == "kernel"
        p = run("--vm", pid, "check")
        assert p.returncode == FINDINGS
        assert [l for l in p.stdout.splitlines() if l.startswith("HOOKED")] == [
            "HOOKED  livepatch: livepatch func at __x64_sys_sysfs+0x0 (0x%016x) -> 0x%016x "
            "hookpatch_sysfs+0x0 [hookpatch] (owner: a listed module)"
            % (int(bad[0]["site"], 16), int(bad[0]["target"], 16))]
    finally:
        assert vm.rmmod(name, "hookpatch") == 0
    rc, got, bad = findings(pid)
    assert rc == 0 and not bad and got["nr_livepatches"] == 0


def test_hook_hidden(hook_vm):
    """Last (the module cannot be unloaded): an ftrace handler whose module left the modules
    list is owned by nobody, and the module is hidden from lsmod."""
    name, pid = hook_vm
    assert vm.insmod(name, "hookmod", "mode=hidden") == 0
    rc, got, bad = findings(pid)
    assert rc == FINDINGS and got["nr_findings"] == 2
    assert [(h["kind"], h["owner"], h["symbol"], h["module"], h["site_symbol"]) for h in bad] == \
        [("ftrace", "none", None, None, "__x64_sys_getdents64")]
    assert [(m["name"], m["in_list"], m["in_sysfs"]) for m in got["hidden_modules"]] == \
        [("hookmod", False, True)]
