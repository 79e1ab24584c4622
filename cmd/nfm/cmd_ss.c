// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm ss (and netstat): TCP, UDP and UNIX sockets of every namespace, with their processes. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nfm/source.h>
#include <nfm/system.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"
#include "ss_info.h"
#include "table.h"

#define SO_ACCEPTCON_ (1u << 16)
#define TCP_LISTEN_ 10
#define TCP_CLOSE_ 7
#define TCP_TIME_WAIT_ 6
#define TCP_NEW_SYN_RECV_ 12

/* "addr:port" as ss prints it ([v6]:port, * for a wildcard port); a UNIX path escaped. */
static void endpoint(const struct nfm_socket *s, bool local, char *buf, size_t size)
{
	const uint8_t *a = local ? s->laddr : s->raddr;
	uint16_t port = local ? s->lport : s->rport;
	char ip[INET6_ADDRSTRLEN], p[8];

	if (s->family == AF_UNIX) {
		if (local && s->path_len > 0)
			cli_escape(s->path, strnlen(s->path, sizeof(s->path)), buf, size);
		else
			snprintf(buf, size, "*");
		return;
	}
	if (!inet_ntop(s->family, a, ip, sizeof(ip)))
		ip[0] = 0;
	snprintf(p, sizeof(p), port ? "%u" : "*", port);
	snprintf(buf, size, s->family == AF_INET6 ? "[%s]:%s" : "%s:%s", ip, p);
}

/* ss -p's users:(("comm",pid=N),...) with the guest's comm escaped. */
static void users(const struct nfm_socket *s, char *buf, size_t size)
{
	size_t n = 0;
	int i;

	buf[0] = 0;
	if (!s->nr_owners)
		return;
	n += (size_t)snprintf(buf + n, size - n, "users:(");
	for (i = 0; i < s->nr_owners && i < NFM_SOCK_MAX_OWNERS && n < size; i++) {
		char comm[sizeof(s->owner_comm[0]) * 4 + 1];

		cli_escape(s->owner_comm[i], strnlen(s->owner_comm[i], sizeof(s->owner_comm[i])),
			   comm, sizeof(comm));
		n += (size_t)snprintf(buf + n, size - n, "%s(\"%s\",pid=%d)", i ? "," : "", comm,
				      s->owner_pid[i]);
	}
	if (n < size && s->nr_owners > NFM_SOCK_MAX_OWNERS)
		n += (size_t)snprintf(buf + n, size - n, ",...");
	if (n < size)
		snprintf(buf + n, size - n, ")");
}

struct filter {
	bool tcp, udp, unx, listening, v4, v6, info;
};

/* ss -i: what the TCP info reads of one listing came to (said once, after the list). */
struct info_tally {
	int unread;		/* sockets whose tcp_sock did not read (gone, or bad memory) */
	int err;		/* the kernel's layout is not understood (-ENOENT...) */
};

/* The TCP info of s when -i asks for it and s keeps one: 0 and *ti filled, or < 0. */
static int tcp_info(struct cli *cli, const struct filter *f, const struct nfm_socket *s,
		    struct nfm_tcp_info *ti, struct info_tally *tally)
{
	int err;

	if (!f->info || s->protocol != IPPROTO_TCP || tally->err)
		return -ENOENT;
	err = nfm_socket_tcp_info(cli->ctx, s->sk, ti);
	if (err == -EINVAL && (s->state == TCP_TIME_WAIT_ || s->state == TCP_NEW_SYN_RECV_))
		return err;	/* they keep none, in the kernel too */
	if (err == -ENOENT || err == -ENOMEM)
		tally->err = err;
	else if (err < 0)
		tally->unread++;
	return err;
}

/* After the list: whatever -i could not show, said (returns true when the view is partial). */
static bool info_said(struct cli *cli, const struct info_tally *tally)
{
	if (tally->err) {
		cli_warn("no TCP info: %s", cli->last_error[0] ? cli->last_error : strerror(-tally->err));
		return true;
	}
	if (tally->unread) {
		cli_warn("the TCP info of %d socket(s) could not be read (closed during the read, or "
			 "inconsistent)", tally->unread);
		return true;
	}
	return false;
}

