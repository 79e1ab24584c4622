"""Host side of the truth channel: send "TRUTH <id>", read until the matching END line; also
"FILE <path>" (a file's bytes as the guest reads them) and one-line commands (CHURN ...).

The socket is QEMU's chardev (server) for the guest's virtio port nfm.truth, or for ttyS1 when the
guest had no virtio console. QEMU serves one client at a time, so requests take a lock file.
"""
import contextlib
import fcntl
import os
import socket
import time

from . import LabError


@contextlib.contextmanager
def _session(sock_path, lock_path, line, timeout):
    """Connected socket (under the lock) after sending one request line."""
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(sock_path)
            # The guest sees "host connected" only after QEMU accepts; give it a moment to
            # notice, then send (a request sent while unconnected would be dropped).
            time.sleep(0.05)
            s.sendall(line.encode() + b"\n")
            yield s
        except OSError as e:
            raise LabError("truth channel %s: %s" % (sock_path, e))
        finally:
            s.close()


def _recv(s, deadline, what):
    if time.monotonic() > deadline:
        raise LabError("%s timed out" % what)
    d = s.recv(1 << 20)
    if not d:
        raise LabError("truth channel closed during %s" % what)
    return d


def request(sock_path, lock_path, req_id, timeout=120):
    """Returns the raw snapshot bytes (BEGIN line through END line, inclusive)."""
    begin = b"NFM-TRUTH-BEGIN %s " % req_id.encode()
    end = b"NFM-TRUTH-END %s " % req_id.encode()
    chunks, tail, deadline = [], b"", time.monotonic() + timeout
    with _session(sock_path, lock_path, "TRUTH " + req_id, timeout) as s:
        while True:
            d = _recv(s, deadline, "truth request")
            chunks.append(d)
            # Check only the recent tail for the END line (snapshots are megabytes).
            tail = (tail + d)[-4096:]
            i = tail.find(end)
            if i >= 0 and tail.find(b"\n", i) >= 0:
                break
    data = b"".join(chunks)
    start = data.find(begin)
    stop = data.find(end, max(start, 0))
    if start < 0 or stop < 0:
        raise LabError("truth snapshot %s is not framed" % req_id)
    return data[start:data.index(b"\n", stop) + 1]


def command(sock_path, lock_path, line, prefix, timeout=30):
    """Sends one command line; returns the reply line that starts with `prefix` (no newline)."""
    buf, deadline = b"", time.monotonic() + timeout
    with _session(sock_path, lock_path, line, timeout) as s:
        while True:
            buf += _recv(s, deadline, line)
            for l in buf.split(b"\n")[:-1]:
                if l.startswith(prefix.encode()):
                    return l.decode().strip()


def fetch_file(sock_path, lock_path, guest_path, timeout=120):
    """The bytes of a file in the guest (FILE command); LabError if the guest cannot read it."""
    what = "FILE " + guest_path
    buf, deadline = b"", time.monotonic() + timeout
    with _session(sock_path, lock_path, what, timeout) as s:
        while b"NFM-FILE " not in buf or b"\n" not in buf[buf.index(b"NFM-FILE "):]:
            buf += _recv(s, deadline, what)
        i = buf.index(b"NFM-FILE ")
        j = buf.index(b"\n", i)
        n = int(buf[i + 9:j])
        if n < 0:
            raise LabError("the guest cannot read %s: errno %d" % (guest_path, -n))
        chunks, have = [buf[j + 1:]], len(buf) - j - 1
        while have < n:
            d = _recv(s, deadline, what)
            chunks.append(d)
            have += len(d)
    return b"".join(chunks)[:n]


def save(data, path):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)
    return path
