"""Host side of the truth channel: send "TRUTH <id>", read until the matching END line.

The socket is QEMU's chardev (server) for the guest's virtio port nfm.truth, or for ttyS1 when the
guest had no virtio console. QEMU serves one client at a time, so requests take a lock file.
"""
import fcntl
import os
import socket
import time

from . import LabError


def request(sock_path, lock_path, req_id, timeout=120):
    """Returns the raw snapshot bytes (BEGIN line through END line, inclusive)."""
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(sock_path)
            # The guest sees "host connected" only after QEMU accepts; give it a moment to
            # notice, then send (a request sent while unconnected would be dropped).
            time.sleep(0.05)
            s.sendall(b"TRUTH %s\n" % req_id.encode())
            begin = b"NFM-TRUTH-BEGIN %s " % req_id.encode()
            end = b"NFM-TRUTH-END %s " % req_id.encode()
            chunks, tail, deadline = [], b"", time.monotonic() + timeout
            while True:
                if time.monotonic() > deadline:
                    raise LabError("truth request timed out after %ds" % timeout)
                d = s.recv(1 << 20)
                if not d:
                    raise LabError("truth channel closed mid-snapshot")
                chunks.append(d)
                # Check only the recent tail for the END line (snapshots are megabytes).
                tail = (tail + d)[-4096:]
                i = tail.find(end)
                if i >= 0 and tail.find(b"\n", i) >= 0:
                    break
        except OSError as e:
            raise LabError("truth channel %s: %s" % (sock_path, e))
        finally:
            s.close()
    data = b"".join(chunks)
    start = data.find(begin)
    stop = data.find(end, max(start, 0))
    if start < 0 or stop < 0:
        raise LabError("truth snapshot %s is not framed" % req_id)
    return data[start:data.index(b"\n", stop) + 1]


def command(sock_path, lock_path, line, prefix, timeout=30):
    """Sends one command line; returns the reply line that starts with `prefix` (no newline)."""
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(sock_path)
            time.sleep(0.05)  # as in request(): let the guest notice the host first
            s.sendall(line.encode() + b"\n")
            buf, deadline = b"", time.monotonic() + timeout
            while time.monotonic() < deadline:
                d = s.recv(4096)
                if not d:
                    break
                buf += d
                for l in buf.split(b"\n")[:-1]:
                    if l.startswith(prefix.encode()):
                        return l.decode().strip()
        except OSError as e:
            raise LabError("truth channel %s: %s" % (sock_path, e))
        finally:
            s.close()
    raise LabError("no %s reply to %r" % (prefix, line))


def save(data, path):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)
    return path
