"""nfm topo on a fleet of lab guests (lab/nfmlab/fleet.py) against the guests' own view.

The guests' traffic does not stop for the test: the client fetches a page every 3 s. So the
truth is read twice, just before and just after nfm (T1, nfm, T2), and nfm's graph must lie
between the graph of the sockets both truths hold (each row, with its owner, unchanged; a connection
whose other end changed left out, since its server end would be guessed) and
the graph of the sockets either holds: every node and edge of the first, none outside the
second, each edge's count and per-state counts in between. A page fetch that both begins and
ends between T1 and T2 is in neither truth (only its TIME-WAIT end is, in T2), and nfm may have
seen it live: then nfm holds an edge outside the bound and the comparison is taken again, at
most ATTEMPTS times; each attempt's difference is printed.
"""
import html
import json
import os
import re
import threading
import time

import pytest

from conftest import lab_kernels
from cdp import Browser
from fleet_nfmd import Nfmd, free_port
from nfmcli import guest_bytes, run, run_json, validate
from nfmlab import LabError, fleet, truth, vm
from nfmlab.qmp import QMP
import topo_truth

ATTEMPTS = 4


@pytest.fixture(scope="module")
def lab_fleet():
    prefix = "pytest-topo-%d" % os.getpid()
    full = os.environ.get("NFM_LAB_FULL") == "1"
    try:
        infos = fleet.start(lab_kernels()[0], prefix, full=full)
    except LabError as e:
        pytest.fail("lab fleet did not start: %s" % e, pytrace=False)
    try:
        names = {r: i["name"] for r, i in infos.items()}
        _settle(names)
        yield names
    finally:
        fleet.stop(prefix)


def _long_lived(names, g):
    """The fleet's long-lived edges (client, server VM or address, port) missing from the graph
    g (nodes by id, edges keyed (src, dst, protocol, port)). A TCP edge counts once established
    (the one to TEST-NET-2 never is): a guest that booted late leaves its peers' nc in SYN-SENT
    or retrying, and such an edge changes between the two truths."""
    c, a, d = names["client"], names["app"], names["db"]
    pairs = {(g[0][s].get("vm"), g[0][t].get("vm") or g[0][t]["address"], p)
             for (s, t, _, p), e in g[1].items() if p == 443 or "ESTAB" in e["states"]}
    return {(c, a, 8080), (a, d, 5432), (a, d, 6379), (c, fleet.EXTERNAL, 443),
            (c, "10.77.0.1", 53)} - pairs


def _settle(names):
    """Waits (at most 60 s) until the loops that retry each second until their peer listens
    have connected: a comparison right after boot would leave them all out as unstable. While
    the guests finish booting a view may be partial (exit 3, what is missing on stderr); the
    fleet is settled only with a whole graph."""
    deadline, why = time.monotonic() + 60, ""
    while True:
        p = run("-j", "topo", *names.values())
        assert p.returncode in (0, 3), p.stderr
        missing = _long_lived(names, _nfm_graph(json.loads(p.stdout)))
        if p.returncode == 0 and not missing:
            return
        why = p.stderr.strip() if p.returncode else "missing %s" % sorted(missing)
        if time.monotonic() > deadline:
            raise LabError("fleet not settled after 60 s: %s" % why)
        if p.returncode:
            print("fleet settling: a partial view: %s" % why)
        time.sleep(2)


def _truths(names):
    """{vm: (Truth, fib_trie bytes)}, every guest asked at once."""
    out, errs = {}, []

    def one(n):
        try:
            out[n] = (truth.load(vm.truth(n)), vm.guest_file(n, "/proc/net/fib_trie"))
        except Exception as e:  # noqa: BLE001 - re-raised below
            errs.append(e)

    ts = [threading.Thread(target=one, args=(n,)) for n in names]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errs:
        raise errs[0]
    return out


def _nfm_graph(doc):
    nodes = {}
    for n in doc["nodes"]:
        m = {k: n[k] for k in ("id", "kind", "vm", "pid", "protocol", "port", "address") if k in n}
        if "comm" in n or "comm_hex" in n:
            m["comm"] = guest_bytes(n, "comm")
        nodes[n["id"]] = m
    edges = {(e["src"], e["dst"], e["protocol"], e["port"]): {"count": e["count"],
                                                              "states": e["states"]}
             for e in doc["edges"]}
    return nodes, edges


