"""Fetch Debian kernel packages: resolve the newest served package through its meta package.

Point releases are never hard-coded: `apt-cache depends META` names the package the archive serves
today (e.g. linux-image-cloud-amd64 -> linux-image-6.1.0-56-cloud-amd64).
"""
import os
import re
import shutil
import subprocess
import tempfile

from . import LabError, paths

# Lab kernel name -> Debian meta package.
KERNELS = {
    "6.1-cloud": "linux-image-cloud-amd64",
    "6.1-generic": "linux-image-amd64",
    "6.1-rt": "linux-image-rt-amd64",
    "6.12-cloud": "linux-image-6.12-cloud-amd64",
    "6.12-generic": "linux-image-6.12-amd64",
    "6.12-rt": "linux-image-6.12-rt-amd64",
}


class Kernel:
    """An unpacked kernel package: .dir (root of the unpacked tree), .release, .vmlinuz, .moddir."""

    def __init__(self, name, package, root):
        self.name = name
        self.package = package
        self.release = package[len("linux-image-"):]
        self.dir = root
        self.vmlinuz = os.path.join(root, "boot", "vmlinuz-" + self.release)
        self.moddir = os.path.join(root, "lib", "modules", self.release)


def resolve(name):
    """Returns the concrete package name behind lab kernel `name`."""
    meta = KERNELS.get(name)
    if meta is None:
        raise LabError("unknown kernel %r (known: %s)" % (name, " ".join(KERNELS)))
    try:
        out = subprocess.run(["apt-cache", "depends", meta], capture_output=True, text=True,
                             timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        raise LabError("apt-cache failed for %s: %s" % (meta, e))
    pkgs = re.findall(r"^\s*\|?Depends:\s*(linux-image-\d\S*)\s*$", out, re.M)
    if not pkgs:
        raise LabError("the package index has no %s (run apt-get update?)" % meta)
    return pkgs[0]


def fetch(name):
    """Downloads and unpacks kernel `name` into the cache (idempotent); returns a Kernel."""
    pkg = resolve(name)
    root = os.path.join(paths.cache_dir(), pkg)
    done = os.path.join(root, ".unpacked")
    if not os.path.exists(done):
        os.makedirs(paths.cache_dir(), exist_ok=True)
        with tempfile.TemporaryDirectory(dir=paths.cache_dir(), prefix=".fetch-") as tmp:
            # apt drops privileges to _apt for downloads; let it write here.
            os.chmod(tmp, 0o777)
            r = subprocess.run(["apt-get", "download", "-q", pkg], cwd=tmp,
                               capture_output=True, text=True)
            debs = [f for f in os.listdir(tmp) if f.endswith(".deb")]
            if r.returncode != 0 or not debs:
                last = (r.stderr.strip().splitlines() or ["no output"])[-1]
                raise LabError("cannot download %s (no network?): %s" % (pkg, last))
            unpack = os.path.join(tmp, "root")
            r = subprocess.run(["dpkg-deb", "-x", os.path.join(tmp, debs[0]), unpack],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise LabError("dpkg-deb -x %s failed: %s" % (debs[0], r.stderr.strip()))
            shutil.rmtree(root, ignore_errors=True)
            os.rename(unpack, root)
            open(done, "w").close()
    k = Kernel(name, pkg, root)
    if not os.path.exists(k.vmlinuz):
        raise LabError("%s has no %s" % (pkg, k.vmlinuz))
    return k
