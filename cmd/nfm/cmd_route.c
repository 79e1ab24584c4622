// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm route: the IPv4 main routing table of every namespace (route -n; -p /proc/net/route). */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"

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

static struct json_object *route_json(const struct nfm_route *r)
{
	struct json_object *o = json_object_new_object();
	char b[256];

	json_object_object_add(o, "netns", json_object_new_int64(r->netns));
	json_object_object_add(o, "dev", cli_json_bytes(r->ifname, strlen(r->ifname)));
	json_object_object_add(o, "dst", json_object_new_string(ip4(r->dst, b)));
	json_object_object_add(o, "prefixlen", json_object_new_int(r->prefixlen));
	json_object_object_add(o, "gateway", json_object_new_string(ip4(r->gateway, b)));
	json_object_object_add(o, "mask", json_object_new_string(ip4(r->mask, b)));
	json_object_object_add(o, "flags", json_object_new_int64(r->flags));
	json_object_object_add(o, "metric", json_object_new_int(r->metric));
	json_object_object_add(o, "mtu", json_object_new_int64(r->mtu));
	json_object_object_add(o, "window", json_object_new_int64(r->window));
	json_object_object_add(o, "irtt", json_object_new_int64(r->irtt));
	json_object_object_add(o, "scope", json_object_new_int(r->scope));
	json_object_object_add(o, "type", json_object_new_int(r->type));
	json_object_object_add(o, "protocol", json_object_new_int(r->protocol));
	json_object_object_add(o, "exact", json_object_new_boolean(r->exact));
	proc_line(r, r->ifname, b, sizeof(b));
	json_object_object_add(o, "line", cli_json_bytes(b, strlen(b)));
	return o;
}

int cmd_route(struct cli *cli, int argc, char **argv)
{
	struct nfm_route *rs;
	bool proc = false, trunc = false;
	char b[256], d[16], g[16], m[16], fl[8];
	int n, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-p") || !strcmp(argv[i], "--proc"))
			proc = true;
		else if (strcmp(argv[i], "-n"))
			return cli_fail("usage: nfm route [-j] [-n] [-p]");
	}
	if (cli_attach(cli))
		return 1;
	n = nfm_route_list(cli->ctx, &rs, &trunc);
	if (n < 0)
		return cli_fail("cannot read the guest's routing table: %s",
				cli->last_error[0] ? cli->last_error : strerror(-n));
	if (cli->json) {
		struct json_object *a = json_object_new_array();

		for (i = 0; i < n; i++)
			json_object_array_add(a, route_json(&rs[i]));
		free(rs);
		return cli_print_json(cli, a) || trunc;
	}
	if (proc)
		printf("%-127s\n", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU"
		       "\tWindow\tIRTT");
	else
		printf("Kernel IP routing table\nDestination     Gateway         Genmask         "
		       "Flags Metric Ref    Use Iface\n");
	for (i = 0; i < n; i++) {
		const struct nfm_route *r = &rs[i];

		if (i > 0 && r->netns != rs[i - 1].netns)
			printf("netns %" PRIu32 ":\n", r->netns);
		if (proc) {
			/* the kernel pads to 127 columns; only the name is guest text to escape */
			proc_line(r, cli_esc(r->ifname), b, sizeof(b));
			printf("%-127s\n", b);
			continue;
		}
		snprintf(fl, sizeof(fl), "%s%s%s%s", r->flags & 1 ? "U" : "", r->flags & 2 ? "G" : "",
			 r->flags & 4 ? "H" : "", r->flags & 0x200 ? "!" : "");
		printf("%-15s %-15s %-15s %-5s %-6d %-3d %6d %s\n", ip4(r->dst, d), ip4(r->gateway, g),
		       ip4(r->mask, m), fl, r->metric, 0, 0, cli_esc(r->ifname));
	}
	free(rs);
	if (trunc)
		return cli_fail("the routing table was cut short (guest data changed or inconsistent)");
	return 0;
}

const struct command command_route = {
	.name = "route",
	.summary = "IPv4 main routing table (-p: the lines of /proc/net/route)",
	.usage = "[-j] [-n] [-p]",
	.run = cmd_route,
};
