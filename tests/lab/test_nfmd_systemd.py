"""nfmd under a real systemd with the unit `meson install` installs (dist/nfmd.service.in): systemd
252 as PID 1 of its own namespaces, a lab guest as one of its units, then nfmd.service started,
checked (dynamic user, exactly its two capabilities, the guest's metrics right and the same as an
unconfined nfmd's) and reloaded. The work is tests/lab/nfmd_systemd.sh; its log is the failure.

Needs root, systemd, util-linux (unshare, nsenter, setpriv), curl and a cgroup2 hierarchy: they are
scripts/install-deps' packages and CI's container has them, so a missing one fails (no skip).
The build: the one of NFM_BIN (default build/), installed into a scratch DESTDIR. About 45 s, most
of it the guest's boot under TCG; one 256 MiB guest of 6.1-cloud (NFM_SDBOX_KERNEL overrides).
"""
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("NFM_BIN", str(ROOT / "build" / "cmd" / "nfm" / "nfm"))).resolve().parents[2]


def test_nfmd_under_systemd():
    r = subprocess.run(["bash", str(ROOT / "tests" / "lab" / "nfmd_systemd.sh"), str(BUILD)],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=900)
    print(r.stdout)
    assert r.returncode == 0, "nfmd_systemd.sh failed (%d):\n%s" % (r.returncode, r.stdout[-6000:])
    assert r.stdout.rstrip().endswith("PASS"), r.stdout[-3000:]
