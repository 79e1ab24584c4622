"""The lab's boot watch: a guest kernel that hangs or dies before /init is booted once more
(CI lost a whole stage to a 6.1 guest that went silent after its X.509 certificates); one
silent after /init (the zoo spawning thousands of processes) is waited for."""
import os
import sys
import threading
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "lab"))

from nfmlab import LabError, vm  # noqa: E402

KERNEL_LINES = b"[    1.28] Loading compiled-in X.509 certificates\n"
INIT_LINES = KERNEL_LINES + b"[    1.66] Run /init as init process\n"


@pytest.fixture
def fake_guest(tmp_path, monkeypatch):
    """A run dir whose console log the test writes; QEMU 'alive'; a 1 s hang rule."""
    monkeypatch.setattr(vm, "HANG_QUIET_SECONDS", 1)
    monkeypatch.setattr(vm, "_pid_of", lambda name: 4242)
    return tmp_path


def test_silent_before_init_is_a_hang(fake_guest):
    (fake_guest / "console.log").write_bytes(KERNEL_LINES)
    t0 = time.monotonic()
    with pytest.raises(vm.BootCrash, match="hung while booting"):
        vm._wait_ready("g", str(fake_guest), 30)
    assert time.monotonic() - t0 < 10


def test_silent_after_init_is_waited_for(fake_guest):
    (fake_guest / "console.log").write_bytes(INIT_LINES)
    with pytest.raises(LabError) as e:
        vm._wait_ready("g", str(fake_guest), 3)
    assert not isinstance(e.value, vm.BootCrash) and "not ready after 3s" in str(e.value)


def test_slow_but_talking_kernel_is_not_a_hang(fake_guest):
    console = fake_guest / "console.log"
    console.write_bytes(b"")

    def talk():
        for i in range(6):  # a line every 0.5 s for 3 s, then /init and READY
            time.sleep(0.5)
            with open(console, "ab") as f:
                f.write(b"[ %d.0] probing\n" % i)
        with open(console, "ab") as f:
            f.write(INIT_LINES + b"NFM-LAB-READY channel=virtio dev=/dev/vport1p1 release=6.1.0\n")
    t = threading.Thread(target=talk)
    t.start()
    try:
        m = vm._wait_ready("g", str(fake_guest), 30)
    finally:
        t.join()
    assert m.group(3) == b"6.1.0"


def test_a_hung_boot_is_booted_once_more(monkeypatch, capsys):
    calls = []

    def fake_boot(name, kernel, initrd, o, acc):
        calls.append(name)
        if len(calls) == 1:
            raise vm.BootCrash("VM g hung while booting")
        return 1.0, "m", "marker"
    monkeypatch.setattr(vm, "_boot", fake_boot)
    monkeypatch.setattr(vm, "kill", lambda name: calls.append("kill " + name))
    assert vm.boot("g", None, None, None, "tcg") == (1.0, "m", "marker")
    assert calls == ["g", "kill g", "g"]
    assert "booting it once more" in capsys.readouterr().err