def _outside(got, low, high):
    """What of got lies outside [low, high] (both (nodes, edges)), as text lines."""
    bad = []
    for i in low[0]:
        if got[0].get(i) != low[0][i]:
            bad.append("node %s: nfm %s, both truths %s" % (i, got[0].get(i), low[0][i]))
    for i in got[0]:
        if high[0].get(i) != got[0][i]:
            bad.append("node %s: nfm %s, in neither truth" % (i, got[0][i]))
    for k in set(low[1]) | set(got[1]):
        g, lo, hi = got[1].get(k), low[1].get(k), high[1].get(k)
        if g is None or hi is None:
            bad.append("edge %s: nfm %s, truths %s..%s" % (k, g, lo, hi))
            continue
        lo = lo or {"count": 0, "states": {}}
        if not lo["count"] <= g["count"] <= hi["count"] or any(
                not lo["states"].get(s, 0) <= g["states"].get(s, 0) <= hi["states"].get(s, 0)
                for s in set(g["states"]) | set(lo["states"])):
            bad.append("edge %s: nfm %s, truths %s..%s" % (k, g, lo, hi))
    return bad


def _compare(fleet_names, by):
    """nfm topo -j --by BY between two truths; returns (nfm doc, low graph, [] or the
    differences of the last attempt). An attempt whose stable part lacks a long-lived edge (a
    connection that changed between the truths) is taken again too: it would compare less."""
    names = sorted(fleet_names.values())
    for attempt in range(ATTEMPTS):
        t1 = _truths(names)
        doc = run_json("topo", "--by", by, *names, kind="topo")
        t2 = _truths(names)
        s1, addrs = topo_truth.views(t1)
        s2, _ = topo_truth.views(t2)
        both = {v: s1[v] & s2[v] for v in names}
        either = {v: s1[v] | s2[v] for v in names}
        low = topo_truth.graph(topo_truth.stable(both, either), addrs, by)
        high = topo_truth.graph(either, addrs, by)
        bad = _outside(_nfm_graph(doc), low, high)
        bad += ["long-lived edge not stable between the truths: %s" % (m,)
                for m in sorted(_long_lived(fleet_names, low))]
        if not bad:
            return doc, low, []
        print("attempt %d, --by %s, outside the truths:\n  %s" % (attempt + 1, by,
                                                                   "\n  ".join(bad)))
    return doc, low, bad


@pytest.mark.parametrize("by", ["process", "vm", "service"])
def test_topo_equals_guests_proc_net(lab_fleet, by):
    # the fleet's long-lived traffic is in the stable part (checked by _compare), so the
    # comparison is not empty
    doc, low, bad = _compare(lab_fleet, by)
    assert not bad, bad
    assert doc["complete"] is True and sorted(doc["vms"]) == sorted(lab_fleet.values())


def test_topo_edge_bytes_equal_guests_tcp_info(lab_fleet):
    """Each TCP edge that holds the same connections in both truths has bytes_to_dst and
    bytes_to_src between the guests' own tcp_info (sock_diag bytes_acked and bytes_received of
    the counted end: the client in the fleet, else the server) read just before and just after:
    the idle ones equal, the trickle's within its growth."""
    names = sorted(lab_fleet.values())
    for attempt in range(ATTEMPTS):
        t1 = _truths(names)
        doc = run_json("topo", "--by", "process", *names, kind="topo")
        t2 = _truths(names)
        s1, addrs = topo_truth.views(t1)
        s2, _ = topo_truth.views(t2)
        st = topo_truth.stable({v: s1[v] & s2[v] for v in names},
                               {v: s1[v] | s2[v] for v in names})
        _, lo = topo_truth.graph(st, addrs, "process", topo_truth.tcp_bytes(t1))
        _, hi = topo_truth.graph(st, addrs, "process", topo_truth.tcp_bytes(t2))
        got = {(e["src"], e["dst"], e["protocol"], e["port"]): e for e in doc["edges"]}
        bad, checked = [], 0
        for k, e in lo.items():
            g, h = got.get(k), hi.get(k)
            if (k[2] != "tcp" or not g or not h or not g["count"] == e["count"] == h["count"]
                    or e.get("bytes") is None or h.get("bytes") is None):
                continue
            checked += 1
            for i, name in enumerate(("bytes_to_dst", "bytes_to_src")):
                if not e["bytes"][i] <= g.get(name, -1) <= h["bytes"][i]:
                    bad.append("%s %s: nfm %s, truths %d..%d" % (k, name, g.get(name),
                                                                 e["bytes"][i], h["bytes"][i]))
        if not bad and checked >= 3:
            break
        print("attempt %d: %d edges checked; %s" % (attempt + 1, checked, bad))
    assert not bad and checked >= 3, (checked, bad)


