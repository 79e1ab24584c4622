"""nfm shell (ls/cat from the guest's dentry and page caches, every command over one attach) and
nfm cpuinfo, against the guest's own files and /proc/cpuinfo."""
import json
import subprocess

from nfmcli import NFM, run, run_json


def shell(vm, cmds, stdin=None):
    """Run `nfm shell -c CMDS` (or a script on stdin); stdout as bytes."""
    args = [NFM, "--vm", str(vm), "shell"] + (["-c", cmds] if cmds is not None else [])
    return subprocess.run(args, input=stdin, capture_output=True, timeout=300)


def test_shell_cat_exact_bytes(lab_vm):
    p = shell(lab_vm.name, "cat /etc/nfm-lab.txt")
    assert p.returncode == 0, p.stderr
    assert p.stdout == lab_vm.truth.files["/etc/nfm-lab.txt"]
    assert p.stderr == b""


def test_shell_cat_tmpfs(lab_vm):
    p = shell(lab_vm.name, "cat /mnt/tmpfs/zoo-shared.bin")
    assert p.returncode == 0, p.stderr
    # the zoo wrote 's' through its MAP_SHARED mapping: the page cache has it
    assert p.stdout == b"s" + b"S" * ((1 << 20) - 1)
    p = shell(lab_vm.name, "cat mnt/tmpfs/zoo-private.bin")
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"P" * (256 << 10)


def test_shell_ls(lab_vm):
    p = shell(lab_vm.name, "ls -j /mnt/tmpfs")
    assert p.returncode == 0, p.stderr
    names = {e["name"]: e for e in json.loads(p.stdout)}
    assert {"zoo-append.txt", "zoo-shared.bin", "zoo-private.bin"} <= set(names)
    assert "zoo-deleted.txt" not in names  # unlinked while open: not a directory entry
    assert names["zoo-shared.bin"]["size"] == 1 << 20
    etc = {e["name"]: e for e in json.loads(shell(lab_vm.name, "ls -j /etc").stdout)}
    assert etc["nfm-lab.txt"]["size"] == len(lab_vm.truth.files["/etc/nfm-lab.txt"])
    root = shell(lab_vm.name, "ls /; ls /mnt/tmpfs/..").stdout.decode().split()
    assert "etc/" in root and "mnt/" in root and "tmpfs/" in root


def test_shell_dispatches_commands(lab_vm):
    p = shell(lab_vm.name, "uname -r; lsmod -p -j")
    assert p.returncode == 0, p.stderr
    first, rest = p.stdout.split(b"\n", 1)
    assert first == lab_vm.truth.uname["release"]
    assert [m["line"] for m in json.loads(rest)] == \
        lab_vm.truth.files["/proc/modules"].decode().splitlines()
    p = shell(lab_vm.name, None, stdin=b"uname -r\nexit\nuname -s\n")
    assert p.returncode == 0 and p.stdout.strip() == lab_vm.truth.uname["release"]


def test_shell_bad_input(lab_vm):
    p = shell(lab_vm.name, "nosuchcmd; uname -r; cat /no/such/file")
    assert p.returncode != 0
    assert p.stdout.strip() == lab_vm.truth.uname["release"]  # the shell went on
    err = p.stderr.decode().splitlines()
    assert len(err) == 2 and all(l.startswith("nfm: ") for l in err), err
    assert "nosuchcmd" in err[0] and "dentry cache" in err[1]
    p = shell(lab_vm.name, "cat '/etc")
    assert p.returncode != 0 and len(p.stderr.decode().splitlines()) == 1


def test_shell_dump(lab_vm, tmp_path):
    elf, t = lab_vm.dump(tmp_path / "guest.elf")
    p = shell(elf, "cat /etc/nfm-lab.txt; ls /mnt/tmpfs")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(t.files["/etc/nfm-lab.txt"])
    assert b"zoo-shared.bin" in p.stdout


def _cpuinfo(t):
    cpus = []
    for block in t.files["/proc/cpuinfo"].decode().strip().split("\n\n"):
        d = {}
        for line in block.splitlines():
            k, _, v = line.partition(":")
            d[k.strip()] = v.strip()
        cpus.append(d)
    return cpus


def test_cpuinfo(lab_vm):
    want = _cpuinfo(lab_vm.truth)
    got = run_json("--vm", lab_vm.name, "cpuinfo")
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert str(g["processor"]) == w["processor"]
        assert g["vendor_id"] == w["vendor_id"] and g["model_name"] == w["model name"]
        assert (g["cpu_family"], g["model"], g["stepping"]) == \
            (int(w["cpu family"]), int(w["model"]), int(w["stepping"]))
        assert hex(g["microcode"]) == w["microcode"]
        assert "%d KB" % g["cache_size_kb"] == w["cache size"]
        assert (g["physical_id"], g["siblings"], g["core_id"], g["cpu_cores"]) == \
            (int(w["physical id"]), int(w["siblings"]), int(w["core id"]), int(w["cpu cores"]))
        assert (g["apicid"], g["initial_apicid"], g["cpuid_level"]) == \
            (int(w["apicid"]), int(w["initial apicid"]), int(w["cpuid level"]))
        assert g["flags"] == w["flags"]
        assert g["bugs"] == w["bugs"]
        assert abs(g["cpu_mhz"] - float(w["cpu MHz"])) <= 0.01 * float(w["cpu MHz"])
    # every line the text output prints is the guest's own line
    p = run("--vm", lab_vm.name, "cpuinfo")
    assert p.returncode == 0, p.stderr
    truth_lines = set(lab_vm.truth.files["/proc/cpuinfo"].decode().splitlines())
    assert set(p.stdout.splitlines()) - {""} <= truth_lines
