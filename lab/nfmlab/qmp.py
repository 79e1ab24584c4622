"""A small synchronous QMP (QEMU Machine Protocol) client over a unix socket."""
import json
import socket

from . import LabError


class QMP:
    def __init__(self, path, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError as e:
            raise LabError("cannot connect to QMP socket %s: %s" % (path, e))
        self.f = self.sock.makefile("rb")
        self._read()  # greeting
        self.cmd("qmp_capabilities")

    def _read(self):
        while True:
            line = self.f.readline()
            if not line:
                raise LabError("QMP connection closed")
            msg = json.loads(line)
            if "event" not in msg:  # events are not replies
                return msg

    def cmd(self, name, **args):
        """Executes a command and returns its "return" value; raises LabError on a QMP error."""
        req = {"execute": name}
        if args:
            req["arguments"] = args
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        msg = self._read()
        if "error" in msg:
            raise LabError("QMP %s failed: %s" % (name, msg["error"].get("desc", msg["error"])))
        return msg.get("return")

    def hmp(self, line):
        return self.cmd("human-monitor-command", **{"command-line": line})

    def close(self):
        self.f.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
