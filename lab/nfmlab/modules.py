"""Kernel modules for the initramfs: find a module, its dependencies, load order.

Debian packages ship no modules.dep (depmod runs at install time), so dependencies come from each
module's own .modinfo section ("depends=a,b"). 6.12 modules are .ko.xz: decompressed here.
"""
import lzma
import os
import struct

from . import LabError


def _find_all(moddir):
    """Maps module name (with '_') to its file path under moddir/kernel."""
    found = {}
    for dirpath, _, files in os.walk(os.path.join(moddir, "kernel")):
        for f in files:
            for ext in (".ko", ".ko.xz"):
                if f.endswith(ext):
                    found[f[: -len(ext)].replace("-", "_")] = os.path.join(dirpath, f)
    return found


def _builtin(moddir):
    names = set()
    try:
        with open(os.path.join(moddir, "modules.builtin")) as f:
            for line in f:
                base = os.path.basename(line.strip())
                names.add(base.split(".ko")[0].replace("-", "_"))
    except OSError:
        pass
    return names


def read_module(path):
    """Returns the module's ELF bytes (decompressing .ko.xz)."""
    with open(path, "rb") as f:
        data = f.read()
    return lzma.decompress(data) if path.endswith(".xz") else data


def modinfo(elf):
    """Parses the .modinfo section of a module ELF into a dict of key -> value (last wins)."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        raise LabError("not a 64-bit ELF module")
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    secs = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    stroff = secs[shstrndx][4]
    info = {}
    for s in secs:
        end = elf.index(b"\0", stroff + s[0])
        if elf[stroff + s[0]:end] == b".modinfo":
            for item in elf[s[4]:s[4] + s[5]].split(b"\0"):
                k, sep, v = item.partition(b"=")
                if sep:
                    info[k.decode()] = v.decode(errors="replace")
    return info


def load_order(moddir, wanted):
    """Returns [(name, path, elf_bytes)] for `wanted` modules not built in, dependencies first."""
    found, builtin = _find_all(moddir), _builtin(moddir)
    order, seen = [], set()

    def visit(name):
        if name in seen or name in builtin:
            return
        seen.add(name)
        path = found.get(name)
        if path is None:
            raise LabError("module %s not found under %s" % (name, moddir))
        elf = read_module(path)
        for dep in filter(None, modinfo(elf).get("depends", "").split(",")):
            visit(dep.replace("-", "_"))
        order.append((name, path, elf))

    for w in wanted:
        visit(w)
    return order
