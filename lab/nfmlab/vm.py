"""Lab VM lifecycle: start (boot + first truth), truth, dump, stop, list.

Each VM owns RUN/<name>/: qemu.pid, qmp.sock, console.log, truth.sock (virtio port nfm.truth),
truth-serial.sock (ttyS1 fallback), info (key=value lines, as printed by start), truth-N.txt.
"""
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time

from . import LabError, accel, channel, initramfs, kbuild, kernels, paths
from .qmp import QMP

# Whole lines only: QEMU writes the console log as the guest prints, and a line read half
# written gave a cut release ("6.12.118+deb1") under load.
READY = re.compile(rb"NFM-LAB-READY channel=(\w+) dev=(\S+) release=(\S+)\r?\n")
FAILED = (b"Kernel panic", b"---[ end Kernel panic")
# A guest that oopsed while booting may never panic (an oops in a kworker, an int3 in the
# scheduler clock under TCG): the first such line names the crash.
OOPS = re.compile(rb"^.*(?:\bOops: |\bBUG: |general protection fault|invalid opcode: |int3: |"
                  rb"kernel BUG at |Unable to handle kernel ).*$", re.M)
# With an oops on the console and no new output for this long, the guest is dead.
OOPS_QUIET_SECONDS = 20
# A kernel that prints nothing for this long before it runs /init has hung (seen in CI: a 6.1
# guest under TCG stopped after "Loading compiled-in X.509 certificates" at 1.28 s). Its boot
# prints a line every few milliseconds, even on a loaded host; after /init the zoo may be
# silent for minutes, so the rule stops there.
HANG_QUIET_SECONDS = 60
INIT_RUN = b"Run /init as init process"


def _crash_line(log):
    """The first oops/BUG line of a console log (decoded, stripped), or None."""
    m = OOPS.search(log)
    return m.group(0).decode("utf-8", "replace").strip() if m else None


def _mem_bytes(mem):
    m = re.fullmatch(r"(\d+)([KMGT]?)", mem.upper())
    if not m:
        raise LabError("bad --mem %r (use e.g. 512M or 4G)" % mem)
    return int(m.group(1)) << {"": 20, "K": 10, "M": 20, "G": 30, "T": 40}[m.group(2)]


def _check_name(name):
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,40}", name):
        raise LabError("bad VM name %r (letters, digits, . _ -; at most 41)" % name)


def read_info(name):
    """Returns the info dict saved by start, or None when RUN/name/info is missing."""
    try:
        with open(os.path.join(paths.run_dir(name), "info")) as f:
            return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    except OSError:
        return None


