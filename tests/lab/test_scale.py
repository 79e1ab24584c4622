"""Exact at scale (issue 16): a guest of 2,000 zoo sleepers (every tenth heavy: 64 VMAs, 16 open
files), and with NFM_LAB_FULL=1 one of 10,000. Its crawls outgrow the crawl cache's budget, so
the warm crawls here are the streamed replay of doc/reading.md, checked against the guest's own
/proc like the small guest's."""
import argparse
import json
import os

import pytest

from conftest import LabVM, vm
from nfmcli import run
import test_process
from test_process import compare_ps, report

SIZES = {2000: "1G", 10000: "2G"}


def sizes():
    return sorted(SIZES) if os.environ.get("NFM_LAB_FULL") == "1" else [2000]


@pytest.fixture(scope="module", params=sizes())
def scale_vm(request):
    k = os.environ.get("NFM_LAB_SCALE_KERNEL", "6.1-cloud")
    name = "pytest-scale%d-%d" % (request.param, os.getpid())
    opts = argparse.Namespace(kernel=k, name=name, mem=SIZES[request.param], cpus=1,
                              procs=request.param, qmp="on", shm="off", machine="pc",
                              la57="off", accel="auto")
    try:
        info = vm.start(opts)
    except Exception as e:  # noqa: BLE001 - any lab failure fails the test with its reason
        vm.kill(name)
        pytest.fail("lab VM scale-%d did not start: %s" % (request.param, e), pytrace=False)
    try:
        yield request.param, LabVM(info)
    finally:
        vm.stop(name)


def test_warm_crawls_match_proc(scale_vm):
    """Three crawls in one context: the first cold, the next two fetched by replay windows."""
    procs, v = scale_vm
    t1, _ = v.fresh_truth()
    p = run("--vm", v.pid, "crawl", "--features", "processes", "--interval", "0.1", "-n", "3")
    t2, _ = v.fresh_truth()
    assert p.returncode == 0, p.stderr
    frames = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(frames) == 3
    for i, doc in enumerate(frames):
        assert doc["complete"], f"frame {i}: {doc.get('errors')}"
        diffs, checked = compare_ps(t1, t2, doc["processes"])
        assert not diffs, f"frame {i}: " + report(diffs)
        assert len(checked) >= procs, f"frame {i}: {len(checked)} processes compared"
        heavy = [e for e in doc["processes"] if e.get("argv", [None])[-1:] == ["heavy"]]
        assert len(heavy) >= procs // 10 - 1, f"frame {i}: {len(heavy)} heavy sleepers"


def test_lsof_at_scale_matches_proc(scale_vm):
    test_process.test_lsof_matches_proc(scale_vm[1])