static bool wanted(const struct filter *f, const struct nfm_socket *s)
{
	bool is_listen = s->family == AF_UNIX ? (s->unix_flags & SO_ACCEPTCON_) != 0 :
			 s->protocol == IPPROTO_TCP ? s->state == TCP_LISTEN_ :
			 s->state == TCP_CLOSE_;

	if (s->family == AF_UNIX ? !f->unx : s->protocol == IPPROTO_TCP ? !f->tcp : !f->udp)
		return false;
	if (s->family != AF_UNIX && (s->family == AF_INET ? !f->v4 : !f->v6))
		return false;
	return !f->listening || is_listen;
}

static int print_table(struct cli *cli, const struct filter *f, const struct nfm_socket *socks,
		       int n, struct info_tally *tally)
{
	struct table *t = table_new(cli);
	char l[sizeof(socks->path) * 4 + 8], r[sizeof(l)], u[NFM_SOCK_MAX_OWNERS * 80 + 16];
	char info[1024];
	struct nfm_tcp_info ti;
	int i;

	if (!t)
		return cli_fail("out of memory");
	table_column(t, "Netid", 0);
	table_column(t, "State", 0);
	table_column(t, "Recv-Q", TBL_RIGHT);
	table_column(t, "Send-Q", TBL_RIGHT);
	table_column(t, "Local Address:Port", 0);
	table_column(t, "Peer Address:Port", 0);
	table_column(t, "Inode", TBL_RIGHT);
	table_column(t, "Process", TBL_TRUNC);
	for (i = 0; i < n; i++) {
		const struct nfm_socket *s = &socks[i];

		if (!wanted(f, s))
			continue;
		endpoint(s, true, l, sizeof(l));
		endpoint(s, false, r, sizeof(r));
		users(s, u, sizeof(u));
		table_row(t);
		table_cell(t, "%s", obj_socket_netid(s));
		table_cell(t, "%s", obj_socket_state_name(s));
		table_cell(t, "%u", s->rx_queue);
		table_cell(t, "%u", s->tx_queue);
		table_cell(t, "%s", l);	/* escaped above */
		table_cell(t, "%s", r);
		table_cell(t, "%" PRIu64, s->inode);
		table_cell(t, "%s", u);	/* comm escaped above */
		if (tcp_info(cli, f, s, &ti, tally) == 0) {
			ss_info_text(&ti, info, sizeof(info));
			table_note(t, info);
		}
	}
	return table_print(t);
}

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
static bool tcp_views_disagree(struct cli *cli, char *msg, size_t size)
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
static int summary(struct cli *cli)
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
	bad = tcp_views_disagree(cli, why, sizeof(why));
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

