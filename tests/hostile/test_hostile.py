"""The guest is hostile: named mutations of a lab guest's dump (cycles, huge counts, wild
pointers, oversized tables, poisoned strings), each applied to kernel objects found through nfm
itself, then every command run on the mutated dump (under ASan/UBSan/LSan when build-asan is
built) with a time and an output budget.

Asserted for every command: no crash and no sanitizer report, no hang (TIME_BUDGET), bounded
output (OUTPUT_BUDGET), a documented exit status, and a stderr line whenever the status is not 0.
For the command each mutation aims at: exit 3 (partial view), exactly one warning line, and with
-j a valid document with "complete": false and an errors list. The red team's cases of issue 20
are all here (ps -L over millions of fake nodes, an ehash chain cycle, ehash_mask 0xffffff,
max_fds 1,000,000, a wild printk head_id, maple leaves with type bits 2), loops in the
neighbour and unix hash chains and in the route trie, and ss -i over forged congestion controls.
"""
import array
import json
import os
import struct
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

TIME_BUDGET = float(os.environ.get("NFM_HOSTILE_TIME", "20"))
OUTPUT_BUDGET = 10 << 20
WORKERS = int(os.environ.get("NFM_HOSTILE_JOBS", "4"))
SANITIZER = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:")
LSAN_SUPP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lsan.supp")
ENV = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99",
           LSAN_OPTIONS="suppressions=" + os.path.normpath(LSAN_SUPP),
           UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=98", LC_ALL="C.UTF-8")

# Every command that reads the guest once (pid 1 for the per-process ones).
COMMANDS = [["ps"], ["ps", "-L"], ["pstree"], ["lsof"], ["maps", "1"], ["env", "1"], ["ss"],
            ["ss", "-ti"], ["ss", "-tuxaome"], ["findmnt"],
            ["dmesg"], ["lsmod"], ["mount"], ["ip", "addr"], ["route"], ["arp"], ["free"],
            ["uptime"], ["cpuinfo"], ["info"], ["uname", "-a"], ["check"], ["crawl"],
            ["bt", "--all"], ["diagnose"]]
EXITS = {0, 1, 3, 4}	# 4: check's and diagnose's "found something"


def run(nfm, dump, args):
    p = subprocess.run([nfm, "--vm", dump.path, *args], capture_output=True, env=ENV,
                       timeout=TIME_BUDGET + 10)
    return p


def check_sane(args, p, elapsed_ok=True):
    err = p.stderr.decode(errors="replace")
    for s in SANITIZER:
        assert s not in err, "%s: sanitizer report:\n%s" % (" ".join(args), err[-3000:])
    assert p.returncode in EXITS, "%s: exit %d\n%s" % (" ".join(args), p.returncode, err[-2000:])
    assert len(p.stdout) <= OUTPUT_BUDGET, "%s: %d bytes of output" % (args, len(p.stdout))
    if p.returncode in (1, 3):
        assert err.strip(), "%s: exit %d with nothing on stderr" % (" ".join(args), p.returncode)
    return err


def run_all(nfm, dump):
    """Every command on the dump as it is now: the sanity checks; returns {args: result}."""
    def one(args):
        try:
            return tuple(args), run(nfm, dump, args)
        except subprocess.TimeoutExpired:
            pytest.fail("%s: no answer within %d s (a hang)" % (" ".join(args), TIME_BUDGET))
    # nfm mostly waits for the dump's pages: a few at once even on two cores
    with ThreadPoolExecutor(WORKERS) as ex:
        res = dict(ex.map(one, COMMANDS))
    for args, p in res.items():
        check_sane(args, p)
    return res


def assert_partial(nfm, dump, args, kind, p):
    """args gave p, a partial view: exit 3, one warning line; -j: complete false with errors."""
    err = check_sane(args, p)
    lines = [x for x in err.splitlines() if x.strip()]
    assert p.returncode == 3, "%s: exit %d, expected 3 (partial view); stderr: %s" % (
        " ".join(args), p.returncode, err)
    assert len(lines) == 1, "%s: expected one warning line, got %r" % (" ".join(args), lines)
    pj = run(nfm, dump, [*args, "-j"])
    check_sane(args + ["-j"], pj)
    assert pj.returncode == 3, "%s -j: exit %d" % (" ".join(args), pj.returncode)
    doc = json.loads(pj.stdout)
    assert doc["kind"] == kind and doc["complete"] is False and doc["errors"], doc.get("errors")
    return p, doc


