"""An nfmd on loopback watching some of a lab fleet's guests (test_topo, test_topo_web)."""
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NFMD = os.environ.get("NFMD_BIN", str(ROOT / "build" / "cmd" / "nfmd" / "nfmd"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nfmd:
    """nfmd --vm PATTERN on 127.0.0.1 (no token: loopback only); a context manager."""

    def __init__(self, pattern, log, extra=()):
        self.port = free_port()
        self.addr = "127.0.0.1:%d" % self.port
        self.log = log
        self.proc = subprocess.Popen(
            [NFMD, "--listen", self.addr, "--vm", pattern, "--interval", "1s",
             "--ps-interval", "1s", "--net-interval", "1s", "--sys-interval", "2s",
             "--rescan", "1s", *extra], stdout=subprocess.DEVNULL, stderr=open(log, "w"))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def get(self, path):
        with urllib.request.urlopen("http://%s%s" % (self.addr, path), timeout=10) as r:
            return r.read()

    def get_json(self, path):
        return json.loads(self.get(path))

    def net_read_after(self, vm, t_ns):
        """Whether nfmd's latest socket list of vm was read after t_ns (CLOCK_REALTIME)."""
        try:
            d = self.get_json("/api/v1/vms/" + vm)
        except OSError:
            return False
        return d.get("collected", {}).get("net", {}).get("time_ns", 0) > t_ns

    def wait_net(self, vms, t_ns, timeout=60):
        deadline = time.monotonic() + timeout
        while not all(self.net_read_after(v, t_ns) for v in vms):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("nfmd %s did not read %s's sockets (log %s)"
                                     % (self.addr, vms, self.log))
            time.sleep(0.5)
