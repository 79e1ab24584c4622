"""Running the nfm binary from tests: NFM_BIN or build/cmd/nfm/nfm."""
import atexit
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NFM = os.environ.get("NFM_BIN", str(ROOT / "build" / "cmd" / "nfm" / "nfm"))


_foreign_nfm = None


def nfm_for_other_users():
    """nfm and libnfm copied into a directory anyone can enter: the checkout may sit in a 0700
    directory (mktemp -d), where another user could not even load the binary. Made once."""
    global _foreign_nfm
    if _foreign_nfm is None:
        d = Path(tempfile.mkdtemp(prefix="nfm-bin-"))
        d.chmod(0o755)
        (d / "lib").mkdir(mode=0o755)
        (d / "bin").mkdir(mode=0o755)
        shutil.copy2(NFM, d / "bin" / "nfm")
        # The build's RUNPATH is $ORIGIN/../..; LD_LIBRARY_PATH points at the copies instead.
        for lib in (Path(NFM).resolve().parents[2]).glob("libnfm.so*"):
            if lib.is_file():
                shutil.copy2(lib, d / "lib" / lib.name)
        for f in (d / "bin" / "nfm", *(d / "lib").iterdir()):
            f.chmod(0o755)
        atexit.register(shutil.rmtree, d, True)
        _foreign_nfm = d
    return _foreign_nfm


def run(*args, user=None, timeout=120):
    """Run nfm with args; returns CompletedProcess (stdout/stderr as text). With user, as that
    uid/gid (setpriv), from a copy of nfm that user can load."""
    cmd = [NFM, *map(str, args)]
    env = None
    if user:
        d = nfm_for_other_users()
        env = dict(os.environ, LD_LIBRARY_PATH=str(d / "lib"))
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups",
               str(d / "bin" / "nfm"), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          errors="surrogateescape", env=env)


VALIDATE = ROOT / "scripts" / "validate-json"
_validator = None


def validate(kind, doc, what="document"):
    """Validate doc (a parsed document, or JSON / JSON Lines text) against
    doc/schema/docs/<kind>.json with scripts/validate-json ("auto": each document's own kind);
    fails the test with the validator's complaints. The script is loaded into this process
    once: run as a program it costs ~0.6 s of start-up per document."""
    global _validator
    if _validator is None:
        import importlib.machinery
        import importlib.util
        loader = importlib.machinery.SourceFileLoader("nfm_validate_json", str(VALIDATE))
        spec = importlib.util.spec_from_loader(loader.name, loader)
        _validator = importlib.util.module_from_spec(spec)
        loader.exec_module(_validator)
    text = doc if isinstance(doc, str) else json.dumps(doc)
    status, lines = _validator.validate_text(kind, text)
    assert status == 0, f"{what}: not valid against {kind}:\n" + "\n".join(lines)


def run_json(*args, timeout=120, kind=None, ok=(0,)):
    """Run nfm -j with args and return the parsed document; fails the test on an exit status
    not in ok. With kind, the document must validate against doc/schema/docs/<kind>.json
    (kind="auto": against its own "kind")."""
    p = run("-j", *args, timeout=timeout)
    assert p.returncode in ok, f"nfm {' '.join(map(str, args))} failed: {p.stderr}"
    if kind:
        validate(kind, p.stdout, f"nfm -j {' '.join(map(str, args))}")
    return json.loads(p.stdout)


def one_error_line(p):
    """The single error line nfm printed, asserting exit status and shape."""
    assert p.returncode != 0, "expected a failure"
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected one error line, got: {p.stderr!r}"
    assert lines[0].startswith("nfm: ")
    assert "Traceback" not in p.stderr and "Sanitizer" not in p.stderr
    return lines[0]


def guest_bytes(obj, key):
    """The exact bytes of a guest string member (doc/schema/README.md): obj[key + "_hex"] when
    the text form is not exact, otherwise obj[key] as UTF-8; b"" when absent."""
    if key + "_hex" in obj:
        return bytes.fromhex(obj[key + "_hex"])
    return obj.get(key, "").encode("utf-8", "surrogatepass")