int cmd_ss(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tcp", no_argument, NULL, 't' },
		{ "udp", no_argument, NULL, 'u' },
		{ "unix", no_argument, NULL, 'x' },
		{ "listening", no_argument, NULL, 'l' },
		{ "ipv4", no_argument, NULL, '4' },
		{ "ipv6", no_argument, NULL, '6' },
		{ "all", no_argument, NULL, 'a' },
		{ "numeric", no_argument, NULL, 'n' },
		{ "processes", no_argument, NULL, 'p' },
		{ "extended", no_argument, NULL, 'e' },
		{ "summary", no_argument, NULL, 's' },
		{ "info", no_argument, NULL, 'i' },
		{ 0 }
	};
	struct filter f = { 0 };
	struct info_tally tally = { 0 };
	struct nfm_tcp_info ti;
	struct nfm_socket *socks;
	bool trunc = false, sum = false, bad;
	char why[320];
	int n, i, c, ret;

	while ((c = cli_getopt(cli, argc, argv, "tuxl46anpesi", longopts)) != -1) {
		switch (c) {
		case 't': f.tcp = true; break;
		case 'u': f.udp = true; break;
		case 'x': f.unx = true; break;
		case 'l': f.listening = true; break;
		case '4': f.v4 = true; break;
		case '6': f.v6 = true; break;
		case 's': sum = true; break;
		case 'i': f.info = true; break;
		case 'a': case 'n': case 'p': case 'e': break;	/* always on */
		default: return cli_opt_status(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "no arguments expected (filters are not supported)");
	if (!f.tcp && !f.udp && !f.unx)
		f.tcp = f.udp = f.unx = true;
	if (!f.v4 && !f.v6)
		f.v4 = f.v6 = true;
	if (cli_attach(cli))
		return 1;
	if (sum)
		return summary(cli);
	bad = tcp_views_disagree(cli, why, sizeof(why));
	n = nfm_socket_list(cli->ctx, &socks, &trunc);
	if (n < 0)
		return cli_fail("cannot list the guest's sockets: %s",
				cli->last_error[0] ? cli->last_error : strerror(-n));
	if (trunc)
		cli_warn("the socket list or its owning processes are incomplete (guest data changed "
			 "or inconsistent)");
	if (bad)
		cli_warn("%s", why);
	if (cli->json) {
		struct json_object *doc = jdoc_new("ss"), *a = json_object_new_array();

		for (i = 0; i < n; i++) {
			struct json_object *so;

			if (!wanted(&f, &socks[i]))
				continue;
			so = obj_socket(&socks[i]);
			if (tcp_info(cli, &f, &socks[i], &ti, &tally) == 0)
				j_add(so, "tcp_info", obj_tcp_info(&ti));
			json_object_array_add(a, so);
		}
		j_add(doc, "sockets", a);
		if (info_said(cli, &tally)) {
			bad = true;
			jdoc_error(doc, "tcp_info", tally.err ? tally.err : -EIO,
				   "the TCP info of some sockets is missing");
		}
		if (trunc)
			jdoc_error(doc, "sockets", -EBADMSG,
				   "the socket list or its owning processes are incomplete");
		if (bad)
			jdoc_error(doc, "tcp_inuse", -EBADMSG, why);
		free(socks);
		return cli_print_json(cli, doc) ?: trunc || bad ? EXIT_PARTIAL : 0;
	}
	ret = print_table(cli, &f, socks, n, &tally);
	free(socks);
	if (info_said(cli, &tally))
		bad = true;
	return ret ?: trunc || bad ? EXIT_PARTIAL : 0;
}

#define SS_HELP \
	"  -t, --tcp           TCP sockets\n" \
	"  -u, --udp           UDP sockets\n" \
	"  -x, --unix          UNIX sockets\n" \
	"  -l, --listening     listening sockets only (TCP LISTEN, unconnected UDP, UNIX listeners)\n" \
	"  -4, --ipv4          IPv4 only\n" \
	"  -6, --ipv6          IPv6 only\n" \
	"  -a, --all           accepted, always on (every state is listed)\n" \
	"  -n, --numeric       accepted, always on (no name lookups)\n" \
	"  -p, --processes     accepted, always on (the owning processes are listed)\n" \
	"  -e, --extended      accepted, always on (the inode is listed)\n" \
	"  -i, --info          TCP sockets' internal information (the kernel's tcp_info, as\n" \
	"                      iproute2's ss -i prints it), on a line under each\n" \
	"  -s, --summary       the summary of ss -s from the kernel's counters (/proc/net/sockstat,\n" \
	"                      sockstat6), and no list (-tuxl46 are ignored)\n" \
	"ss and ss -s warn and exit 3 when the TCP hash tables and the kernel's TCP inuse\n" \
	"counters disagree (on a live guest: both before and after the walk, the same way).\n"

const struct command command_ss = {
	.name = "ss",
	.summary = "TCP, UDP and UNIX sockets with their processes",
	.usage = "[-j] [-tuxl46anpei] | [-j] -s",
	.help = SS_HELP,
	.run = cmd_ss,
};
const struct command command_netstat = {
	.name = "netstat",
	.summary = "alias of ss",
	.usage = "[-j] [-tuxl46anpei] | [-j] -s",
	.help = SS_HELP,
	.run = cmd_ss,
};