def test_topo_short_lived_seen_as_time_wait(lab_fleet):
    """The client's page fetches (one every 3 s) close on app's side first: their TIME-WAIT
    ends are edges client -> app:80 (doc/topo.md, Over time)."""
    doc = run_json("topo", "--by", "vm", *sorted(lab_fleet.values()), kind="topo")
    e = [e for e in doc["edges"] if e["src"] == "vm:" + lab_fleet["client"] and
         e["dst"] == "vm:" + lab_fleet["app"] and e["port"] == 80]
    assert len(e) == 1 and e[0]["states"].get("TIME-WAIT", 0) >= 1, doc["edges"]


def test_topo_dot_deterministic_and_svg_names_every_node(lab_fleet, tmp_path):
    names = sorted(lab_fleet.values())
    # db and client alone (app an external peer), paused: the same guests in another order
    # give the same text (running, the client's 8081 trickle moves the byte counters)
    pair = [lab_fleet["db"], lab_fleet["client"]]
    _qmp_all(pair, "stop")
    try:
        p1 = run("topo", "--format", "dot", *pair)
        p2 = run("topo", "--format", "dot", *reversed(pair))
    finally:
        _qmp_all(pair, "cont")
    assert p1.returncode == 0 and p2.returncode == 0, p1.stderr + p2.stderr
    assert p1.stdout == p2.stdout
    svg = run("topo", "--format", "svg", *names)
    assert svg.returncode == 0, svg.stderr
    assert svg.stdout.lstrip().startswith("<?xml") and "</svg>" in svg.stdout
    # Graphviz writes '-' as &#45; in text
    texts = {html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg.stdout)}
    for n in names + [fleet.EXTERNAL + " (external)", "10.77.0.1 (external)"]:
        assert n in texts, (n, texts)
    (tmp_path / "fleet.svg").write_text(svg.stdout)


def test_topo_watch_rates(lab_fleet):
    """--watch's second frame has each edge's bytes per second since the first: the client's
    8081 trickle (11 bytes a second) at its rate, which is its counters' growth between the two
    frames over their interval; an idle long-lived connection (client -> app:8080) at 0."""
    c, a = "vm:" + lab_fleet["client"], "vm:" + lab_fleet["app"]
    for _ in range(3):
        p = run("-j", "topo", "--by", "vm", "--watch=3", "-n", "2", *sorted(lab_fleet.values()))
        assert p.returncode == 0, p.stderr
        frames = [json.loads(line) for line in p.stdout.splitlines()]
        assert len(frames) == 2
        for f in frames:
            validate("topo", json.dumps(f), "nfm topo --watch -j")
        assert not any(k.endswith("_per_second") for e in frames[0]["edges"] for k in e)
        e1, e2 = ({(e["src"], e["dst"], e["port"]): e for e in f["edges"]} for f in frames)
        s1, s2 = e1.get((c, a, 8081)), e2.get((c, a, 8081))
        if s1 and s2 and s1["count"] == s2["count"] == s1["states"].get("ESTAB"):
            break   # the same connection in both frames (nc restarts if app's side ended)
    else:
        pytest.fail("no steady 8081 connection in three tries: %s" % frames)
    dt = (frames[1]["time_ns"] - frames[0]["time_ns"]) / 1e9
    grew = s2["bytes_to_dst"] - s1["bytes_to_dst"]
    rate = s2["bytes_to_dst_per_second"]
    assert 3 <= rate <= 40 and grew > 0, (rate, grew, dt)
    # the rate's interval is the reads' (each VM read at its own moment), the frame times'
    # differ from it by at most the time one frame's reads take
    assert abs(grew / rate - dt) < 1.0, (grew, rate, dt)
    assert s2["bytes_to_src_per_second"] == 0
    idle = e2[(c, a, 8080)]
    assert idle["bytes_to_dst_per_second"] == idle["bytes_to_src_per_second"] == 0


