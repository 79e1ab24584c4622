"""Attach across guest memory layouts (issue 3): RAM above the PCI hole (a 4 GiB guest on the pc
machine, and q35), RAM shared as a file that nfm maps read-only, and 5-level paging (LA57)."""
import argparse
import os

import pytest

from conftest import truth, vm
from nfmcli import guest_bytes, run_json
from test_attach import check_identity

LAYOUTS = {
    "pc-4G": dict(mem="4G", machine="pc", shm="off", la57="off"),
    "q35-3G": dict(mem="3G", machine="q35", shm="off", la57="off"),
    "shm-512M": dict(mem="512M", machine="pc", shm="on", la57="off"),
    "la57-512M": dict(mem="512M", machine="pc", shm="off", la57="on"),
}


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def layout_vm(request):
    k = os.environ.get("NFM_LAB_LAYOUT_KERNEL", "6.1-cloud")
    name = "pytest-%s-%d" % (request.param, os.getpid())
    opts = argparse.Namespace(kernel=k, name=name, cpus=2, procs=10, qmp="on", accel="auto",
                              **LAYOUTS[request.param])
    try:
        info = vm.start(opts)
    except Exception as e:  # noqa: BLE001 - any lab failure fails the test with its reason
        vm.kill(name)
        pytest.fail("lab VM %s did not start: %s" % (request.param, e), pytrace=False)
    try:
        yield request.param, info, truth.load(info["truth"])
    finally:
        vm.stop(name)


def test_attach_layout(layout_vm):
    layout, info, t = layout_vm
    got = run_json("--vm", info["pid"], "info", kind="info")["kernel"]
    check_identity(got, t)
    size = {"4G": 4 << 30, "3G": 3 << 30, "512M": 512 << 20}[LAYOUTS[layout]["mem"]]
    # The source sees all of the guest's RAM (less the legacy VGA/BIOS hole below 1 MiB).
    assert size - (1 << 20) <= got["ram_bytes"] <= size
    if LAYOUTS[layout]["shm"] == "on":
        assert got["source"].endswith(", shared RAM mapped read-only")
    assert got["paging_levels"] == (5 if LAYOUTS[layout]["la57"] == "on" else 4)
    # Walks through the page tables work too: pid 1's command line from its own memory.
    ps = run_json("--vm", info["pid"], "ps", "-p", "1", kind="ps")["processes"]
    assert guest_bytes(ps[0], "cmdline") == t.processes[1].cmdline
