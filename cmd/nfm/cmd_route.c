// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm route: the IPv4 main routing table of every namespace (route -n; -p /proc/net/route). */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"
#include "jout.h"
#include "ip_show.h"
#include "objects.h"
#include "table.h"

/* The /proc/net/route line (fib_route_seq_show), without the padding to 127 columns. */
static void proc_line(const struct nfm_route *r, const char *ifname, char *buf, size_t size)
{
	snprintf(buf, size, "%s\t%08X\t%08X\t%04X\t%d\t%u\t%d\t%08X\t%d\t%u\t%u", ifname, r->dst,
		 r->gateway, r->flags, 0, 0u, r->metric, r->mask, (int)r->mtu, r->window, r->irtt);
}

static const char *ip4(uint32_t be, char *buf)
{
	return inet_ntop(AF_INET, &be, buf, INET_ADDRSTRLEN);
}

int route_load(struct cli *cli, struct nfm_route **rs, bool *trunc)
{
	int n;

	if (cli_attach(cli))
		return -1;
	n = nfm_route_list(cli->ctx, rs, trunc);
	if (n < 0)
		return cli_fail("cannot read the guest's routing table: %s",
				cli->last_error[0] ? cli->last_error : strerror(-n)), -1;
	if (*trunc)
		cli_warn("the routing table was cut short (guest data changed or inconsistent)");
	return n;
}

/* route -n's table of one namespace's routes [from, to). */
static int print_table(struct cli *cli, const struct nfm_route *rs, int from, int to)
{
	struct table *t = table_new(cli);
	char b[16];
	int i;

	if (!t)
		return cli_fail("out of memory");
	table_column(t, "Destination", 0);
	table_column(t, "Gateway", 0);
	table_column(t, "Genmask", 0);
	table_column(t, "Flags", 0);
	table_column(t, "Metric", TBL_RIGHT);
	table_column(t, "Ref", TBL_RIGHT);
	table_column(t, "Use", TBL_RIGHT);
	table_column(t, "Iface", 0);
	for (i = from; i < to; i++) {
		const struct nfm_route *r = &rs[i];

		table_row(t);
		table_cell(t, "%s", ip4(r->dst, b));
		table_cell(t, "%s", ip4(r->gateway, b));
		table_cell(t, "%s", ip4(r->mask, b));
		/* net-tools' order: U G ! H */
		table_cell(t, "%s%s%s%s", r->flags & 1 ? "U" : "", r->flags & 2 ? "G" : "",
			   r->flags & 0x200 ? "!" : "", r->flags & 4 ? "H" : "");
		table_cell(t, "%d", r->metric);
		table_cell(t, "0");
		table_cell(t, "0");
		table_cell_guest(t, r->ifname, strnlen(r->ifname, sizeof(r->ifname)));
	}
	return table_print(t);
}

static int cmd_route(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "numeric", no_argument, NULL, 'n' },
		{ "proc", no_argument, NULL, 'p' },
		{ 0 }
	};
	struct nfm_route *rs;
	bool proc = false, trunc = false;
	char b[256];
	int n, i, c, from, ret = 0;

	while ((c = cli_getopt(cli, argc, argv, "np", longopts)) != -1) {
		switch (c) {
		case 'n':
			break;	/* always numeric */
		case 'p':
			proc = true;
			break;
		default:
			return cli_opt_status(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "no arguments expected");
	n = route_load(cli, &rs, &trunc);
	if (n < 0)
		return 1;
	if (cli->json) {
		struct json_object *doc = jdoc_new("route"), *a = json_object_new_array();

		for (i = 0; i < n; i++) {
			struct json_object *o = obj_route(&rs[i]);

			proc_line(&rs[i], rs[i].ifname, b, sizeof(b));
			j_add(o, "line", j_str(b));
			json_object_array_add(a, o);
		}
		j_add(doc, "routes", a);
		if (trunc)
			jdoc_error(doc, "routes", -EBADMSG, "the routing table was cut short");
		free(rs);
		return cli_print_json(cli, doc) ?: trunc ? EXIT_PARTIAL : 0;
	}
	if (proc) {
		/* /proc/net/route's lines verbatim: not a table; the kernel pads them to 127 columns */
		printf("%-127s\n", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU"
		       "\tWindow\tIRTT");
		for (i = 0; i < n; i++) {
			if (i > 0 && rs[i].netns != rs[i - 1].netns)
				printf("netns %" PRIu32 ":\n", rs[i].netns);
			/* only the name is guest text to escape */
			proc_line(&rs[i], cli_esc(rs[i].ifname), b, sizeof(b));
			printf("%-127s\n", b);
		}
		free(rs);
		return trunc ? EXIT_PARTIAL : 0;
	}
	if (!cli->noheadings && !cli->raw)
		printf("Kernel IP routing table\n");
	for (from = 0; from < n && !ret; from = i) {
		for (i = from + 1; i < n && rs[i].netns == rs[from].netns; i++)
			;
		if (from > 0)
			printf("netns %" PRIu32 ":\n", rs[from].netns);
		ret = print_table(cli, rs, from, i);
	}
	if (!n && !cli->noheadings)
		ret = print_table(cli, rs, 0, 0);
	free(rs);
	return ret ?: trunc ? EXIT_PARTIAL : 0;
}

const struct command command_route = {
	.name = "route",
	.summary = "IPv4 main routing table (-p: the lines of /proc/net/route)",
	.usage = "[-j] [-n] [-p]",
	.help = "  -n, --numeric       accepted, always on (addresses are not resolved)\n"
		"  -p, --proc          the lines of /proc/net/route instead of the route -n table\n",
	.run = cmd_route,
};
