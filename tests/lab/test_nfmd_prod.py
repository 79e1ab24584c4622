"""nfmd as an operator runs it (issue 17): configured from a file, serving HTTPS with a bearer token
to a real Prometheus (Debian `prometheus`) that loads the alert rules; every panel of the Grafana
dashboard (dist/grafana/nfm-fleet.json) returns data; the metrics have node_exporter's shapes and
named label values; a VM paused over QMP shows as paused and running again after `cont`.

Needs root (nfmd reads QEMU memory), the lab, `prometheus` and `openssl`.
Binaries: NFMD_BIN (default build/cmd/nfmd/nfmd), PROMETHEUS_BIN (default prometheus).
"""
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "lab"))
sys.path.insert(0, str(ROOT / "tests" / "prometheus"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from nfmlab.qmp import QMP  # noqa: E402
from nfmcli import validate  # noqa: E402
import dashboard  # noqa: E402

NFMD = os.environ.get("NFMD_BIN", str(ROOT / "build" / "cmd" / "nfmd" / "nfmd"))
PROMETHEUS = os.environ.get("PROMETHEUS_BIN", shutil.which("prometheus") or "prometheus")
TOKEN = "tls-token-%d" % os.getpid()

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="nfmd reads QEMU memory: needs root"),
    pytest.mark.skipif(not shutil.which(PROMETHEUS), reason="no prometheus (apt-get install prometheus)"),
    pytest.mark.skipif(not shutil.which("openssl"), reason="no openssl"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, fn, timeout, interval=0.5):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except (OSError, ValueError, KeyError, IndexError) as e:
            last = e
        time.sleep(interval)
    pytest.fail("timed out after %ss waiting for %s (last: %r)" % (timeout, what, last))


class Nfmd:
    """nfmd from a configuration file: HTTPS on loopback with a self-signed certificate made here,
    a bearer token, only the lab VM."""

    def __init__(self, tmp, vm_name):
        self.port = free_port()
        self.cert, self.key = tmp / "cert.pem", tmp / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                        "-keyout", str(self.key), "-out", str(self.cert)],
                       check=True, capture_output=True)
        self.key.chmod(0o600)
        self.token_file = tmp / "token"
        self.token_file.write_text(TOKEN + "\n")
        self.token_file.chmod(0o600)
        conf = tmp / "nfmd.conf"
        conf.write_text("# written by test_nfmd_prod.py\n"
                        "listen = 127.0.0.1:%d\n"
                        "tls-cert = %s\ntls-key = %s\ntoken-file = %s\n"
                        "vm = %s\ninterval = 250ms\nps-interval = 500ms\nnet-interval = 1s\n"
                        "sys-interval = 2s\nrescan = 1s\n"
                        % (self.port, self.cert, self.key, self.token_file, vm_name))
        self.log = tmp / "nfmd.log"
        self.proc = subprocess.Popen([NFMD, "--config", str(conf), "-v"],
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        self.base = "https://127.0.0.1:%d" % self.port
        self.ctx = ssl.create_default_context(cafile=str(self.cert))

    def get(self, path, token=TOKEN):
        req = urllib.request.Request(self.base + path)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=10, context=self.ctx) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def vm(self, name):
        st, body = self.get("/api/v1/vms/" + urllib.parse.quote(name))
        return json.loads(body) if st == 200 else None

    def stop(self):
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


class Prometheus:
    """Prometheus on loopback (temp config and storage, 1 s scrapes) scraping nfmd over TLS with the
    token, with the alert rules loaded."""

    def __init__(self, tmp, nfmd):
        self.port = free_port()
        cfg = tmp / "prometheus.yml"
        cfg.write_text(json.dumps({
            "global": {"scrape_interval": "1s", "scrape_timeout": "900ms",
                       "evaluation_interval": "1s"},
            "rule_files": [str(ROOT / "dist" / "prometheus" / "nfm-alerts.yml")],
            "scrape_configs": [{
                "job_name": "nfmd", "scheme": "https",
                "tls_config": {"ca_file": str(nfmd.cert)},
                "authorization": {"type": "Bearer", "credentials_file": str(nfmd.token_file)},
                "static_configs": [{"targets": ["127.0.0.1:%d" % nfmd.port]}]}]}))
        self.log = tmp / "prometheus.log"
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=%s" % cfg, "--storage.tsdb.path=%s" % (tmp / "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        self.base = "http://127.0.0.1:%d" % self.port
        wait_for("prometheus ready", self.ready, 60)

    def ready(self):
        assert self.proc.poll() is None, "prometheus exited: " + self.log.read_text()[-2000:]
        try:
            with urllib.request.urlopen(self.base + "/-/ready", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError):
            return False

    def api(self, path, **params):
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        with urllib.request.urlopen(url, timeout=10) as r:
            d = json.load(r)
        assert d["status"] == "success", d
        return d["data"]

    def query(self, q):
        """Instant query -> {frozenset(labels.items()): float}."""
        d = self.api("/api/v1/query", query=q)
        return {frozenset(x["metric"].items()): float(x["value"][1]) for x in d["result"]}

    def one(self, q):
        r = self.query(q)
        return next(iter(r.values())) if len(r) == 1 else None

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def nfmd(lab_vm, tmp_path_factory):
    d = Nfmd(tmp_path_factory.mktemp("nfmd"), lab_vm.name)
    try:
        wait_for("nfmd to attach to %s over HTTPS" % lab_vm.name,
                 lambda: (d.vm(lab_vm.name) or {}).get("vm", {}).get("status") == "up", 120)
        yield d
        assert d.proc.poll() is None, "nfmd died; log:\n" + d.log.read_text()[-4000:]
        assert d.stop() == 0
    except BaseException:
        print(d.log.read_text()[-4000:])
        raise
    finally:
        if d.proc.poll() is None:
            d.proc.kill()


