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
#include "ss_extras.h"
#include "ss_info.h"
#include "ss_select.h"
#include "ss_summary.h"
#include "table.h"

/* "addr:port" as ss -n prints it ([v6]:port, * for no port); a unix socket's "path inode". */
static void endpoint(const struct nfm_socket *s, bool local, uint64_t unix_peer, char *buf,
		     size_t size)
{
	const uint8_t *a = local ? s->laddr : s->raddr;
	uint16_t port = local ? s->lport : s->rport;
	char ip[INET6_ADDRSTRLEN], p[8], path[sizeof(s->path) * 4 + 1];

	if (s->family == AF_UNIX) {
		if (local && s->path_len > 0)
			cli_escape(s->path, strnlen(s->path, sizeof(s->path)), path, sizeof(path));
		else
			snprintf(path, sizeof(path), "*");
		snprintf(buf, size, "%s %" PRIu64, path, local ? s->inode : unix_peer);
		return;
	}
	if (!inet_ntop(s->family, a, ip, sizeof(ip)))
		ip[0] = 0;
	snprintf(p, sizeof(p), port ? "%u" : "*", port);
	snprintf(buf, size, s->family == AF_INET6 ? "[%s]:%s" : "%s:%s", ip, p);
}

/* ss -p's users:(("comm",pid=N,fd=M),...) from fds[0..n) (one socket's), comm escaped; what
 * does not fit in size ends in ",...)" (a socket held by thousands of fds). */
static void users(const struct nfm_socket_fd *fds, int n, char *buf, size_t size)
{
	char one[sizeof(fds->comm) * 4 + 64];
	size_t k;
	int i;

	buf[0] = 0;
	if (n <= 0 || size < 16)
		return;
	k = (size_t)snprintf(buf, size, "users:(");
	for (i = 0; i < n; i++) {
		char comm[sizeof(fds->comm) * 4 + 1];
		size_t len;

		cli_escape(fds[i].comm, strnlen(fds[i].comm, sizeof(fds[i].comm)), comm,
			   sizeof(comm));
		len = (size_t)snprintf(one, sizeof(one), "%s(\"%s\",pid=%d,fd=%d)", i ? "," : "",
				       comm, fds[i].pid, fds[i].fd);
		if (k + len + 6 > size) {	/* room for ",...)" and the NUL */
			snprintf(buf + k, size - k, ",...)");
			return;
		}
		memcpy(buf + k, one, len + 1);
		k += len;
	}
	snprintf(buf + k, size - k, ")");
}

/* ss's Netid: tcp and udp whatever the family (nfm's JSON says tcp6/udp6). */
static const char *ss_netid(const struct nfm_socket *s)
{
	if (s->family == AF_UNIX)
		return obj_socket_netid(s);
	return s->protocol == IPPROTO_TCP ? "tcp" : "udp";
}

static const char *ss_state_name(int st)
{
	static const char *const names[] = {
		"UNKNOWN", "ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
		"TIME-WAIT", "UNCONN", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING",
	};

	return st >= 0 && st < 12 ? names[st] : "UNKNOWN";
}

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
	if (err == -EINVAL && (s->state == ST_TIME_WAIT || s->state == ST_NEW_SYN_RECV))
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

/* One bit set: ss leaves that column out (iproute2: "!(x & (x - 1))"). */
static bool one_bit(unsigned int x)
{
	return !(x & (x - 1));
}

/* after the users: a timer, skmem and -e's unix words, whose peers: list has one inode per
 * connection a listener has not accepted (at most 65536, 11 bytes each) */
#define MORE_MAX (1024 + 65536 * 12)

static int print_table(struct cli *cli, const struct filter *f, const struct listing *l,
		       struct info_tally *tally, struct ss_extras_tally *xt)
{
	struct table *t = table_new(cli);
	char lo[sizeof(l->socks->path) * 4 + 32], r[sizeof(lo)], u[4096], ext[96];
	char info[1024], note[1200], *more;
	bool netid = !one_bit(f->dbs), state = !one_bit(f->states);
	struct nfm_tcp_info ti;
	int i;

