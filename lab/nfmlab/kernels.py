"""Fetch Debian kernel packages: resolve the newest served package through its meta package.

Point releases are never hard-coded: `apt-cache depends META` names the package the archive serves
today (e.g. linux-image-cloud-amd64 -> linux-image-6.1.0-56-cloud-amd64).

Kernels of other Debian releases (bullseye 5.10, trixie 6.12) come through the same apt, pointed
at a private package index of that release in the cache (apt-<suite>/: its own sources.list and
lists, `apt-get update` once), so the host's apt configuration is never touched. A kernel may also
be named by its concrete package (linux-image-5.10.0-32-cloud-amd64, looked up in every known
release) or given as a .deb file. Packages keep modules under lib/modules (bookworm and before) or
usr/lib/modules (trixie): both are accepted.
"""
import os
import re
import shutil
import subprocess
import tempfile

from . import LabError, paths

# The host's own release: its apt sources need no private index.
HOST_SUITE = "bookworm"

# Lab kernel name -> (Debian release, meta package).
KERNELS = {
    "6.1-cloud": (HOST_SUITE, "linux-image-cloud-amd64"),
    "6.1-generic": (HOST_SUITE, "linux-image-amd64"),
    "6.1-rt": (HOST_SUITE, "linux-image-rt-amd64"),
    "6.12-cloud": (HOST_SUITE, "linux-image-6.12-cloud-amd64"),
    "6.12-generic": (HOST_SUITE, "linux-image-6.12-amd64"),
    "6.12-rt": (HOST_SUITE, "linux-image-6.12-rt-amd64"),
    # Debian 11: no kallsyms in VMCOREINFO (found by the structural scan), pre-maple-tree mm.
    "5.10-cloud": ("bullseye", "linux-image-cloud-amd64"),
    "5.10-generic": ("bullseye", "linux-image-amd64"),
    # Debian 13: modules under usr/lib/modules.
    "6.12-trixie-cloud": ("trixie", "linux-image-cloud-amd64"),
    # arm64 guest (qemu-system-aarch64 -M virt, TCG): a private arm64 index of bookworm, because
    # the host's dpkg knows amd64 only (and must keep it that way).
    "6.1-cloud-arm64": ("bookworm-arm64", "linux-image-cloud-arm64"),
    "6.12-cloud-arm64": ("bookworm-arm64", "linux-image-6.12-cloud-arm64"),
}

# Lab kernels built here rather than downloaded: name -> module with build() -> (.deb, BTF file).
# 6.1 without BTF (nobtf.py): nfm needs --btf with the file pahole made.
LOCAL_KERNELS = ("6.1-nobtf",)

# Release -> apt source lines (main only; the security archive carries bullseye's newest kernels).
SUITES = {
    "bullseye": ["http://deb.debian.org/debian bullseye main",
                 "http://deb.debian.org/debian-security bullseye-security main"],
    "trixie": ["http://deb.debian.org/debian trixie main",
               "http://deb.debian.org/debian-security trixie-security main"],
    "bookworm-arm64": ["http://deb.debian.org/debian bookworm main",
                       "http://deb.debian.org/debian-security bookworm-security main"],
}
# Release -> architecture of its private index (amd64 unless named here).
SUITE_ARCH = {"bookworm-arm64": "arm64"}
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


class Kernel:
    """An unpacked kernel package: .dir (root of the unpacked tree), .release, .vmlinuz, .moddir,
    .suite (the Debian release whose apt index serves it), .arch ("amd64" or "arm64", from the
    package name: Debian's flavours end in the architecture)."""

    def __init__(self, name, package, root, suite=HOST_SUITE):
        self.name = name
        self.package = package
        self.suite = suite
        self.release = package[len("linux-image-"):]
        self.dir = root
        self.vmlinuz = os.path.join(root, "boot", "vmlinuz-" + self.release)
        self.moddir = module_dir(root, self.release)
        self.arch = "arm64" if self.release.endswith("-arm64") else "amd64"
        self.btf = None  # a kernel without BTF in its image: the types file nfm needs (--btf)


def module_dir(root, release):
    """The modules of `release` in an unpacked package: lib/modules (up to Debian 12) or
    usr/lib/modules (Debian 13, merged /usr)."""
    for sub in (("lib", "modules"), ("usr", "lib", "modules")):
        d = os.path.join(root, *sub, release)
        if os.path.isdir(d):
            return d
    return os.path.join(root, "lib", "modules", release)