# ---- finding things -------------------------------------------------------------------------

def ps(d):
    from guest import nfm_json
    return nfm_json(d.nfm, d.path, "ps")["processes"]


def task_of(d, pid):
    return next(int(p["task"], 16) for p in ps(d) if p["pid"] == pid)


# ---- the mutations --------------------------------------------------------------------------

def fake_task_ring(d, nodes=2_000_000):
    """init_task.tasks -> a chain of `nodes` forged list_heads (16 bytes apart, in zero pages)
    -> the real first task: 'ps -L with two million fake nodes'."""
    pa, length = d.zero_run(nodes * 16)
    n = length // 16
    assert n >= 100_000, "no room for forged nodes"
    head = d.sym("init_task") + d.o("task_struct", "tasks")
    first = d.u64(head)
    base = d.va(pa)
    # node i: next = node i + 1 (the last: the real first task), prev = node i - 1 (the first: head)
    words = array.array("Q", bytes(n * 16))
    words[0::2] = array.array("Q", range(base + 16, base + 16 * n + 1, 16))
    words[1::2] = array.array("Q", range(base - 16, base + 16 * (n - 1), 16))
    words[2 * (n - 1)] = first
    words[1] = head
    blob = words.tobytes()
    d.write(base, bytes(blob))
    d.w64(head, base)


def wild_task_pointer(d):
    """The second task's tasks.next points outside the kernel."""
    t = task_of(d, 1)
    d.w64(t + d.o("task_struct", "tasks"), 0x00007f0000001000)


def thread_ring_cycle(d):
    """A thread ring that loops without coming back to its head: pid 1's thread_node points
    to itself."""
    t = task_of(d, 1)
    node = t + d.o("task_struct", "thread_node")
    d.w64(node, node)


def ehash_cycle(d):
    """An established socket's chain node points back to itself: a cycle in an ehash chain."""
    from guest import nfm_json
    socks = nfm_json(d.nfm, d.path, "ss")["sockets"]
    sk = next(int(s["sk"], 16) for s in socks if s["netid"] in ("tcp", "tcp6")
              and s["state"] == "ESTAB")
    node = sk + d.o("sock", "__sk_common.skc_nulls_node")
    d.w64(node, node)


def ehash_hidden_socket(d):
    """A rootkit's hidden connection: one established TCP socket unlinked from its ehash chain
    (the previous node's next skips it), while the kernel's TCP inuse counter still counts it."""
    from guest import nfm_json
    socks = nfm_json(d.nfm, d.path, "ss")["sockets"]
    sk = next(int(s["sk"], 16) for s in socks if s["netid"] == "tcp" and s["state"] == "ESTAB")
    node = sk + d.o("sock", "__sk_common.skc_nulls_node")
    nxt, pprev = d.u64(node), d.u64(node + 8)
    d.w64(pprev, nxt)
    if not nxt & 1:
        d.w64(nxt + 8, pprev)


def neigh_tails(d):
    """[(table, link)]: the last link of every chain of arp_tbl and nd_tbl (the neighbour,
    chained by neighbour->next, or on newer kernels its hlist node neighbour->hash); the next
    pointer's offset in a link."""
    try:
        heads, nxt = d.o("neigh_hash_table", "hash_heads"), 0
    except AssertionError:
        heads, nxt = d.o("neigh_hash_table", "hash_buckets"), d.o("neighbour", "next")
    out = []
    for name in ("arp_tbl", "nd_tbl"):
        nht = d.u64(d.sym(name) + d.o("neigh_table", "nht"))
        buckets = d.u64(nht + heads)
        for i in range(1 << d.u32(nht + d.o("neigh_hash_table", "hash_shift"))):
            p = d.u64(buckets + 8 * i)
            while p and d.u64(p + nxt):
                p = d.u64(p + nxt)
            if p:
                out.append((name, p))
    return out, nxt


