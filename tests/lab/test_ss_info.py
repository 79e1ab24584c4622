"""nfm ss -i (TCP info) against the guest kernel's own tcp_info of every TCP socket.

The truth is what `ss -i` itself reads: the lab guest's truth server asks NETLINK_SOCK_DIAG for
INET_DIAG_INFO (struct tcp_info, filled by the kernel's tcp_get_info()) and INET_DIAG_CONG of
every TCP socket (lab/guest/zoo-sockdiag.c). The zoo's connections are idle, so every field but
the three "milliseconds since" ones holds still between the truth and nfm's read: they must be
equal. The "since" ones grow with the time between the two reads, and only that much.
"""
import re
import time

from nfmcli import run, run_json

# nfm's JSON member -> the kernel's tcp_info field (tcpi_ dropped), for established sockets
FIELDS = {
    "ca_state": "ca_state", "retransmits": "retransmits", "probes": "probes",
    "backoff": "backoff", "options_code": "options", "rto_us": "rto", "ato_us": "ato",
    "snd_mss_bytes": "snd_mss", "rcv_mss_bytes": "rcv_mss", "unacked": "unacked",
    "sacked": "sacked", "lost": "lost", "retrans": "retrans", "pmtu_bytes": "pmtu",
    "rcv_ssthresh_bytes": "rcv_ssthresh", "rtt_us": "rtt", "rttvar_us": "rttvar",
    "snd_ssthresh": "snd_ssthresh", "snd_cwnd": "snd_cwnd", "advmss_bytes": "advmss",
    "reordering": "reordering", "rcv_rtt_us": "rcv_rtt", "rcv_space_bytes": "rcv_space",
    "total_retrans": "total_retrans", "bytes_acked": "bytes_acked",
    "bytes_received": "bytes_received", "segs_out": "segs_out", "segs_in": "segs_in",
    "notsent_bytes": "notsent_bytes", "min_rtt_us": "min_rtt", "data_segs_in": "data_segs_in",
    "data_segs_out": "data_segs_out", "delivery_rate_bytes_per_second": "delivery_rate",
    "delivered": "delivered", "delivered_ce": "delivered_ce", "bytes_sent": "bytes_sent",
    "bytes_retrans": "bytes_retrans", "dsack_dups": "dsack_dups", "reord_seen": "reord_seen",
    "rcv_ooopack": "rcv_ooopack", "snd_wnd_bytes": "snd_wnd",
}
SINCE = {"last_data_sent_ms": "last_data_sent", "last_data_recv_ms": "last_data_recv",
         "last_ack_recv_ms": "last_ack_recv"}
U64_MAX = (1 << 64) - 1
TCP_LISTEN = 10


def diag(t):
    """inode -> {field: value} of the guest's sock_diag dump (state, cong and tcp_info)."""
    out = {}
    for line in t.files["sock_diag:tcp_info"].decode().splitlines():
        kv = dict(w.split("=", 1) for w in line.split())
        ino = int(kv.pop("ino"))
        out[ino] = {k: (v if k == "cong" else int(v)) for k, v in kv.items()}
    return out


def rate(v):
    return None if v == U64_MAX else v


def test_tcp_info_equals_sock_diag(lab_vm):
    t, _ = lab_vm.fresh_truth()
    t0 = time.monotonic()
    socks = run_json("--vm", lab_vm.name, "ss", "-t", "-a", "-i", kind="ss")["sockets"]
    elapsed_ms = (time.monotonic() - t0) * 1000
    want = diag(t)
    est = lst = 0
    for s in socks:
        w = want.get(s["inode"])
        if w is None or w["state"] != s["state_code"]:
            continue	# a socket that came or went between the two reads
        ti = s["tcp_info"]
        assert ti.get("congestion") == w["cong"], s
        assert ti["pacing_rate_bytes_per_second"] == rate(w["pacing_rate"]), s
        assert ti["max_pacing_rate_bytes_per_second"] == rate(w["max_pacing_rate"]), s
        assert ti["reordering"] == w["reordering"] and ti["snd_cwnd"] == w["snd_cwnd"], s
        if s["state_code"] == TCP_LISTEN:
            lst += 1
            assert (ti["accept_queue"], ti["accept_queue_max"]) == (w["unacked"], w["sacked"]), s
            continue
        est += 1
        got = {k: ti[k] for k in FIELDS}
        assert got == {k: w[f] for k, f in FIELDS.items()}, s
        assert bool(ti["delivery_rate_app_limited"]) == bool(w["delivery_rate_app_limited"])
        if ti["options_code"] & 4:
            assert (ti["snd_wscale"], ti["rcv_wscale"]) == (w["snd_wscale"], w["rcv_wscale"])
        for k, f in SINCE.items():
            # nfm reads later than the truth; the truth's snapshot itself takes a while
            assert w[f] <= ti[k] <= w[f] + elapsed_ms + 5000, (k, s)
    # the zoo's net role: 4 listeners, 2 connections (both ends) over IPv4 and IPv6
    assert lst >= 4 and est >= 4, (lst, est)


def test_ss_i_text_layout(lab_vm):
    """iproute2's layout: the info on a tab-indented line under each TCP socket's row, its words
    in ss's order and units (rto and rtt in ms)."""
    t, _ = lab_vm.fresh_truth()
    want = diag(t)
    p = run("--vm", lab_vm.name, "ss", "-tanie")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split()[:2] == ["State", "Recv-Q"]	# one table: no Netid
    rows = lines[1:]
    # a TIME-WAIT or SYN-RECV row keeps no info: its line is the tab alone, as iproute2's
    assert len(rows) % 2 == 0 and all(r == "\t" or r.startswith("\t ") for r in rows[1::2]), \
        p.stdout
    seen = 0
    for row, info in zip(rows[0::2], rows[1::2]):
        ino = int(re.search(r" ino:(\d+) ", row).group(1))	# -e's
        w = want.get(ino)
        if w is None:
            continue
        words = info.split()
        assert w["cong"] in words, info
        if w["state"] == TCP_LISTEN:
            assert f"cwnd:{w['snd_cwnd']}" in words, info
            continue
        seen += 1
        for tok in (f"rto:{w['rto'] / 1000:g}", f"rtt:{w['rtt'] / 1000:g}/{w['rttvar'] / 1000:g}",
                    f"mss:{w['snd_mss']}", f"cwnd:{w['snd_cwnd']}", f"rcvmss:{w['rcv_mss']}",
                    f"advmss:{w['advmss']}", f"wscale:{w['snd_wscale']},{w['rcv_wscale']}",
                    f"minrtt:{w['min_rtt'] / 1000:g}", f"snd_wnd:{w['snd_wnd']}"):
            assert tok in words, (tok, info)
        order = [x.split(":")[0] for x in words]
        assert order.index("rto") < order.index("rtt") < order.index("mss") < order.index("cwnd")
    assert seen >= 4
