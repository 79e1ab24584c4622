#!/usr/bin/python3
"""nfmd cost: CPU (% of one core) and RSS of nfmd watching the VMs of this host, per crawl rate.

    bench/nfmd_bench.py [--nfmd BIN] [--vm PATTERN] [--hz 1 10] [--level all|ps] [--warmup 15]
                        [--window 30] [--record DIR]

For each rate, starts nfmd at that rate: --level all (the default) crawls every feature at it
(--interval = --ps-interval = --net-interval = 1/hz, --sys-interval 10x that); --level ps is
issue #16's "ps-level crawl" (--interval = --ps-interval = 1/hz, interfaces and sockets and the
system sections at nfmd's defaults, 5 s and 30 s). Then waits --warmup seconds (attach, first scans of VMs
without Linux), then measures nfmd's CPU time and RSS over --window seconds while scraping /metrics
once a second. Prints one line per rate.

--record DIR runs nfmd with --record DIR (issue #13's state timeline of every VM: a frame per
crawl, kept as deltas; no memory snapshots) and adds the store's growth over the window
(record_bytes_per_vm_per_hour: the store's size once nfmd stopped, per frame written, at the
rate; the WAL that SQLite keeps while nfmd runs, bounded by its checkpoints, is not counted
as growth). DIR is emptied first.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def tree_bytes(path):
    """Bytes of the files under path (the recorder's store: SQLite, WAL, packs)."""
    n = 0
    for d, _, files in os.walk(path):
        for f in files:
            try:
                n += os.path.getsize(os.path.join(d, f))
            except OSError:
                pass
    return n


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--nfmd", default=os.path.join(ROOT, "build", "cmd", "nfmd", "nfmd"))
    p.add_argument("--vm", help="only VMs matching this pattern")
    p.add_argument("--hz", type=float, nargs="+", default=[1, 10])
    p.add_argument("--level", choices=("all", "ps"), default="all")
    p.add_argument("--warmup", type=float, default=15)
    p.add_argument("--window", type=float, default=30)
    p.add_argument("--record", metavar="DIR", help="nfmd --record DIR (emptied first)")
    a = p.parse_args()
    for hz in a.hz:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        iv = "%gms" % (1000 / hz)
        argv = [a.nfmd, "--listen", "127.0.0.1:%d" % port, "--interval", iv, "--ps-interval", iv,
                "-q"]
        if a.level == "all":
            argv += ["--net-interval", iv, "--sys-interval", "%gms" % (10000 / hz)]
        if a.vm:
            argv += ["--vm", a.vm]
        if a.record:
            shutil.rmtree(a.record, ignore_errors=True)
            os.makedirs(a.record)
            argv += ["--record", a.record]
        proc = subprocess.Popen(argv)
        base = "http://127.0.0.1:%d" % port
        try:
            time.sleep(a.warmup)
            with urllib.request.urlopen(base + "/api/v1/vms", timeout=10) as r:
                crawls0 = sum(v["crawls"] for v in json.load(r)["vms"] if v["up"])
            c0, t0 = cpu_seconds(proc.pid), time.monotonic()
            store0 = tree_bytes(a.record) if a.record else 0
            rss_max = 0
            scrape_bytes = 0
            while time.monotonic() - t0 < a.window:
                with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
                    scrape_bytes = len(r.read())
                rss_max = max(rss_max, rss_kb(proc.pid))
                time.sleep(1)
            c1, t1 = cpu_seconds(proc.pid), time.monotonic()
            store1 = tree_bytes(a.record) if a.record else 0
            with urllib.request.urlopen(base + "/api/v1/vms", timeout=10) as r:
                vms = json.load(r)["vms"]
            up = [v for v in vms if v["up"]]
            crawl_ms = sorted(v.get("last_crawl_ms", 0) for v in up)
            extra = {}
            if a.record:
                # What the store holds once nfmd has stopped (SQLite's WAL checkpointed into the
                # catalog: while it runs, the WAL holds whole pages per commit, bounded by its
                # checkpoint, and the window's growth overstates what stays), per frame written.
                frames = sum(v.get("recording", {}).get("frames", 0) for v in vms)
                extra["record_frames"] = frames
                extra["store_growth_bytes_in_window"] = store1 - store0
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        if a.record:
            per_frame = tree_bytes(a.record) / max(extra["record_frames"], 1)
            extra["record_bytes_per_frame"] = int(per_frame)
            extra["record_bytes_per_vm_per_hour"] = int(per_frame * hz * 3600)
        print(json.dumps({
            "hz": hz, "level": a.level, "vms": len(vms), "vms_up": len(up),
            "cpu_percent": round(100 * (c1 - c0) / (t1 - t0), 2),
            "crawls_per_s_per_vm_up": round((sum(v["crawls"] for v in up) - crawls0) /
                                            (t1 - t0) / max(len(up), 1), 2),
            "rss_mib": round(rss_max / 1024, 1),
            "metrics_bytes": scrape_bytes,
            "median_last_crawl_ms": crawl_ms[len(crawl_ms) // 2] if crawl_ms else None,
            **extra}), flush=True)


if __name__ == "__main__":
    main()
