"""Where the lab keeps things: kernel cache (outside the repo) and per-VM runtime dirs."""
import os

LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUEST_DIR = os.path.join(LAB_DIR, "guest")


def cache_dir():
    """Kernel packages, built zoo binaries and initramfs images (${NFM_LAB_CACHE})."""
    return os.environ.get("NFM_LAB_CACHE") or "/var/cache/nfm-lab"


def run_root():
    """Parent of every VM's runtime dir (${NFM_LAB_RUN})."""
    return os.environ.get("NFM_LAB_RUN") or "/run/nfm-lab"


def run_dir(name):
    return os.path.join(run_root(), name)


def shm_path(name):
    return "/dev/shm/nfm-lab-" + name
