// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm ss (and netstat): TCP, UDP and UNIX sockets of every namespace, with their processes. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nfm/system.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"
#include "table.h"

#define SO_ACCEPTCON_ (1u << 16)
#define TCP_LISTEN_ 10
#define TCP_CLOSE_ 7

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
	bool tcp, udp, unx, listening, v4, v6;
};

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
		       int n)
{
	struct table *t = table_new(cli);
	char l[sizeof(socks->path) * 4 + 8], r[sizeof(l)], u[NFM_SOCK_MAX_OWNERS * 80 + 16];
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
	}
	return table_print(t);
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
		{ 0 }
	};
	struct filter f = { 0 };
	struct nfm_socket *socks;
	bool trunc = false;
	int n, i, c, ret;

	while ((c = cli_getopt(cli, argc, argv, "tuxl46anpe", longopts)) != -1) {
		switch (c) {
		case 't': f.tcp = true; break;
		case 'u': f.udp = true; break;
		case 'x': f.unx = true; break;
		case 'l': f.listening = true; break;
		case '4': f.v4 = true; break;
		case '6': f.v6 = true; break;
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
	n = nfm_socket_list(cli->ctx, &socks, &trunc);
	if (n < 0)
		return cli_fail("cannot list the guest's sockets: %s",
				cli->last_error[0] ? cli->last_error : strerror(-n));
	if (trunc)
		cli_warn("the socket list or its owning processes are incomplete (guest data changed "
			 "or inconsistent)");
	if (cli->json) {
		struct json_object *doc = jdoc_new("ss"), *a = json_object_new_array();

		for (i = 0; i < n; i++)
			if (wanted(&f, &socks[i]))
				json_object_array_add(a, obj_socket(&socks[i]));
		j_add(doc, "sockets", a);
		if (trunc)
			jdoc_error(doc, "sockets", -EBADMSG,
				   "the socket list or its owning processes are incomplete");
		free(socks);
		return cli_print_json(cli, doc) ?: trunc ? EXIT_PARTIAL : 0;
	}
	ret = print_table(cli, &f, socks, n);
	free(socks);
	return ret ?: trunc ? EXIT_PARTIAL : 0;
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
	"  -e, --extended      accepted, always on (the inode is listed)\n"

const struct command command_ss = {
	.name = "ss",
	.summary = "TCP, UDP and UNIX sockets with their processes",
	.usage = "[-j] [-tuxl46anpe]",
	.help = SS_HELP,
	.run = cmd_ss,
};
const struct command command_netstat = {
	.name = "netstat",
	.summary = "alias of ss",
	.usage = "[-j] [-tuxl46anpe]",
	.help = SS_HELP,
	.run = cmd_ss,
};
