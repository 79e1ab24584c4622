"""The PT_LOAD segments of an ELF guest dump (QEMU dump-guest-memory): guest RAM in the file."""
import struct

PT_LOAD = 1


def load_segments(path):
    """[(paddr, file offset, size)] of every PT_LOAD segment, in file order."""
    with open(path, "rb") as f:
        head = f.read(64)
        phoff, = struct.unpack_from("<Q", head, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    segs = []
    for i in range(phnum):
        p_type, _, off, _, paddr, filesz = struct.unpack_from("<IIQQQQ", table, i * phentsize)
        if p_type == PT_LOAD:
            segs.append((paddr, off, filesz))
    return segs
