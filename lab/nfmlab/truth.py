"""Parse a truth snapshot (lab/TRUTH-FORMAT.md) into plain Python data.

    t = truth.load("/run/nfm-lab/vm/truth-0.txt")
    p = t.processes[1]             # Process: .pid .stat .status .comm .cmdline .environ .maps ...
    p.argv                          # [b"/init"]: cmdline split on NUL
    p.threads[1].comm               # Thread: .tid .stat .comm .status
    t.files["/proc/modules"]        # raw bytes of a system file
    t.commands["ip addr"]           # raw output of a busybox command
    t.kmsg[0]                       # KmsgRecord(seq, ts_usec, prio, text, dict)
    t.kallsyms["init_task"]         # Symbol(addr, type, name, module, line)
    t.roles["utf8"]                 # Role(name, pid, comm, cmdline, environ, threads, expect)

All names and contents are bytes, exactly as the guest read them; numbers are ints.
"""
import collections

KmsgRecord = collections.namedtuple("KmsgRecord", "seq ts_usec prio text dict")
Symbol = collections.namedtuple("Symbol", "addr type name module line")

# /proc/PID/stat fields after "pid (comm)", in order (man 5 proc); later ones may be absent.
STAT_FIELDS = (
    "state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime "
    "cutime cstime priority nice num_threads itrealvalue starttime vsize rss rsslim startcode "
    "endcode startstack kstkesp kstkeip signal blocked sigignore sigcatch wchan nswap cnswap "
    "exit_signal processor rt_priority policy delayacct_blkio_ticks guest_time cguest_time "
    "start_data end_data start_brk arg_start arg_end env_start env_end exit_code").split()


class TruthError(ValueError):
    """The file is not a complete, well-formed truth snapshot."""


def _hex(s):
    return b"" if s == "-" else bytes.fromhex(s)


def parse_stat(raw):
    """Parses /proc/PID/stat bytes into a dict: pid, comm (bytes, from between the first "("
    and the LAST ")", since comm may contain ")" and spaces), state (str), numbers as int."""
    lp, rp = raw.index(b"("), raw.rindex(b")")
    out = {"pid": int(raw[:lp]), "comm": raw[lp + 1:rp]}
    for name, val in zip(STAT_FIELDS, raw[rp + 2:].split()):
        out[name] = val.decode() if name == "state" else int(val)
    return out


def parse_status(raw):
    """Parses /proc/PID/status into {key: value bytes} (value stripped of surrounding space)."""
    out = {}
    for line in raw.split(b"\n"):
        k, sep, v = line.partition(b":")
        if sep:
            out[k.decode()] = v.strip()
    return out


class Thread:
    def __init__(self, tid):
        self.tid = tid
        self.files = {}

    stat = property(lambda self: parse_stat(self.files["stat"]) if "stat" in self.files else None)
    status = property(lambda self: parse_status(self.files.get("status", b"")))
    comm = property(lambda self: self.files.get("comm", b"").rstrip(b"\n"),
                    doc="Thread name without the trailing newline.")

    @property
    def stack(self):
        """/proc/PID/task/TID/stack as a list of frames without the "[<0>] " prefix (str), or
        None when it was not collected (an older guest image, or the read failed)."""
        raw = self.files.get("stack")
        if raw is None:
            return None
        return [l[6:] if l.startswith("[<0>] ") else l
                for l in raw.decode("utf-8", "surrogateescape").splitlines()]

    wchan = property(lambda self: (self.files["wchan"].decode("utf-8", "surrogateescape")
                                   if "wchan" in self.files else None),
                     doc="/proc/PID/task/TID/wchan (a symbol name or \"0\"), or None.")


class Process:
    """One /proc/PID: .files (name -> raw bytes: stat status comm cmdline environ maps statm io),
    .errors (name -> errno of a failed read), .fds (fd -> link target bytes), .fdinfo (fd ->
    raw bytes), .threads (tid -> Thread)."""

    def __init__(self, pid):
        self.pid = pid
        self.files, self.errors, self.fds, self.fdinfo, self.threads = {}, {}, {}, {}, {}
        self.stat_read_ns = None  # guest CLOCK_BOOTTIME right after stat was read

    stat = property(lambda self: parse_stat(self.files["stat"]) if "stat" in self.files else None,
                    doc="Parsed /proc/PID/stat (dict) or None.")
    status = property(lambda self: parse_status(self.files.get("status", b"")),
                      doc="Parsed /proc/PID/status (dict of bytes).")
    comm = property(lambda self: self.files.get("comm", b"").rstrip(b"\n"),
                    doc="comm bytes, without /proc's trailing newline.")
    cmdline = property(lambda self: self.files.get("cmdline", b""), doc="Raw cmdline bytes.")
    environ = property(lambda self: self.files.get("environ", b""), doc="Raw environ bytes.")
    maps = property(lambda self: self.files.get("maps", b"").splitlines(),
                    doc="/proc/PID/maps lines (bytes).")

    @property
    def argv(self):
        """cmdline split on NUL (a trailing NUL ends the last argument)."""
        c = self.cmdline
        if not c:
            return []
        return (c[:-1] if c.endswith(b"\0") else c).split(b"\0")

    @property
    def state(self):
        s = self.stat
        return s["state"] if s else None


class Role:
    """A zoo manifest entry: what the role expects /proc to show for it."""

    def __init__(self, name, pid, comm, cmdline, environ):
        self.name, self.pid, self.comm, self.cmdline, self.environ = (
            name, pid, comm, cmdline, environ)
        self.threads = {}  # tid -> expected comm bytes
        self.expect = {}  # key -> value (str)


