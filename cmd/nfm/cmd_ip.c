// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm ip addr / ip link (and ifconfig): every interface of every network namespace, in
 * iproute2's layout. ip route and ip neigh are nfm route and nfm arp -6.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"

static const struct { unsigned int bit; const char *name; } iff[] = {
	{ 0x8, "LOOPBACK" }, { 0x2, "BROADCAST" }, { 0x10, "POINTOPOINT" }, { 0x1000, "MULTICAST" },
	{ 0x80, "NOARP" }, { 0x200, "ALLMULTI" }, { 0x100, "PROMISC" }, { 0x400, "MASTER" },
	{ 0x800, "SLAVE" }, { 0x4, "DEBUG" }, { 0x8000, "DYNAMIC" }, { 0x4000, "AUTOMEDIA" },
	{ 0x2000, "PORTSEL" }, { 0x20, "NOTRAILERS" }, { 0x1, "UP" }, { 0x10000, "LOWER_UP" },
	{ 0x20000, "DORMANT" }, { 0x40000, "ECHO" },
};
static const char *const oper[] = { "UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING",
				    "DORMANT", "UP" };

static const char *scope_name(int s, char *buf)
{
	switch (s) {
	case 0: return "global";
	case 200: return "site";
	case 253: return "link";
	case 254: return "host";
	case 255: return "nowhere";
	}
	sprintf(buf, "%d", s);
	return buf;
}

static const char *link_type(unsigned int t)
{
	return t == 772 ? "loopback" : t == 1 ? "ether" : t == 65534 ? "none" : t == 768 ? "ipip" :
	       t == 776 ? "sit" : t == 778 ? "gre" : "unknown";
}

static char *hw(const uint8_t *a, int len, char *buf)
{
	int i, n = 0;

	buf[0] = 0;
	for (i = 0; i < len; i++)
		n += sprintf(buf + n, "%s%02x", i ? ":" : "", a[i]);
	return buf;
}

static void addr_str(const struct nfm_ifaddr *a, char *buf)
{
	if (!inet_ntop(a->family, a->addr, buf, INET6_ADDRSTRLEN))
		buf[0] = 0;
}

/* One interface as ip addr / ip link prints it (-s: its counters as ip -s link). */
static void dev_text(const struct nfm_netdev *d, bool with_addrs, bool stats)
{
	char b[128], sb[16];
	size_t i;
	int k, n = 0;

	printf("%d: %s: <", d->ifindex, cli_esc(d->name));
	for (i = 0; i < sizeof(iff) / sizeof(iff[0]); i++)
		if (d->flags & iff[i].bit)
			printf("%s%s", n++ ? "," : "", iff[i].name);
	printf("> mtu %u qdisc %s state %s qlen %u\n", d->mtu, d->qdisc[0] ? cli_esc(d->qdisc) : "noop",
	       d->operstate >= 0 && d->operstate <= 6 ? oper[d->operstate] : "UNKNOWN", d->txqlen);
	printf("    link/%s %s", link_type(d->type), hw(d->addr, d->addr_len, b));
	printf(" brd %s\n", hw(d->broadcast, d->addr_len, b));
	for (k = 0; with_addrs && k < d->nr_addrs && k < NFM_NETDEV_MAX_ADDRS; k++) {
		const struct nfm_ifaddr *a = &d->addrs[k];

		addr_str(a, b);
		printf("    %s %s/%d", a->family == AF_INET ? "inet" : "inet6", b, a->prefixlen);
		if (a->family == AF_INET && (a->broadcast[0] | a->broadcast[1] | a->broadcast[2] | a->broadcast[3])) {
			inet_ntop(AF_INET, a->broadcast, b, sizeof(b));
			printf(" brd %s", b);
		}
		printf(" scope %s", scope_name(a->scope, sb));
		if (a->family == AF_INET)
			printf(" %s", cli_esc(a->label));
		printf("\n");
	}
	if (stats) {
		const struct nfm_netdev_stats *s = &d->stats;

		printf("    RX:  bytes packets errors dropped  missed   mcast%s\n", d->stats_exact ? "" : "  (driver counters not replayed)");
		printf("    %10" PRIu64 " %7" PRIu64 " %6" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64 "\n",
		       s->rx_bytes, s->rx_packets, s->rx_errors, s->rx_dropped, s->rx_fifo, s->multicast);
		printf("    TX:  bytes packets errors dropped carrier collsns\n");
		printf("    %10" PRIu64 " %7" PRIu64 " %6" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64 "\n",
		       s->tx_bytes, s->tx_packets, s->tx_errors, s->tx_dropped, s->tx_carrier, s->collisions);
	}
}

static bool word_is(const char *w, const char *const *names)
{
	for (; *names; names++)
		if (!strcmp(w, *names))
			return true;
	return false;
}

