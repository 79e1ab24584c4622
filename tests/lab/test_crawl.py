"""nfm crawl (issue 6): one document with every part, equal to the guest's own view; every
frame a compact crawl document (JSON Lines) valid against doc/schema/docs/crawl.json, whose
guest objects are the very objects of the per-command documents (nfm ps -j, lsmod -j...)."""
import json
import re

from nfmcli import guest_bytes, run, run_json, validate


def crawl(*args):
    p = run(*args, timeout=300)
    assert p.returncode == 0, p.stderr
    validate("crawl", p.stdout, "nfm crawl")
    docs = [json.loads(l) for l in p.stdout.splitlines()]
    for d in docs:
        assert d["kind"] == "crawl" and d["schema_version"] == 1 and d["complete"] is True
        assert "errors" not in d
    return docs


def test_crawl_document(lab_vm):
    t = lab_vm.truth
    (doc,) = crawl("--vm", lab_vm.pid, "crawl")
    assert doc["vm"] == lab_vm.name
    assert doc["kernel"]["release"].encode() == t.uname["release"]
    assert doc["kernel"]["uptime_ns"] > 0 and doc["duration_ns"] > 0
    assert doc["memory"]["mem_total_bytes"] == 1024 * int(
        re.search(rb"MemTotal:\s+(\d+)", t.files["/proc/meminfo"]).group(1))
    assert doc["cpu"]["total"]["cpu"] == -1 and len(doc["cpu"]["per_cpu"]) >= 1
    assert set(doc["loadavg"]) >= {"load1", "load5", "load15"}
    # Every zoo role process, with its exact cmdline.
    procs = {p["pid"]: p for p in doc["processes"]}
    for name, role in t.roles.items():
        if role.pid in t.processes and t.processes[role.pid].state != "Z" and role.cmdline:
            assert guest_bytes(procs[role.pid], "cmdline") == role.cmdline, name
    # Modules and mounts as /proc says.
    mods = {l.split()[0].decode() for l in t.files["/proc/modules"].splitlines()}
    assert {m["name"] for m in doc["modules"]} == mods
    mounts = [l.split()[:3] for l in t.files["/proc/mounts"].splitlines()]
    assert [[guest_bytes(m, "device"), guest_bytes(m, "path"), m["fstype"].encode()]
            for m in doc["mounts"]] == mounts
    names = {i["ifname"] for i in doc["interfaces"]}
    assert {"lo", "dummy0"} <= names
    lo = next(i for i in doc["interfaces"] if i["ifname"] == "lo")
    assert any(a["local"] == "127.0.0.1" for a in lo["addr_info"])
    # The fd table of a zoo process is there.
    assert any(p.get("files") for p in doc["processes"])
    assert doc["sockets"]


def test_crawl_same_objects_on_a_dump(lab_vm, tmp_path):
    """A dump does not change: a process, a module, a mount in a crawl frame is byte for byte
    the object of ps -j, lsmod -j, mount -j (one builder each, cmd/common/objects.h)."""
    elf, _ = lab_vm.dump(tmp_path / "guest.elf")
    (doc,) = crawl("--vm", elf, "crawl", "--features", "processes,modules,mounts,os,memory")
    ps = run_json("--vm", elf, "ps", kind="ps")["processes"]
    # the same objects; crawl keeps task-list order, ps sorts by pid
    order = lambda procs: sorted(procs, key=lambda e: (e["tgid"], e["pid"]))  # noqa: E731
    # ps -j adds the rest of /proc/PID/stat and status (nfm_task_info) and user names, which a
    # crawl frame does not read: the members they share are the same
    shared = lambda procs: [{k: v for k, v in e.items() if k in c}  # noqa: E731
                            for e, c in zip(order(procs), order(doc["processes"]))]
    assert len(ps) == len(doc["processes"]) and order(doc["processes"]) == shared(ps)
    # lsmod -j and mount -j add each object's /proc line ("line", optional in the schema)
    mods = run_json("--vm", elf, "lsmod", kind="lsmod")["modules"]
    assert doc["modules"] == [{k: v for k, v in m.items() if k != "line"} for m in mods]
    mounts = run_json("--vm", elf, "mount", kind="mount")["mounts"]
    assert doc["mounts"] == [{k: v for k, v in m.items() if k != "line"} for m in mounts]
    assert doc["kernel"]["release"] == run_json("--vm", elf, "info", kind="info")["kernel"]["release"]
    assert doc["memory"] == run_json("--vm", elf, "free", kind="free")["memory"]


def test_crawl_json_lines_and_features(lab_vm):
    p = run("--vm", lab_vm.pid, "crawl", "--features", "os,memory", "--interval", "0.2", "-n", "3")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 3
    validate("crawl", p.stdout, "nfm crawl --interval")
    docs = [json.loads(l) for l in lines]
    for d in docs:
        assert set(d) == {"schema_version", "kind", "complete", "vm", "source", "time_ns",
                          "kernel", "memory", "duration_ns"}
    assert docs[0]["kernel"]["uptime_ns"] <= docs[2]["kernel"]["uptime_ns"]
    assert docs[0]["time_ns"] < docs[1]["time_ns"] < docs[2]["time_ns"]
    # Short options bundle like the long ones.
    p = run("--vm", lab_vm.pid, "crawl", "-fos", "-i0.1", "-n2")
    assert p.returncode == 0, p.stderr
    assert [set(json.loads(l)) - {"schema_version", "kind", "complete", "vm", "source",
                                  "time_ns", "duration_ns"} for l in p.stdout.splitlines()] \
        == [{"kernel"}, {"kernel"}]


def test_crawl_usage_errors(lab_vm):
    for args, words in ((["--features", "os,bogus"], "unknown feature 'bogus'"),
                        (["--interval", "0"], "--interval"),
                        (["-n", "3"], "-n goes with --interval"),
                        (["extra"], "no arguments")):
        p = run("--vm", lab_vm.pid, "crawl", *args)
        assert p.returncode == 2 and p.stdout == "", args
        (line,) = p.stderr.splitlines()
        assert line.startswith("nfm crawl: ") and words in line, line