	if (!t || !(more = malloc(MORE_MAX))) {
		table_free(t);
		return cli_fail("out of memory");
	}
	if (netid)
		table_column(t, "Netid", 0);
	if (state)
		table_column(t, "State", 0);
	table_column(t, "Recv-Q", TBL_RIGHT);
	table_column(t, "Send-Q", TBL_RIGHT);
	table_column(t, "Local Address:Port", 0);
	table_column(t, "Peer Address:Port", 0);
	table_column(t, "Process", TBL_TRUNC);	/* iproute2 5.x+ heads it even without -p */
	for (i = 0; i < l->norder; i++) {
		int x = l->order[i], nf;
		const struct nfm_socket *s = &l->socks[x];
		const struct nfm_socket_fd *fds = ss_listing_fds(l, x, &nf);

		endpoint(s, true, 0, lo, sizeof(lo));
		endpoint(s, false, l->peer[x], r, sizeof(r));
		table_row(t);
		if (netid)
			table_cell(t, "%s", ss_netid(s));
		if (state)
			table_cell(t, "%s", ss_state_name(ss_sock_state(s)));
		table_cell(t, "%u", s->rx_queue);
		table_cell(t, "%u", l->sendq[x]);
		table_cell(t, "%s", lo);	/* escaped above */
		table_cell(t, "%s", r);
		u[0] = ext[0] = 0;
		if (f->users)
			users(fds, nf, u, sizeof(u));	/* comm escaped */
		/* after users: -o's timer (inet), or -m's skmem and -e's details (unix) */
		ss_extras_row(cli, f, s, more, MORE_MAX, xt);
		if (f->extended && s->family != AF_UNIX) {
			/* sock_details_print(): uid when not root, the inode, the sock */
			size_t k = 0;

			if (s->uid)
				k += (size_t)snprintf(ext, sizeof(ext), " uid:%u", s->uid);
			snprintf(ext + k, sizeof(ext) - k, " ino:%" PRIu64 " sk:%" PRIx64, s->inode,
				 s->sk);
		}
		{
			char *all = malloc(sizeof(u) + MORE_MAX + sizeof(ext) + 1);

			if (!all) {
				table_free(t);
				free(more);
				return cli_fail("out of memory");
			}
			snprintf(all, sizeof(u) + MORE_MAX + sizeof(ext) + 1, "%s%s%s", u,
				 more, ext);
			table_cell(t, "%s", u[0] || !all[0] ? all : all + 1);
			free(all);
		}
		/* iproute2's line under an inet row (-m, -i on TCP): skmem, then the TCP info */
		if (ss_extras_note(cli, f, s, note, sizeof(note), xt)) {
			if (tcp_info(cli, f, s, &ti, tally) == 0) {
				ss_info_text(&ti, info, sizeof(info));
				snprintf(note + strlen(note), sizeof(note) - strlen(note), "%s", info);
			}
			table_note(t, note);
		}
	}
	free(more);
	return table_print(t);
}

/* ss -j's socket: the schema's, with the fds (ss -p's) and a unix socket's peer inode. */
static struct json_object *socket_json(struct cli *cli, const struct filter *f,
				       const struct listing *l, int x, struct info_tally *tally,
				       struct ss_extras_tally *xt)
{
	const struct nfm_socket *s = &l->socks[x];
	struct json_object *so = obj_socket(s), *fa = json_object_new_array();
	const struct nfm_socket_fd *fds;
	struct nfm_tcp_info ti;
	int nf, i;

