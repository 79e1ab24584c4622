"""Minimal newc cpio writer: lets the initramfs carry device nodes without root or fakeroot."""
import stat


class Writer:
    def __init__(self, f):
        self.f = f
        self.ino = 1

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        name_b = name.encode() + b"\0"
        fields = (self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0)
        self.ino += 1
        self.f.write(b"070701" + b"".join(b"%08x" % v for v in fields) + name_b)
        self.f.write(b"\0" * (-(110 + len(name_b)) % 4))
        self.f.write(data)
        self.f.write(b"\0" * (-len(data) % 4))

    def dir(self, name, perm=0o755):
        self._entry(name, stat.S_IFDIR | perm)

    def file(self, name, data, perm=0o644):
        self._entry(name, stat.S_IFREG | perm, data)

    def symlink(self, name, target):
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor, perm=0o600):
        self._entry(name, stat.S_IFCHR | perm, rdev=(major, minor))

    def close(self):
        self.ino = 0
        self._entry("TRAILER!!!", 0)
