"""nfm yara (PaVScan): YARA rules over every process's memory through its page tables. Each
zoo-sleep-NN process carries its own command line ("zoo-sleep NN") on its stack; a rule for those bytes must find
every one of them there, and -p narrows the scan to the processes named."""
from nfmcli import one_error_line, run, run_json


def rule_file(tmp_path, name, hexbytes):
    p = tmp_path / (name + ".yar")
    spaced = " ".join(hexbytes[i:i + 2] for i in range(0, len(hexbytes), 2))
    p.write_text("rule %s {\n  strings:\n    $cmd = { %s }\n  condition:\n    $cmd\n}\n"
                 % (name, spaced))
    return p


def stack_of(lab_vm, pid):
    (s,) = [m for m in run_json("--vm", lab_vm.pid, "maps", str(pid)) if m["name"] == "[stack]"]
    return int(s["start"], 16), int(s["end"], 16)


def test_every_process_finds_its_command_line(lab_vm, tmp_path):
    procs = [p for p in run_json("--vm", lab_vm.pid, "ps") if p["comm"].startswith("zoo-sleep-")]
    assert len(procs) >= 5
    for p in procs[:3]:
        rules = rule_file(tmp_path, "cmd%d" % p["pid"], p["cmdline_hex"])
        got = run_json("--vm", lab_vm.pid, "yara", rules)
        mine = [m for m in got if m["pid"] == p["pid"]]
        assert mine, "pid %d's command line not found in its memory" % p["pid"]
        lo, hi = stack_of(lab_vm, p["pid"])
        assert any(lo <= int(m["address"], 16) < hi for m in mine)
        assert all(m["rule"] == "cmd%d" % p["pid"] and m["string"] == "$cmd" and
                   m["length"] == len(p["cmdline_hex"]) // 2 for m in got)
    # "zoo-sleep\0": in every zoo-sleep process.
    rules = rule_file(tmp_path, "sleepers", b"zoo-sleep\0".hex())
    found = {m["pid"] for m in run_json("--vm", lab_vm.pid, "yara", rules)}
    assert {p["pid"] for p in procs} <= found


def test_pid_selection_and_text_output(lab_vm, tmp_path):
    procs = [p for p in run_json("--vm", lab_vm.pid, "ps") if p["comm"].startswith("zoo-sleep-")]
    a, b = procs[0]["pid"], procs[1]["pid"]
    rules = rule_file(tmp_path, "sleepers", b"zoo-sleep\0".hex())
    got = run_json("--vm", lab_vm.pid, "yara", "-p", "%d,%d" % (a, b), rules)
    assert {m["pid"] for m in got} == {a, b}
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
    got = run_json("--vm", lab_vm.pid, "yara", "--kernel", rules)
    banner = int(run_json("--vm", lab_vm.pid, "sym", "linux_banner")[0]["address"], 16)
    assert any(m["rule"] == "banner" and m["kernel"] == "vmlinux" and
               int(m["address"], 16) == banner for m in got)
    mod = [m for m in got if m["rule"] == "crcmod" and m["kernel"] == "libcrc32c"]
    assert mod
    owners = {s.get("module") for s in run_json("--vm", lab_vm.pid, "sym",
                                                *[m["address"] for m in mod])}
    assert owners == {"libcrc32c"}
    assert all("pid" not in m for m in got)
    line = one_error_line(run("--vm", lab_vm.pid, "yara", "--kernel", "-p", "1", rules))
    assert "usage" in line
