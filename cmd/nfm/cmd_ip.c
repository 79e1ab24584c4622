// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm ip addr / ip link (and ifconfig): every interface of every network namespace. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"

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
	inet_ntop(a->family, a->addr, buf, INET6_ADDRSTRLEN);
}

static struct json_object *dev_json(const struct nfm_netdev *d, bool with_addrs)
{
	struct json_object *o = json_object_new_object(), *fl = json_object_new_array(), *ai, *st;
	char b[128], sb[16];
	size_t i;
	int k;

	json_object_object_add(o, "netns", json_object_new_int64(d->netns));
	json_object_object_add(o, "ifindex", json_object_new_int(d->ifindex));
	json_object_object_add(o, "ifname", cli_json_bytes(d->name, strlen(d->name)));
	for (i = 0; i < sizeof(iff) / sizeof(iff[0]); i++)
		if (d->flags & iff[i].bit)
			json_object_array_add(fl, json_object_new_string(iff[i].name));
	json_object_object_add(o, "flags", fl);
	json_object_object_add(o, "flags_raw", json_object_new_int64(d->flags));
	json_object_object_add(o, "mtu", json_object_new_int64(d->mtu));
	json_object_object_add(o, "qdisc", cli_json_bytes(d->qdisc, strlen(d->qdisc)));
	json_object_object_add(o, "operstate", json_object_new_string(
		d->operstate >= 0 && d->operstate <= 6 ? oper[d->operstate] : "UNKNOWN"));
	json_object_object_add(o, "txqlen", json_object_new_int64(d->txqlen));
	json_object_object_add(o, "link_type", json_object_new_string(link_type(d->type)));
	json_object_object_add(o, "address", json_object_new_string(hw(d->addr, d->addr_len, b)));
	json_object_object_add(o, "broadcast", json_object_new_string(hw(d->broadcast, d->addr_len, b)));
	st = json_object_new_object();
#define S(k) json_object_object_add(st, #k, json_object_new_int64((int64_t)d->stats.k))
	S(rx_bytes); S(rx_packets); S(rx_errors); S(rx_dropped); S(rx_fifo); S(rx_frame);
	S(rx_compressed); S(multicast); S(tx_bytes); S(tx_packets); S(tx_errors); S(tx_dropped);
	S(tx_fifo); S(collisions); S(tx_carrier); S(tx_compressed);
#undef S
	json_object_object_add(o, "stats", st);
	json_object_object_add(o, "stats_exact", json_object_new_boolean(d->stats_exact));
	if (!with_addrs)
		return o;
	ai = json_object_new_array();
	for (k = 0; k < d->nr_addrs; k++) {
		const struct nfm_ifaddr *a = &d->addrs[k];
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "family", json_object_new_string(a->family == AF_INET ? "inet" : "inet6"));
		addr_str(a, b);
		json_object_object_add(x, "local", json_object_new_string(b));
		json_object_object_add(x, "prefixlen", json_object_new_int(a->prefixlen));
		if (a->family == AF_INET) {
			inet_ntop(AF_INET, a->broadcast, b, sizeof(b));
			json_object_object_add(x, "broadcast", json_object_new_string(b));
			json_object_object_add(x, "label", cli_json_bytes(a->label, strlen(a->label)));
		}
		json_object_object_add(x, "scope", json_object_new_string(scope_name(a->scope, sb)));
		json_object_object_add(x, "flags_raw", json_object_new_int64(a->flags));
		json_object_array_add(ai, x);
	}
	json_object_object_add(o, "addr_info", ai);
	return o;
}

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
	for (k = 0; with_addrs && k < d->nr_addrs; k++) {
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

int cmd_ip(struct cli *cli, int argc, char **argv)
{
	struct nfm_netdev *devs;
	const char *only = NULL;
	bool addrs = true, stats = false, trunc = false, found = false;
	uint32_t last_ns = 0;
	int n, i, a = 1;

	if (!strcmp(argv[0], "ifconfig"))
		stats = true;
	for (; a < argc; a++) {
		const char *w = argv[a];

		if (!strcmp(w, "show") || (!only && (!strcmp(w, "addr") || !strcmp(w, "a") ||
						     !strcmp(w, "address"))))
			continue;
		if (!only && (!strcmp(w, "link") || !strcmp(w, "l")))
			addrs = false;
		else if (!strcmp(w, "-s"))
			stats = true;
		else if (!strcmp(w, "dev") && a + 1 < argc)
			only = argv[++a];
		else if (w[0] != '-' && !only)
			only = w;
		else
			return cli_fail("usage: nfm ip [-j] [-s] addr|link [show] [dev NAME]");
	}
	if (cli_attach(cli))
		return 1;
	n = nfm_netdev_list(cli->ctx, &devs, &trunc);
	if (n < 0)
		return cli_fail("cannot list the guest's interfaces: %s",
				cli->last_error[0] ? cli->last_error : strerror(-n));
	if (cli->json) {
		struct json_object *arr = json_object_new_array();

		for (i = 0; i < n; i++)
			if (!only || !strcmp(only, devs[i].name)) {
				json_object_array_add(arr, dev_json(&devs[i], addrs));
				found = true;
			}
		free(devs);
		if (only && !found) {
			json_object_put(arr);
			return cli_fail("interface '%s' not found in the guest", cli_esc(only));
		}
		return cli_print_json(cli, arr) || trunc;
	}
	for (i = 0; i < n; i++) {
		if (only && strcmp(only, devs[i].name))
			continue;
		if (devs[i].netns != last_ns && (i > 0 || n > 1) &&
		    (i == 0 ? devs[n - 1].netns != devs[0].netns : 1))
			printf("netns %" PRIu32 ":\n", devs[i].netns);
		last_ns = devs[i].netns;
		dev_text(&devs[i], addrs, stats);
		found = true;
	}
	free(devs);
	if (only && !found)
		return cli_fail("interface '%s' not found in the guest", cli_esc(only));
	if (trunc)
		return cli_fail("the interface list was cut short (guest data changed or inconsistent)");
	return 0;
}

const struct command command_ip = {
	.name = "ip",
	.summary = "network interfaces of every namespace",
	.usage = "[-j] [-s] addr|link [show] [dev NAME]",
	.run = cmd_ip,
};
const struct command command_ifconfig = {
	.name = "ifconfig",
	.summary = "alias of ip -s addr",
	.usage = "[-j] [NAME]",
	.run = cmd_ip,
};