class Truth:
    """A parsed snapshot. Attributes: id, version, processes (pid -> Process), files (path ->
    bytes), file_errors (path -> errno), commands (label -> output bytes), command_status,
    uname (field -> bytes), kmsg (list of KmsgRecord), kallsyms (name -> Symbol, core symbols),
    kallsyms_lines (line number -> Symbol), kallsyms_count, roles (role name -> Role),
    clock_start / clock_end ((uptime bytes, boottime ns)), phases, records (line count)."""

    def __init__(self):
        self.id = self.version = None
        self.processes, self.files, self.file_errors = {}, {}, {}
        self.commands, self.command_status, self.uname = {}, {}, {}
        self.kmsg, self.kallsyms, self.kallsyms_lines = [], {}, {}
        self.kallsyms_count = 0
        self.roles = {}
        self.clock_start = self.clock_end = None
        self.records = 0
        self.phases = []  # [(section name, boottime ns when it began)]

    def phase_seconds(self):
        """{section: seconds spent}, from the phase records and the end clock."""
        marks = self.phases + [("end", self.clock_end[1])] if self.clock_end else self.phases
        return {a[0]: (b[1] - a[1]) / 1e9 for a, b in zip(marks, marks[1:])}

    def role_process(self, name):
        """The Process of zoo role `name` (KeyError if the role or its pid is missing)."""
        return self.processes[self.roles[name].pid]

    def by_comm(self, comm):
        return [p for p in self.processes.values() if p.comm == comm]


def _sym(line, lineno):
    parts = line.split(b"\t")
    f = parts[0].split(b" ")
    mod = parts[1].strip(b"[]") if len(parts) > 1 else None
    return Symbol(int(f[0], 16), f[1].decode(), f[2], mod, lineno)


def _role(t, hexname):
    name = _hex(hexname).decode()
    if name not in t.roles:
        t.roles[name] = Role(name, 0, b"", b"", b"")
    return t.roles[name]


def parse(data):
    """Parses snapshot bytes into a Truth; raises TruthError if unframed or truncated."""
    t = Truth()
    lines = data.split(b"\n")
    if not lines or not lines[0].startswith(b"NFM-TRUTH-BEGIN "):
        raise TruthError("no NFM-TRUTH-BEGIN line")
    _, t.id, t.version = lines[0].decode().split()
    ended = False
    for n, raw in enumerate(lines[1:], 1):
        if not raw:
            continue
        f = raw.decode("ascii").split(" ")
        k = f[0]
        try:
            if k == "NFM-TRUTH-END":
                if f[1] != t.id or int(f[2]) != t.records:
                    raise TruthError("END line %r does not match %d records" % (raw, t.records))
                ended = True
                break
            t.records += 1
            if k == "proc":
                t.processes.setdefault(int(f[1]), Process(int(f[1])))
            elif k == "pfile":
                t.processes.setdefault(int(f[1]), Process(int(f[1]))).files[f[2]] = _hex(f[3])
            elif k == "perr":
                p = t.processes.setdefault(int(f[1]), Process(int(f[1])))
                if f[2] == "-":
                    p.errors[f[3]] = int(f[4])
            elif k == "pclock":
                t.processes[int(f[1])].stat_read_ns = int(f[2])
            elif k == "fd":
                t.processes[int(f[1])].fds[int(f[2])] = _hex(f[3])
            elif k == "fdinfo":
                t.processes[int(f[1])].fdinfo[int(f[2])] = _hex(f[3])
            elif k == "task":
                t.processes[int(f[1])].threads[int(f[2])] = Thread(int(f[2]))
            elif k == "tfile":
                t.processes[int(f[1])].threads[int(f[2])].files[f[3]] = _hex(f[4])
            elif k == "file":
                t.files[_hex(f[1]).decode()] = _hex(f[2])
            elif k == "ferr":
                t.file_errors[_hex(f[1]).decode()] = int(f[2])
            elif k == "cmd":
                label = _hex(f[1]).decode()
                t.commands[label], t.command_status[label] = _hex(f[2]), int(f[3])
            elif k == "uname":
                t.uname[f[1]] = _hex(f[2])
            elif k == "kmsg":
                t.kmsg.append(KmsgRecord(int(f[1]), int(f[2]), int(f[3]), _hex(f[4]), _hex(f[5])))
            elif k == "ksymcount":
                t.kallsyms_count = int(f[1])
            elif k == "ksym":
                s = _sym(_hex(f[2]), int(f[1]))
                t.kallsyms_lines[s.line] = s
                if s.module is None:
                    t.kallsyms.setdefault(s.name.decode(errors="replace"), s)
            elif k == "role":
                # thread/expect lines of a role may come before its role line
                r = _role(t, f[1])
                r.pid, r.comm, r.cmdline, r.environ = int(f[2]), _hex(f[3]), _hex(f[4]), _hex(f[5])
            elif k == "thread":
                _role(t, f[1]).threads[int(f[3])] = _hex(f[4])
            elif k == "expect":
                _role(t, f[1]).expect[f[2]] = _hex(f[3]).decode()
            elif k == "clock":
                v = (_hex(f[2]), int(f[3]))
                if f[1] == "start":
                    t.clock_start = v
                else:
                    t.clock_end = v
            elif k == "phase":
                t.phases.append((f[1], int(f[2])))
            # Unknown kinds are skipped: newer guests may add records.
        except (IndexError, ValueError, KeyError) as e:
            if isinstance(e, TruthError):
                raise
            raise TruthError("bad record at line %d (%r...): %s" % (n + 1, raw[:60], e))
    if not ended:
        raise TruthError("truncated snapshot: no NFM-TRUTH-END line")
    return t


def load(path):
    """Reads and parses a truth file."""
    with open(path, "rb") as f:
        return parse(f.read())
