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
    _host_kbuild(root, suite)
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


def _glibc_needed(root):
    """The newest glibc symbol version the kbuild's programs (modpost, objtool...) need."""
    need = (0, 0)
    for d in glob.glob(os.path.join(root, "usr", "lib", "linux-kbuild-*")):
        for dirpath, _, files in os.walk(d):
            for f in files:
                path = os.path.join(dirpath, f)
                if os.path.islink(path) or not os.access(path, os.X_OK):
                    continue
                with open(path, "rb") as fh:
                    if fh.read(4) != b"\x7fELF":
                        continue
                out = subprocess.run(["readelf", "-V", path], capture_output=True,
                                     text=True).stdout
                for v in re.findall(r"GLIBC_(\d+)\.(\d+)", out):
                    need = max(need, (int(v[0]), int(v[1])))
    return need


def _host_kbuild(root, suite):
    """A newer Debian's kbuild programs need a newer glibc than this host's (trixie's: 2.38,
    bookworm has 2.36): take the host suite's kbuild of the same upstream version (bookworm's
    linux-kbuild-6.12.118+deb12 for trixie's 6.12.118+deb13: the same modpost and objtool
    sources) and point the headers' scripts and tools links at it."""
    if suite == kernels.HOST_SUITE:
        return
    host = tuple(int(x) for x in os.confstr("CS_GNU_LIBC_VERSION").split()[1].split(".")[:2])
    if _glibc_needed(root) <= host:
        return
    theirs = [os.path.basename(d) for d in glob.glob(os.path.join(root, "usr", "lib", "linux-kbuild-*"))]
    if len(theirs) != 1:
        raise LabError("headers in %s: %d kbuild trees, expected one" % (root, len(theirs)))
    upstream = re.sub(r"\+deb\d+$", "", theirs[0])
    names = subprocess.run(["apt-cache", "pkgnames", upstream], capture_output=True,
                           text=True).stdout.split()
    mine = sorted(n for n in names if re.fullmatch(re.escape(upstream) + r"(\+deb\d+)?", n))
    if not mine:
        raise LabError("the kbuild programs of %s need a newer glibc than this host's, and %s has "
                       "no %s to use instead" % (theirs[0], kernels.HOST_SUITE, upstream))
    with tempfile.TemporaryDirectory(dir=paths.cache_dir(), prefix=".kbuild-host-") as tmp:
        os.chmod(tmp, 0o777)  # apt downloads as _apt
        r = subprocess.run(["apt-get", "download", "-q", mine[-1]], cwd=tmp, capture_output=True,
                           text=True)
        debs = glob.glob(os.path.join(tmp, "*.deb"))
        if r.returncode != 0 or len(debs) != 1:
            raise LabError("cannot download %s: %s" % (mine[-1], r.stderr.strip()[-200:]))
        r = subprocess.run(["dpkg-deb", "-x", debs[0], root], capture_output=True, text=True)
        if r.returncode != 0:
            raise LabError("dpkg-deb -x %s failed: %s" % (debs[0], r.stderr.strip()))
    for link in glob.glob(os.path.join(root, "usr", "src", "linux-headers-*", "*")):
        if os.path.islink(link) and theirs[0] in os.readlink(link):
            target = os.readlink(link).replace(theirs[0], mine[-1])
            os.unlink(link)
            os.symlink(target, link)


# Compiler capabilities a kernel's configuration records that an older host gcc lacks, with the
# flag each adds (trixie's gcc-14 kernels: -fmin-function-alignment; gcc-12 then takes the
# Makefile's -falign-functions, the same alignment for a module's functions).
CC_CAPS = [("CONFIG_CC_HAS_MIN_FUNCTION_ALIGNMENT", "-fmin-function-alignment=16")]


def _cc_lacks(flag):
    r = subprocess.run(["gcc", "-Werror", flag, "-x", "c", "-c", "-o", os.devnull, "-"],
                       input="int x;\n", capture_output=True, text=True)
    return r.returncode != 0


def _cc(kdir):
    """CC=... for make when the headers name a compiler this host lacks (a bullseye kernel's
    gcc-10, a trixie kernel's gcc-14 on bookworm): the host's gcc, which builds a small module
    for it, and the capabilities of CC_CAPS it lacks turned off; [] otherwise."""
    want = ""
    for f in glob.glob(os.path.join(os.path.dirname(kdir), "linux-headers-*", ".kernelvariables")):
        with open(f) as fh:
            m = re.search(r"^\s*CC\s*=\s*(?:\$\(CROSS_COMPILE\))?(\S+)", fh.read(), re.M)
            if m:
                want = m.group(1)
    if not want or shutil.which(want):
        return []
    conf = os.path.join(kdir, "include", "config", "auto.conf")
    with open(conf) as fh:
        text = fh.read()
    return ["CC=gcc"] + [c + "=" for c, flag in CC_CAPS
                         if re.search("^%s=y$" % c, text, re.M) and _cc_lacks(flag)]


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