/* ip route / ip neigh: nfm route / nfm arp -6 (their layout, their JSON documents). */
static int run_other(struct cli *cli, const struct command *cmd, const char *arg, int argc,
		     char **argv, int a)
{
	char *args[3] = { (char *)cmd->name, (char *)arg, NULL };

	for (; a < argc; a++)
		if (!word_is(argv[a], (const char *const[]){ "show", "list", "ls", NULL }))
			return cli_usage_error(cli, "'%s': ip %s takes no selector here (see nfm %s)",
					       cli_esc(argv[a]), cmd == &command_route ? "route" :
					       "neigh", cmd->name);
	return cli_run(cli, cmd, arg ? 2 : 1, args);
}

int cmd_ip(struct cli *cli, int argc, char **argv)
{
	static const char *const addr_w[] = { "addr", "a", "address", NULL };
	static const char *const link_w[] = { "link", "l", NULL };
	static const char *const route_w[] = { "route", "r", "ro", "rou", "rout", NULL };
	static const char *const neigh_w[] = { "neigh", "n", "neighbour", "neighbor", "nei", NULL };
	static const char *const show_w[] = { "show", "list", "ls", "lst", NULL };
	static const struct option ip_longopts[] = {
		{ "stats", no_argument, NULL, 's' },
		{ 0 }
	};
	static const struct option ifconfig_longopts[] = {
		{ "stats", no_argument, NULL, 's' },
		{ "all", no_argument, NULL, 'a' },
		{ 0 }
	};
	bool ifconfig = cli->cmd == &command_ifconfig;
	struct nfm_netdev *devs;
	const char *only = NULL;
	bool addrs = true, stats = ifconfig, trunc = false, found = false;
	uint32_t last_ns = 0;
	int n, i, a, c;

	while ((c = cli_getopt(cli, argc, argv, ifconfig ? "sa" : "s",
			       ifconfig ? ifconfig_longopts : ip_longopts)) != -1) {
		switch (c) {
		case 's':
			stats = true;
			break;
		case 'a':
			break;	/* ifconfig -a: every interface, as always */
		default:
			return cli_opt_status(cli);
		}
	}
	a = optind;
	if (!ifconfig && a < argc) {
		if (word_is(argv[a], route_w))
			return run_other(cli, &command_route, NULL, argc, argv, a + 1);
		if (word_is(argv[a], neigh_w))
			return run_other(cli, &command_arp, "-6", argc, argv, a + 1);
		if (word_is(argv[a], link_w)) {
			addrs = false;
			a++;
		} else if (word_is(argv[a], addr_w)) {
			a++;
		}
		if (a < argc && word_is(argv[a], show_w))
			a++;
		if (a < argc && !strcmp(argv[a], "dev") && ++a == argc)
			return cli_usage_error(cli, "'dev' needs an interface name");
	}
	if (a < argc)
		only = argv[a++];
	if (a < argc)
		return cli_usage_error(cli, "unexpected '%s'", cli_esc(argv[a]));
	if (cli_attach(cli))
		return 1;
	n = nfm_netdev_list(cli->ctx, &devs, &trunc);
	if (n < 0)
		return cli_fail("cannot list the guest's interfaces: %s",
				cli->last_error[0] ? cli->last_error : strerror(-n));
	for (i = 0; only && i < n; i++)
		found |= !strcmp(only, devs[i].name);
	if (only && !found) {
		free(devs);
		return cli_fail("interface '%s' not found in the guest", cli_esc(only));
	}
	if (trunc)
		cli_warn("the interface list was cut short (guest data changed or inconsistent)");
	if (cli->json) {
		struct json_object *doc = jdoc_new("ip"), *arr = json_object_new_array();

		for (i = 0; i < n; i++)
			if (!only || !strcmp(only, devs[i].name))
				json_object_array_add(arr, obj_interface(&devs[i], addrs));
		j_add(doc, "interfaces", arr);
		if (trunc)
			jdoc_error(doc, "interfaces", -EBADMSG, "the interface list was cut short");
		free(devs);
		return cli_print_json(cli, doc) ?: trunc ? EXIT_PARTIAL : 0;
	}
	for (i = 0; i < n; i++) {
		if (only && strcmp(only, devs[i].name))
			continue;
		if (devs[i].netns != last_ns && (i > 0 || n > 1) &&
		    (i == 0 ? devs[n - 1].netns != devs[0].netns : 1))
			printf("netns %" PRIu32 ":\n", devs[i].netns);
		last_ns = devs[i].netns;
		dev_text(&devs[i], addrs, stats);
	}
	free(devs);
	return trunc ? EXIT_PARTIAL : 0;
}

const struct command command_ip = {
	.name = "ip",
	.summary = "network interfaces of every namespace (ip route, ip neigh: nfm route, arp -6)",
	.usage = "[-j] [-s] [addr|link [show] [[dev] NAME] | route | neigh]",
	.help = "  -s, --stats         the interfaces' counters too (ip -s link)\n",
	.run = cmd_ip,
};
const struct command command_ifconfig = {
	.name = "ifconfig",
	.summary = "alias of ip -s addr",
	.usage = "[-j] [-a] [NAME]",
	.help = "  -a, --all           every interface (always)\n"
		"  -s, --stats         accepted, always on (the counters are listed)\n",
	.run = cmd_ip,
};