def apt_options(suite):
    """apt-get/apt-cache options selecting the index of `suite` ([] for the host's own); the
    private index is created and updated on first use."""
    if suite == HOST_SUITE:
        return []
    if suite not in SUITES:
        raise LabError("unknown Debian release %r (known: %s)" % (suite, " ".join([HOST_SUITE] + list(SUITES))))
    base = os.path.join(paths.cache_dir(), "apt-" + suite)
    opts = ["-o", "Dir::Etc::SourceList=" + os.path.join(base, "sources.list"),
            "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", "Dir::State::Lists=" + os.path.join(base, "lists"),
            "-o", "Dir::Cache=" + os.path.join(base, "cache")]
    if suite in SUITE_ARCH:
        # Only this index's architecture; Dir::State::status empty so the host's installed
        # (amd64) packages do not satisfy or conflict with foreign-architecture lookups.
        opts += ["-o", "APT::Architectures::=" + SUITE_ARCH[suite],
                 "-o", "APT::Architecture=" + SUITE_ARCH[suite],
                 "-o", "Dir::State::status=/dev/null"]
    stamp = os.path.join(base, ".updated")
    if not os.path.exists(stamp):
        for d in ("lists/partial", "cache/archives/partial"):
            os.makedirs(os.path.join(base, d), exist_ok=True)
        # apt drops privileges to _apt for downloads; let it write here.
        for d in ("lists", "lists/partial"):
            os.chmod(os.path.join(base, d), 0o777)
        with open(os.path.join(base, "sources.list"), "w") as f:
            f.writelines("deb [signed-by=%s] %s\n" % (KEYRING, s) for s in SUITES[suite])
        r = subprocess.run(["apt-get"] + opts + ["update", "-q"], capture_output=True, text=True,
                           timeout=600)
        if r.returncode != 0:
            last = (r.stderr.strip().splitlines() or ["no output"])[-1]
            raise LabError("apt-get update of the %s index failed (no network?): %s" % (suite, last))
        open(stamp, "w").close()
    return opts


def _depends(meta, suite):
    try:
        out = subprocess.run(["apt-cache"] + apt_options(suite) + ["depends", meta],
                             capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        raise LabError("apt-cache failed for %s: %s" % (meta, e))
    return re.findall(r"^\s*\|?Depends:\s*(linux-image-\d\S*)\s*$", out, re.M)


def _has_package(pkg, suite):
    r = subprocess.run(["apt-cache"] + apt_options(suite) + ["show", "-q", pkg],
                       capture_output=True, text=True, timeout=60)
    return r.returncode == 0 and r.stdout.strip() != ""


def resolve(name):
    """Returns (concrete package name, Debian release) behind lab kernel `name`, or behind a
    concrete package name (linux-image-<release>)."""
    if name.startswith("linux-image-") and name not in KERNELS:
        for suite in [HOST_SUITE] + list(SUITES):
            if _has_package(name, suite):
                return name, suite
        raise LabError("no Debian release known here serves %s" % name)
    if name not in KERNELS:
        raise LabError("unknown kernel %r (known: %s; or a linux-image-* package, or a .deb)"
                       % (name, " ".join(list(KERNELS) + list(LOCAL_KERNELS))))
    suite, meta = KERNELS[name]
    pkgs = _depends(meta, suite)
    if not pkgs:
        raise LabError("the %s package index has no %s (run apt-get update?)" % (suite, meta))
    return pkgs[0], suite


def _unpack(deb, root):
    """Unpacks `deb` into `root` (replacing it) through a temporary directory beside it."""
    with tempfile.TemporaryDirectory(dir=paths.cache_dir(), prefix=".unpack-") as tmp:
        unpack = os.path.join(tmp, "root")
        r = subprocess.run(["dpkg-deb", "-x", deb, unpack], capture_output=True, text=True)
        if r.returncode != 0:
            raise LabError("dpkg-deb -x %s failed: %s" % (deb, r.stderr.strip()))
        shutil.rmtree(root, ignore_errors=True)
        os.rename(unpack, root)
        open(os.path.join(root, ".unpacked"), "w").close()


def _from_deb(path):
    r = subprocess.run(["dpkg-deb", "-f", path, "Package"], capture_output=True, text=True)
    pkg = r.stdout.strip()
    if r.returncode != 0 or not pkg.startswith("linux-image-"):
        raise LabError("%s is not a linux-image package: %s" % (path, (r.stderr.strip() or pkg)))
    root = os.path.join(paths.cache_dir(), pkg)
    if not os.path.exists(os.path.join(root, ".unpacked")):
        os.makedirs(paths.cache_dir(), exist_ok=True)
        _unpack(os.path.abspath(path), root)
    return Kernel(pkg, pkg, root)


def fetch(name):
    """Downloads and unpacks kernel `name` (a lab kernel name, a linux-image-* package or a .deb
    file) into the cache (idempotent); returns a Kernel."""
    if name.endswith(".deb"):
        k = _from_deb(name)
    elif name in LOCAL_KERNELS:
        from . import nobtf
        deb, btf = nobtf.build()
        k = _from_deb(deb)
        k.name, k.btf = name, btf
    else:
        pkg, suite = resolve(name)
        root = os.path.join(paths.cache_dir(), pkg)
        if not os.path.exists(os.path.join(root, ".unpacked")):
            os.makedirs(paths.cache_dir(), exist_ok=True)
            with tempfile.TemporaryDirectory(dir=paths.cache_dir(), prefix=".fetch-") as tmp:
                os.chmod(tmp, 0o777)  # apt downloads as _apt
                r = subprocess.run(["apt-get"] + apt_options(suite) + ["download", "-q", pkg],
                                   cwd=tmp, capture_output=True, text=True)
                debs = [f for f in os.listdir(tmp) if f.endswith(".deb")]
                if r.returncode != 0 or not debs:
                    last = (r.stderr.strip().splitlines() or ["no output"])[-1]
                    raise LabError("cannot download %s (no network?): %s" % (pkg, last))
                _unpack(os.path.join(tmp, debs[0]), root)
        k = Kernel(name, pkg, root, suite)
    if not os.path.exists(k.vmlinuz):
        raise LabError("%s has no %s" % (k.package, k.vmlinuz))
    if not os.path.isdir(k.moddir):
        raise LabError("%s has no modules directory (lib/modules or usr/lib/modules)" % k.package)
    return k
