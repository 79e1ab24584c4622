"""nfm guest lab: boot Debian kernels under QEMU with a known workload and read the guest's own view.

Modules: paths (where things live), kernels (fetch Debian kernel packages), modules (kernel module
dependencies), cpio/initramfs (the guest image), qmp (QEMU Machine Protocol client), accel (KVM/TCG
choice), vm (start/stop/list/truth/dump), truth (parse a truth snapshot).
"""


class LabError(Exception):
    """A failure the CLI reports as one line on stderr (exit status 1)."""
