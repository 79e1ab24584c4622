"""Every command's JSON, on a lab guest, validates against doc/schema (the one schema of
`nfm CMD -j`, `nfm crawl` and nfmd's API); live and on a dump of the same guest."""
import json

import pytest

from nfmcli import run, validate


RULES = 'rule banner { strings: $a = "Linux version" condition: $a }\n'

# (kind, arguments after the command name); the kind is the command's document kind.
COMMANDS = [
    ("info", ["info"]), ("uname", ["uname", "-a"]), ("sym", ["sym", "linux_banner"]),
    ("btf", ["btf"]),
    ("ps", ["ps"]), ("ps", ["ps", "-L"]), ("pstree", ["pstree"]), ("maps", ["maps", "1"]),
    ("lsof", ["lsof"]), ("env", ["env", "1"]), ("lsmod", ["lsmod"]), ("check", ["check"]),
    ("dmesg", ["dmesg"]), ("uptime", ["uptime"]), ("free", ["free"]), ("mount", ["mount"]),
    ("ip", ["ip", "addr"]), ("ip", ["ifconfig"]), ("ss", ["ss"]), ("ss", ["netstat"]),
    ("route", ["route"]), ("arp", ["arp"]), ("cpuinfo", ["cpuinfo"]),
]


def check_doc(kind, args, vm):
    p = run("--vm", vm, "-j", *args)
    # check exits 4 when it finds something; the document is the same
    assert p.returncode in ((0, 4) if kind == "check" else (0,)), \
        f"nfm {' '.join(args)}: exit {p.returncode}: {p.stderr}"
    doc = json.loads(p.stdout)
    assert doc["kind"] == kind and doc["schema_version"] == 1 and doc["complete"] is True
    assert "\n" not in p.stdout.rstrip("\n"), "JSON to a pipe is compact (one line)"
    validate(kind, p.stdout, f"nfm {' '.join(args)}")


@pytest.mark.parametrize("kind,args", COMMANDS, ids=[" ".join(a) for _, a in COMMANDS])
def test_command_json_validates(lab_vm, kind, args):
    check_doc(kind, args, lab_vm.pid)


def test_yara_json_validates(lab_vm, tmp_path):
    rules = tmp_path / "banner.yar"
    rules.write_text(RULES)
    check_doc("yara", ["yara", "--kernel", str(rules)], lab_vm.pid)


def test_list_json_validates(lab_vm):
    check_doc("list", ["list"], lab_vm.pid)


def test_crawl_frames_validate(lab_vm):
    p = run("--vm", lab_vm.pid, "crawl", "--interval", "0.2", "-n", "3", timeout=120)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 3 and all(json.loads(l)["kind"] == "crawl" for l in lines)
    validate("crawl", p.stdout, "nfm crawl")


def test_top_frames_validate(lab_vm):
    p = run("--vm", lab_vm.pid, "-j", "top", "-b", "-n", "2", "-d", "0.2", timeout=120)
    assert p.returncode == 0, p.stderr
    assert len(p.stdout.splitlines()) == 2
    validate("top", p.stdout, "nfm top -b -j")


def test_shell_json_lines_validate(lab_vm):
    p = run("--vm", lab_vm.pid, "-j", "shell", "-c", "ps; lsmod; ls /etc", timeout=120)
    assert p.returncode == 0, p.stderr
    kinds = [json.loads(l)["kind"] for l in p.stdout.splitlines()]
    assert kinds == ["ps", "lsmod", "shell.ls"], kinds
    validate("auto", p.stdout, "nfm -j shell -c")


def test_dump_json_validates(lab_vm, tmp_path):
    elf, _ = lab_vm.dump(tmp_path / "guest.elf")
    for kind, args in COMMANDS:
        check_doc(kind, args, elf)
