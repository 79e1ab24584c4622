"""libnfm's examples (examples/, built by meson against the public API only) on a lab guest: each
runs and prints what the guest itself says — the VM in list-vms, its processes in ps, pid 1's
memory in watch, every zoo-sleep process found by yara-scan with a rule for its command line.

Binaries: BUILD/examples, BUILD being NFM_BIN's build directory (or NFM_EXAMPLES). Needs root.
"""
import os
import subprocess
from pathlib import Path

import pytest

from nfmcli import NFM

EXAMPLES = Path(os.environ.get("NFM_EXAMPLES", Path(NFM).resolve().parents[2] / "examples"))

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads QEMU memory: needs root")


def example(name, *args, ok=(0,)):
    exe = EXAMPLES / name
    if not exe.exists():
        pytest.skip("%s not built" % exe)
    p = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=300,
                       errors="backslashreplace")
    assert p.returncode in ok, "%s %s: exit %d\n%s%s" % (name, args, p.returncode, p.stdout,
                                                        p.stderr)
    return p


def test_list_vms(lab_vm):
    rows = [l.split() for l in example("list-vms").stdout.splitlines()[1:]]
    mine = [r for r in rows if r[0] == str(lab_vm.pid)]
    assert mine and mine[0][1] == lab_vm.name and mine[0][3] == lab_vm.qmp


def test_ps(lab_vm):
    t1, _ = lab_vm.fresh_truth()
    p = example("ps", "pid:%d" % lab_vm.pid)
    t2, _ = lab_vm.fresh_truth()
    rows = {int(l.split()[0]): l.split() for l in p.stdout.splitlines()[1:]}
    truth = lab_vm.truth.processes
    # every process alive through both truths (same start time: no pid reuse) is listed
    lived = {pid for pid, x in t1.processes.items() if x.stat and pid in t2.processes and
             t2.processes[pid].stat and t2.processes[pid].stat["starttime"] == x.stat["starttime"]}
    assert len(lived) > 50 and lived <= set(rows), sorted(lived - set(rows))
    assert rows[1][5] == truth[1].comm.decode()
    assert "processes" in p.stderr


def test_usage_and_errors():
    assert example("ps", ok=(2,)).stderr.startswith("usage:")
    p = example("ps", "pid:999999999", ok=(1,))
    assert "pid:999999999" in p.stderr


def test_watch(lab_vm):
    lines = example("watch", "pid:%d" % lab_vm.pid, 1, 3).stdout.splitlines()
    assert len(lines) == 4, lines
    rss = [int(l.split()[2]) for l in lines[1:]]
    assert all(r > 0 for r in rss) and lines[-1].split()[3] == lab_vm.truth.processes[1].comm.decode()
    assert lines[2].split()[1] != "-"  # a CPU% from the second round on


def test_yara_scan(lab_vm, tmp_path):
    rules = tmp_path / "zoo.yar"
    rules.write_text("rule zoo_sleep {\n  strings:\n    $a = \"zoo-sleep\"\n  condition:\n    $a\n}\n")
    p = example("yara-scan", "pid:%d" % lab_vm.pid, rules)
    hits = {int(l.split("\t")[0]) for l in p.stdout.splitlines() if "\tzoo_sleep\t" in l}
    sleepers = {pid for pid, t in lab_vm.truth.processes.items() if t.comm.startswith(b"zoo-sleep")}
    assert sleepers and sleepers <= hits, sorted(sleepers - hits)
    assert "matches" in p.stderr
