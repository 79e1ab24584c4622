// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm ss -s, and the TCP hash tables against the kernel's inuse counters. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/source.h>
#include <nfm/system.h>

#include "cli.h"
#include "jout.h"
#include "ss_summary.h"

/* The init namespace's counters (nfm_sockstat_list's first), 0 on success. */
static int sockstat_init(struct cli *cli, struct nfm_sockstat **all, int *n,
			 struct nfm_sockstat *ret)
{
	struct nfm_sockstat *st;
	int k = nfm_sockstat_list(cli->ctx, &st, NULL);

	if (k < 1)
		return k < 0 ? k : -ENOENT;
	*ret = st[0];
	if (all) {
		*all = st;
		*n = k;
	} else {
		free(st);
	}
	return 0;
}

/*
 * The cross-view check (issue 20): the TCP sockets the hash tables hold in the init namespace
 * against the kernel's TCP and TCP6 "inuse" counters (sock_prot_inuse_get(), /proc/net/sockstat).
 * The kernel keeps them in step: inet_hash() adds one when a sock enters the listening hash,
 * inet_ehash_nolisten() when it enters the established hash (connect, accept), inet_unhash()
 * takes one away, and the TIME-WAIT hash dance (inet_twsk_hashdance) takes the full sock's one
 * when a timewait sock replaces it; request socks and timewait socks are never counted (6.1 and
 * 6.12 alike). So the walk's full socks of each family equal the counter exactly on a stopped
 * guest (a dump), and a difference means a sock is hidden from the hash tables or the counter
 * was tampered with.
 * On a live guest sockets come and go while we walk: the counter is read before and after the
 * walk, and only when both reads disagree with the walk in the same direction (both above it,
 * or both below) is the view called inconsistent; a walk that lies between them, or equals
 * either, is a guest that moved. Returns true when the views disagree (and fills msg).
 */
bool ss_tcp_views_disagree(struct cli *cli, char *msg, size_t size)
{
	struct nfm_sockstat before, after;
	struct nfm_tcp_hashed h;
	bool live = nfm_source_is_live(cli->src);
	uint64_t walk[2];
	int64_t b[2], a[2], slack;
	int f, bad = 0;

	if (sockstat_init(cli, NULL, NULL, &before) < 0 ||
	    nfm_tcp_hashed_count(cli->ctx, 0, &h) < 0)
		return false;	/* either view unreadable: nothing to compare (said elsewhere) */
	after = before;
	if (live && sockstat_init(cli, NULL, NULL, &after) < 0)
		return false;
	walk[0] = h.hashed4;
	walk[1] = h.hashed6;
	b[0] = before.tcp_inuse, b[1] = before.tcp6_inuse;
	a[0] = after.tcp_inuse, a[1] = after.tcp6_inuse;
	/* on a live guest a sock freed under the walk is unread, of either family: it may count */
	slack = live ? (int64_t)h.unread : 0;
	for (f = 0; f < 2; f++) {
		int64_t w = (int64_t)walk[f];

		if (b[f] < 0 || a[f] < 0)
			continue;	/* this counter is not readable on this kernel */
		if ((b[f] > w + slack && a[f] > w + slack) || (b[f] < w && a[f] < w))
			bad |= 1 << f;
	}
	if (!bad)
		return false;
	snprintf(msg, size,
		 "the TCP hash tables hold %" PRIu64 " IPv4 and %" PRIu64 " IPv6 sockets but the "
		 "kernel counts %" PRId64 " and %" PRId64 " in use (a socket is hidden from the hash "
		 "tables, or the counters are wrong)",
		 walk[0], walk[1], b[0], b[1]);
	return true;
}

static int64_t z(int64_t v)
{
	return v < 0 ? 0 : v;
}

/* One /proc/net/sockstat{,6} namespace as JSON: every readable counter, -1 ones left out. */
static struct json_object *obj_sockstat(const struct nfm_sockstat *s)
{
	struct json_object *o = json_object_new_object();
	static const struct {
		const char *name;
		size_t off;
	} f[] = {
#define X(m) { #m, offsetof(struct nfm_sockstat, m) }
		X(sockets_used), X(tcp_inuse), X(tcp_orphan), X(tcp_tw), X(tcp_alloc),
		X(tcp_mem_pages), X(udp_inuse), X(udp_mem_pages), X(udplite_inuse), X(raw_inuse),
		X(frag_inuse), X(frag_mem_bytes), X(tcp6_inuse), X(udp6_inuse), X(udplite6_inuse),
		X(raw6_inuse), X(frag6_inuse), X(frag6_mem_bytes), X(tcp_curr_estab),
#undef X
	};
	size_t i;

	j_add(o, "netns", j_u64(s->netns));
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		int64_t v;