def _qmp_all(names, cmd):
    for n in names:
        with QMP(vm.read_info(n)["qmp"], timeout=30) as q:
            q.cmd(cmd)


def _no_bytes(doc):
    """nfmd reads no TCP byte counters: the edges without bytes_* (and the rest unchanged)."""
    return {"nodes": doc["nodes"], "nr_connections": doc["nr_connections"],
            "edges": [{k: v for k, v in e.items() if not k.startswith("bytes_")}
                      for e in doc["edges"]], "complete": doc["complete"],
            "vms": sorted(doc["vms"])}


def test_topo_remote_merges_two_nfmd(lab_fleet, tmp_path):
    """Two nfmd on loopback, one watching the client, one app and db: nfm topo --remote joins
    their frames into the graph one nfm reads of all three. The guests are paused meanwhile
    (QMP stop), so both see the same sockets: the graphs must be equal."""
    names = sorted(lab_fleet.values())
    prefix = lab_fleet["client"][:-len("client")]
    with Nfmd(lab_fleet["client"], tmp_path / "n1.log") as n1, \
            Nfmd(prefix + "[ad]*", tmp_path / "n2.log") as n2:
        _qmp_all(names, "stop")
        try:
            t0 = time.time_ns()
            n1.wait_net([lab_fleet["client"]], t0)
            n2.wait_net([lab_fleet["app"], lab_fleet["db"]], t0)
            validate("nfmd.topology_frames", n1.get("/api/topology/frames").decode())
            for by in ("process", "vm"):
                local = run_json("topo", "--by", by, *names, kind="topo")
                remote = run_json("topo", "--by", by, "--remote", "%s,%s" % (n1.addr, n2.addr),
                                  kind="topo")
                assert _no_bytes(remote) == _no_bytes(local), by
        finally:
            _qmp_all(names, "cont")
        # an nfmd that does not answer: a partial graph, exit 3, said on stderr
        p = run("topo", "--remote", "%s,127.0.0.1:%d" % (n1.addr, free_port()))
        assert p.returncode == 3 and "nfmd 127.0.0.1:" in p.stderr, (p.returncode, p.stderr)
        assert lab_fleet["client"] in p.stdout
        # and with -j: the same line on stderr, the document incomplete with its errors
        p = run("-j", "topo", "--remote", "%s,127.0.0.1:%d" % (n1.addr, free_port()))
        assert p.returncode == 3 and "nfmd 127.0.0.1:" in p.stderr, (p.returncode, p.stderr)
        doc = json.loads(p.stdout)
        assert doc["complete"] is False and doc["errors"], doc


def test_nfmd_api_topology_and_metric_equal_nfm_topo(lab_fleet, tmp_path):
    """One nfmd watching the fleet: with the guests paused (QMP stop), /api/topology is the graph
    nfm topo --by vm -j reads (nodes, edges, counts; nfmd reads no byte counters), and every
    nfm_topology_connections series is that graph's count of one (client VM, server VM, port):
    the pairs have fewer than ten ports, so no dst_port="other"."""
    names = sorted(lab_fleet.values())
    with _fleet_nfmd(lab_fleet, tmp_path) as n:
        _qmp_all(names, "stop")
        try:
            n.wait_net(names, time.time_ns())
            api = n.get("/api/topology").decode()
            validate("topo", api, "nfmd /api/topology")
            metrics = n.get("/metrics").decode()
            local = run_json("topo", "--by", "vm", *names, kind="topo")
        finally:
            _qmp_all(names, "cont")
    api = json.loads(api)
    assert api["by"] == "vm" and api["complete"] is True
    assert _no_bytes(api) == _no_bytes(local)
    ids = {x["id"]: x for x in local["nodes"]}
    want = {}
    for e in local["edges"]:
        s, d = ids[e["src"]], ids[e["dst"]]
        if s["kind"] == "vm" and d["kind"] == "vm":
            k = (s["vm"], d["vm"], str(e["port"]))
            want[k] = want.get(k, 0) + e["count"]
    got = {(m.group(1), m.group(2), m.group(3)): int(m.group(4)) for m in re.finditer(
        r'^nfm_topology_connections\{src_vm="([^"]*)",dst_vm="([^"]*)",dst_port="([^"]*)"\} (\d+)$',
        metrics, re.M)}
    assert want and got == want, (got, want)
    assert re.search(r"^nfm_topology_complete 1$", metrics, re.M)


