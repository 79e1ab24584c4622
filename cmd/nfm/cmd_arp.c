// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm arp: the neighbour tables (the lines of /proc/net/arp; -6 adds IPv6 neighbours). */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nfm/system.h>

#include "cli.h"
#include "jout.h"
#include "ip_show.h"
#include "objects.h"

#define NUD_NOARP 0x40
#define NUD_PERMANENT 0x80
#define NUD_VALID 0xde

static const struct { unsigned int bit; const char *name; } nud[] = {
	{ 0x01, "INCOMPLETE" }, { 0x02, "REACHABLE" }, { 0x04, "STALE" }, { 0x08, "DELAY" },
	{ 0x10, "PROBE" }, { 0x20, "FAILED" }, { 0x40, "NOARP" }, { 0x80, "PERMANENT" },
};

static void hw(const struct nfm_neigh *e, int max, char *buf)
{
	int i, k = 0;

	buf[0] = 0;
	for (i = 0; i < e->lladdr_len && i < max; i++)
		k += sprintf(buf + k, "%s%02x", i ? ":" : "", e->lladdr[i]);
}

/* arp_format_neigh_entry(): at most 9 address bytes fit its 30-byte buffer. */
static void proc_line(const struct nfm_neigh *e, char *buf, size_t size)
{
	char ip[INET_ADDRSTRLEN], h[32];
	unsigned int flags = e->state & NUD_PERMANENT ? 0x6 : e->state & NUD_VALID ? 0x2 : 0;

	inet_ntop(AF_INET, e->addr, ip, sizeof(ip));
	hw(e, 9, h);
	snprintf(buf, size, "%-16s 0x%-10x0x%-10x%-17s     *        %s", ip, e->type, flags, h,
		 e->ifname);
}

int neigh_load(struct cli *cli, struct nfm_neigh **ns, bool *trunc)
{
	int n;

	if (cli_attach(cli))
		return -1;
	n = nfm_neigh_list(cli->ctx, ns, trunc);
	if (n < 0)
		return cli_fail("cannot read the guest's neighbour tables: %s",
				cli->last_error[0] ? cli->last_error : strerror(-n)), -1;
	if (*trunc)
		cli_warn("the neighbour tables were cut short (guest data changed or inconsistent)");
	return n;
}

static void state_str(unsigned int st, char *buf)
{
	size_t i;
	int n = 0;

	buf[0] = 0;
	for (i = 0; i < sizeof(nud) / sizeof(nud[0]); i++)
		if (st & nud[i].bit)
			n += sprintf(buf + n, "%s%s", n ? "," : "", nud[i].name);
	if (!n)
		strcpy(buf, "NONE");
}

static int cmd_arp(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ipv6", no_argument, NULL, '6' },
		{ "all", no_argument, NULL, 'a' },
		{ "numeric", no_argument, NULL, 'n' },
		{ 0 }
	};
	struct nfm_neigh *ns;
	bool v6 = false, trunc = false;
	char b[256], ip[INET6_ADDRSTRLEN], h[100], st[100];
	int n, i, c;

	while ((c = cli_getopt(cli, argc, argv, "6an", longopts)) != -1) {
		switch (c) {
		case '6':
		case 'a':
			v6 = true;
			break;
		case 'n':
			break;	/* always numeric */
		default:
			return cli_opt_status(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "no arguments expected");
	n = neigh_load(cli, &ns, &trunc);
	if (n < 0)
		return 1;
	if (cli->json) {
		struct json_object *doc = jdoc_new("arp"), *a = json_object_new_array();

		for (i = 0; i < n; i++) {
			const struct nfm_neigh *e = &ns[i];
			struct json_object *o;

			if (e->family != AF_INET && !v6)
				continue;
			o = obj_neighbour(e);
			/* the /proc/net/arp line of the entries /proc/net/arp shows */
			if (e->family == AF_INET && (e->state & ~NUD_NOARP)) {
				proc_line(e, b, sizeof(b));
				j_add(o, "line", j_str(b));
			}
			json_object_array_add(a, o);
		}
		j_add(doc, "neighbours", a);
		if (trunc)
			jdoc_error(doc, "neighbours", -EBADMSG, "the neighbour tables were cut short");
		free(ns);
		return cli_print_json(cli, doc) ?: trunc ? EXIT_PARTIAL : 0;
	}
	/* /proc/net/arp's lines verbatim (not a table: the kernel's own fixed-width layout) */
	printf("IP address       HW type     Flags       HW address            Mask     Device\n");
	for (i = 0; i < n; i++) {
		const struct nfm_neigh *e = &ns[i];

		/* neigh_seq with NEIGH_SEQ_SKIP_NOARP: entries that are nothing but NOARP are hidden */
		if (e->family != AF_INET || !(e->state & ~NUD_NOARP))
			continue;
		proc_line(e, b, sizeof(b));
		printf("%s\n", cli_esc(b));
	}
	/* ip -6 neigh's lines */
	for (i = 0; v6 && i < n; i++) {
		const struct nfm_neigh *e = &ns[i];

		if (e->family != AF_INET6)
			continue;
		inet_ntop(AF_INET6, e->addr, ip, sizeof(ip));
		hw(e, 32, h);
		state_str(e->state, st);
		printf("%s dev %s lladdr %s %s\n", ip, cli_esc(e->ifname), h[0] ? h : "-", st);
	}
	free(ns);
	return trunc ? EXIT_PARTIAL : 0;
}

const struct command command_arp = {
	.name = "arp",
	.summary = "neighbour table, as /proc/net/arp (-6: IPv6 too)",
	.usage = "[-j] [-6]",
	.help = "  -6, --ipv6          the IPv6 neighbours too (as ip -6 neigh lines)\n"
		"  -a, --all           the same as -6: every neighbour table\n"
		"  -n, --numeric       accepted, always on (addresses are not resolved)\n",
	.run = cmd_arp,
};
