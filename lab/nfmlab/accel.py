"""Choose KVM or TCG. KVM is used only if /dev/kvm opens and a cached probe says it works:
here /dev/kvm exists but guests die with "KVM internal error", so a probe boot decides once."""
import os
import subprocess
import time

from . import paths

PROBE_FILE = "kvm-probe"


def _kvm_opens():
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC))
        return True
    except OSError:
        return False


def _probe_path():
    return os.path.join(paths.run_root(), PROBE_FILE)


def record(ok):
    """Caches a probe (or real boot) result under the run root."""
    os.makedirs(paths.run_root(), exist_ok=True)
    with open(_probe_path(), "w") as f:
        f.write("ok\n" if ok else "fail\n")


def probe(vmlinuz, timeout=20):
    """Boots `vmlinuz` under KVM without an initramfs: it must print its banner and panic (no
    root fs), which makes QEMU exit because of -no-reboot. Anything else counts as failure."""
    cmd = ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", "256M", "-nodefaults",
           "-display", "none", "-no-reboot", "-serial", "stdio", "-kernel", vmlinuz,
           "-append", "console=ttyS0 panic=-1"]
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout)
        out = p.stdout + p.stderr
        ok = b"Kernel panic" in out and b"KVM internal error" not in out
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    record(ok)
    return ok


def choose(requested, vmlinuz):
    """Returns "kvm" or "tcg" for --accel auto|kvm|tcg."""
    if requested != "auto":
        return requested
    if not _kvm_opens():
        return "tcg"
    try:
        with open(_probe_path()) as f:
            cached = f.read().strip()
    except OSError:
        cached = "ok" if probe(vmlinuz) else "fail"
    return "kvm" if cached == "ok" else "tcg"