def test_topo_since_reads_recorded_frames(lab_fleet, tmp_path):
    """nfm topo --since --store reads the window from nfmd --record's timelines (DIR/NAME, one
    store a VM). With the guests paused, a window that starts after nfmd's first post-pause
    frame holds only that state: its graph is the one nfm topo reads live (bytes aside: recorded
    frames carry no counters). Then a window back to before the pause is the union of every
    recorded moment, so it holds every edge of the paused graph, and says how many moments."""
    names = sorted(lab_fleet.values())
    prefix = lab_fleet["client"][:-len("client")]
    rec = tmp_path / "rec"
    with Nfmd(prefix + "*", tmp_path / "nfmd.log", ["--record", str(rec)]) as n:
        n.wait_net(names, time.time_ns())
        time.sleep(3)			# recorded moments before the pause
        _qmp_all(names, "stop")
        try:
            paused = time.time_ns()
            n.wait_net(names, paused)	# a frame of each VM after the pause
            n.wait_net(names, time.time_ns())
            window = (time.time_ns() - paused) / 1e9 / 2
            assert sorted(x.name for x in rec.iterdir()) == names
            local = run_json("topo", "--by", "process", *names, kind="topo")
            stored = run_json("topo", "--by", "process", "--store", str(rec),
                              "--since", "%.3fs" % window, kind="topo")
        finally:
            _qmp_all(names, "cont")
    assert local["edges"] and local["complete"] is True and stored["complete"] is True
    assert _no_bytes(stored) == _no_bytes(local)
    assert stored["nr_samples"] == 1	# one moment: the state in force at the window's start
    union = run_json("topo", "--by", "process", "--store", str(rec), "--since", "10m",
                     kind="topo")
    key = lambda e: (e["src"], e["dst"], e["protocol"], e["port"])
    have = {key(e): e["count"] for e in union["edges"]}
    for e in local["edges"]:
        assert have.get(key(e), 0) >= e["count"], e
    assert union["nr_samples"] >= 2 and set(union["vms"]) == set(names)
    # nfm record --frames: crawl frames (interfaces and sockets) read the same way
    client = lab_fleet["client"]
    rec2 = tmp_path / "rec2"
    _qmp_all(names, "stop")
    try:
        ok_rec = run("record", client, "--store", str(rec2), "--every", "3s", "-n", "2",
                     "--frames", "500ms", timeout=120)
        one = run_json("topo", "--by", "process", client, kind="topo")
        stored = run_json("topo", "--by", "process", "--store", str(rec2), "--since", "1s",
                          kind="topo")
    finally:
        _qmp_all(names, "cont")
    assert ok_rec.returncode == 0, ok_rec.stderr
    assert one["edges"] and _no_bytes(stored) == _no_bytes(one)
    # a store that is not one, and --store with VM arguments: one line, exit status
    (tmp_path / "empty").mkdir()
    p = run("topo", "--store", str(tmp_path / "empty"), "--since", "1m")
    assert p.returncode == 1 and "neither a store nor a directory of stores" in p.stderr, p.stderr
    p = run("topo", "--store", str(rec), names[0])
    assert p.returncode == 2 and "--store" in p.stderr, p.stderr


def _fleet_nfmd(lab_fleet, tmp_path):
    prefix = lab_fleet["client"][:-len("client")]
    return Nfmd(prefix + "*", tmp_path / "nfmd.log")


