"""Lab fixtures: real Debian kernels booted under QEMU with the zoo workload.

Kernels: env NFM_LAB_KERNELS (default "6.1-cloud 6.12-generic"); NFM_LAB_FULL=1 for all six.
Guest RAM: env NFM_LAB_MEM (default 512M).

    def test_x(lab_vm):             # runs once per kernel; one VM per kernel for the session
        lab_vm.name, lab_vm.pid     # QEMU -name and process id (attach nfm to either)
        lab_vm.qmp                  # QMP unix socket path
        lab_vm.truth                # parsed first snapshot (nfmlab.truth.Truth)
        lab_vm.truth_path           # its file
        lab_vm.kernel               # release string, e.g. "6.1.0-56-cloud-amd64"
        lab_vm.kernel_name          # lab name, e.g. "6.1-cloud"
        lab_vm.info                 # every key=value that `nfm-lab start` printed
        lab_vm.fresh_truth()        # -> (Truth, path): a new snapshot now
        lab_vm.dump(path)           # -> (elf path, Truth of the snapshot taken just before)
"""
import argparse
import os
import re
import shutil
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.path.join(REPO, "lab")
sys.path.insert(0, LAB)

from nfmlab import LabError, kernels, nobtf, scenario, truth, vm  # noqa: E402

NFM_LAB = os.path.join(LAB, "nfm-lab")
# A kernel built without BTF (6.1-nobtf) has its types as RELEASE.btf there: nfm finds them by
# the guest's release, as a user's /usr/lib/debug would give them (kernels with BTF ignore it).
os.environ.setdefault("NFM_BTF_PATH", nobtf.btf_dir())


def lab_kernels():
    """NFM_LAB_KERNELS names them (with NFM_LAB_FULL=1 too: a part of the full matrix, its
    sweeps included); else every lab kernel with NFM_LAB_FULL=1, else the CI pair."""
    if "NFM_LAB_KERNELS" in os.environ:
        return os.environ["NFM_LAB_KERNELS"].split()
    if os.environ.get("NFM_LAB_FULL") == "1":
        return list(kernels.KERNELS)
    return ["6.1-cloud", "6.12-generic"]


class LabVM:
    def __init__(self, info):
        self.info = info
        self.name = info["name"]
        self.pid = int(info["pid"])
        self.qmp = info["qmp"]
        self.kernel = info["kernel"]
        self.kernel_name = info["kernel_name"]
        self.scenario = info.get("scenario")
        # a scenario VM (below) takes no first truth: a dead guest has no truth server
        self.truth_path = info["truth"] or None
        self.truth = truth.load(self.truth_path) if self.truth_path else None

    def guest_file(self, path):
        """The bytes of a file as the guest itself reads it."""
        return vm.guest_file(self.name, path)

    def kmsg(self, text):
        """Writes one record to the guest's kernel log (/dev/kmsg); 0 or the errno."""
        return vm.kmsg(self.name, text)

    def churn_start(self, seconds):
        vm.churn_start(self.name, seconds)

    def churn_count(self):
        return vm.churn_count(self.name)

    def fresh_truth(self):
        path = vm.truth(self.name)
        return truth.load(path), path

    def dump(self, path):
        elf, tpath = vm.dump(self.name, str(path))
        return elf, truth.load(tpath)