@pytest.fixture(scope="module")
def prom(nfmd, tmp_path_factory):
    p = Prometheus(tmp_path_factory.mktemp("prom"), nfmd)
    yield p
    p.stop()


def test_https_and_token_are_required(nfmd):
    """HTTPS only (plain HTTP to the port gets no answer), and the token is checked."""
    st, text = nfmd.get("/metrics")
    assert st == 200 and "# TYPE nfm_vm_up gauge" in text
    assert nfmd.get("/metrics", token="wrong")[0] == 401
    assert nfmd.get("/metrics", token=None)[0] == 401
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen("http://127.0.0.1:%d/metrics" % nfmd.port, timeout=5).read()


def test_prometheus_scrapes_over_tls_with_token(lab_vm, nfmd, prom):
    wait_for("prometheus to scrape nfmd over TLS", lambda: prom.one('up{job="nfmd"}') == 1, 30)
    sel = '{vm="%s"}' % lab_vm.name
    wait_for("nfm_vm_up == 1", lambda: prom.one("nfm_vm_up" + sel) == 1, 30)
    assert prom.one("nfm_guest_memory_MemTotal_bytes" + sel) > 0


def test_metrics_have_node_exporter_shapes_and_named_labels(lab_vm, nfmd, prom):
    """CPU seconds per CPU and mode (8 modes, the guest's CPUs), memory in /proc/meminfo names,
    sockets and process states by name, the VM's run state."""
    sel = 'vm="%s"' % lab_vm.name
    nproc = lab_vm.truth.files["/proc/cpuinfo"].count(b"processor\t:")
    cpu = wait_for("cpu seconds", lambda: prom.query("nfm_guest_cpu_seconds_total{%s}" % sel), 30)
    modes = {dict(k)["mode"] for k in cpu}
    assert modes == {"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"}
    assert {dict(k)["cpu"] for k in cpu} == {str(i) for i in range(nproc)}
    idle = sum(v for k, v in cpu.items() if dict(k)["mode"] == "idle")
    assert 0 < idle <= nproc * prom.one("nfm_guest_uptime_seconds{%s}" % sel) + 5
    avail = prom.one("nfm_guest_memory_MemAvailable_bytes{%s}" % sel)
    assert 0 < avail <= prom.one("nfm_guest_memory_MemTotal_bytes{%s}" % sel)
    socks = wait_for("sockets", lambda: prom.query("nfm_guest_sockets{%s}" % sel), 30)
    for k in socks:
        lab = dict(k)
        assert not lab["family"].isdigit() and not lab["state"].isdigit(), lab
    assert {dict(k)["family"] for k in socks} & {"inet", "inet6", "unix"}
    assert {dict(k)["state"] for k in socks} & {"listen", "established", "unconnected", "close"}
    states = prom.query("nfm_guest_processes_by_state{%s}" % sel)
    assert {dict(k)["state"] for k in states} >= {"running", "sleeping", "disk_sleep", "zombie", "idle"}
    assert prom.one('nfm_vm_state{%s,state="running"}' % sel) == 1


def per_cpu_ticks(t):
    """{cpu: [user, nice, system, idle, iowait, irq, softirq, steal]} of a truth's /proc/stat."""
    out = {}
    for l in t.files["/proc/stat"].splitlines():
        if re.match(rb"cpu\d+ ", l):
            out[l.split()[0][3:].decode()] = [int(x) for x in l.split()[1:9]]
    return out


