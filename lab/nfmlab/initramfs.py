"""Build (and cache) the guest initramfs: busybox-static, the zoo, init, and kernel modules."""
import glob
import gzip
import hashlib
import io
import os
import shutil
import subprocess
import tempfile

from . import LabError, cpio, kernels, modules, paths

BUSYBOX = "/bin/busybox"
# Per guest architecture: the C compiler for the zoo (static), and where busybox comes from.
CC = {"amd64": "gcc", "arm64": "aarch64-linux-gnu-gcc"}
CC_PACKAGE = {"arm64": "gcc-aarch64-linux-gnu libc6-dev-arm64-cross"}
# dummy gives dummy0; virtio_pci + virtio_console give the truth port where they are modules;
# libcrc32c (after the crc32c it uses) exports a symbol with EXPORT_SYMBOL, which /proc/kallsyms
# prints in upper case; tcp_diag (and inet_diag) answer the truth server's sock_diag dump of
# every TCP socket's tcp_info (nfm ss -i's truth), udp_diag and unix_diag the dumps of every
# socket's timer, skmem and unix details (nfm ss -o -m -xe's truth).
WANTED_MODULES = ["dummy", "virtio_pci", "virtio_console", "crc32c_generic", "libcrc32c",
                  "tcp_diag", "udp_diag", "unix_diag"]


def _sources():
    return sorted(glob.glob(os.path.join(paths.GUEST_DIR, "*.[ch]")))


def _digest(files, extra=b""):
    h = hashlib.sha256(extra)
    for p in files:
        with open(p, "rb") as f:
            h.update(p.encode() + b"\0" + f.read())
    return h.hexdigest()[:16]


def busybox(arch="amd64"):
    """Path of a static busybox for `arch`: the host's for amd64; for arm64 busybox-static:arm64
    downloaded through the private arm64 index and unpacked into the cache (the host's dpkg
    never learns the architecture)."""
    if arch == "amd64":
        if not os.path.exists(BUSYBOX):
            raise LabError("%s missing: apt-get install busybox-static" % BUSYBOX)
        return BUSYBOX
    root = os.path.join(paths.cache_dir(), "busybox-static-" + arch)
    path = os.path.join(root, "bin", "busybox")
    if not os.path.exists(path):
        opts = kernels.apt_options("bookworm-" + arch)
        with tempfile.TemporaryDirectory(dir=paths.cache_dir(), prefix=".fetch-") as tmp:
            os.chmod(tmp, 0o777)  # apt downloads as _apt
            r = subprocess.run(["apt-get"] + opts + ["download", "-q", "busybox-static:" + arch],
                               cwd=tmp, capture_output=True, text=True)
            debs = [f for f in os.listdir(tmp) if f.endswith(".deb")]
            if r.returncode != 0 or not debs:
                raise LabError("cannot download busybox-static:%s: %s" % (arch, r.stderr.strip()[-300:]))
            r = subprocess.run(["dpkg-deb", "-x", os.path.join(tmp, debs[0]), root + ".tmp"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise LabError("dpkg-deb -x busybox-static:%s failed: %s" % (arch, r.stderr.strip()))
            shutil.rmtree(root, ignore_errors=True)
            os.rename(root + ".tmp", root)
    return path


def build_zoo(arch="amd64"):
    """Compiles lab/guest/*.c statically for `arch` into the cache (keyed by source hash; the
    amd64 name is unchanged); returns the path."""
    srcs = [s for s in _sources() if s.endswith(".c")]
    cc = CC[arch]
    out = os.path.join(paths.cache_dir(), "zoo-" + ("" if arch == "amd64" else arch + "-")
                       + _digest(_sources()))
    if not os.path.exists(out):
        if not shutil.which(cc):
            raise LabError("%s missing: apt-get install %s" % (cc, CC_PACKAGE.get(arch, "gcc")))
        os.makedirs(paths.cache_dir(), exist_ok=True)
        tmp = out + ".tmp%d" % os.getpid()
        cmd = [cc, "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o", tmp] + srcs + [
            "-lpthread"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise LabError("building the zoo failed: " + " ".join(r.stderr.split())[:400])
        os.rename(tmp, out)
    return out


def build(kernel, extra=()):
    """Returns the path of the gzip newc initramfs for `kernel` (a kernels.Kernel). `extra`:
    paths of further .ko files put in /lib/modules/ (not loaded at boot: the truth channel's
    INSMOD loads them by name)."""
    arch = getattr(kernel, "arch", "amd64")
    bb = busybox(arch)
    zoo = build_zoo(arch)
    init = os.path.join(paths.GUEST_DIR, "init")
    key = _digest([zoo, init, bb] + list(extra),
                  (kernel.release + repr(WANTED_MODULES)).encode())
    out = os.path.join(paths.cache_dir(), "initramfs-%s-%s.cpio.gz" % (kernel.release, key))
    if os.path.exists(out):
        return out
    mods = modules.load_order(kernel.moddir, WANTED_MODULES)
    raw = io.BytesIO()
    w = cpio.Writer(raw)
    for d in ("bin", "dev", "etc", "lib", "lib/modules", "mnt", "proc", "root", "run", "sys",
              "tmp"):
        w.dir(d)
    w.chardev("dev/console", 5, 1)
    w.chardev("dev/null", 1, 3, 0o666)
    with open(init, "rb") as f:
        w.file("init", f.read(), 0o755)
    with open(bb, "rb") as f:
        w.file("bin/busybox", f.read(), 0o755)
    w.symlink("bin/sh", "busybox")
    with open(zoo, "rb") as f:
        w.file("bin/zoo", f.read(), 0o755)
    for name, _, elf in mods:
        w.file("lib/modules/%s.ko" % name, elf)
    for path in extra:
        with open(path, "rb") as f:
            w.file("lib/modules/%s.ko" % os.path.basename(path).split("-")[0].split(".")[0],
                   f.read())
    w.file("lib/modules/load.list", "".join("%s.ko\n" % m[0] for m in mods).encode())
    w.close()
    tmp = out + ".tmp%d" % os.getpid()
    with open(tmp, "wb") as f:
        f.write(gzip.compress(raw.getvalue(), compresslevel=6))
    os.rename(tmp, out)
    return out


def append(base, out, files):
    """Writes `out`: the initramfs `base` followed by a second gzip cpio archive (the kernel
    unpacks both, the second over the first) of `files`: [(path, bytes, mode)], their parent
    directories bin, etc, lib, lib/modules created first. Returns out."""
    raw = io.BytesIO()
    w = cpio.Writer(raw)
    for d in ("bin", "etc", "lib", "lib/modules"):
        w.dir(d)
    for path, data, mode in files:
        w.file(path, data, mode)
    w.close()
    with open(base, "rb") as f:
        data = f.read()
    tmp = out + ".tmp%d" % os.getpid()
    with open(tmp, "wb") as f:
        f.write(data + gzip.compress(raw.getvalue(), compresslevel=6))
    os.rename(tmp, out)
    return out
