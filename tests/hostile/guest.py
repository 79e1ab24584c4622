"""A guest dump to mutate: kernel objects found through nfm itself, their members' offsets from
the guest's own BTF (a small reader of the format below), and patches of the dump file that can
be undone.

Kernel objects (task_struct, sock, mm_struct, fdtable, maple nodes...) live in the direct map:
pa = va - page_offset (nfm info -j); globals live in the kernel image: pa = va -
__START_KERNEL_map + phys_base. The ELF program headers map pa to a file offset.
"""
import json
import mmap
import os
import struct
import subprocess

KIMAGE = 0xffffffff80000000
PT_LOAD = 1


def nfm_json(nfm, dump, *args, timeout=120):
    p = subprocess.run([nfm, "--vm", dump, *args, "-j"], capture_output=True, text=True,
                       timeout=timeout)
    assert p.returncode == 0, (args, p.returncode, p.stderr)
    return json.loads(p.stdout)


class BTF:
    """Struct member offsets from a raw BTF blob (include/uapi/linux/btf.h)."""
    # extra bytes after the 12-byte btf_type, fixed and per vlen entry, by kind
    FIXED = {1: 4, 3: 12, 14: 4, 17: 4}
    PER_VLEN = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}

    def __init__(self, blob):
        magic, _ver, _flags, hdr_len, type_off, type_len, str_off, str_len = \
            struct.unpack_from("<HBBIIIII", blob, 0)
        assert magic == 0xeb9f
        self.strs = blob[hdr_len + str_off:hdr_len + str_off + str_len]
        self.types = [None]
        self.by_name = {}
        pos, end = hdr_len + type_off, hdr_len + type_off + type_len
        while pos < end:
            name_off, info, size = struct.unpack_from("<III", blob, pos)
            kind, vlen, kflag = (info >> 24) & 0x1f, info & 0xffff, info >> 31
            pos += 12
            members = []
            if kind in (4, 5):
                for i in range(vlen):
                    mn, mt, moff = struct.unpack_from("<III", blob, pos + 12 * i)
                    members.append((self.name(mn), mt, (moff & 0xffffff) if kflag else moff))
            t = {"kind": kind, "name": self.name(name_off), "size": size, "members": members}
            if kind == 3:
                t["elem"], _, t["nelems"] = struct.unpack_from("<III", blob, pos)
            self.types.append(t)
            if kind in (4, 5) and t["name"]:
                self.by_name.setdefault(t["name"], len(self.types) - 1)
            pos += self.FIXED.get(kind, 0) + self.PER_VLEN.get(kind, 0) * vlen

    def name(self, off):
        return self.strs[off:self.strs.index(b"\0", off)].decode()

    def resolve(self, tid):
        while self.types[tid]["kind"] in (8, 9, 10, 11, 18):  # typedef, volatile, const, ...
            tid = self.types[tid]["size"]
        return tid

    def _find(self, tid, name):
        for mname, mt, moff in self.types[tid]["members"]:
            if mname == name:
                return mt, moff // 8
            if not mname:
                inner = self.resolve(mt)
                if self.types[inner]["kind"] in (4, 5):
                    got = self._find(inner, name)
                    if got:
                        return got[0], got[1] + moff // 8
        return None

    def offset(self, struct_name, path):
        tid, off = self.by_name[struct_name], 0
        for part in path.split("."):
            got = self._find(self.resolve(tid), part)
            assert got, "%s has no member %s" % (struct_name, path)
            tid, o = got
            off += o
        return off

    def size(self, struct_name):
        return self.types[self.by_name[struct_name]]["size"]


class Dump:
    """An ELF dump opened for patching; every patch is remembered and undone by restore()."""

    def __init__(self, path, nfm):
        self.path, self.nfm = path, nfm
        self.info = nfm_json(nfm, path, "info")["kernel"]
        self.page_offset = int(self.info["page_offset"], 16)
        self.phys_base = self.info["phys_base"]
        btf_file = path + ".btf"
        if not os.path.exists(btf_file):
            subprocess.run([nfm, "--vm", path, "btf", "-o", btf_file], check=True,
                           capture_output=True, timeout=120)
        with open(btf_file, "rb") as f:
            self.btf = BTF(f.read())
        self.f = open(path, "r+b")
        self.mm = mmap.mmap(self.f.fileno(), 0)
        phoff, = struct.unpack_from("<Q", self.mm, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", self.mm, 0x36)
        self.segs = []
        for i in range(phnum):
            p_type, _, off, _, paddr, filesz = struct.unpack_from("<IIQQQQ", self.mm,
                                                                  phoff + i * phentsize)
            if p_type == PT_LOAD:
                self.segs.append((paddr, off, filesz))
        self.undo = []
        self._syms = {}

    def close(self):
        self.restore()
        self.mm.close()
        self.f.close()

    # addresses
    def pa(self, va):
        if va >= KIMAGE:
            return va - KIMAGE + self.phys_base
        assert va >= self.page_offset, hex(va)
        return va - self.page_offset

    def va(self, pa):
        return pa + self.page_offset

    def off(self, va):
        pa = self.pa(va)
        for paddr, off, size in self.segs:
            if paddr <= pa < paddr + size:
                return off + pa - paddr
        raise AssertionError("va %#x (pa %#x) not in the dump" % (va, pa))

    def sym(self, name):
        if name not in self._syms:
            d = nfm_json(self.nfm, self.path, "sym", name)
            self._syms[name] = int(d["symbols"][0]["address"], 16)
        return self._syms[name]

    def o(self, struct_name, path):
        return self.btf.offset(struct_name, path)

    # memory
    def read(self, va, n):
        off = self.off(va)
        return bytes(self.mm[off:off + n])

    def u64(self, va):
        return struct.unpack("<Q", self.read(va, 8))[0]

    def u32(self, va):
        return struct.unpack("<I", self.read(va, 4))[0]

    def write(self, va, data):
        off = self.off(va)
        self.undo.append((off, bytes(self.mm[off:off + len(data)])))
        self.mm[off:off + len(data)] = data

    def w64(self, va, v):
        self.write(va, struct.pack("<Q", v & (2**64 - 1)))

    def w32(self, va, v):
        self.write(va, struct.pack("<I", v & 0xffffffff))

    def restore(self):
        for off, old in reversed(self.undo):
            self.mm[off:off + len(old)] = old
        self.undo = []
        self.mm.flush()

    def zero_run(self, want):
        """The guest-physical start of the longest run of zero pages (up to want bytes) in one
        PT_LOAD segment: room for forged objects. Returns (pa, length)."""
        zero = bytes(4096)
        best = (0, 0)
        for paddr, off, size in self.segs:
            start = None
            for p in range(0, size - 4096 + 1, 4096):
                if self.mm[off + p:off + p + 4096] == zero:
                    if start is None:
                        start = p
                    if p + 4096 - start > best[1]:
                        best = (paddr + start, p + 4096 - start)
                        if best[1] >= want:
                            return best[0], want
                else:
                    start = None
        return best