def _pid_of(name):
    """PID of the VM's QEMU if it is alive and really is that VM, else None."""
    try:
        with open(os.path.join(paths.run_dir(name), "qemu.pid")) as f:
            pid = int(f.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")
    except (OSError, ValueError):
        return None
    # -name NAME or -name NAME,debug-threads=on
    return pid if b"-name" in argv and argv[argv.index(b"-name") + 1].split(b",")[0] == name.encode() else None


def _qemu_argv(name, kernel, initrd, o, accel_name, run):
    mem = _mem_bytes(o.mem)
    machine = o.machine
    # debug-threads=on names the vCPU threads "CPU n/TCG" (as libvirt does): nfm's host view
    # finds them by name when QMP is busy.
    qname = name + (",debug-threads=on" if getattr(o, "debug_threads", False) else "")
    arm64 = getattr(kernel, "arch", "amd64") == "arm64"
    if arm64:
        # arm64: the virt board (RAM at 1 GiB, one PL011 UART = ttyAMA0, PCIe for virtio) and a
        # CPU TCG emulates fully; there is no second UART, so the truth channel is virtio only.
        # --la57 on: the widest addresses the CPU model has, as on x86: QEMU's "max" CPU has
        # FEAT_LPA2, so a kernel built for 52-bit VA (Debian's 6.12) runs with 52 bits and
        # five levels of tables.
        machine = "virt"
        argv = ["qemu-system-aarch64", "-name", qname, "-accel", accel_name,
                "-cpu", "max" if o.la57 == "on" else "cortex-a57", "-smp", str(o.cpus),
                "-m", "%dM" % (mem >> 20)]
    else:
        argv = ["qemu-system-x86_64", "-name", qname, "-accel", accel_name,
                "-cpu", "max,la57=%s" % o.la57, "-smp", str(o.cpus), "-m", "%dM" % (mem >> 20)]
    if o.shm == "on":
        argv += ["-object", "memory-backend-file,id=ram,mem-path=%s,size=%dM,share=on"
                 % (paths.shm_path(name), mem >> 20)]
        machine += ",memory-backend=ram"
    marker = secrets.token_hex(8)
    argv += ["-machine", machine, "-kernel", kernel.vmlinuz, "-initrd", initrd,
             # NFM_LAB_CHANNEL=serial forces the ttyS1 fallback (to test it).
             "-append", "console=%s panic=-1 nfm.procs=%d nfm.marker=%s nfm.name=%s "
             "nfm.channel=%s%s%s" % ("ttyAMA0" if arm64 else "ttyS0", o.procs, marker, name,
                                   os.environ.get("NFM_LAB_CHANNEL", "auto"),
                                   # --burn off: an idle guest (many of them on one host)
                                   " nfm.burn=0" if getattr(o, "burn", "on") == "off" else "",
                                   # TCG's TSC slips when the host is busy; the clocksource
                                   # watchdog then patches a static key while the other vCPU
                                   # runs it, and 6.12 can die of an int3 in sched_clock_cpu
                                   " tsc=reliable" if not arm64 and accel_name == "tcg" else ""),
             "-nodefaults", "-display", "none", "-no-reboot",
             "-chardev", "file,id=con,path=%s/console.log" % run, "-serial", "chardev:con"]
    if not arm64:
        argv += ["-chardev", "socket,id=truth1,path=%s/truth-serial.sock,server=on,wait=off" % run,
                 "-serial", "chardev:truth1"]
    argv += ["-device", "virtio-serial-pci,id=vser",
             "-chardev", "socket,id=truth,path=%s/truth.sock,server=on,wait=off" % run,
             "-device", "virtserialport,bus=vser.0,chardev=truth,name=nfm.truth",
             "-pidfile", "%s/qemu.pid" % run, "-daemonize"]
    if o.qmp == "on":
        argv += ["-qmp", "unix:%s/qmp.sock,server=on,wait=off" % run]
    # a fleet guest's NICs (fleet.py): point-to-point links over unix sockets only
    argv += list(getattr(o, "qemu_extra", ()))
    return argv, marker


def _boot_timeout(o, accel_name):
    gib = _mem_bytes(o.mem) / (1 << 30)
    procs = getattr(o, "procs", 0) / 50  # the zoo spawns about 50 processes a second on TCG
    return 60 + 10 * gib + procs if accel_name == "kvm" else 150 + 30 * gib + procs


class BootCrash(LabError):
    """The guest kernel died (or hung) before its userspace said READY."""


def _wait_ready(name, run, timeout):
    """Waits for the READY line; returns its match or raises LabError naming the console log."""
    console = os.path.join(run, "console.log")
    deadline = time.monotonic() + timeout
    log, grew = b"", time.monotonic()
    while time.monotonic() < deadline:
        try:
            with open(console, "rb") as f:
                now = f.read()
        except OSError:
            now = b""
        if len(now) != len(log):
            log, grew = now, time.monotonic()
        m = READY.search(log)
        if m:
            return m
        crash = _crash_line(log)
        if any(s in log for s in FAILED):
            raise BootCrash("VM %s crashed while booting (kernel panic%s); see %s"
                            % (name, ": " + crash if crash else "", console))
        if crash and time.monotonic() - grew > OOPS_QUIET_SECONDS:
            raise BootCrash("VM %s crashed while booting (%s; no output for %ds since); see %s"
                            % (name, crash, OOPS_QUIET_SECONDS, console))
        if INIT_RUN not in log and time.monotonic() - grew > HANG_QUIET_SECONDS:
            raise BootCrash("VM %s hung while booting (no console output for %ds before /init); "
                            "see %s" % (name, HANG_QUIET_SECONDS, console))
        if _pid_of(name) is None:
            raise LabError("VM %s: QEMU exited while booting%s; see %s"
                           % (name, " (%s)" % crash if crash else "", console))
        time.sleep(0.1)
    crash = _crash_line(log)
    raise LabError("VM %s not ready after %ds%s; see %s"
                   % (name, timeout, " (crashed while booting: %s)" % crash if crash else "", console))


def _boot(name, kernel, initrd, o, accel_name):
    run = paths.run_dir(name)
    shutil.rmtree(run, ignore_errors=True)
    os.makedirs(run)
    argv, marker = _qemu_argv(name, kernel, initrd, o, accel_name, run)
    with open(os.path.join(run, "qemu.cmdline"), "w") as f:
        f.write("\0".join(argv))
    t0 = time.monotonic()
    r = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise LabError("QEMU failed to start (console log %s/console.log): %s"
                       % (run, " ".join(r.stderr.split())[:300]))
    m = _wait_ready(name, run, _boot_timeout(o, accel_name))
    return time.monotonic() - t0, m, marker


def boot(name, kernel, initrd, o, accel_name):
    """_boot, once more when the kernel died or hung before its userspace came up, before
    anything read it (seen in CI: an int3 Oops in sched_clock_cpu while 6.12 patched its jump
    labels under TCG on a loaded host; a 6.1 boot silent after its X.509 certificates); said."""
    try:
        return _boot(name, kernel, initrd, o, accel_name)
    except BootCrash as e:
        kill(name)
        sys.stderr.write("nfm-lab: %s; booting it once more\n" % e)
        return _boot(name, kernel, initrd, o, accel_name)


def start(o):
    """Boots a VM from argparse-style options `o` (kernel, name, mem, cpus, procs, qmp, shm,
    machine, la57, accel); returns the info dict (also saved as RUN/name/info)."""
    kernel = kernels.fetch(o.kernel)
    name = o.name or "nfm-" + o.kernel
    _check_name(name)
    if _pid_of(name):
        raise LabError("VM %s is already running (nfm-lab stop %s)" % (name, name))
    # hookmod=True: the lab's test modules (lab/hookmod: hookmod, hookpatch) in /lib/modules,
    # loaded on demand.
    extra = kbuild.build_all(kernel.release, os.path.join(paths.LAB_DIR, "hookmod"),
                             ["hookmod.c", "hookpatch.c", "Makefile"], ["hookmod", "hookpatch"],
                             kernel.suite) \
        if getattr(o, "hookmod", False) else []
    initrd = initramfs.build(kernel, extra)
    # the KVM probe boots an x86 kernel; an arm64 guest on this x86 host is TCG only
    acc = "tcg" if kernel.arch != "amd64" else accel.choose(o.accel, kernel.vmlinuz)
    try:
        secs, m, marker = boot(name, kernel, initrd, o, acc)
    except LabError:
        if acc != "kvm" or o.accel == "kvm":
            kill(name)
            raise
        kill(name)
        accel.record(False)  # KVM failed for real: never try it again here
        acc = "tcg"
        secs, m, marker = _boot(name, kernel, initrd, o, acc)
    run = paths.run_dir(name)
    info = {"name": name, "pid": str(_pid_of(name)),
            "qmp": os.path.join(run, "qmp.sock") if o.qmp == "on" else "",
            "console": os.path.join(run, "console.log"), "truth": "",
            "kernel": m.group(3).decode(), "accel": acc, "boot_seconds": "%.2f" % secs,
            "kernel_name": o.kernel, "package": kernel.package, "run": run,
            "channel": m.group(1).decode(), "marker": marker, "mem": o.mem,
            "shm": paths.shm_path(name) if o.shm == "on" else "",
            "machine": "virt" if kernel.arch == "arm64" else o.machine,
            "la57": o.la57, "arch": kernel.arch, "procs": str(getattr(o, "procs", 0))}
    _save_info(info)
    t0 = time.monotonic()
    info["truth"] = truth(name)
    info["truth_seconds"] = "%.2f" % (time.monotonic() - t0)
    _save_info(info)
    return info


def booted_info(name, kernel, kernel_name, acc, secs, m, marker, mem, **extra):
    """The info dict of a guest booted by _boot with the defaults of scenario and fleet guests
    (pc machine, no la57, no shm file, no truth yet), plus `extra`; saved as RUN/name/info."""
    run = paths.run_dir(name)
    info = {"name": name, "pid": str(_pid_of(name)), "qmp": os.path.join(run, "qmp.sock"),
            "console": os.path.join(run, "console.log"), "truth": "",
            "kernel": m.group(3).decode(), "accel": acc, "boot_seconds": "%.2f" % secs,
            "kernel_name": kernel_name, "package": kernel.package, "run": run,
            "channel": m.group(1).decode(), "marker": marker, "mem": mem, "shm": "",
            "machine": "pc", "la57": "off"}
    info.update(extra)
    _save_info(info)
    return info


def _save_info(info):
    path = os.path.join(info["run"], "info")
    with open(path + ".tmp", "w") as f:
        f.writelines("%s=%s\n" % kv for kv in info.items())
    os.rename(path + ".tmp", path)


def _require(name):
    info = read_info(name)
    if info is None or _pid_of(name) is None:
        raise LabError("no running lab VM named %s" % name)
    return info


def truth_bytes(name):
    """Asks the running guest for a fresh snapshot; returns its bytes."""
    info = _require(name)
    run = info["run"]
    sock = "truth.sock" if info["channel"] == "virtio" else "truth-serial.sock"
    req = "%s-%d-%s" % (name, int(time.time()), secrets.token_hex(4))
    # the guest walks its own /proc for it: a 10,000-process guest on a loaded TCG host took
    # over the default 120 s once (the 5.10 part, beside other lab work)
    timeout = 120 + int(info.get("procs") or 0) / 50
    return channel.request(os.path.join(run, sock), os.path.join(run, "truth.lock"), req,
                           timeout=timeout)


def _command(name, line, prefix):
    info = _require(name)
    sock = "truth.sock" if info["channel"] == "virtio" else "truth-serial.sock"
    return channel.command(os.path.join(info["run"], sock),
                           os.path.join(info["run"], "truth.lock"), line, prefix)


def guest_file(name, path):
    """The bytes of a file in the running guest (its own read, e.g. /sys/kernel/btf/vmlinux)."""
    info = _require(name)
    sock = "truth.sock" if info["channel"] == "virtio" else "truth-serial.sock"
    return channel.fetch_file(os.path.join(info["run"], sock),
                              os.path.join(info["run"], "truth.lock"), path)


def kmsg(name, text):
    """Writes one record to the guest's kernel log through /dev/kmsg; returns 0 or the errno."""
    return int(_command(name, "KMSG " + text, "KMSG-DONE").split()[1])


def insmod(name, module, param=""):
    """Loads /lib/modules/MODULE.ko in the guest (busybox insmod); returns insmod's exit status."""
    return int(_command(name, ("INSMOD %s %s" % (module, param)).strip(), "MODULE-DONE").split()[1])


def rmmod(name, module):
    """Unloads MODULE in the guest; returns rmmod's exit status."""
    return int(_command(name, "RMMOD " + module, "MODULE-DONE").split()[1])


def ipaddr(name, op, cidr, mac):
    """ip addr add|del CIDR on the guest NIC whose MAC is mac; returns ip's exit status (-1: no
    such NIC)."""
    return int(_command(name, "IPADDR %s %s %s" % (op, cidr, mac), "IPADDR-DONE").split()[1])


def job_start(name, job, seconds):
    """Starts a guest job for `seconds`: "CHURN" forks and reaps short-lived processes, "BENCH"
    runs a CPU benchmark (SCHED_FIFO)."""
    reply = _command(name, "%s %d" % (job, seconds), job + "-STARTED")
    if int(reply.split()[1]) <= 0:
        raise LabError("the guest could not start %s: %s" % (job, reply))


def burn_start(name, seconds, duty, cpu=None):
    """Starts a CPU burner in the guest, busy duty % of every 100 ms for `seconds` (the zoo's own
    burners are stopped meanwhile), pinned to guest CPU `cpu` if given (burners on different CPUs
    may run at once); returns its guest pid. Its own accounting is the guest file
    /run/zoo/BURN.log (pinned: BURN.CPU.log) once it ends (burn_log())."""
    line = "BURN %d %d" % (seconds, duty) + ("" if cpu is None else " %d" % cpu)
    reply = _command(name, line, "BURN-STARTED")
    pid = int(reply.split()[1])
    if pid <= 0:
        raise LabError("the guest could not start BURN: %s" % reply)
    return pid


def burn_log(name, cpu=None):
    """The last BURN job's own accounting (of the one pinned to `cpu` if given):
    [(CLOCK_BOOTTIME ns, its CPU time ns), ...]."""
    path = "/run/zoo/BURN.log" if cpu is None else "/run/zoo/BURN.%d.log" % cpu
    text = guest_file(name, path).decode()
    return [tuple(int(x) for x in l.split()) for l in text.splitlines() if len(l.split()) == 2]


def job_count(name, job):
    """What the last run of a job counted (children forked, benchmark rounds), None while it runs."""
    n = int(_command(name, job + "-COUNT", job + "-COUNT").split()[1])
    return None if n < 0 else n


def churn_start(name, seconds):
    """Makes the guest fork and reap short-lived processes for `seconds`."""
    job_start(name, "CHURN", seconds)


def churn_count(name):
    """Children the last churn forked, or None while it still runs."""
    return job_count(name, "CHURN")


def truth(name, out=None):
    """Saves a fresh snapshot to `out` (default RUN/name/truth-N.txt); returns the path."""
    data = truth_bytes(name)
    if out is None:
        run = paths.run_dir(name)
        n = 0
        while os.path.exists(os.path.join(run, "truth-%d.txt" % n)):
            n += 1
        out = os.path.join(run, "truth-%d.txt" % n)
    return channel.save(data, out)


def dump(name, out):
    """truth snapshot -> QMP stop -> dump-guest-memory (ELF, no paging) -> cont.
    Returns (dump path, truth path); the truth is saved as OUT.truth."""
    info = _require(name)
    if not info.get("qmp"):
        raise LabError("VM %s was started with --qmp off; dump needs QMP" % name)
    out = os.path.abspath(out)
    data = truth_bytes(name)
    with QMP(info["qmp"], timeout=600) as q:
        q.cmd("stop")
        try:
            q.cmd("dump-guest-memory", paging=False, protocol="file:" + out, format="elf")
        finally:
            q.cmd("cont")
    # QEMU writes every page; the zero ones become holes (a test run makes dozens of dumps)
    subprocess.run(["fallocate", "--dig-holes", out], check=False)
    tpath = channel.save(data, out + ".truth")
    return out, tpath


def kill(name):
    """Stops the QEMU of VM `name` if running; keeps RUN/name (console log) for inspection."""
    pid = _pid_of(name)
    if pid:
        try:
            with QMP(os.path.join(paths.run_dir(name), "qmp.sock"), timeout=5) as q:
                q.cmd("quit")
        except Exception:
            pass
        for _ in range(50):
            if _pid_of(name) is None:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)


def stop(name):
    """Stops VM `name` and removes RUN/name and its /dev/shm RAM file. Returns True if it ran."""
    _check_name(name)
    existed = os.path.isdir(paths.run_dir(name)) or _pid_of(name) is not None
    kill(name)
    shutil.rmtree(paths.run_dir(name), ignore_errors=True)
    try:
        os.unlink(paths.shm_path(name))
    except OSError:
        pass
    return existed


def names():
    """Names of the VMs with a runtime dir (running or not)."""
    try:
        return sorted(d for d in os.listdir(paths.run_root())
                      if os.path.isdir(paths.run_dir(d)))
    except OSError:
        return []


def list_vms():
    """Returns [info dict + "alive"] for every VM with a runtime dir."""
    res = []
    for n in names():
        info = read_info(n) or {"name": n}
        pid = _pid_of(n)
        info["alive"] = "yes" if pid else "no"
        if pid:
            info["pid"] = str(pid)
        res.append(info)
    return res
