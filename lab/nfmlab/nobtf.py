"""A kernel without BTF for the lab (issue 19): Debian's linux-source-6.1 built with
CONFIG_DEBUG_INFO_BTF=n, as RHEL-like and custom kernels come, and its types as a separate BTF
file made from the build's DWARF by pahole (Debian dwarves): what a user gives nfm with --btf.

The config is the kernel's x86_64_defconfig with kvm_guest.config and what nfm and the lab rely
on (VMCOREINFO through KEXEC, KALLSYMS_ALL, ORC, the lab's modules as modules); DWARF 5 debug info
so that pahole can encode the types, no BTF in the image. `make bindeb-pkg` gives a linux-image
.deb the lab boots as any other kernel package. Built once into the cache (about an hour on this
host's 2 cores; full matrix only) and kept by the source package's version and this config.
"""
import glob
import hashlib
import os
import subprocess

from . import LabError, paths

SOURCE_PACKAGE = "linux-source-6.1"
BUILD_DEPS = ["linux-source-6.1", "flex", "bison", "dwarves", "cpio", "bc", "libelf-dev",
              "libssl-dev", "dpkg-dev"]
LOCALVERSION = "-nobtf-amd64"
# scripts/config arguments over x86_64_defconfig + kvm_guest.config
CONFIG = [
    "--set-str", "LOCALVERSION", LOCALVERSION, "-d", "LOCALVERSION_AUTO",
    "-e", "KALLSYMS", "-e", "KALLSYMS_ALL", "-e", "KEXEC", "-e", "CRASH_DUMP", "-e", "PROC_KCORE",
    "-d", "DEBUG_INFO_NONE", "-e", "DEBUG_INFO_DWARF5", "-d", "DEBUG_INFO_BTF",
    "-d", "DEBUG_INFO_REDUCED", "-d", "DEBUG_INFO_SPLIT", "-d", "DEBUG_INFO_COMPRESSED",
    "-e", "UNWINDER_ORC", "-e", "MODULES", "-e", "MODULE_UNLOAD", "-d", "MODULE_SIG",
    "-d", "MODULE_COMPRESS_XZ",
    "-m", "DUMMY", "-m", "CRYPTO_CRC32C", "-m", "LIBCRC32C", "-m", "INET_DIAG",
    "-m", "INET_TCP_DIAG", "-m", "INET_UDP_DIAG", "-m", "UNIX_DIAG",
    "-e", "VIRTIO_PCI", "-e", "VIRTIO_CONSOLE", "-e", "VIRTIO_NET", "-e", "VIRTIO_BLK",
    "-e", "HW_RANDOM_VIRTIO", "-e", "BLK_DEV_LOOP", "-e", "EXT4_FS", "-e", "TMPFS",
    "-e", "DEVTMPFS", "-e", "IPV6", "-e", "PACKET", "-e", "UNIX", "-e", "NAMESPACES",
    "-e", "USER_NS", "-e", "PID_NS", "-e", "NET_NS", "-e", "UTS_NS", "-e", "IPC_NS",
    "-e", "TRANSPARENT_HUGEPAGE", "-e", "SCHEDSTATS", "-e", "TASKSTATS", "-e", "PSI",
    "-e", "MEMCG", "-e", "CGROUPS", "-e", "SECURITY", "-d", "DEBUG_INFO_BTF_MODULES",
    "-e", "IKCONFIG", "-e", "IKCONFIG_PROC", "-e", "SYSTEM_TRUSTED_KEYRING",
]


def _source_version():
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", SOURCE_PACKAGE],
                       capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else ""


def _ensure_deps():
    missing = [p for p in BUILD_DEPS
               if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0]
    if missing:
        r = subprocess.run(["apt-get", "install", "-y", "-q"] + missing, capture_output=True,
                           text=True, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        if r.returncode != 0:
            raise LabError("cannot install %s: %s" % (" ".join(missing),
                                                      (r.stderr.strip().splitlines() or ["?"])[-1]))


def build_dir():
    """Where the tree is built: cache/kbuild/linux-source-6.1."""
    return os.path.join(paths.cache_dir(), "kbuild", SOURCE_PACKAGE)


def btf_dir():
    """Where RELEASE.btf is kept: a directory for $NFM_BTF_PATH (nfm finds it by release)."""
    return os.path.join(paths.cache_dir(), "kbuild", "btf")


def _run(cmd, cwd, what, log=None):
    with open(log or os.devnull, "ab") as out:
        r = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise LabError("%s failed (exit %d)%s" % (what, r.returncode,
                                                  "; see " + log if log else ""))


def build():
    """(the linux-image .deb, the BTF file pahole made from its vmlinux), built once."""
    _ensure_deps()
    key = hashlib.sha256((_source_version() + "\0" + "\0".join(CONFIG)).encode()).hexdigest()[:16]
    top = os.path.dirname(build_dir())
    stamp = os.path.join(top, "nobtf-%s.done" % key)
    debs = sorted(d for d in glob.glob(os.path.join(top, "linux-image-*%s_*.deb" % LOCALVERSION))
                  if "-dbg_" not in d)
    if os.path.exists(stamp) and debs:
        btf = _btf_path(debs[-1])
        if os.path.exists(btf):
            return debs[-1], btf
    os.makedirs(top, exist_ok=True)
    src = build_dir()
    log = os.path.join(top, "nobtf-build.log")
    if not os.path.isdir(src):
        tarball = "/usr/src/%s.tar.xz" % SOURCE_PACKAGE
        _run(["tar", "xf", tarball], top, "unpacking " + tarball)
    _run(["make", "-s", "x86_64_defconfig"], src, "make x86_64_defconfig", log)
    _run(["make", "-s", "kvm_guest.config"], src, "make kvm_guest.config", log)
    _run(["scripts/config"] + CONFIG, src, "scripts/config", log)
    _run(["make", "-s", "olddefconfig"], src, "make olddefconfig", log)
    _run(["make", "-j%d" % (os.cpu_count() or 1), "bindeb-pkg"], src, "make bindeb-pkg", log)
    debs = sorted(d for d in glob.glob(os.path.join(top, "linux-image-*%s_*.deb" % LOCALVERSION))
                  if "-dbg_" not in d)
    if not debs:
        raise LabError("make bindeb-pkg left no linux-image .deb in " + top)
    btf = _btf_path(debs[-1])
    os.makedirs(btf_dir(), exist_ok=True)
    _run(["pahole", "--btf_encode_detached", btf + ".tmp", "vmlinux"], src, "pahole", log)
    os.rename(btf + ".tmp", btf)
    open(stamp, "w").close()
    return debs[-1], btf


def _btf_path(deb):
    """btf_dir()/RELEASE.btf, RELEASE from the package name linux-image-RELEASE_VERSION_ARCH.deb"""
    release = os.path.basename(deb)[len("linux-image-"):].split("_")[0]
    return os.path.join(btf_dir(), release + ".btf")
