"""nfm crawl (issue 6): one document with every part, equal to the guest's own view."""
import json
import re

from nfmcli import run, run_json


def test_crawl_document(lab_vm):
    t = lab_vm.truth
    doc = run_json("--vm", lab_vm.pid, "crawl")
    assert doc["errors"] == {}
    assert doc["vm"] == lab_vm.name
    assert doc["os"]["release"].encode() == t.uname["release"]
    assert doc["memory"]["MemTotal"] == int(re.search(rb"MemTotal:\s+(\d+)", t.files["/proc/meminfo"]).group(1))
    # Every zoo role process, with its exact cmdline.
    procs = {p["pid"]: p for p in doc["processes"]}
    for name, role in t.roles.items():
        if role.pid in t.processes and t.processes[role.pid].state != "Z" and role.cmdline:
            assert procs[role.pid]["cmdline"].encode("utf-8", "surrogateescape") == role.cmdline, name
    # Modules and mounts as /proc says.
    mods = {l.split()[0].decode() for l in t.files["/proc/modules"].splitlines()}
    assert {m["name"] for m in doc["modules"]} == mods
    mounts = [l.split()[:3] for l in t.files["/proc/mounts"].splitlines()]
    assert [[m["device"].encode(), m["path"].encode(), m["fstype"].encode()] for m in doc["mounts"]] == mounts
    names = {i["name"] for i in doc["interfaces"]}
    assert {"lo", "dummy0"} <= names
    # The fd table of a zoo process is there.
    assert any(p.get("files") for p in doc["processes"])


def test_crawl_json_lines_and_features(lab_vm):
    p = run("--vm", lab_vm.pid, "crawl", "--features", "os,memory", "--interval", "0.2", "-n", "3")
    assert p.returncode == 0, p.stderr
    docs = [json.loads(l) for l in p.stdout.splitlines()]
    assert len(docs) == 3
    for d in docs:
        assert set(d) == {"vm", "source", "time", "os", "memory", "crawl_ms", "errors"}
    assert docs[0]["os"]["uptime_ns"] <= docs[2]["os"]["uptime_ns"]


def test_crawl_bad_feature(lab_vm):
    p = run("--vm", lab_vm.pid, "crawl", "--features", "os,bogus")
    assert p.returncode != 0
    assert "unknown feature 'bogus'" in p.stderr
