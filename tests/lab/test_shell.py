"""nfm shell (ls/cat from the guest's dentry and page caches, every command over one attach) and
nfm cpuinfo, against the guest's own files and /proc/cpuinfo."""
import json
import subprocess

from nfmcli import NFM, run, run_json, validate


def shell(vm, cmds, stdin=None):
    """Run `nfm shell -c CMDS` (or a script on stdin); stdout as bytes."""
    args = [NFM, "--vm", str(vm), "shell"] + (["-c", cmds] if cmds is not None else [])
    return subprocess.run(args, input=stdin, capture_output=True, timeout=300)


def test_shell_cat_exact_bytes(lab_vm):
    # UTF-8, tabs and newlines are text: escaped and raw output are both the file itself
    for cmd in ("cat /etc/nfm-lab.txt", "cat --raw /etc/nfm-lab.txt"):
        p = shell(lab_vm.name, cmd)
        assert p.returncode == 0, p.stderr
        assert p.stdout == lab_vm.truth.files["/etc/nfm-lab.txt"]
        assert p.stderr == b""


ESC_FILE = (b"title\x1b]0;owned\x07 clip\x1b]52;c;SGk=\x07 csi\xc2\x9b 2J "
            b"rlo\xe2\x80\xaex\n")   # lab/guest/init writes it


def test_shell_cat_escapes_terminal_attacks(lab_vm):
    """A file with a title and a clipboard escape, a C1 CSI and an RLO: escaped by default,
    exact with --raw into a pipe, exact in JSON (valid UTF-8), refused raw to a terminal."""
    p = shell(lab_vm.name, "cat /etc/nfm-lab-esc.txt")
    assert p.returncode == 0, p.stderr
    assert p.stdout == (b"title\\x1b]0;owned\\x07 clip\\x1b]52;c;SGk=\\x07 "
                        b"csi\\xc2\\x9b 2J rlo\\xe2\\x80\\xaex\n")
    assert shell(lab_vm.name, "cat --raw /etc/nfm-lab-esc.txt").stdout == ESC_FILE
    p = subprocess.run([NFM, "--vm", lab_vm.name, "-j", "shell", "-c",
                        "cat /etc/nfm-lab-esc.txt; cat /etc/nfm-lab.txt"],
                       capture_output=True, timeout=300)
    assert p.returncode == 0, p.stderr
    docs = [json.loads(x) for x in p.stdout.splitlines()]
    for d in docs:
        validate("shell.cat", d, "cat -j in the shell")
    assert [d["content"].encode() for d in docs] == [ESC_FILE,
                                                    lab_vm.truth.files["/etc/nfm-lab.txt"]]
    assert docs[0]["size_bytes"] == len(ESC_FILE) and docs[0]["complete"] is True
    # --raw to a terminal: refused (script(1) gives the shell a pty)
    p = subprocess.run(["script", "-qec", "%s --vm %s shell -c 'cat --raw /etc/nfm-lab-esc.txt'"
                        % (NFM, lab_vm.name), "/dev/null"], capture_output=True, timeout=300)
    assert b"\x1b]52" not in p.stdout and b"never to a terminal" in p.stdout


def test_shell_cat_tmpfs(lab_vm):
    p = shell(lab_vm.name, "cat /mnt/tmpfs/zoo-shared.bin")
    assert p.returncode == 0, p.stderr
    # the zoo wrote 's' through its MAP_SHARED mapping: the page cache has it
    assert p.stdout == b"s" + b"S" * ((1 << 20) - 1)
    p = shell(lab_vm.name, "cat mnt/tmpfs/zoo-private.bin")
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"P" * (256 << 10)


def ls_json(vm, path):
    """`ls -j PATH` in the shell: a shell.ls document (doc/schema/docs/shell.ls.json)."""
    p = shell(vm, "ls -j " + path)
    assert p.returncode == 0, p.stderr
    text = p.stdout.decode()
    validate("shell.ls", text, "ls -j " + path)
    doc = json.loads(text)
    assert doc["kind"] == "shell.ls" and doc["path"] == path and doc["complete"] is True
    return {e["name"]: e for e in doc["entries"]}


