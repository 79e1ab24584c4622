// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm ip addr / link / route / neigh (and ifconfig): every network namespace, in iproute2's
 * layouts (-br, -4/-6, -s); -J prints iproute2's own JSON shape (ip_show.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"
#include "ip_show.h"
#include "jout.h"
#include "objects.h"

static const char *const oper[] = { "UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING",
				    "DORMANT", "UP" };

static const char *oper_name(const struct nfm_netdev *d)
{
	return d->operstate >= 0 && d->operstate <= 6 ? oper[d->operstate] : "UNKNOWN";
}

/* print_ifa_flags() of iproute2 6.1: the IFA_F_* names in its order ("dynamic" for an address
 * that is not permanent) */
static void ifa_flags_print(const struct nfm_ifaddr *a)
{
	static const struct { unsigned int bit; const char *name; bool v6only; } f[] = {
		{ 0x01, "secondary", false }, { 0x01, "temporary", true }, { 0x02, "nodad", true },
		{ 0x04, "optimistic", true }, { 0x08, "dadfailed", true }, { 0x10, "home", true },
		{ 0x20, "deprecated", true }, { 0x40, "tentative", true }, { 0x80, NULL, false },
		{ 0x100, "mngtmpaddr", true }, { 0x200, "noprefixroute", false },
		{ 0x400, "autojoin", false }, { 0x800, "stable-privacy", true },
	};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		/* IFA_F_SECONDARY is "secondary" for IPv4, "temporary" for IPv6 */
		if (f[i].v6only ? a->family != AF_INET6 : f[i].bit == 0x01 && a->family != AF_INET)
			continue;
		if (!f[i].name) {
			if (!(a->flags & f[i].bit))
				printf(" dynamic");
		} else if (a->flags & f[i].bit) {
			printf(" %s", f[i].name);
		}
	}
}

