"""The lab's fault module (lab/faultmod/nfm_faultmod.c), built per lab kernel by kbuild.py from
Debian's linux-headers-*, and the static memory hog (lab/faultmod/hog.c) the OOM scenario runs.
Both cached under the lab cache by content."""
import hashlib
import os
import subprocess

from . import LabError, kbuild, paths

SRC_DIR = os.path.join(paths.LAB_DIR, "faultmod")


def build(kernel):
    """Returns the path of nfm_faultmod.ko for `kernel` (a kernels.Kernel), building it once."""
    return kbuild.build(kernel.release, SRC_DIR, ["Makefile", "nfm_faultmod.c"], "nfm_faultmod",
                        kernel.suite)


def build_hog():
    """The static memory hog, cached by source hash; returns its path."""
    src = os.path.join(SRC_DIR, "hog.c")
    with open(src, "rb") as f:
        out = os.path.join(paths.cache_dir(), "nfm-hog-" + hashlib.sha256(f.read()).hexdigest()[:16])
    if not os.path.exists(out):
        os.makedirs(paths.cache_dir(), exist_ok=True)
        r = subprocess.run(["gcc", "-static", "-O2", "-Wall", "-Werror", "-o", out + ".tmp", src],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise LabError("building the memory hog failed: " + " ".join(r.stderr.split())[:400])
        os.rename(out + ".tmp", out)
    return out