BEFORE = {}


def cycle_of_two(d, a, b, nxt=0):
    """Links a and b, each the last of its chain (its next pointer at link + nxt), point at each
    other: the chains through both loop, and nothing that was linked is lost."""
    d.w64(a + nxt, b)
    d.w64(b + nxt, a)


def neigh_cycle(d):
    """The last neighbours of two chains of one table point at each other (where no table has
    two chains, the last neighbour at itself)."""
    from guest import nfm_json
    BEFORE["arp"] = nfm_json(d.nfm, d.path, "arp", "-6")["neighbours"]
    tails, nxt = neigh_tails(d)
    assert tails, "no neighbour to chain"
    a, b = next(((a, b) for (ta, a), (tb, b) in zip(tails, tails[1:]) if ta == tb),
                (tails[0][1], tails[0][1]))
    cycle_of_two(d, a, b, nxt)


def unix_cycle(d):
    """The last unix sockets of two chains of the unix hash point at each other."""
    from guest import nfm_json
    BEFORE["ss -x"] = nfm_json(d.nfm, d.path, "ss", "-xa")["sockets"]
    nodes = [int(s["sk"], 16) + d.o("sock", "__sk_common.skc_node") for s in BEFORE["ss -x"]]
    tails = [n for n in nodes if not d.u64(n)]
    assert len(tails) >= 2, "fewer than two unix hash chains"
    cycle_of_two(d, tails[0], tails[1])


def route_trie_cycle(d):
    """A back edge in init_net's main trie: the first tnode below the root with an empty
    slot (else the root) gets the root as a child there."""
    from guest import nfm_json
    BEFORE["route"] = nfm_json(d.nfm, d.path, "route")["routes"]
    tb = d.u64(d.sym("init_net") + d.o("net", "ipv4.fib_main"))
    data = d.u64(tb + d.o("fib_table", "tb_data"))
    slots, bits = d.o("key_vector", "leaf"), d.o("key_vector", "bits")
    root = d.u64(data + d.o("trie", "kv") + slots)
    assert d.read(root + bits, 1)[0], "the trie's root is a leaf"
    empty, todo = [], [(root, 0)]
    while todo:
        n, depth = todo.pop(0)
        nbits = d.read(n + bits, 1)[0]
        for i in range(1 << nbits if nbits else 0):
            c = d.u64(n + slots + 8 * i)
            if c:
                todo.append((c, depth + 1))
            else:
                empty.append((depth, n + slots + 8 * i))
    assert empty, "a trie without an empty slot"
    d.w64(min(empty, key=lambda e: (e[0] == 0, e[0]))[1], root)


def neigh_shift_huge(d):
    """arp_tbl's hash claims 1 << 24 buckets (it has 8): more than RAM could back."""
    nht = d.u64(d.sym("arp_tbl") + d.o("neigh_table", "nht"))
    d.w32(nht + d.o("neigh_hash_table", "hash_shift"), 24)


def ehash_mask_huge(d):
    d.w32(d.sym("tcp_hashinfo") + d.o("inet_hashinfo", "ehash_mask"), 0xffffff)


def fdtable_max_fds(d):
    """pid 1's fdtable claims 1,000,000 slots (its arrays have 64 or a few hundred)."""
    t = task_of(d, 1)
    files = d.u64(t + d.o("task_struct", "files"))
    fdt = d.u64(files + d.o("files_struct", "fdt"))
    d.w32(fdt + d.o("fdtable", "max_fds"), 1_000_000)


