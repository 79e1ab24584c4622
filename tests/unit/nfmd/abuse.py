#!/usr/bin/env python3
"""nfmd under connection abuse, without a guest (--vm matches none), on loopback only.

200 idle connections from ten loopback addresses (20 each) and 60 "slowloris" connections from
one address (a request head dribbled out a byte at a time) are opened at once. Asserted: a
normal scrape from another loopback address is answered within 1 s; one address holds at most
32 connections (the rest are closed at once); every connection that has not sent its whole
request head is closed about 5 s after it came, even while it keeps sending; the metric
nfmd_http_slow_clients_closed_total counts them; afterwards nfmd still answers.
usage: abuse.py NFMD
"""
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time

NFMD = sys.argv[1]
IDLE_ADDRS = ["127.0.0.%d" % i for i in range(10, 20)]
IDLE_PER_ADDR = 20
SLOW = 60
PER_ADDRESS = 32
HEAD_TIMEOUT = 5.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port, timeout):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                   source_address=("127.0.0.2", 0))
    try:
        c.request("GET", "/metrics")
        r = c.getresponse()
        return r.status, r.read().decode()
    finally:
        c.close()


def connect(src, port):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(2)
    s.connect(("127.0.0.1", port))
    return s


def closed_by_peer(s):
    """True when the server has closed s (EOF or reset), without waiting."""
    s.setblocking(False)
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        s.settimeout(2)


def main():
    port = free_port()
    log = tempfile.TemporaryFile()
    p = subprocess.Popen([NFMD, "--vm", "no-such-vm-*", "--listen", "127.0.0.1:%d" % port],
                         stdout=log, stderr=subprocess.STDOUT)
    socks = []
    try:
        for _ in range(100):
            try:
                if scrape(port, 1)[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            sys.exit("FAIL: nfmd did not start serving")
        t0 = time.monotonic()
        idle = [connect(a, port) for a in IDLE_ADDRS for _ in range(IDLE_PER_ADDR)]
        slow = [connect("127.0.0.3", port) for _ in range(SLOW)]
        socks = idle + slow
        for s in slow:
            s.send(b"GET /metrics HTTP/1.1\r\n")
        time.sleep(0.5)
        # one address gets at most PER_ADDRESS connections: the others are closed at once
        refused = [s for s in slow if closed_by_peer(s)]
        assert len(refused) == SLOW - PER_ADDRESS, \
            "%d of %d connections from one address closed at once, wanted %d" % (
                len(refused), SLOW, SLOW - PER_ADDRESS)
        held = [s for s in slow if s not in refused]
        # a normal scrape is answered within 1 s while all of that is held open
        t = time.monotonic()
        status, body = scrape(port, 1.0)
        assert status == 200 and "nfmd_http_requests_total" in body, status
        print("scrape with %d idle and %d slow connections held: %.0f ms" % (
            len(idle), len(held), (time.monotonic() - t) * 1e3))
        # the slow ones keep sending, a byte every 0.5 s, and are still closed at the deadline
        deadline = t0 + HEAD_TIMEOUT + 3
        while time.monotonic() < deadline:
            for s in held:
                try:
                    s.send(b"X")
                except OSError:
                    pass
            time.sleep(0.5)
        still = [s for s in idle + held if not closed_by_peer(s)]
        assert not still, "%d connections without a request head still open after %.0f s" % (
            len(still), HEAD_TIMEOUT + 3)
        status, body = scrape(port, 1.0)
        assert status == 200
        n = next(float(l.split()[1]) for l in body.splitlines()
                 if l.startswith("nfmd_http_slow_clients_closed_total "))
        assert n >= len(idle) + len(held), "slow_clients_closed_total %d" % n
        assert p.poll() is None, "nfmd exited"
        print("ok: %d idle + %d slow connections closed at the request-head deadline" % (
            len(idle), len(held)))
    finally:
        for s in socks:
            s.close()
        p.terminate()
        p.wait(10)
        log.seek(0)
        out = log.read().decode(errors="replace")
        if out.strip():
            print(out[-2000:])


if __name__ == "__main__":
    main()
