"""Out-of-tree kernel modules for the lab kernels, built with kbuild from Debian's headers.

`apt-get download` fetches linux-headers-<release>, its -common package and linux-kbuild-<x.y>
(resolved through apt-cache depends, as kernels.py does for images), unpacks them into the cache
(headers-<release>/) and points the flavour's Makefile (an absolute include of /usr/src/...-common)
at the unpacked copy. A module is cached by release and the digest of its sources.
"""
import glob
import hashlib
import os
import re
import shutil
import subprocess
import tempfile

from . import LabError, kernels, paths


def _deps(pkg, suite):
    out = subprocess.run(["apt-cache"] + kernels.apt_options(suite) + ["depends", pkg],
                         capture_output=True, text=True, timeout=60).stdout
    return re.findall(r"^\s*\|?Depends:\s*(linux-(?:headers|kbuild)-\S+)\s*$", out, re.M)


def headers(release, suite=kernels.HOST_SUITE):
    """Unpacks the headers of `release` (e.g. 6.1.0-57-cloud-amd64) from the package index of
    `suite` (the kernel's); returns the build dir."""
    root = os.path.join(paths.cache_dir(), "headers-" + release)
    kdir = os.path.join(root, "usr", "src", "linux-headers-" + release)
    done = os.path.join(root, ".unpacked")
    if os.path.exists(done):
        return kdir
    pkg = "linux-headers-" + release
    pkgs = [pkg] + _deps(pkg, suite)
    os.makedirs(paths.cache_dir(), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=paths.cache_dir(), prefix=".hdr-") as tmp:
        os.chmod(tmp, 0o777)  # apt downloads as _apt
        r = subprocess.run(["apt-get"] + kernels.apt_options(suite) + ["download", "-q"] + pkgs,
                           cwd=tmp, capture_output=True, text=True)
        debs = glob.glob(os.path.join(tmp, "*.deb"))
        if r.returncode != 0 or len(debs) < 2:
            last = (r.stderr.strip().splitlines() or ["no output"])[-1]
            raise LabError("cannot download %s (no network?): %s" % (" ".join(pkgs), last))
        unpack = os.path.join(tmp, "root")
        for d in debs:
            r = subprocess.run(["dpkg-deb", "-x", d, unpack], capture_output=True, text=True)
            if r.returncode != 0:
                raise LabError("dpkg-deb -x %s failed: %s" % (d, r.stderr.strip()))
        shutil.rmtree(root, ignore_errors=True)
        os.rename(unpack, root)
    mk = os.path.join(kdir, "Makefile")
    with open(mk) as f:
        text = f.read()
    with open(mk, "w") as f:
        f.write(re.sub(r"^include /usr/src/", "include %s/usr/src/" % root, text, flags=re.M))
    open(done, "w").close()
    return kdir


def build(release, src, files, name, suite=kernels.HOST_SUITE):
    """Returns the path of module `name`.ko built from `files` of directory `src` (a kbuild
    Makefile among them) for kernel `release` (of Debian release `suite`), building it the
    first time."""
    return build_all(release, src, files, [name], suite)[0]


def _cc(kdir):
    """CC=... for make when the headers name a compiler this host lacks (a bullseye kernel's
    gcc-10 on bookworm): the host's gcc, which builds a small module for it; [] otherwise."""
    want = ""
    for f in glob.glob(os.path.join(os.path.dirname(kdir), "linux-headers-*", ".kernelvariables")):
        with open(f) as fh:
            m = re.search(r"^\s*CC\s*=\s*(?:\$\(CROSS_COMPILE\))?(\S+)", fh.read(), re.M)
            if m:
                want = m.group(1)
    return ["CC=gcc"] if want and not shutil.which(want) else []


def build_all(release, src, files, names, suite=kernels.HOST_SUITE):
    """The paths of the modules `names` (.ko) that one kbuild run over `files` of `src` makes
    for kernel `release`; built the first time, cached by release, name and source digest."""
    h = hashlib.sha256(release.encode())
    for f in files:
        with open(os.path.join(src, f), "rb") as fh:
            h.update(f.encode() + b"\0" + fh.read())
    outs = [os.path.join(paths.cache_dir(), "%s-%s-%s.ko" % (n, release, h.hexdigest()[:16]))
            for n in names]
    if all(os.path.exists(o) for o in outs):
        return outs
    kdir = headers(release, suite)
    with tempfile.TemporaryDirectory(dir=paths.cache_dir(), prefix=".kbuild-") as tmp:
        for f in files:
            shutil.copy(os.path.join(src, f), tmp)
        # No module BTF: it needs pahole (dwarves), and nothing here reads a lab module's BTF.
        r = subprocess.run(["make", "-C", kdir, "M=" + tmp, "CONFIG_DEBUG_INFO_BTF_MODULES="]
                           + _cc(kdir) + ["modules"], capture_output=True, text=True, timeout=600)
        for n, out in zip(names, outs):
            ko = os.path.join(tmp, n + ".ko")
            if r.returncode != 0 or not os.path.exists(ko):
                raise LabError("building %s for %s failed: %s"
                               % (n, release, " ".join((r.stdout + r.stderr).split())[-600:]))
            shutil.copy(ko, out + ".tmp%d" % os.getpid())
            os.rename(out + ".tmp%d" % os.getpid(), out)
    return outs
