"""nfm yara (PaVScan): YARA rules over every process's memory through its page tables. Each
zoo-sleep-NN process carries its own command line ("zoo-sleep NN") on its stack; a rule for those bytes must find
every one of them there, and -p narrows the scan to the processes named."""
from nfmcli import guest_bytes, one_error_line, run, run_json


def yara(vm, *args):
    """nfm -j yara ARGS: the matches of a document valid against doc/schema/docs/yara.json."""
    doc = run_json("--vm", vm, "yara", *args, kind="yara")
    assert doc["complete"] is True and doc["nr_matches"] == len(doc["matches"])
    return doc["matches"]


def ps(vm):
    return run_json("--vm", vm, "ps", kind="ps")["processes"]


def sym(vm, *names):
    return run_json("--vm", vm, "sym", *names, kind="sym")["symbols"]


def rule_file(tmp_path, name, hexbytes):
    p = tmp_path / (name + ".yar")
    spaced = " ".join(hexbytes[i:i + 2] for i in range(0, len(hexbytes), 2))
    p.write_text("rule %s {\n  strings:\n    $cmd = { %s }\n  condition:\n    $cmd\n}\n"
                 % (name, spaced))
    return p


def stack_of(lab_vm, pid):
    (s,) = [m for m in run_json("--vm", lab_vm.pid, "maps", str(pid), kind="maps")["vmas"]
            if m["name"] == "[stack]"]
    return int(s["start"], 16), int(s["end"], 16)


def test_every_process_finds_its_command_line(lab_vm, tmp_path):
    procs = [p for p in ps(lab_vm.pid) if p["comm"].startswith("zoo-sleep-")]
    assert len(procs) >= 5
    for p in procs[:3]:
        rules = rule_file(tmp_path, "cmd%d" % p["pid"], guest_bytes(p, "cmdline").hex())
        got = yara(lab_vm.pid, rules)
        mine = [m for m in got if m["pid"] == p["pid"]]
        assert mine, "pid %d's command line not found in its memory" % p["pid"]
        lo, hi = stack_of(lab_vm, p["pid"])
        assert any(lo <= int(m["address"], 16) < hi for m in mine)
        assert all(m["rule"] == "cmd%d" % p["pid"] and m["string"] == "$cmd" and
                   m["length_bytes"] == len(guest_bytes(p, "cmdline")) for m in got)
    # "zoo-sleep\0": in every zoo-sleep process.
    rules = rule_file(tmp_path, "sleepers", b"zoo-sleep\0".hex())
    found = {m["pid"] for m in yara(lab_vm.pid, rules)}
    assert {p["pid"] for p in procs} <= found


def test_pid_selection_and_text_output(lab_vm, tmp_path):
    procs = [p for p in ps(lab_vm.pid) if p["comm"].startswith("zoo-sleep-")]
    a, b = procs[0]["pid"], procs[1]["pid"]
    rules = rule_file(tmp_path, "sleepers", b"zoo-sleep\0".hex())
    got = yara(lab_vm.pid, "-p", "%d,%d" % (a, b), rules)
    assert {m["pid"] for m in got} == {a, b}
    assert {m["pid"] for m in yara(lab_vm.pid, "-p", str(a), "--pid", str(b), rules)} == {a, b}
    p = run("--vm", lab_vm.pid, "yara", "-p", str(a), rules)
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert lines and all(ln.split()[:4] == [str(a), procs[0]["comm"], "sleepers", "$cmd"]
                         for ln in lines)


def test_bad_rules(lab_vm, tmp_path):
    bad = tmp_path / "bad.yar"
    bad.write_text("rule broken {\n  condition:\n    $nope\n}\n")
    line = one_error_line(run("--vm", lab_vm.pid, "yara", bad))
    assert "bad.yar:" in line and 'undefined string "$nope"' in line
    line = one_error_line(run("--vm", lab_vm.pid, "yara", tmp_path / "missing.yar"))
    assert "missing.yar" in line


def test_kernel_memory(lab_vm, tmp_path):
    """--kernel scans the core image and every module's memory: the banner is found at
    linux_banner, and the libcrc32c module's name in its own memory."""
    rules = tmp_path / "kernel.yar"
    rules.write_text('rule banner { strings: $a = "Linux version " condition: $a }\n'
                     'rule crcmod { strings: $a = "libcrc32c" condition: $a }\n')
    got = yara(lab_vm.pid, "--kernel", rules)
    banner = int(sym(lab_vm.pid, "linux_banner")[0]["address"], 16)
    assert any(m["rule"] == "banner" and m["region"] == "vmlinux" and
               int(m["address"], 16) == banner for m in got)
    mod = [m for m in got if m["rule"] == "crcmod" and m["region"] == "libcrc32c"]
    assert mod
    owners = {s["module"] for s in sym(lab_vm.pid, *[m["address"] for m in mod])}
    assert owners == {"libcrc32c"}
    assert all("pid" not in m for m in got)
    # A usage error: exit 2, one line naming the command.
    p = run("--vm", lab_vm.pid, "yara", "--kernel", "-p", "1", rules)
    assert p.returncode == 2 and p.stdout == ""
    (line,) = p.stderr.splitlines()
    assert line.startswith("nfm yara: ") and "--help" in line


def test_scanned_bytes_are_the_resident_pages(lab_vm, tmp_path):
    """scanned_bytes of one idle process: its resident pages (smaps_rollup's Rss, a walk of its
    page tables; statm's resident lags on 6.1, whose RSS counters are per thread) and at most
    the [vvar] pages besides (mapped by pfn: not in Rss, but readable)."""
    t, _ = lab_vm.fresh_truth()
    procs = [p for p in ps(lab_vm.pid) if p["comm"].startswith("zoo-sleep-")]
    pid = procs[0]["pid"]
    rules = rule_file(tmp_path, "sleepers", b"zoo-sleep\0".hex())
    doc = run_json("--vm", lab_vm.pid, "yara", "-p", str(pid), rules, kind="yara")
    rollup = t.processes[pid].files["smaps_rollup"].decode()
    (resident,) = [int(ln.split()[1]) * 1024 for ln in rollup.splitlines() if ln.startswith("Rss:")]
    vvar = sum(int(m["end"], 16) - int(m["start"], 16)
               for m in run_json("--vm", lab_vm.pid, "maps", str(pid), kind="maps")["vmas"]
               if m["name"] == "[vvar]")
    assert resident <= doc["scanned_bytes"] <= resident + vvar, (doc["scanned_bytes"], resident,
                                                                 vvar)