def test_page_topology_in_chromium(lab_fleet, tmp_path):
    """nfmd's /topology in headless Chromium: the Graphviz SVG names every VM, refreshes by
    itself, a node's summary on hover, its details and edges on click, the VM filter hides
    what does not touch the VM."""
    names = sorted(lab_fleet.values())
    db = lab_fleet["db"]
    with _fleet_nfmd(lab_fleet, tmp_path) as n, Browser() as b:
        n.wait_net(names, time.time_ns())
        b.load("http://%s/topology?refresh=3" % n.addr)
        b.wait("Number(document.body.dataset.loaded) >= 2", what="a second load (live refresh)")
        ids = b.js("[...document.querySelectorAll('#graph g.node')].map(g => g.dataset.nodeId)")
        texts = b.js("[...document.querySelectorAll('#graph g.node text')].map(t => t.textContent)")
        assert {"vm:" + v for v in names} <= set(ids) and set(names) <= set(texts), (ids, texts)
        node = '#graph g.node[data-node-id="vm:%s"]' % db
        b.mouse(node)
        assert "vm:" + db in b.js("document.getElementById('hover').textContent")
        b.mouse(node, click=True)
        details = json.loads(b.wait("document.querySelector('#details pre.json')?.textContent",
                                    what="the node's details"))
        assert details["id"] == "vm:" + db and details["vm"] == db
        edges = b.js("[...document.querySelectorAll('#details li')].map(l => l.textContent)")
        assert any("tcp/5432" in e for e in edges) and any("tcp/6379" in e for e in edges), edges
        b.js("(() => { const s = document.getElementById('vm-filter'); s.value = %s;"
             " s.dispatchEvent(new Event('change')); return 1; })()" % json.dumps(db))
        doc = b.js("doc")
        vm_of = {x["id"]: x.get("vm") for x in doc["nodes"]}
        keep = {"vm:" + db} | {e[k] for e in doc["edges"] for k in ("src", "dst")
                               if db in (vm_of[e["src"]], vm_of[e["dst"]])}
        shown = b.js("[...document.querySelectorAll('#graph g.node:not(.filtered)')]"
                     ".map(g => g.dataset.nodeId)")
        assert set(shown) == keep and "vm:" + lab_fleet["client"] not in shown, (shown, keep)
        b.screenshot(tmp_path / "topology.png")
        assert (tmp_path / "topology.png").stat().st_size > 10000


def test_page_fleet_in_chromium(lab_fleet, tmp_path):
    """nfmd's /fleet in headless Chromium: a row per VM with its load (the guest's /proc/loadavg
    text as nfmd read it), CPU busy over two refreshes, memory (MemTotal equal to the guest's
    own /proc/meminfo) and its top processes (processes of the nfmd document shown)."""
    names = sorted(lab_fleet.values())
    with _fleet_nfmd(lab_fleet, tmp_path) as n, Browser() as b:
        n.wait_net(names, time.time_ns())
        b.load("http://%s/fleet?refresh=2" % n.addr)
        b.wait("Number(document.body.dataset.loaded) >= 3", what="three loads")
        # CPU busy needs two loads from two crawls: a loaded host may serve one crawl twice
        # (the page then says "…"), so wait for a figure in every row, not a number of loads
        b.wait("(c => c.length >= %d && c.every(td => td.textContent.endsWith(' %%')))"
               "([...document.querySelectorAll('#fleet tbody tr .cpu')])" % len(names),
               timeout=120, what="a CPU figure for every VM (two crawls apart)")
        rows = b.js("[...document.querySelectorAll('#fleet tbody tr')].map(tr => ({vm: tr.dataset.vm,"
                    " load: tr.querySelector('.load').textContent, cpu: tr.querySelector('.cpu')"
                    ".textContent, total: tr.querySelector('.mem').dataset.totalBytes,"
                    " procs: [...tr.querySelectorAll('li.proc')].map(l => l.textContent)}))")
        rows = {r["vm"]: r for r in rows}
        assert set(names) <= set(rows), rows
        for v in names:
            r = rows[v]
            mem = vm.guest_file(v, "/proc/meminfo").decode()
            total = int(re.search(r"MemTotal:\s+(\d+) kB", mem).group(1)) * 1024
            assert int(r["total"]) == total, (v, r)
            assert re.fullmatch(r"\d+\.\d\d \d+\.\d\d \d+\.\d\d", r["load"]), r
            m = re.fullmatch(r"(\d+\.\d) %", r["cpu"])
            assert m and 0 <= float(m.group(1)) <= 100, r
            # the processes of the nfmd document the page drew from
            pids = set(b.js("last.get(%s).processes.map(p => p.pid)" % json.dumps(v)))
            assert pids, v
            assert len(r["procs"]) == 5, r
            for p in r["procs"]:
                assert int(re.search(r"\[(\d+)\]", p).group(1)) in pids, (p, r)
        b.screenshot(tmp_path / "fleet.png")
        assert (tmp_path / "fleet.png").stat().st_size > 10000