def fdtable_max_fds_consistent(d):
    """zoo-files' allocated fdtable (256 slots: it holds fd 200) claims 512, with close_on_exec
    moved to where a 512-slot bitmap block would put it: every layout rule holds, and only the
    size of the real allocations behind fd[] (kmalloc-2k) and the bitmaps tells the lie."""
    from guest import nfm_json
    pid = next(f["pid"] for f in nfm_json(d.nfm, d.path, "lsof")["files"] if f.get("fd") == 200)
    files = d.u64(task_of(d, pid) + d.o("task_struct", "files"))
    fdt = d.u64(files + d.o("files_struct", "fdt"))
    assert d.u64(fdt + d.o("fdtable", "fd")) != files + d.o("files_struct", "fd_array")
    assert d.u32(fdt + d.o("fdtable", "max_fds")) == 256
    d.w32(fdt + d.o("fdtable", "max_fds"), 512)
    ofp = d.u64(fdt + d.o("fdtable", "open_fds"))
    d.w64(fdt + d.o("fdtable", "close_on_exec"), ofp + 512 // 8)
    # and a forged open file in slot 256, just past the real array (in the next object)
    fdp = d.u64(fdt + d.o("fdtable", "fd"))
    d.w64(fdp + 256 * 8, d.u64(fdp + 200 * 8))
    FORGED_FD["pid"] = pid


FORGED_FD = {}


def printk_wild_head(d):
    prb = d.u64(d.sym("prb"))
    d.w64(prb + d.o("printk_ringbuffer", "desc_ring") + d.o("prb_desc_ring", "head_id"),
          0x0123456789abc)


def vma_leaf_slots(d, pid):
    """(slot address, entry) of every non-empty leaf slot of pid's VMA maple tree."""
    mm = next(int(p["mm"], 16) for p in ps(d) if p["pid"] == pid)
    todo = [d.u64(mm + d.o("mm_struct", "mm_mt") + d.o("maple_tree", "ma_root"))]
    while todo:
        e = todo.pop()
        node, typ = e & ~0xff, (e >> 3) & 0xf
        nslots, slot0 = (16, 16) if typ in (1, 2) else (10, 10)
        slots = struct.unpack("<%dQ" % nslots, d.read(node + 8 * slot0, 8 * nslots))
        for i, s in enumerate(slots):
            if not s:
                continue
            if typ == 1:
                yield node + 8 * (slot0 + i), s
            else:
                todo.append(s)


def maple_leaf_type2(d):
    """Every entry of pid 1's VMA tree leaves gets type bits 2 (an internal entry)."""
    patched = 0
    for addr, s in list(vma_leaf_slots(d, 1)):
        if s & 3 == 0:
            d.w64(addr, s | 2)
            patched += 1
    assert patched


def vma_end_forged(d):
    """One VMA of pid 1 ends a page early in its own vm_end while the tree and mm->map_count
    are untouched: only the pages against mm->total_vm tell."""
    end = d.o("vm_area_struct", "vm_end")
    start = d.o("vm_area_struct", "vm_start")
    vma = next(s for _, s in vma_leaf_slots(d, 1)
               if s & 3 == 0 and d.u64(s + end) - d.u64(s + start) >= 0x2000)
    d.w64(vma + end, d.u64(vma + end) - 0x1000)


def poisoned_comm(d):
    """pid 1's comm carries an OSC 52 sequence (sets the terminal's clipboard)."""
    t = task_of(d, 1)
    d.write(t + d.o("task_struct", "comm"), b"\x1b]52;c;SGk=\x07".ljust(16, b"\0"))



def unix_pending_cycle(d):
    """The unix listener with a connection it has not accepted (the zoo's abstract one): the
    queued skb's next points at itself, so the queue never comes back to its head (ss -xe's
    peers: walk, bounded by qlen)."""
    from guest import nfm_json
    lst = [int(s["sk"], 16) for s in nfm_json(d.nfm, d.path, "ss", "-xa")["sockets"]
           if s["state"] == "LISTEN" and s["rx_queue"] > 0]
    assert lst, "no unix listener with a pending connection"
    skb = d.u64(lst[0] + d.o("sock", "sk_receive_queue.next"))
    d.w64(skb + d.o("sk_buff", "next"), skb)


POISONED_CA = b"\x1b]52;c;SGk=\x07"


def tcp_ca_ops_wild(d):
    """Two established sockets' congestion control pointers: one wild (a user address), one to
    a forged tcp_congestion_ops whose name is an OSC 52 sequence."""
    from guest import nfm_json
    socks = [int(s["sk"], 16) for s in nfm_json(d.nfm, d.path, "ss", "-t")["sockets"]
             if s["state"] == "ESTAB"]
    assert len(socks) >= 2
    ops = d.o("inet_connection_sock", "icsk_ca_ops")	# tcp_sock begins with it
    d.w64(socks[0] + ops, 0x00007f0000001000)
    pa, length = d.zero_run(4096)
    assert length >= 4096
    forged = d.va(pa)
    d.write(forged + d.o("tcp_congestion_ops", "name"), POISONED_CA.ljust(16, b"\0"))
    d.w64(socks[1] + ops, forged)


FORGED_NAME = b"x/../../etc/shadow"


def forged_dentry_name(d):
    """The dentry of pid 1's first open file is renamed "x/../../etc/shadow": one name that
    would print as a path into /etc if its '/' and '..' were shown as they are."""
    from guest import nfm_json
    f = next(x for x in nfm_json(d.nfm, d.path, "lsof")["files"]
             if x["pid"] == 1 and x.get("path", "").startswith("/dev/"))
    dentry = d.u64(int(f["file"], 16) + d.o("file", "f_path") + d.o("path", "dentry"))
    iname = dentry + d.o("dentry", "d_iname")
    d.write(iname, FORGED_NAME + b"\0")
    d.w32(dentry + d.o("dentry", "d_name.len"), len(FORGED_NAME))
    d.w64(dentry + d.o("dentry", "d_name.name"), iname)


def netdev_addr_len_32(d):
    """Loopback's net_device says its hardware address is 32 bytes (its real length is 6): every
    byte shown, nothing written past a buffer (ip -br and ip -J made 95 characters of it in 46)."""
    from guest import nfm_json
    lo = next(x for x in nfm_json(d.nfm, d.path, "ip", "addr")["interfaces"] if x["ifname"] == "lo")
    d.write(int(lo["dev"], 16) + d.o("net_device", "addr_len"), b"\x20")


def stack_saved_sp_wild(d):
    """pid 1's saved stack pointer (thread.sp) points outside its stack: nothing is read from
    there, and its stack is said to be cut short."""
    t = task_of(d, 1)
    d.w64(t + d.o("task_struct", "thread.sp"), 0xffff888000001000)


CASES = {
    # name: (mutation, the command it aims at and its document kind, or None)
    "ps-L-two-million-fake-nodes": (fake_task_ring, (["ps", "-L"], "ps")),
    "task-list-wild-pointer": (wild_task_pointer, (["ps"], "ps")),
    "thread-ring-cycle": (thread_ring_cycle, (["ps", "-L"], "ps")),
    "ehash-chain-cycle": (ehash_cycle, (["ss"], "ss")),
    "ehash-mask-0xffffff": (ehash_mask_huge, (["ss"], "ss")),
    "ehash-hidden-socket": (ehash_hidden_socket, (["ss"], "ss")),
    "neigh-chain-cycle": (neigh_cycle, (["arp"], "arp")),
    "neigh-hash-shift-24": (neigh_shift_huge, (["arp"], "arp")),
    "unix-chain-cycle": (unix_cycle, (["ss"], "ss")),
    "route-trie-cycle": (route_trie_cycle, (["route"], "route")),
    "fdtable-max-fds-1000000": (fdtable_max_fds, (["lsof"], "lsof")),
    "fdtable-max-fds-consistent-layout": (fdtable_max_fds_consistent, (["lsof"], "lsof")),
    "printk-wild-head-id": (printk_wild_head, (["dmesg"], "dmesg")),
    "maple-leaf-type-bits-2": (maple_leaf_type2, (["maps", "1"], "maps")),
    "vma-end-forged": (vma_end_forged, (["maps", "1"], "maps")),
    "tcp-info-wild-ca-ops": (tcp_ca_ops_wild, (["ss", "-ti"], "ss")),
    "unix-pending-queue-cycle": (unix_pending_cycle, (["ss", "-xae"], "ss")),
    "stack-saved-sp-wild": (stack_saved_sp_wild, (["bt", "1"], "bt")),
    "netdev-addr-len-32": (netdev_addr_len_32, None),
    "poisoned-comm": (poisoned_comm, None),
    "forged-dentry-name": (forged_dentry_name, None),
}
POISON = {"poisoned-comm": (b"\x1b",), "forged-dentry-name": (b"/etc/shadow", b"/../")}


def test_clean_dump(nfm, dump):
    """The unmutated dump: every command complete (exit 0; check may report 4)."""
    for args, p in run_all(nfm, dump).items():
        assert p.returncode in (0, 4), "%s: exit %d on a clean dump: %s" % (
            " ".join(args), p.returncode, p.stderr.decode(errors="replace"))


@pytest.mark.parametrize("case", list(CASES))
def test_mutation(nfm, dump, case):
    mutate, aim = CASES[case]
    try:
        mutate(dump)
        dump.mm.flush()
        res = run_all(nfm, dump)
        if aim:
            args, kind = aim
            p, doc = assert_partial(nfm, dump, args, kind,
                                    res.get(tuple(args)) or run(nfm, dump, args))
            if case == "task-list-wild-pointer":
                # ss finds its sockets, but not every process that owns one: it says so
                assert_partial(nfm, dump, ["ss"], "ss", res[("ss",)])
            if case == "fdtable-max-fds-consistent-layout":
                # the real fds are all there; the slot past the allocation is not read
                fds = {f["fd"] for f in doc["files"] if f["pid"] == FORGED_FD["pid"]}
                assert 200 in fds and 256 not in fds, sorted(fds)
            if case == "ehash-hidden-socket":
                # the hash tables hold one IPv4 socket fewer than the kernel's counter: ss -s too
                assert "kernel counts" in p.stderr.decode(), p.stderr
                assert_partial(nfm, dump, ["ss", "-s"], "ss.summary", run(nfm, dump, ["ss", "-s"]))
            if case == "ehash-chain-cycle":
                sks = [s["sk"] for s in doc["sockets"]]
                assert len(sks) == len(set(sks)), "duplicate sockets"
            if case == "neigh-chain-cycle":
                # each neighbour once, none lost (in the loop's order)
                _, d6 = assert_partial(nfm, dump, ["arp", "-6"], "arp",
                                       run(nfm, dump, ["arp", "-6"]))
                assert sorted(map(json.dumps, d6["neighbours"])) == \
                    sorted(map(json.dumps, BEFORE["arp"])), d6["neighbours"]
            if case == "unix-chain-cycle":
                _, dx = assert_partial(nfm, dump, ["ss", "-xa"], "ss", run(nfm, dump, ["ss", "-xa"]))
                sks = [s["sk"] for s in dx["sockets"]]
                assert sorted(sks) == sorted(s["sk"] for s in BEFORE["ss -x"]), sks
            if case == "tcp-info-wild-ca-ops":
                # the forged name shown escaped, the wild pointer said (exit 3, one line)
                assert POISONED_CA not in p.stdout and b"\\x1b]52;c;SGk=\\x07" in p.stdout
                assert b"TCP info of 1 socket" in p.stderr, p.stderr
            if case == "route-trie-cycle":
                # the repeated subtree is skipped: every route once, none lost
                assert doc["routes"] == BEFORE["route"], doc["routes"]
        for bad in POISON.get(case, ()):
            for args in (("ps",), ("pstree",), ("lsof",)):
                assert bad not in res[args].stdout, \
                    "%s: %r reached the terminal raw" % (args, bad)
        if case == "poisoned-comm":
            # shown, escaped, by ps and pstree, which still list every process (exit 0)
            for args in (("ps",), ("pstree",)):
                assert res[args].returncode == 0, (args, res[args].stderr)
                assert b"\\x1b]52;c;SGk=\\x07" in res[args].stdout, (args, res[args].stdout[:400])
        if case == "netdev-addr-len-32":
            # the whole 32 bytes in every layout, each command complete
            for args in (["ip", "addr"], ["ip", "-br", "link"], ["ip", "-J", "addr"]):
                p = run(nfm, dump, args)
                check_sane(args, p)
                assert p.returncode == 0, (args, p.stderr)
                assert p.stdout.count(b"00:" * 31) >= 1, (args, p.stdout[:600])
        if case == "forged-dentry-name":
            # shown, escaped: the forged separators are visible as what they are
            assert b"x\\xc0\\xaf..\\xc0\\xaf..\\xc0\\xafetc" in res[("lsof",)].stdout
    finally:
        dump.restore()
