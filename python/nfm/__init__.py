"""nfm: read a Linux guest's kernel state from outside the VM, from its memory.

A binding of libnfm (cffi, ABI mode) whose objects are the JSON objects of `nfm ... -j`, with the
same member names (doc/schema/): a process is a dict as process.json describes it, a module as
module.json, and so on.

    import nfm
    for vm in nfm.vms():                        # QEMU processes on this host (vm.json)
        with nfm.attach("pid:%d" % vm["pid"]) as g:
            print(vm["name"], g.kernel()["release"])
            for p in g.processes():             # process.json, as `nfm ps -j`
                print(p["pid"], p["comm"], p["rss_bytes"])

Errors are nfm.Error (an OSError: errno and the library's own words).
"""
import errno as _errno
import os as _os

import cffi as _cffi

from . import _cdef

__all__ = ["Error", "Guest", "attach", "vms", "version", "library_path"]

_ffi = _cffi.FFI()
_ffi.cdef(_cdef.CDEF)
_ffi.cdef("void free(void *);")
_libc = _ffi.dlopen(None)


def _load():
    tried = []
    for path in [_os.environ.get("NFM_LIBNFM")] + list(_cdef.LIBS) + ["libnfm.so.0"]:
        if not path or (path.startswith("/") and not _os.path.exists(path)):
            continue
        try:
            return _ffi.dlopen(path), path
        except OSError as e:
            tried.append("%s: %s" % (path, e))
    raise ImportError("cannot load libnfm (set NFM_LIBNFM to its path): " + "; ".join(tried))


_lib, library_path = _load()


class Error(OSError):
    """A libnfm call failed: errno (ENOENT "no Linux kernel found in guest memory", EFAULT,
    EIO, EBADMSG, ...) and the library's last error message when it logged one."""


def _check(ret, what, log=None):
    if ret < 0:
        msg = log.last if log is not None and log.last else _os.strerror(-ret)
        raise Error(-ret, "%s: %s" % (what, msg))
    return ret


class _Log:
    """The library's log callback: keeps the last error line for the exception's message."""

    def __init__(self):
        self.last = None

        @_ffi.callback("void(void *, enum nfm_log_level, const char *)")
        def fn(userdata, level, msg):
            if level <= _lib.NFM_LOG_ERR:
                self.last = _ffi.string(msg).decode("utf-8", "backslashreplace")

        self._fn = fn  # keep the callback alive as long as the log
        self.c = _ffi.new("struct nfm_log *", {"fn": fn, "max_level": _lib.NFM_LOG_ERR})


# ---- the JSON schema's conventions (doc/schema/README.md) ----

def _addr(v):
    return "0x%x" % v


def _text(b):
    """Guest bytes as the JSON writer gives them: the string when it is valid UTF-8, else one
    with each invalid byte as \\xNN (and the caller adds KEY_hex)."""
    try:
        return b.decode("utf-8"), True
    except UnicodeDecodeError:
        return b.decode("utf-8", "backslashreplace"), False


def _add_text(o, key, b):
    s, exact = _text(b)
    o[key] = s
    if not exact:
        o[key + "_hex"] = b.hex()


def _cstr(a):
    return _ffi.string(a)


_POLICIES = ["SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE",
             "SCHED_DEADLINE", "SCHED_EXT"]


def _process(t, page_size=4096):
    """doc/schema/process.json, member for member as cmd/common's obj_process()."""
    o = {"task": _addr(t.addr), "mm": _addr(t.mm), "pid": t.pid, "tgid": t.tgid, "ppid": t.ppid,
         "uid": t.uid, "euid": t.euid, "suid": t.suid, "fsuid": t.fsuid,
         "gid": t.gid, "egid": t.egid, "sgid": t.sgid, "fsgid": t.fsgid,
         "state": t.state.decode("latin-1")}
    _add_text(o, "comm", _cstr(t.name))
    _add_text(o, "task_comm", _cstr(t.comm))
    o.update({
        "kthread": bool(t.kthread), "flags": t.flags, "nice": t.nice, "priority": t.priority,
        "policy": _POLICIES[t.policy] if t.policy < len(_POLICIES) else "unknown",
        "policy_code": t.policy, "rt_priority": t.rt_priority, "num_threads": t.nr_threads,
        "start_time_ns": t.start_ns, "start_time_ticks": t.start_ticks,
        "utime_ns": t.utime_ns, "stime_ns": t.stime_ns,
        "utime_ticks": t.utime_ticks, "stime_ticks": t.stime_ticks,
        "vsize_bytes": t.vsize, "rss_pages": t.rss_pages, "rss_bytes": t.rss_pages * page_size,
        "rss_exact_bytes": t.rss_exact_pages * page_size,
        "rss_anon_bytes": t.rss_anon * page_size, "rss_file_bytes": t.rss_file * page_size,
        "rss_shmem_bytes": t.rss_shmem * page_size})
    return o


