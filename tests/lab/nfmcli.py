"""Running the nfm binary from tests: NFM_BIN or build/cmd/nfm/nfm."""
import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NFM = os.environ.get("NFM_BIN", str(ROOT / "build" / "cmd" / "nfm" / "nfm"))


def run(*args, user=None, timeout=120):
    """Run nfm with args; returns CompletedProcess (stdout/stderr as text)."""
    cmd = [NFM, *map(str, args)]
    if user:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          errors="surrogateescape")


def run_json(*args, timeout=120):
    """Run nfm -j with args and return the parsed JSON; fails the test on a non-zero exit."""
    p = run("-j", *args, timeout=timeout)
    assert p.returncode == 0, f"nfm {' '.join(map(str, args))} failed: {p.stderr}"
    return json.loads(p.stdout)


def one_error_line(p):
    """The single error line nfm printed, asserting exit status and shape."""
    assert p.returncode != 0, "expected a failure"
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected one error line, got: {p.stderr!r}"
    assert lines[0].startswith("nfm: ")
    assert "Traceback" not in p.stderr and "Sanitizer" not in p.stderr
    return lines[0]
