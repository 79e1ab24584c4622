#!/usr/bin/env python3
"""Seeds for fuzz-source-migration: small QEMU migration streams in QEMU 7.2's layout (see
lib/source/migration.c). Writes fuzz/source/corpus/migration/."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def s8(s):
    return bytes([len(s)]) + s.encode()


def stream(machine, blocks, parts, subsections=b"", tail=b""):
    """blocks: [(name, size)]; parts: [[(block or None, addr, fill or bytes)]]."""
    out = b"QEVM" + struct.pack(">I", 3)
    out += b"\x07" + struct.pack(">I", len(machine)) + machine.encode() + subsections
    out += b"\x01" + struct.pack(">I", 2) + s8("ram") + struct.pack(">II", 0, 4)
    out += struct.pack(">Q", sum(n for _, n in blocks) | 0x04)
    for name, size in blocks:
        out += s8(name) + struct.pack(">Q", size)
    out += struct.pack(">Q", 0x10) + b"\x7e" + struct.pack(">I", 2)
    for i, part in enumerate(parts):
        out += (b"\x03" if i == len(parts) - 1 else b"\x02") + struct.pack(">I", 2)
        for block, addr, fill in part:
            page = isinstance(fill, bytes)
            out += struct.pack(">Q", addr | (0x08 if page else 0x02) | (0 if block else 0x20))
            out += s8(block) if block else b""
            out += fill if page else bytes([fill])
        out += struct.pack(">Q", 0x10) + b"\x7e" + struct.pack(">I", 2)
    return out + b"\x04" + struct.pack(">I", 3) + s8("cpu") + struct.pack(">II", 0, 1) + tail


def main():
    d = os.path.join(HERE, "corpus", "migration")
    os.makedirs(d, exist_ok=True)
    pg = bytes(range(256)) * 16
    seeds = {
        "i440fx-two-parts": stream("pc-i440fx-7.2", [("pc.ram", 0x3000), ("pc.bios", 0x1000)],
                                   [[("pc.ram", 0, pg), (None, 0x1000, 0), ("pc.bios", 0, 0),
                                     ("pc.ram", 0x2000, 0)], [(None, 0, pg)]]),
        "q35-subsections": stream(
            "pc-q35-7.2", [("pc.ram", 0x2000)], [[("pc.ram", 0, 0), (None, 0x1000, pg)]],
            subsections=b"\x05" + s8("configuration/target-page-bits") + struct.pack(">II", 1, 12)
            + b"\x05" + s8("configuration/capabilities") + struct.pack(">II", 1, 1)
            + s8("x-ignore-shared")
            + b"\x05" + s8("configuration/uuid") + struct.pack(">I", 1) + bytes(16)),
        "virt-zero-pages": stream("virt-7.2", [("mach-virt.ram", 0x4000)],
                                  [[("mach-virt.ram", a, 0) for a in range(0, 0x4000, 0x1000)]]),
    }
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