		memcpy(&v, (const char *)s + f[i].off, sizeof(v));
		if (v >= 0)
			j_add(o, f[i].name, j_int(v));
	}
	/* pages of the kernel's PAGE_SIZE, 4 KiB on every kernel nfm reads */
	if (s->tcp_mem_pages >= 0)
		j_add(o, "tcp_mem_bytes", j_int(s->tcp_mem_pages * 4096));
	if (s->udp_mem_pages >= 0)
		j_add(o, "udp_mem_bytes", j_int(s->udp_mem_pages * 4096));
	return o;
}

/* ss -s: iproute2's print_summary() from the init namespace's counters. */
int ss_summary(struct cli *cli)
{
	struct nfm_sockstat s, *all = NULL;
	int64_t tcp_total, closed, v4, v6;
	char why[320];
	bool bad;
	int n = 0, err, i;

	err = sockstat_init(cli, &all, &n, &s);
	if (err < 0)
		return cli_fail("cannot read the guest's socket counters: %s",
				cli->last_error[0] ? cli->last_error : strerror(-err));
	bad = ss_tcp_views_disagree(cli, why, sizeof(why));
	/* iproute2 (5.5+): TCP total = alloc + tw; closed = alloc - (inuse + inuse6 - tw) */
	tcp_total = z(s.tcp_alloc) + z(s.tcp_tw);
	closed = z(s.tcp_alloc) - (z(s.tcp_inuse) + z(s.tcp6_inuse) - z(s.tcp_tw));
	v4 = z(s.raw_inuse) + z(s.udp_inuse) + z(s.tcp_inuse);
	v6 = z(s.raw6_inuse) + z(s.udp6_inuse) + z(s.tcp6_inuse);
	if (bad)
		cli_warn("%s", why);
	if (cli->json) {
		struct json_object *doc = jdoc_new("ss.summary"), *sm = json_object_new_object(),
				   *a = json_object_new_array();

		j_add(sm, "total", j_int(z(s.sockets_used)));
		j_add(sm, "tcp_total", j_int(tcp_total));
		j_add(sm, "tcp_estab", j_int(z(s.tcp_curr_estab)));
		j_add(sm, "tcp_closed", j_int(closed));
		j_add(sm, "tcp_orphaned", j_int(z(s.tcp_orphan)));
		j_add(sm, "tcp_timewait", j_int(z(s.tcp_tw)));
		j_add(sm, "raw_ip", j_int(z(s.raw_inuse)));
		j_add(sm, "raw_ipv6", j_int(z(s.raw6_inuse)));
		j_add(sm, "udp_ip", j_int(z(s.udp_inuse)));
		j_add(sm, "udp_ipv6", j_int(z(s.udp6_inuse)));
		j_add(sm, "tcp_ip", j_int(z(s.tcp_inuse)));
		j_add(sm, "tcp_ipv6", j_int(z(s.tcp6_inuse)));
		j_add(sm, "inet_ip", j_int(v4));
		j_add(sm, "inet_ipv6", j_int(v6));
		j_add(sm, "frag_ip", j_int(z(s.frag_inuse)));
		j_add(sm, "frag_ipv6", j_int(z(s.frag6_inuse)));
		j_add(doc, "summary", sm);
		for (i = 0; i < n; i++)
			json_object_array_add(a, obj_sockstat(&all[i]));
		j_add(doc, "sockstat", a);
		free(all);
		if (bad)
			jdoc_error(doc, "tcp_inuse", -EBADMSG, why);
		return cli_print_json(cli, doc) ?: bad ? EXIT_PARTIAL : 0;
	}
	free(all);
	printf("Total: %" PRId64 "\n", z(s.sockets_used));
	printf("TCP:   %" PRId64 " (estab %" PRId64 ", closed %" PRId64 ", orphaned %" PRId64
	       ", timewait %" PRId64 ")\n", tcp_total, z(s.tcp_curr_estab), closed, z(s.tcp_orphan),
	       z(s.tcp_tw));
	printf("\nTransport Total     IP        IPv6\n");
	printf("RAW\t  %-9" PRId64 " %-9" PRId64 " %-9" PRId64 "\n", z(s.raw_inuse) + z(s.raw6_inuse),
	       z(s.raw_inuse), z(s.raw6_inuse));
	printf("UDP\t  %-9" PRId64 " %-9" PRId64 " %-9" PRId64 "\n", z(s.udp_inuse) + z(s.udp6_inuse),
	       z(s.udp_inuse), z(s.udp6_inuse));
	printf("TCP\t  %-9" PRId64 " %-9" PRId64 " %-9" PRId64 "\n", z(s.tcp_inuse) + z(s.tcp6_inuse),
	       z(s.tcp_inuse), z(s.tcp6_inuse));
	printf("INET\t  %-9" PRId64 " %-9" PRId64 " %-9" PRId64 "\n", v4 + v6, v4, v6);
	printf("FRAG\t  %-9" PRId64 " %-9" PRId64 " %-9" PRId64 "\n\n",
	       z(s.frag_inuse) + z(s.frag6_inuse), z(s.frag_inuse), z(s.frag6_inuse));
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_fail("cannot write the output");
	return bad ? EXIT_PARTIAL : 0;
}
