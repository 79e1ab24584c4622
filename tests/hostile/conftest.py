"""Hostile-guest suite fixtures: one ELF dump of a lab guest per run, patched in place by each
case and restored after it (one 512 MiB copy, not one per case).

    NFM_HOSTILE_DUMP=PATH   start from this dump instead of booting a lab VM (it is copied)
    NFM_HOSTILE_BIN=PATH    the nfm to run (default: build-asan's, else NFM_BIN, else build's)
"""
import argparse
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "lab"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from guest import Dump  # noqa: E402


def nfm_bin():
    for p in (os.environ.get("NFM_HOSTILE_BIN"), str(ROOT / "build-asan" / "cmd" / "nfm" / "nfm"),
              os.environ.get("NFM_BIN"), str(ROOT / "build" / "cmd" / "nfm" / "nfm")):
        if p and os.access(p, os.X_OK):
            return p
    pytest.fail("no nfm binary (build-asan, NFM_BIN or build)", pytrace=False)


@pytest.fixture(scope="session")
def nfm():
    return nfm_bin()


@pytest.fixture(scope="session")
def dump(nfm, tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile") / "guest.elf"
    src = os.environ.get("NFM_HOSTILE_DUMP")
    if src:
        shutil.copyfile(src, out)
    else:
        from nfmlab import LabError, vm
        k = os.environ.get("NFM_LAB_KERNELS", "6.1-cloud").split()[0]
        opts = argparse.Namespace(kernel=k, name="hostile-%s-%d" % (k, os.getpid()),
                                  mem=os.environ.get("NFM_LAB_MEM", "512M"), cpus=2, procs=40,
                                  qmp="on", shm="off", machine="pc", la57="off", accel="auto")
        try:
            vm.start(opts)
        except LabError as e:
            vm.kill(opts.name)
            pytest.fail("lab VM %s did not start: %s" % (k, e), pytrace=False)
        try:
            vm.dump(opts.name, str(out))
        finally:
            vm.stop(opts.name)
    os.chmod(out, 0o600)
    d = Dump(str(out), nfm)
    yield d
    d.close()