	fds = ss_listing_fds(l, x, &nf);
	for (i = 0; i < nf; i++) {
		struct json_object *o = json_object_new_object();

		j_add(o, "pid", j_int(fds[i].pid));
		j_add(o, "fd", j_int(fds[i].fd));
		j_add_bytes(o, "comm", fds[i].comm, strnlen(fds[i].comm, sizeof(fds[i].comm)));
		json_object_array_add(fa, o);
	}
	j_add(so, "fds", fa);
	if (s->family == AF_UNIX)
		j_add(so, "peer_inode", j_u64(l->peer[x]));
	if (tcp_info(cli, f, s, &ti, tally) == 0)
		j_add(so, "tcp_info", obj_tcp_info(&ti));
	ss_extras_json(cli, f, s, so, xt);
	return so;
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
		{ "options", no_argument, NULL, 'o' },
		{ "memory", no_argument, NULL, 'm' },
		{ 0 }
	};
	struct filter f = { .is_default = true };
	struct info_tally tally = { 0 };
	struct ss_extras_tally xt = { 0 };
	struct listing l = { 0 };
	unsigned int state_filter = 0;
	bool trunc = false, sum = false, bad;
	char why[320];
	int i, c, ret;

	while ((c = cli_getopt(cli, argc, argv, "tuxl46anpesiom", longopts)) != -1) {
		switch (c) {
		case 't': ss_filter_db(&f, DB_TCP); break;
		case 'u': ss_filter_db(&f, DB_UDP); break;
		case 'x': ss_filter_family(&f, FAM_UNIX); break;
		case '4': ss_filter_family(&f, FAM_INET); break;
		case '6': ss_filter_family(&f, FAM_INET6); break;
		case 'l': state_filter = 1u << ST_LISTEN | 1u << ST_CLOSE; break;
		case 'a': state_filter = SS_ALL_; break;
		case 's': sum = true; break;
		case 'i': f.info = true; break;
		case 'p': f.users = true; break;
		case 'e': f.extended = f.timers = true; break;	/* iproute2: -e implies -o */
		case 'o': f.timers = true; break;
		case 'm': f.mem = true; break;
		case 'n': break;	/* always: service names are not looked up */
		default: return cli_opt_status(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "no arguments expected (filters are not supported)");
	ss_filter_finish(&f, state_filter);
	if (cli_attach(cli))
		return 1;
	if (sum)
		return ss_summary(cli);
	bad = ss_tcp_views_disagree(cli, why, sizeof(why));
	l.n = nfm_socket_list(cli->ctx, &l.socks, &trunc);
	if (l.n < 0)
		return cli_fail("cannot list the guest's sockets: %s",
				cli->last_error[0] ? cli->last_error : strerror(-l.n));
	ret = ss_listing_build(cli, &f, &l);
	if (ret < 0) {
		ss_listing_free(&l);
		return cli_fail("cannot list the guest's sockets: %s", strerror(-ret));
	}
	if (trunc || l.fds_partial || l.peers_partial)
		cli_warn("the socket list, its queues, peers or owning processes are incomplete "
			 "(guest data changed or inconsistent)");
	trunc = trunc || l.fds_partial || l.peers_partial;
	if (bad)
		cli_warn("%s", why);
	if (cli->json) {
		struct json_object *doc = jdoc_new("ss"), *a = json_object_new_array();

		for (i = 0; i < l.norder; i++)
			json_object_array_add(a, socket_json(cli, &f, &l, l.order[i], &tally, &xt));
		j_add(doc, "sockets", a);
		if (info_said(cli, &tally)) {
			bad = true;
			jdoc_error(doc, "tcp_info", tally.err ? tally.err : -EIO,
				   "the TCP info of some sockets is missing");
		}
		if (ss_extras_said(cli, &xt)) {
			bad = true;
			jdoc_error(doc, "socket_details", xt.err ? xt.err : -EIO,
				   "the timers, memory or unix details of some sockets are missing");
		}
		if (trunc)
			jdoc_error(doc, "sockets", -EBADMSG, "the socket list, its queues, peers or "
				   "owning processes are incomplete");
		if (bad)
			jdoc_error(doc, "tcp_inuse", -EBADMSG, why);
		ss_listing_free(&l);
		return cli_print_json(cli, doc) ?: trunc || bad ? EXIT_PARTIAL : 0;
	}
	ret = print_table(cli, &f, &l, &tally, &xt);
	ss_listing_free(&l);
	if (info_said(cli, &tally))
		bad = true;
	if (ss_extras_said(cli, &xt))
		bad = true;
	return ret ?: trunc || bad ? EXIT_PARTIAL : 0;
}

#define SS_HELP \
	"  -t, --tcp           TCP sockets\n" \
	"  -u, --udp           UDP sockets\n" \
	"  -x, --unix          UNIX sockets\n" \
	"  -l, --listening     listening and unconnected sockets only (LISTEN, UNCONN)\n" \
	"  -a, --all           every state (without -a or -l: connected ones, as iproute2's\n" \
	"                      ss: not LISTEN, UNCONN, TIME-WAIT or SYN-RECV; -u alone: ESTAB)\n" \
	"  -4, --ipv4          IPv4 only\n" \
	"  -6, --ipv6          IPv6 only\n" \
	"  -n, --numeric       accepted, always on (service names are not looked up)\n" \
	"  -p, --processes     the processes and fds holding each socket: users:((\"comm\",\n" \
	"                      pid=N,fd=M),...), newest first as iproute2 lists them\n" \
	"  -e, --extended      uid:N (when not 0) ino:N sk:ADDRESS of inet sockets (sk is the\n" \
	"                      struct sock's address, where iproute2 shows the socket cookie);\n" \
	"                      of unix sockets the shutdown arrows (<-> open, --> or <-- one\n" \
	"                      way shut, --- both), ino:N dev:MAJ/MIN of a bound path's file\n" \
	"                      (split as iproute2 splits it) and a listener's peers: (the\n" \
	"                      inodes of connections it has not accepted); implies -o\n" \
	"  -o, --options       TCP timers: timer:(on|keepalive|timewait|persist,EXPIRES,N),\n" \
	"                      the time left from the guest's jiffies at the read, N the\n" \
	"                      retransmits (on) or probes (keepalive, persist)\n" \
	"  -m, --memory        socket memory: skmem:(rRMEM,rbRCVBUF,tWMEM,tbSNDBUF,fFWD,\n" \
	"                      wQUEUED,oOPTMEM,blBACKLOG,dDROPS) (sk_get_meminfo); on the line\n" \
	"                      under an inet row (before -i's), on the row for unix\n" \
	"  -i, --info          TCP sockets' internal information (the kernel's tcp_info, as\n" \
	"                      iproute2's ss -i prints it), on a line under each\n" \
	"  -s, --summary       the summary of ss -s from the kernel's counters (/proc/net/sockstat,\n" \
	"                      sockstat6), and no list (-tuxl46 are ignored)\n" \
	"Sockets are listed as iproute2's ss lists them: unix, then udp, then tcp; the Netid\n" \
	"column only when several tables are shown, State only when several states are; a\n" \
	"unix socket's address is \"PATH INODE\" and its peer \"* PEER-INODE\". -j lists the\n" \
	"same sockets, each with its fds and (unix) its peer_inode; -o, -m, -e add timer,\n" \
	"timer_expires_ms, timer_retrans; skmem; shutdown_read/_write, vfs_inode,\n" \
	"vfs_dev_major/_minor, pending_peer_inodes.\n" \
	"ss and ss -s warn and exit 3 when the TCP hash tables and the kernel's TCP inuse\n" \
	"counters disagree (on a live guest: both before and after the walk, the same way).\n"

const struct command command_ss = {
	.name = "ss",
	.summary = "TCP, UDP and UNIX sockets with their processes",
	.usage = "[-j] [-tuxl46anpeiom] | [-j] -s",
	.help = SS_HELP,
	.run = cmd_ss,
};
const struct command command_netstat = {
	.name = "netstat",
	.summary = "alias of ss",
	.usage = "[-j] [-tuxl46anpeiom] | [-j] -s",
	.help = SS_HELP,
	.run = cmd_ss,
};