_boot_failures = set()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A lab VM that did not boot is one error, not one per test: pytest re-raises the session
    fixture's failure in every test that needs it, and all but the first report of the same
    failure become skips that point at it."""
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call":
        item.nfm_passed = rep.passed
    if rep.when != "setup" or not rep.failed or call.excinfo is None:
        return
    msg = str(call.excinfo.value)
    if not (msg.startswith("lab VM ") and " did not start: " in msg):
        return
    if msg in _boot_failures:
        rep.outcome = "skipped"
        rep.longrepr = (str(item.path), item.location[1] or 0,
                        "the same boot failure as reported above (%s)" % msg.split(":", 1)[0])
    else:
        _boot_failures.add(msg)


def reach_kernels():
    """Kernels of test_reach.py (issue 19: default CI reaches bullseye 5.10 and trixie 6.12 with
    the core views): env NFM_LAB_REACH_KERNELS; none when NFM_LAB_KERNELS is set (every lab
    test then runs on the kernels named); with NFM_LAB_FULL=1 6.1 cloud on an LA57 CPU (the
    other kernels run every test there)."""
    if "NFM_LAB_REACH_KERNELS" in os.environ:
        return os.environ["NFM_LAB_REACH_KERNELS"].split()
    if "NFM_LAB_KERNELS" in os.environ:
        return []
    if os.environ.get("NFM_LAB_FULL") == "1":
        # every lab test runs on every kernel; the core views once more with 5-level paging,
        # and on 6.1 built without BTF (types from the file pahole made; an hour's build, once)
        return ["6.1-cloud+la57", "6.1-nobtf"]
    return ["5.10-cloud", "6.12-trixie-cloud"]


def arm64_kernels():
    """Kernels of test_arm64.py (issue 19: default CI covers arm64 6.12 cloud): env
    NFM_LAB_ARM64_KERNELS; none when NFM_LAB_KERNELS is set (a run on the kernels named); both
    Debian 12 arm64 cloud kernels in the full matrix (NFM_LAB_FULL=1), and 6.12 once more on a
    CPU with 52-bit VA (+la57: -cpu max, FEAT_LPA2); 6.12 otherwise (each arm64 guest costs ~4
    min of TCG in CI)."""
    if "NFM_LAB_ARM64_KERNELS" in os.environ:
        return os.environ["NFM_LAB_ARM64_KERNELS"].split()
    if "NFM_LAB_KERNELS" in os.environ:
        return []
    if os.environ.get("NFM_LAB_FULL") == "1":
        return ["6.1-cloud-arm64", "6.12-cloud-arm64", "6.12-cloud-arm64+la57"]
    return ["6.12-cloud-arm64"]


# Not collected at all without reach kernels: a skipped test counts as a failure (scripts/test).
collect_ignore = ([] if reach_kernels() else ["test_reach.py"]) + \
    ([] if arm64_kernels() else ["test_arm64.py"])


def _session_vm(k, role):
    """A lab VM of kernel k for the session, stopped at its end (or when pytest moves on to the
    next kernel). "KERNEL+la57": that kernel on a CPU with the widest addresses: 5-level paging
    (x86 LA57), 52-bit VA (arm64 -cpu max)."""
    base, _, variant = k.partition("+")
    if variant not in ("", "la57"):
        pytest.fail("unknown lab kernel variant %r (only +la57)" % k, pytrace=False)
    opts = argparse.Namespace(kernel=base, name="pytest-%s%s-%d" % (role, k.replace("+", "-"),
                                                                     os.getpid()),
                              mem=os.environ.get("NFM_LAB_MEM", "512M"), cpus=2, procs=40,
                              qmp="on", shm="off", machine="pc",
                              la57="on" if variant else "off", accel="auto")
    for attempt in (1, 2):
        try:
            info = vm.start(opts)
            break
        except LabError as e:
            vm.kill(opts.name)  # keeps the console log named in the message
            # A TCG guest now and then stops early in boot on a loaded host (seen: 5.10 after
            # "sched_clock: Marking stable"): one more boot, said on stderr; a second failure
            # is the test's error.
            if attempt == 2 or "not ready after" not in str(e):
                pytest.fail("lab VM %s did not start: %s" % (k, e), pytrace=False)
            print("lab VM %s did not boot (%s); booting it once more" % (k, e), file=sys.stderr)
    try:
        yield LabVM(info)
    finally:
        vm.stop(opts.name)


@pytest.fixture(autouse=True)
def _guest_alive(request):
    """A session guest that died (a panic under TCG, say) fails each test that needs it with one
    line quoting its console, instead of each failing on its own symptom."""
    for name in ("lab_vm", "reach_vm", "arm64_vm"):
        if name not in request.fixturenames:
            continue
        v = request.getfixturevalue(name)
        if vm._pid_of(v.name) is None:
            try:
                with open(os.path.join(v.info["run"], "console.log"), "rb") as f:
                    lines = f.read().decode("utf-8", "replace").splitlines()
            except (OSError, KeyError):
                lines = []
            why = [l for l in lines if re.search(r"Kernel panic|Oops|BUG:", l)][:2] or lines[-1:]
            pytest.fail("lab guest %s is no longer running: %s" % (v.name, " / ".join(why)),
                        pytrace=False)
    yield


@pytest.fixture(autouse=True)
def _free_disk(request):
    """A passed test's tmp_path is emptied when it ends: one lab run writes ~40 guest dumps of
    512 MiB, which pytest would otherwise keep to the end (and CI disks are not that large).
    A failed test keeps its files for inspection."""
    yield
    tmp = request.node.funcargs.get("tmp_path")
    if tmp is not None and getattr(request.node, "nfm_passed", False):
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session", params=lab_kernels())
def lab_vm(request):
    """One running lab VM per kernel."""
    yield from _session_vm(request.param, "")


@pytest.fixture(scope="session", params=reach_kernels())
def reach_vm(request):
    """One running lab VM per reach kernel (test_reach.py)."""
    yield from _session_vm(request.param, "reach-")


def scenario_kernels():
    """Kernels of the scenario VMs (nfm diagnose): 6.1-cloud, and 6.12-generic and 6.12-rt with
    NFM_LAB_FULL=1 (NFM_LAB_SCENARIO_KERNELS overrides); each scenario boots its own small,
    short-lived VM."""
    if os.environ.get("NFM_LAB_SCENARIO_KERNELS"):
        return os.environ["NFM_LAB_SCENARIO_KERNELS"].split()
    return ["6.1-cloud", "6.12-generic", "6.12-rt"] if os.environ.get("NFM_LAB_FULL") == "1" \
        else ["6.1-cloud"]


@pytest.fixture
def scenario_vm(request, scenario_vms):
    """scenario_vm(kernel, name) -> LabVM of a guest made unwell on purpose (nfmlab.scenario:
    healthy, halt, hang, irq, lockup, net, nmi, offline, panic), booted on first use (1 vCPU; lockup 2,
    384M) and kept for the session. Its truth is None (a dead guest has no truth server);
    healthy and hang guests still answer fresh_truth(). A test that fails stops the scenario
    guests it used: a spinning one would otherwise burn the host's CPU under every later test."""
    used = []

    def get(kernel, name):
        v = scenario_vms(kernel, name)
        used.append(v)
        return v

    yield get
    if not getattr(request.node, "nfm_passed", True):
        for v in used:
            v.stop()


@pytest.fixture(scope="session")
def scenario_vms():
    """The session's scenario guests, by (kernel, scenario): see scenario_vm."""
    started = {}

    def get(kernel, name):
        key = (kernel, name)
        if key not in started or vm._pid_of(started[key].name) is None:
            vmname = "pytest-%s-%s-%d" % (name, kernel, os.getpid())
            try:
                info = scenario.start(kernel, name, name=vmname)
            except LabError as e:
                vm.kill(vmname)
                pytest.fail("scenario %s on %s did not start: %s" % (name, kernel, e),
                            pytrace=False)
            started[key] = ScenarioVM(info)
        return started[key]

    try:
        yield get
    finally:
        for v in started.values():
            vm.stop(v.name)


class ScenarioVM(LabVM):
    def stop(self):
        """Stop it now (a scenario that is done), freeing its CPU for the next one."""
        vm.stop(self.name)