def test_diagnose_address_conflict(lab_fleet, tmp_path):
    """nfm diagnose of a fleet VM compares it with the host's other VMs on the same wire (the
    fleet's QEMU dgram links): none holds another's address at first ("peers" checked, no
    address_conflict); db given app's 10.80.2.1 on their link is one conflict for each of the
    two, naming the other VM, both interfaces and the link; gone once the address is. nfmd
    watching the fleet says the same in nfm_vm_address_conflicts (0, then 1 for app and db)."""
    from test_diagnose import metrics
    app, db = lab_fleet["app"], lab_fleet["db"]
    names = sorted(lab_fleet.values())
    _, app_cidr, _ = next(n for n in fleet.layout()["app"] if n[0] == "ad")
    _, _, db_mac = next(n for n in fleet.layout()["db"] if n[0] == "ad")
    ip = app_cidr.split("/")[0]

    def conflicts(name):
        p = run("-j", "diagnose", name)
        assert p.returncode in (0, 4), p.stderr
        validate("diagnose", p.stdout, "nfm diagnose")
        doc = json.loads(p.stdout)
        peers = [c for c in doc["checks"] if c["name"] == "peers"]
        assert peers and peers[0]["complete"], doc["checks"]
        return [f for f in doc["findings"] if f["kind"] == "address_conflict"]

    def nfmd_counts(n):
        n.wait_net(names, time.time_ns())
        got = metrics(n.get("/metrics").decode(), "nfm_vm_address_conflicts")
        return {re.search(r'vm="([^"]*)"', k).group(1): v for k, v in got.items()
                if re.search(r'vm="([^"]*)"', k).group(1) in names}
    with _fleet_nfmd(lab_fleet, tmp_path) as n:
        assert conflicts(db) == [] and conflicts(app) == []
        assert nfmd_counts(n) == {v: 0 for v in names}
        assert vm.ipaddr(db, "add", ip + "/24", db_mac) == 0
        try:
            for me, other in ((db, app), (app, db)):
                got = conflicts(me)
                assert len(got) == 1, got
                f = got[0]
                assert f["severity"] == "error" and f["summary"].startswith(
                    "%s on %s is also held by VM %s (" % (ip, f["subject"], other)), f
                ev = f["evidence"]
                link = "unix:%s|%s" % tuple(sorted(os.path.join(
                    fleet.link_dir(app.rsplit("-", 1)[0]), "ad-%s.sock" % e) for e in "ab"))
                assert len(ev) == 2 and all(x.endswith(" on " + link) for x in ev), ev
                assert ev[0].startswith("this VM (pid %d): %s %s/24, MAC " % (
                    int(vm.read_info(me)["pid"]), f["subject"], ip)), ev
                assert ev[1].startswith("VM %s (pid %d): " % (
                    other, int(vm.read_info(other)["pid"]))), ev
            assert run("diagnose", db).returncode == 4
            assert nfmd_counts(n) == {v: 1 if v in (app, db) else 0 for v in names}
        finally:
            assert vm.ipaddr(db, "del", ip + "/24", db_mac) == 0
        assert conflicts(db) == []
        assert nfmd_counts(n) == {v: 0 for v in names}
