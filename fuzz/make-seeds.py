#!/usr/bin/env python3
"""Seed corpora for the walk fuzz targets, carved from a lab guest's ELF dump.

    fuzz/make-seeds.py DUMP [NFM]      (DUMP: lab/nfm-lab dump NAME PATH; NFM: the nfm binary)

Each seed is what the target reads (fuzz/walk/guest.h: guest-physical memory from 0, at most
64 KiB, the root in its first 8 bytes, direct map at 0xffff888000000000): the real objects of
the guest, relocated into that window with their pointers rewritten, so the fuzzer starts from
the shapes a kernel makes. Writes fuzz/walk/corpus/{list,maple,xarray}/ and
fuzz/log/corpus/printk/ (each file <= 64 KiB).
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "hostile"))
from guest import Dump, nfm_json  # noqa: E402

PO = 0xffff888000000000
MEM = 64 << 10


def save(group, target, name, data):
    assert len(data) <= MEM
    d = os.path.join(HERE, group, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def list_seed(d):
    """The task ring (init_task.tasks), its nodes 16 bytes apart from 0x10."""
    head = d.sym("init_task") + d.o("task_struct", "tasks")
    n, p = 0, d.u64(head)
    while p != head and n < 2000:
        n, p = n + 1, d.u64(p)
    n = min(n, (MEM - 32) // 16)
    mem = bytearray(16 + 16 * (n + 1))
    hv = PO + 16                          # the head's new place
    struct.pack_into("<Q", mem, 0, hv)
    nodes = [hv + 16 * (i + 1) for i in range(n)]
    ring = [hv] + nodes
    for i, a in enumerate(ring):
        struct.pack_into("<QQ", mem, a - PO, ring[(i + 1) % len(ring)], ring[i - 1])
    return bytes(mem)


def maple_seed(d, mm):
    """A process's VMA tree: nodes (256 bytes) copied to 0x100, 0x200, ... children rewritten."""
    root = d.u64(mm + d.o("mm_struct", "mm_mt") + d.o("maple_tree", "ma_root"))
    mem = bytearray(MEM)
    where = {}

    def copy(e):
        node, typ = e & ~0xff, (e >> 3) & 0xf
        if node in where:
            return where[node] | (e & 0xff)
        new = 0x100 * (len(where) + 1)
        if new + 256 > MEM:
            raise OverflowError
        where[node] = PO + new
        b = bytearray(d.read(node, 256))
        if typ in (2, 3):                  # internal: every slot a child node
            nslots, slot0 = (16, 16) if typ == 2 else (10, 10)
            for i in range(nslots):
                s, = struct.unpack_from("<Q", b, 8 * (slot0 + i))
                if s and (s & 3) == 2 and s > 4096 and s & ~0xff != 0:
                    struct.pack_into("<Q", b, 8 * (slot0 + i), copy(s))
        mem[new:new + 256] = b
        return where[node] | (e & 0xff)

    struct.pack_into("<Q", mem, 0, copy(root))
    return bytes(mem[:0x100 * (len(where) + 1)])


def xarray_seed(d):
    """init_pid_ns's IDR (an xarray of struct pid): nodes (576 bytes) copied from 0x40."""
    head = d.u64(d.sym("init_pid_ns") + d.o("pid_namespace", "idr") + d.o("idr", "idr_rt") +
                 d.o("xarray", "xa_head"))
    mem = bytearray(MEM)
    placed = []

    def copy(e):
        node = e - 2
        new = 0x40 + 576 * len(placed)
        if new + 576 > MEM:
            raise OverflowError
        placed.append(node)
        b = bytearray(d.read(node, 576))
        for i in range(64):
            s, = struct.unpack_from("<Q", b, 40 + 8 * i)
            if (s & 3) == 2 and s > 4096 and b[0]:
                struct.pack_into("<Q", b, 40 + 8 * i, copy(s))
        mem[new:new + 576] = b
        return PO + new + 2

    struct.pack_into("<Q", mem, 0, copy(head) if (head & 3) == 2 and head > 4096 else head)
    return bytes(mem[:0x40 + 576 * len(placed)])


def printk_seed(d, count_bits=7, size_bits=12):
    """The last 2^count_bits records of the ring, in the target's format (fuzz_printk.c), their
    texts repacked into a 2^size_bits text ring."""
    prb = d.u64(d.sym("prb"))
    dr = prb + d.o("printk_ringbuffer", "desc_ring")
    cb = d.u32(dr + d.o("prb_desc_ring", "count_bits"))
    head = d.u64(dr + d.o("prb_desc_ring", "head_id"))
    descs = d.u64(dr + d.o("prb_desc_ring", "descs"))
    infos = d.u64(dr + d.o("prb_desc_ring", "infos"))
    tr = prb + d.o("printk_ringbuffer", "text_data_ring")
    sb = d.u32(tr + d.o("prb_data_ring", "size_bits"))
    text = d.u64(tr + d.o("prb_data_ring", "data"))
    dsz, isz = d.btf.size("prb_desc"), d.btf.size("printk_info")
    assert (dsz, isz) == (24, 88), "the target's layout is 6.1's"
    n, size = 1 << count_bits, 1 << size_bits
    mask = (1 << 62) - 1
    od, oi, ot = bytearray(n * 24), bytearray(n * 88), bytearray(size)
    pos = 0
    tail = head
    for k in range(n - 1, -1, -1):
        i = (head - k) & mask
        big = i & ((1 << cb) - 1)
        sv, begin, nxt = struct.unpack("<QQQ", d.read(descs + 24 * big, 24))
        info = bytearray(d.read(infos + 88 * big, 88))
        tlen, = struct.unpack_from("<H", info, 16)
        if (sv & mask) != i or begin & 1 or tlen + 16 > size // 4:
            continue
        blk = (8 + tlen + 7) & ~7
        if (pos & (size - 1)) + blk > size:
            pos = (pos | (size - 1)) + 1
        off = pos & (size - 1)
        ot[off:off + 8] = struct.pack("<Q", i)
        ot[off + 8:off + 8 + tlen] = d.read(text + ((begin & ((1 << sb) - 1)) + 8), tlen)
        small = i & (n - 1)
        struct.pack_into("<QQQ", od, 24 * small, sv, pos, pos + blk)
        oi[88 * small:88 * small + 88] = info
        pos += blk
        if tail == head:
            tail = i
    hdr = bytes([count_bits, size_bits - 4]) + struct.pack("<QQ", head, tail)
    return hdr + bytes(od) + bytes(oi) + bytes(ot)


def main():
    dump = sys.argv[1]
    nfm = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "build", "cmd", "nfm", "nfm")
    d = Dump(dump, nfm)
    try:
        save("walk", "list", "task-ring", list_seed(d))
        procs = nfm_json(nfm, dump, "ps")["processes"]
        saved = 0
        for p in procs:
            if not p.get("mm") or saved >= 4:
                continue
            try:
                save("walk", "maple", "mm-pid%d" % p["pid"], maple_seed(d, int(p["mm"], 16)))
                saved += 1
            except (OverflowError, AssertionError):
                pass
        save("walk", "xarray", "pid-idr", xarray_seed(d))
        save("log", "printk", "ring-last-128", printk_seed(d))
    finally:
        d.close()


if __name__ == "__main__":
    main()