def test_cpu_seconds_equal_the_guests_proc_stat(lab_vm, nfmd):
    """nfm_guest_cpu_seconds_total of each CPU and busy mode lies between the guest's own
    /proc/stat read before nfmd's last crawl and after the scrape (ticks of 1/100 s, one tick
    of rounding). Idle and iowait are left out: the guest's /proc/stat counts an idle CPU's
    ongoing sleep, which its counters (and nfm) have not been charged yet. A late crawl (nfmd
    slowed past its 250 ms by a loaded host) is retried, twice at most."""
    modes = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"]
    for _ in range(3):
        t1, _ = lab_vm.fresh_truth()
        time.sleep(0.6)     # past nfmd's 250 ms interval: its newest crawl comes after t1
        st, text = nfmd.get("/metrics")
        t2, _ = lab_vm.fresh_truth()
        assert st == 200
        got = {}
        for m in re.finditer(r'^nfm_guest_cpu_seconds_total\{([^}]*)\} (\S+)$', text, re.M):
            lab = {k: v.strip('"') for k, v in (kv.split("=", 1) for kv in m.group(1).split(","))}
            if lab.get("vm") == lab_vm.name:
                got[(lab["cpu"], lab["mode"])] = float(m.group(2))
        a, b = per_cpu_ticks(t1), per_cpu_ticks(t2)
        bad, checked = [], 0
        for cpu in a:
            for i, mode in enumerate(modes):
                if mode in ("idle", "iowait"):
                    continue
                v = got[(cpu, mode)] * 100
                if not a[cpu][i] - 1 <= v <= b[cpu][i] + 1:
                    bad.append((cpu, mode, a[cpu][i], v, b[cpu][i]))
                checked += 1
        if not bad:
            break
    assert not bad, bad
    assert checked == 6 * len(a) and len(a) >= 2, checked


def test_every_dashboard_panel_returns_data(lab_vm, nfmd, prom):
    """Each PromQL query of dist/grafana/nfm-fleet.json, with the dashboard's variables set to this
    VM, returns at least one series from the Prometheus that scraped nfmd (rates need 30 s)."""
    wait_for("30 s of scrapes", lambda: prom.one(
        'count_over_time(nfm_vm_up{vm="%s"}[40s])' % lab_vm.name) >= 25, 90, interval=2)
    qs = dashboard.queries(str(ROOT / "dist" / "grafana" / "nfm-fleet.json"),
                           {"job": "nfmd", "instance": ".+", "vm": lab_vm.name})
    assert len(qs) > 20
    empty = []
    for title, ref, expr in qs:
        if not prom.api("/api/v1/query", query=expr)["result"]:
            empty.append("%s/%s: %s" % (title, ref, expr))
    assert not empty, "panels without data:\n" + "\n".join(empty)


def test_alert_rules_evaluate_on_real_data(lab_vm, nfmd, prom):
    """The alert rules load and evaluate without error; a healthy VM fires none of them."""
    groups = wait_for("rules evaluated", lambda: [
        g for g in prom.api("/api/v1/rules")["groups"]
        if all(r.get("lastEvaluation", "0001").startswith("20") for r in g["rules"])], 30)
    rules = [r for g in groups for r in g["rules"]]
    assert len(rules) >= 10
    bad = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert not bad
    firing = [a for a in prom.api("/api/v1/alerts")["alerts"]
              if a["labels"].get("vm") == lab_vm.name]
    assert not firing, firing


def test_paused_vm_shows_paused_then_running(lab_vm, nfmd, prom):
    """QMP stop: QEMU's run state (asked because the guest clock stands still) makes nfm_vm_state
    paused within seconds, in /metrics, in Prometheus and in the API's run_state; cont: running
    again."""
    sel = 'vm="%s"' % lab_vm.name
    with QMP(lab_vm.qmp) as q:
        q.cmd("stop")
    try:
        wait_for("nfm_vm_state paused in /metrics", lambda: 'nfm_vm_state{%s,pid="%d",state="paused"} 1'
                 % (sel, lab_vm.pid) in nfmd.get("/metrics")[1], 30)
        wait_for("prometheus sees paused",
                 lambda: prom.one('nfm_vm_state{%s,state="paused"}' % sel) == 1, 10)
        assert prom.one('nfm_vm_state{%s,state="running"}' % sel) == 0
        assert prom.one("nfm_vm_up{%s}" % sel) == 1
        assert nfmd.vm(lab_vm.name)["vm"]["run_state"] == "paused"
        st, body = nfmd.get("/api/v1/vms")
        assert st == 200
        validate("nfmd.vms", body, "GET /api/v1/vms of a paused VM")
    finally:
        with QMP(lab_vm.qmp) as q:
            q.cmd("cont")
    wait_for("running again", lambda: 'nfm_vm_state{%s,pid="%d",state="running"} 1'
             % (sel, lab_vm.pid) in nfmd.get("/metrics")[1], 30)