def test_shell_ls(lab_vm):
    names = ls_json(lab_vm.name, "/mnt/tmpfs")
    assert {"zoo-append.txt", "zoo-shared.bin", "zoo-private.bin"} <= set(names)
    assert "zoo-deleted.txt" not in names  # unlinked while open: not a directory entry
    shared = names["zoo-shared.bin"]
    assert shared["size_bytes"] == 1 << 20 and shared["type"] == "reg"
    assert shared["cached_bytes"] == shared["cached_pages"] * 4096 == 1 << 20
    etc = ls_json(lab_vm.name, "/etc")
    assert etc["nfm-lab.txt"]["size_bytes"] == len(lab_vm.truth.files["/etc/nfm-lab.txt"])
    root = shell(lab_vm.name, "ls /; ls /mnt/tmpfs/..").stdout.decode().split()
    assert "etc/" in root and "mnt/" in root and "tmpfs/" in root
    # ls -l: a table (libsmartcols) with a header, one row per entry, the name last.
    p = shell(lab_vm.name, "ls -l /mnt/tmpfs")
    assert p.returncode == 0, p.stderr
    head, *rows = p.stdout.decode().splitlines()
    assert head.split() == ["MODE", "INODE", "SIZE", "CACHED", "NAME"]
    long = {r.split()[-1]: r.split() for r in rows}
    assert long["zoo-shared.bin"][0].startswith("-") and \
        long["zoo-shared.bin"][2] == str(1 << 20)


def test_shell_dispatches_commands(lab_vm):
    p = shell(lab_vm.name, "uname -r; lsmod -p")
    assert p.returncode == 0, p.stderr
    first, rest = p.stdout.split(b"\n", 1)
    assert first == lab_vm.truth.uname["release"]
    assert rest.decode().splitlines() == \
        lab_vm.truth.files["/proc/modules"].decode().splitlines()
    # A command's -j is its own: the next command prints text again.
    p = shell(lab_vm.name, "lsmod -j; uname -r")
    assert p.returncode == 0, p.stderr
    doc, uname = p.stdout.decode().splitlines()
    validate("lsmod", doc, "lsmod -j in the shell")
    mods = {l.split()[0] for l in lab_vm.truth.files["/proc/modules"].decode().splitlines()}
    assert {m["name"] for m in json.loads(doc)["modules"]} == mods
    assert uname.encode() == lab_vm.truth.uname["release"]
    p = shell(lab_vm.name, None, stdin=b"uname -r\nexit\nuname -s\n")
    assert p.returncode == 0 and p.stdout.strip() == lab_vm.truth.uname["release"]


def test_shell_json_lines(lab_vm):
    """nfm -j shell -c 'A; B': one compact document per command, one per line (JSON Lines),
    each valid against its kind."""
    p = subprocess.run([NFM, "--vm", lab_vm.name, "-j", "shell", "-c",
                        "ps; lsmod; ls /etc; sym linux_banner"], capture_output=True, timeout=300)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.decode().splitlines()
    assert [json.loads(l)["kind"] for l in lines] == ["ps", "lsmod", "shell.ls", "sym"]
    validate("auto", p.stdout.decode(), "nfm -j shell -c")


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
    got = run_json("--vm", lab_vm.name, "cpuinfo", kind="cpuinfo")["cpus"]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert str(g["processor"]) == w["processor"]
        assert g["vendor_id"] == w["vendor_id"] and g["model_name"] == w["model name"]
        assert (g["cpu_family"], g["model"], g["stepping"]) == \
            (int(w["cpu family"]), int(w["model"]), int(w["stepping"]))
        assert hex(g["microcode"]) == w["microcode"]
        assert "%d KB" % (g["cache_size_bytes"] // 1024) == w["cache size"]
        assert (g["physical_id"], g["siblings"], g["core_id"], g["cpu_cores"]) == \
            (int(w["physical id"]), int(w["siblings"]), int(w["core id"]), int(w["cpu cores"]))
        assert (g["apicid"], g["initial_apicid"], g["cpuid_level"]) == \
            (int(w["apicid"]), int(w["initial apicid"]), int(w["cpuid level"]))
        assert g["flags"] == w["flags"].split()
        assert g["bugs"] == w["bugs"].split()
        assert abs(g["cpu_mhz"] - float(w["cpu MHz"])) <= 0.01 * float(w["cpu MHz"])
    # every line the text output prints is the guest's own line
    p = run("--vm", lab_vm.name, "cpuinfo")
    assert p.returncode == 0, p.stderr
    truth_lines = set(lab_vm.truth.files["/proc/cpuinfo"].decode().splitlines())
    assert set(p.stdout.splitlines()) - {""} <= truth_lines