/* One interface as ip addr / ip link prints it (-s: its counters as ip -s link). */
static void dev_text(const struct nfm_netdev *d, bool with_addrs, int family, bool stats)
{
	char b[128], sb[16];
	int k;

	printf("%d: %s: ", d->ifindex, cli_esc(d->name));
	ip_flags_print(d->flags);
	printf(" mtu %u qdisc %s state %s qlen %u\n", d->mtu,
	       d->qdisc[0] ? cli_esc(d->qdisc) : "noop", oper_name(d), d->txqlen);
	ip_hw(d->type, d->addr, d->addr_len, b);
	printf("    link/%s %s", ip_link_type(d->type), b);
	ip_hw(d->type, d->broadcast, d->addr_len, b);
	printf(" brd %s\n", b);
	for (k = 0; with_addrs && k < d->nr_addrs && k < NFM_NETDEV_MAX_ADDRS; k++) {
		const struct nfm_ifaddr *a = &d->addrs[k];

		if (family && a->family != family)
			continue;
		if (!inet_ntop(a->family, a->addr, b, sizeof(b)))
			b[0] = 0;
		printf("    %s %s/%d", a->family == AF_INET ? "inet" : "inet6", b, a->prefixlen);
		if (a->family == AF_INET && (a->broadcast[0] | a->broadcast[1] | a->broadcast[2] | a->broadcast[3])) {
			inet_ntop(AF_INET, a->broadcast, b, sizeof(b));
			printf(" brd %s", b);
		}
		printf(" scope %s", ip_scope_name(a->scope, sb));
		ifa_flags_print(a);
		if (a->family == AF_INET)
			printf(" %s", cli_esc(a->label));
		printf("\n");
		/* a permanent address never expires; the lifetimes of others are not read */
		if (a->flags & IP_IFA_F_PERMANENT)
			printf("       valid_lft forever preferred_lft forever\n");
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

/* iproute2's single-dash words (-br, -brief, -family, -stats...) that getopt would split into
 * letters: taken out of argv before the options are parsed */
static int ip_words(struct cli *cli, int *argc, char **argv, bool *brief, int *family)
{
	int i, o = 1;

	for (i = 1; i < *argc; i++) {
		const char *w = argv[i];

		if (w[0] != '-') {
			while (i < *argc)
				argv[o++] = argv[i++];
			break;
		}
		if (!strcmp(w, "-br") || !strcmp(w, "-brief") || !strcmp(w, "--brief")) {
			*brief = true;
		} else if (!strcmp(w, "-stats") || !strcmp(w, "-statistics")) {
			argv[o++] = "-s";
		} else if (!strcmp(w, "-f") || !strcmp(w, "-family")) {
			if (++i == *argc)
				return cli_usage_error(cli, "'%s' needs inet or inet6", w);
			if (strcmp(argv[i], "inet") && strcmp(argv[i], "inet6"))
				return cli_usage_error(cli, "'%s': nfm reads the inet and inet6 families",
						       cli_esc(argv[i]));
			*family = strcmp(argv[i], "inet") ? AF_INET6 : AF_INET;
		} else {
			argv[o++] = argv[i];
		}
	}
	argv[o] = NULL;
	*argc = o;
	return 0;
}

static int show_devs(struct cli *cli, const char *only, bool addrs, int family, bool stats,
		     bool brief, bool ipjson)
{
	struct json_object *arr = NULL;
	struct nfm_netdev *devs;
	bool trunc = false, found = false;
	uint32_t last_ns = 0;
	int n, i;

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
	if (cli->json && !ipjson) {
		struct json_object *doc = jdoc_new("ip"), *a = json_object_new_array();

		for (i = 0; i < n; i++)
			if (!only || !strcmp(only, devs[i].name))
				json_object_array_add(a, obj_interface(&devs[i], addrs));
		j_add(doc, "interfaces", a);
		if (trunc)
			jdoc_error(doc, "interfaces", -EBADMSG, "the interface list was cut short");
		free(devs);
		return cli_print_json(cli, doc) ?: trunc ? EXIT_PARTIAL : 0;
	}
	if (ipjson)
		arr = json_object_new_array();
	for (i = 0; i < n; i++) {
		if ((only && strcmp(only, devs[i].name)) || (addrs && !ip_dev_wanted(&devs[i], family)))
			continue;
		if (ipjson) {
			json_object_array_add(arr, ip_json_dev(&devs[i], addrs, family, oper_name(&devs[i]),
							       ip_flags_json(devs[i].flags)));
			continue;
		}
		if (devs[i].netns != last_ns && (i > 0 || n > 1) &&
		    (i == 0 ? devs[n - 1].netns != devs[0].netns : 1))
			printf("netns %" PRIu32 ":\n", devs[i].netns);
		last_ns = devs[i].netns;
		if (brief)
			ip_brief(&devs[i], addrs, family, oper_name(&devs[i]));
		else
			dev_text(&devs[i], addrs, family, stats);
	}
	free(devs);
	if (ipjson && cli_print_json(cli, arr))
		return 1;
	return trunc ? EXIT_PARTIAL : 0;
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
		{ "iproute2-json", no_argument, NULL, 'J' },
		{ 0 }
	};
	static const struct option ifconfig_longopts[] = {
		{ "stats", no_argument, NULL, 's' },
		{ "all", no_argument, NULL, 'a' },
		{ 0 }
	};
	bool ifconfig = cli->cmd == &command_ifconfig;
	const char *only = NULL;
	bool addrs = true, stats = ifconfig, brief = false, ipjson = false;
	int a, c, family = 0;
	enum { DEVS, ROUTE, NEIGH } what = DEVS;

	if (!ifconfig && ip_words(cli, &argc, argv, &brief, &family))
		return 2;
	while ((c = cli_getopt(cli, argc, argv, ifconfig ? "sa" : "s46J",
			       ifconfig ? ifconfig_longopts : ip_longopts)) != -1) {
		switch (c) {
		case 's':
			stats = true;
			break;
		case '4':
			family = AF_INET;
			break;
		case '6':
			family = AF_INET6;
			break;
		case 'J':
			ipjson = true;
			break;
		case 'a':
			break;	/* ifconfig -a: every interface, as always */
		default:
			return cli_opt_status(cli);
		}
	}
	a = optind;
	if (!ifconfig && a < argc) {
		if (word_is(argv[a], route_w)) {
			what = ROUTE;
			a++;
		} else if (word_is(argv[a], neigh_w)) {
			what = NEIGH;
			a++;
		} else if (word_is(argv[a], link_w)) {
			addrs = false;
			a++;
		} else if (word_is(argv[a], addr_w)) {
			a++;
		}
		if (a < argc && word_is(argv[a], show_w))
			a++;
		if (what == DEVS && a < argc && !strcmp(argv[a], "dev") && ++a == argc)
			return cli_usage_error(cli, "'dev' needs an interface name");
	}
	if (what != DEVS && a < argc)
		return cli_usage_error(cli, "'%s': nfm ip %s takes no selector", cli_esc(argv[a]),
				       what == ROUTE ? "route" : "neigh");
	if (a < argc)
		only = argv[a++];
	if (a < argc)
		return cli_usage_error(cli, "unexpected '%s'", cli_esc(argv[a]));
	if (what == ROUTE)
		return cli->json && !ipjson ? cli_run(cli, &command_route, 1, (char *[]){ "route", NULL })
					   : ip_route_show(cli, family, ipjson);
	if (what == NEIGH)
		return cli->json && !ipjson ? cli_run(cli, &command_arp, 2, (char *[]){ "arp", "-6", NULL })
					   : ip_neigh_show(cli, family, ipjson);
	return show_devs(cli, only, addrs, family, stats, brief, ipjson);
}

const struct command command_ip = {
	.name = "ip",
	.summary = "network interfaces, routes and neighbours of every namespace (iproute2's layouts)",
	.usage = "[-j|-J] [-s] [-4|-6] [-br] [addr|link [show] [[dev] NAME] | route | neigh]",
	.help = "  -s, --stats         the interfaces' counters too (ip -s link)\n"
		"  -4, -6              only that family's addresses, routes, neighbours (-f inet|inet6)\n"
		"  -br, -brief         one line per interface (ip -br addr / ip -br link)\n"
		"  -J, --iproute2-json iproute2's own JSON shape (ip -j of iproute2 6.1); -j is nfm's\n"
		"                      schema (interface, route, neighbour objects)\n"
		"ip route: the IPv4 main table, as iproute2 prints it (no 'src': the preferred source\n"
		"is not read; ip -6 route is not offered). ip neigh: iproute2's lines, NOARP entries\n"
		"hidden as ip neigh hides them.\n",
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
