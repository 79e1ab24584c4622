"""Lab guests made unwell on purpose, for nfm diagnose: booted on demand, one scenario each.

A scenario VM is an ordinary lab VM (vm._boot) whose initrd is the lab's initramfs followed by a
second cpio archive (the kernel unpacks both, the second over the first) holding the fault
module built for that kernel (lab/faultmod, faultmod.py), the memory hog and the scenario script
(lab/faultmod/scenario) with its name in /etc/nfm-scenario.name; init runs the script once the
guest is ready. start() returns when the script says "ready" on the console (a panic: when the
kernel's panic message ends) and takes no truth snapshot (a dead guest has no truth server).

Scenarios: healthy (the fault module with one interruptible sleeper), hang (D-state kernel
thread and process past a 2 s hung-task timeout, a full tmpfs, an OOM kill, an oops), lockup
(a soft lockup under way), nmi (the same, with an NMI handler that never returns once the test
injects an NMI), irq (the same, with a timer interrupt 1 s later that never returns), net
(misconfigured network), disk (an ext4 file system full, another aborted by an error,
and little memory available), offline (every interface but lo down, no /etc/resolv.conf),
panic (sysrq crash, kernel.panic=0), halt
(halt -f: the kernel halted, QEMU still running).
"""
import argparse
import hashlib
import os
import re
import time

from . import LabError, accel, faultmod, initramfs, kernels, modules, paths, vm
from .qmp import QMP

SCENARIOS = ("healthy", "disk", "halt", "hang", "irq", "lockup", "net", "nmi", "offline", "panic")
# modules a scenario loads itself (in this order; /lib/modules/scenario.list), when not built in
SCENARIO_MODULES = {"disk": ["loop", "ext4"]}
SCRIPT = os.path.join(faultmod.SRC_DIR, "scenario")


def _initrd(kernel, name):
    """The lab initramfs with the scenario archive appended (cached by content)."""
    base = initramfs.build(kernel)
    ko = faultmod.build(kernel)
    hog = faultmod.build_hog()
    with open(SCRIPT, "rb") as f:
        script = f.read()
    key = hashlib.sha256("\0".join([base, ko, hog] + SCENARIO_MODULES.get(name, [])).encode()
                         + script).hexdigest()[:16]
    out = os.path.join(paths.cache_dir(), "initramfs-%s-%s-%s.cpio.gz" % (kernel.release, name, key))
    if os.path.exists(out):
        return out
    with open(ko, "rb") as f:
        kod = f.read()
    with open(hog, "rb") as f:
        hogd = f.read()
    mods = modules.load_order(kernel.moddir, SCENARIO_MODULES.get(name, []))
    return initramfs.append(base, out, [("lib/modules/nfm_faultmod.ko", kod, 0o644),
                                        ("bin/nfm-hog", hogd, 0o755),
                                        ("bin/nfm-scenario", script, 0o755),
                                        ("etc/nfm-scenario.name", name.encode() + b"\n", 0o644),
                                        ("lib/modules/scenario.list",
                                         "".join("%s.ko\n" % m[0] for m in mods).encode(), 0o644)]
                            + [("lib/modules/%s.ko" % m[0], m[2], 0o644) for m in mods])


# x86-64's module area (MODULES_VADDR to MODULES_END): a RIP there runs module text
MODULE_AREA = (0xffffffffc0000000, 0xffffffffff000000)


def _cpu0_in_module(name):
    """Does the (only) vCPU execute module text now? Its RIP through QMP."""
    try:
        with QMP(os.path.join(paths.run_dir(name), "qmp.sock"), timeout=10) as q:
            m = re.search(r"RIP=([0-9a-f]{16})", q.hmp("info registers"))
    except (LabError, OSError):
        return False
    return bool(m) and MODULE_AREA[0] <= int(m.group(1), 16) < MODULE_AREA[1]


def _wait(name, scenario, timeout):
    console = os.path.join(paths.run_dir(name), "console.log")
    want = b"NFM-LAB-SCENARIO %s ready" % scenario.encode()
    if scenario == "panic":
        want = b"---[ end Kernel panic"
    elif scenario in ("nmi", "irq"):
        want = b"nfm_faultmod: spinning"
    elif scenario == "halt":
        want = b"reboot: System halted"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(console, "rb") as f:
            log = f.read()
        if want in log:
            return
        # nmi, irq: an RT kernel prints from a kthread, which never runs beside the spinner on
        # the one vCPU; once the script loads the module, the vCPU running module text is it
        if scenario in ("nmi", "irq") and b"NFM-LAB-SCENARIO %s spinning" % scenario.encode() \
                in log and _cpu0_in_module(name):
            return
        if vm._pid_of(name) is None:
            raise LabError("scenario %s: QEMU exited; see %s" % (scenario, console))
        time.sleep(0.2)
    raise LabError("scenario %s not in place after %ds; see %s" % (scenario, timeout, console))


def start(kernel_name, scenario, name=None, mem="384M"):
    """Boots lab kernel `kernel_name` with `scenario` in place; returns the info dict."""
    if scenario not in SCENARIOS:
        raise LabError("unknown scenario %r (known: %s)" % (scenario, " ".join(SCENARIOS)))
    kernel = kernels.fetch(kernel_name)
    name = name or "nfm-%s-%s" % (scenario, kernel_name)
    vm._check_name(name)
    if vm._pid_of(name):
        raise LabError("VM %s is already running (nfm-lab stop %s)" % (name, name))
    # lockup: two vCPUs, so that the grace-period kthread runs beside the spinning CPU 0
    o = argparse.Namespace(kernel=kernel_name, name=name, mem=mem,
                           cpus=2 if scenario == "lockup" else 1, procs=4, qmp="on",
                           shm="off", machine="pc", la57="off", accel="auto")
    initrd = _initrd(kernel, scenario)
    acc = accel.choose(o.accel, kernel.vmlinuz)
    try:
        secs, m, marker = vm.boot(name, kernel, initrd, o, acc)
        _wait(name, scenario, 120 if acc == "kvm" else 240)
    except LabError:
        vm.kill(name)
        raise
    return vm.booted_info(name, kernel, kernel_name, acc, secs, m, marker, mem, scenario=scenario)