def version():
    """libnfm's version, e.g. "0.1.0"."""
    return _ffi.string(_lib.nfm_version()).decode()


def vms():
    """The QEMU processes on this host, as `nfm list -j` lists them (vm.json: pid, name,
    ram_bytes, qmp)."""
    n = 64
    while True:
        buf = _ffi.new("struct nfm_vm_info[]", n)
        got = _check(_lib.nfm_vm_list(buf, n), "listing QEMU processes")
        if got <= n:
            return [{"pid": v.pid, "name": _text(_cstr(v.name))[0], "ram_bytes": v.ram_size,
                     "qmp": _text(_cstr(v.qmp))[0]} for v in buf[0:got]]
        n = got


class Guest:
    """One guest kernel, attached to through a memory source spec ("pid:1234", "name:web1",
    "file:/x.elf"... as `nfm --vm`). Use as a context manager, or call close()."""

    def __init__(self, spec):
        self._log = _Log()
        src = _ffi.new("struct nfm_source **")
        ctx = _ffi.new("struct nfm_ctx **")
        self._src = self._ctx = None
        _check(_lib.nfm_source_open(spec.encode(), self._log.c, src), "opening %s" % spec,
               self._log)
        self._src = src[0]
        try:
            _check(_lib.nfm_ctx_new(self._src, _ffi.NULL, self._log.c, ctx),
                   "attaching to %s" % spec, self._log)
        except Error:
            _lib.nfm_source_free(self._src)
            self._src = None
            raise
        self._ctx = ctx[0]
        self.spec = spec

    def close(self):
        if self._ctx is not None:
            _lib.nfm_ctx_free(self._ctx)
            self._ctx = None
        if self._src is not None:
            _lib.nfm_source_free(self._src)
            self._src = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def _c(self):
        if self._ctx is None:
            raise Error(_errno.EINVAL, "this guest is closed")
        return self._ctx

    def refresh(self):
        """Read a live guest as it is now (drop what was cached), as every new crawl does."""
        _lib.nfm_ctx_refresh(self._c())

    def kernel(self):
        """kernel.json, as `nfm info -j`."""
        ki = _ffi.new("struct nfm_kernel_info *")
        _check(_lib.nfm_ctx_kernel_info(self._c(), ki), "kernel identity", self._log)
        o = {k: _text(_cstr(getattr(ki, k)))[0] for k in
             ("sysname", "nodename", "release", "version", "machine", "domainname", "banner")}
        o.update({
            "paging_levels": ki.paging_levels, "kaslr_offset": _addr(ki.kaslr_offset),
            "phys_base": ki.phys_base, "page_offset": _addr(ki.page_offset),
            "kernel_pgd": _addr(ki.kernel_pgd), "vmcoreinfo_pa": _addr(ki.vmcoreinfo_pa),
            "cpus_online": ki.nr_cpus_online, "cpus_possible": ki.nr_cpus_possible,
            "mem_total_bytes": ki.mem_total, "ram_bytes": ki.ram_size,
            "nr_symbols": ki.nr_symbols, "nr_btf_types": ki.nr_btf_types,
            "vmcoreinfo_from": _text(_cstr(ki.vmcoreinfo_how))[0],
            "symbols_from": _text(_cstr(ki.symbols_how))[0],
            "btf_from": _text(_cstr(ki.btf_how))[0],
            "attach_ns": round(ki.attach_ms * 1e6) if ki.attach_ms > 0 else 0})
        return o

    def uptime_ns(self):
        v = _ffi.new("uint64_t *")
        _check(_lib.nfm_ctx_uptime_ns(self._c(), v), "uptime", self._log)
        return v[0]

    def processes(self, threads=False):
        """Iterate over the guest's processes (threads=True: every thread) as process.json
        objects, in task-list order. A task that changed while read is skipped."""
        it = _ffi.new("struct nfm_task_iter **")
        _check(_lib.nfm_task_iter_new(self._c(), _lib.NFM_TASK_THREADS if threads else 0, it),
               "task list", self._log)
        it = _ffi.gc(it[0], _lib.nfm_task_iter_free)
        t = _ffi.new("struct nfm_task *")
        while True:
            ret = _check(_lib.nfm_task_iter_next(it, t), "task list", self._log)
            if ret == 0:
                return
            yield _process(t)

    def modules(self):
        """The loaded modules as module.json objects (`nfm lsmod -j`)."""
        mods = _ffi.new("struct nfm_module **")
        trunc = _ffi.new("bool *")
        n = _check(_lib.nfm_module_list(self._c(), mods, trunc), "module list", self._log)
        arr = _ffi.gc(mods[0], _libc.free) if n else None
        out = []
        for i in range(n):
            m = arr[i]
            users = _cstr(m.users).decode("utf-8", "backslashreplace") if m.users else "-"
            out.append({"name": _text(_cstr(m.name))[0], "size_bytes": m.size,
                        "refcount": m.refcount,
                        "users": [] if users == "-" else [u for u in users.split(",") if u],
                        "state": _cstr(m.state).decode() if m.state else "",
                        "taints": _cstr(m.taints).decode("utf-8", "backslashreplace"),
                        "address": _addr(m.address), "module": _addr(m.module)})
        return out

    def mounts(self):
        """PID 1's mounts as mount.json objects (`nfm mount -j`; /proc/mounts escapes kept)."""
        mnts = _ffi.new("struct nfm_mount **")
        trunc = _ffi.new("bool *")
        n = _check(_lib.nfm_mount_list(self._c(), mnts, trunc), "mount list", self._log)
        arr = _ffi.gc(mnts[0], _libc.free) if n else None

        def s(p):
            return _text(_cstr(p))[0] if p else ""
        return [{"device": s(m.device), "path": s(m.path), "fstype": s(m.fstype),
                 "options": s(m.options), "options_complete": bool(m.options_complete),
                 "mnt_id": m.mnt_id, "mount": _addr(m.mount)} for m in arr[0:n]] if n else []

    def loadavg(self):
        """loadavg.json, as `nfm uptime -j`'s loadavg."""
        la = _ffi.new("struct nfm_loadavg *")
        _check(_lib.nfm_loadavg(self._c(), la), "loadavg", self._log)
        return {"load1": round(la.load[0], 2), "load5": round(la.load[1], 2),
                "load15": round(la.load[2], 2), "avenrun": list(la.avenrun),
                "running": la.running, "threads": la.threads, "last_pid": la.last_pid,
                "text": _text(_cstr(la.text))[0]}

    def memory(self):
        """memory.json, as `nfm free -j` (bytes)."""
        mi = _ffi.new("struct nfm_meminfo *")
        _check(_lib.nfm_meminfo(self._c(), mi), "meminfo", self._log)
        keys = {"mem_total": "mem_total_bytes", "mem_free": "mem_free_bytes",
                "mem_available": "mem_available_bytes", "buffers": "buffers_bytes",
                "cached": "cached_bytes", "swap_cached": "swap_cached_bytes",
                "swap_total": "swap_total_bytes", "swap_free": "swap_free_bytes",
                "shmem": "shmem_bytes", "slab_reclaimable": "slab_reclaimable_bytes",
                "slab_unreclaimable": "slab_unreclaimable_bytes"}
        return {v: getattr(mi, k) * 1024 for k, v in keys.items()}


def attach(spec):
    """Attach to the guest kernel of spec ("pid:1234", "name:web1", "file:dump.elf"): a Guest."""
    return Guest(spec)
