// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * TopoLog's join (cmd/common/topo.h) on synthetic frames: exact nodes and edges at each level,
 * the server/client rule, external peers, networks that reuse addresses, byte counters, frame
 * order independence and the DOT text (escaped, deterministic). With --dump FILE, one topo
 * document for the schema test (cmd-topo-schema).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "jout.h"
#include "topo.h"
#include "topo_ports.h"

#define ESTAB 1
#define TIME_WAIT 6
#define UNCONN 7
#define LISTEN 10

static struct nfm_socket sock(int proto, int state, const char *la, int lp, const char *ra, int rp,
			      int pid, const char *comm)
{
	struct nfm_socket s;

	memset(&s, 0, sizeof(s));
	s.family = strchr(la, ':') ? AF_INET6 : AF_INET;
	s.protocol = proto;
	s.type = proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	s.state = state;
	assert_int_equal(inet_pton(s.family, la, s.laddr), 1);
	assert_int_equal(inet_pton(s.family, ra, s.raddr), 1);
	s.lport = (uint16_t)lp;
	s.rport = (uint16_t)rp;
	if (pid) {
		s.nr_owners = 1;
		s.owner_pid[0] = pid;
		snprintf(s.owner_comm[0], sizeof(s.owner_comm[0]), "%s", comm);
	}
	return s;
}

static struct nfm_netdev dev(const char *addr)
{
	struct nfm_netdev d;

	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "eth0");
	d.nr_addrs = 1;
	d.addrs[0].family = AF_INET;
	d.addrs[0].prefixlen = 24;
	assert_int_equal(inet_pton(AF_INET, addr, d.addrs[0].addr), 1);
	return d;
}

/* The fleet: client a (10.0.0.1), server b (10.0.0.2). */
static struct nfm_socket a_socks[8], b_socks[8];
static struct nfm_netdev a_dev, b_dev;
static uint64_t a_bytes[8][2], b_bytes[8][2];

static void fleet(struct topo_frame f[2])
{
	int i;

	a_dev = dev("10.0.0.1");
	b_dev = dev("10.0.0.2");
	/* a: wget -> b:80 (both ends seen), nslookup -> 8.8.8.8:53 (UDP, connected), a listener
	 * that nobody uses, a loopback connection (not an edge). */
	a_socks[0] = sock(IPPROTO_TCP, ESTAB, "10.0.0.1", 40000, "10.0.0.2", 80, 50, "wget");
	a_socks[1] = sock(IPPROTO_UDP, ESTAB, "10.0.0.1", 33333, "8.8.8.8", 53, 51, "nslookup");
	a_socks[2] = sock(IPPROTO_TCP, LISTEN, "0.0.0.0", 22, "0.0.0.0", 0, 1, "sshd");
	a_socks[3] = sock(IPPROTO_TCP, ESTAB, "127.0.0.1", 5000, "127.0.0.1", 6000, 52, "lo");
	/* b: httpd listening on 80, its end of wget's connection, an old connection from a in
	 * TIME_WAIT (only b's end exists), an external client, a UDP listener on 514. */
	b_socks[0] = sock(IPPROTO_TCP, LISTEN, "0.0.0.0", 80, "0.0.0.0", 0, 100, "httpd");
	b_socks[1] = sock(IPPROTO_TCP, ESTAB, "10.0.0.2", 80, "10.0.0.1", 40000, 100, "httpd");
	b_socks[2] = sock(IPPROTO_TCP, TIME_WAIT, "10.0.0.2", 80, "10.0.0.1", 39999, 0, "");
	b_socks[3] = sock(IPPROTO_TCP, ESTAB, "10.0.0.2", 80, "192.0.2.9", 5555, 101, "httpd");
	b_socks[4] = sock(IPPROTO_UDP, UNCONN, "0.0.0.0", 514, "0.0.0.0", 0, 102, "syslogd");
	/* a's logger sends to b's syslogd: connected on a's side only */
	a_socks[4] = sock(IPPROTO_UDP, ESTAB, "10.0.0.1", 41000, "10.0.0.2", 514, 53, "logger");
	for (i = 0; i < 8; i++) {
		a_bytes[i][0] = 1000 + (uint64_t)i;
		a_bytes[i][1] = 2000 + (uint64_t)i;
		b_bytes[i][0] = 3000 + (uint64_t)i;
		b_bytes[i][1] = 4000 + (uint64_t)i;
	}
	memset(f, 0, 2 * sizeof(*f));
	f[0] = (struct topo_frame){ .vm = "a", .socks = a_socks, .nr_socks = 5, .devs = &a_dev,
				    .nr_devs = 1, .complete = true };
	f[1] = (struct topo_frame){ .vm = "b", .socks = b_socks, .nr_socks = 5, .devs = &b_dev,
				    .nr_devs = 1, .complete = true };
}

/* "src -> dst proto/port count" lines of every edge, and the node ids, in one string. */
static char *summary(const struct topo_graph *g)
{
	static char buf[8192];
	size_t n = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < g->nr_nodes; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "N %s\n", g->nodes[i].id);
	for (i = 0; i < g->nr_edges; i++) {
		const struct topo_edge *e = &g->edges[i];
		char st[128];

		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "E %s -> %s %s/%u x%u [%s]\n",
				      g->nodes[e->src].id, g->nodes[e->dst].id,
				      e->protocol == IPPROTO_TCP ? "tcp" : "udp", e->port, e->count,
				      topo_states_text(e, st, sizeof(st)));
	}
	return buf;
}

static void test_by_vm(void **state)
{
	struct topo_frame f[2];
	struct topo_graph *g;

	(void)state;
	fleet(f);
	assert_int_equal(topo_build(f, 2, TOPO_BY_VM, &g), 0);
	assert_true(g->complete);
	assert_string_equal(summary(g),
		"N external:192.0.2.9\n"
		"N external:8.8.8.8\n"
		"N vm:a\n"
		"N vm:b\n"
		"E external:192.0.2.9 -> vm:b tcp/80 x1 [ESTAB 1]\n"
		"E vm:a -> external:8.8.8.8 udp/53 x1 [ESTAB 1]\n"
		"E vm:a -> vm:b tcp/80 x2 [ESTAB 1, TIME-WAIT 1]\n"
		"E vm:a -> vm:b udp/514 x1 [ESTAB 1]\n");
	assert_int_equal(g->nr_connections, 5);
	topo_graph_free(g);
}

static void test_by_process_and_service(void **state)
{
	struct topo_frame f[2];
	struct topo_graph *g;

	(void)state;
	fleet(f);
	assert_int_equal(topo_build(f, 2, TOPO_BY_PROCESS, &g), 0);
	assert_string_equal(summary(g),
		"N external:192.0.2.9\n"
		"N external:8.8.8.8\n"
		"N process:a:0\n"
		"N process:a:50\n"
		"N process:a:51\n"
		"N process:a:53\n"
		"N process:b:100\n"
		"N process:b:101\n"
		"N process:b:102\n"
		"E external:192.0.2.9 -> process:b:101 tcp/80 x1 [ESTAB 1]\n"
		"E process:a:0 -> process:b:100 tcp/80 x1 [TIME-WAIT 1]\n"
		"E process:a:50 -> process:b:100 tcp/80 x1 [ESTAB 1]\n"
		"E process:a:51 -> external:8.8.8.8 udp/53 x1 [ESTAB 1]\n"
		"E process:a:53 -> process:b:102 udp/514 x1 [ESTAB 1]\n");
	/* the TIME_WAIT end has no process: the server is the listener's (httpd 100) */
	assert_string_equal(g->nodes[6].comm, "httpd");
	topo_graph_free(g);

	assert_int_equal(topo_build(f, 2, TOPO_BY_SERVICE, &g), 0);
	assert_string_equal(summary(g),
		"N external:192.0.2.9\n"
		"N external:8.8.8.8\n"
		"N process:a:0\n"
		"N process:a:50\n"
		"N process:a:51\n"
		"N process:a:53\n"
		"N service:b:tcp:80\n"
		"N service:b:udp:514\n"
		"E external:192.0.2.9 -> service:b:tcp:80 tcp/80 x1 [ESTAB 1]\n"
		"E process:a:0 -> service:b:tcp:80 tcp/80 x1 [TIME-WAIT 1]\n"
		"E process:a:50 -> service:b:tcp:80 tcp/80 x1 [ESTAB 1]\n"
		"E process:a:51 -> external:8.8.8.8 udp/53 x1 [ESTAB 1]\n"
		"E process:a:53 -> service:b:udp:514 udp/514 x1 [ESTAB 1]\n");
	/* a service is its listener's process */
	assert_int_equal(g->nodes[6].pid, 100);
	assert_int_equal(g->nodes[7].pid, 102);
	assert_string_equal(g->nodes[7].comm, "syslogd");
	topo_graph_free(g);
}

static char *json_text(const struct topo_graph *g)
{
	struct json_object *doc = jdoc_new("topo");
	char *s;

	topo_json(g, doc);
	s = strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
	json_object_put(doc);
	return s;
}

static char *dot_text(const struct topo_graph *g)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	assert_int_equal(topo_dot(g, f), 0);
	fclose(f);
	return buf;
}

/* The same frames in the other order give the same graph, JSON and DOT. */
static void test_order(void **state)
{
	struct topo_frame f[2], r[2];
	struct topo_graph *g1, *g2;
	char *j1, *j2, *d1, *d2;

	(void)state;
	fleet(f);
	r[0] = f[1];
	r[1] = f[0];
	assert_int_equal(topo_build(f, 2, TOPO_BY_SERVICE, &g1), 0);
	assert_int_equal(topo_build(r, 2, TOPO_BY_SERVICE, &g2), 0);
	j1 = json_text(g1);
	j2 = json_text(g2);
	assert_string_equal(j1, j2);
	d1 = dot_text(g1);
	d2 = dot_text(g2);
	assert_string_equal(d1, d2);
	assert_non_null(strstr(d1, "\t\"process:a:50\" -> \"service:b:tcp:80\" [label=\"tcp/80 x1\""));
	free(j1);
	free(j2);
	free(d1);
	free(d2);
	topo_graph_free(g1);
	topo_graph_free(g2);
}

/* Two networks reusing 10.0.0.0/24: with --net they are told apart, without they are not. */
static void test_networks(void **state)
{
	struct topo_frame f[4];
	struct topo_graph *g;

	(void)state;
	fleet(f);
	f[2] = f[0];
	f[3] = f[1];
	f[2].vm = "c";
	f[3].vm = "d";
	assert_int_equal(topo_build(f, 4, TOPO_BY_VM, &g), 0);
	assert_false(g->complete);
	assert_int_equal(g->nr_errors, 2);
	assert_int_equal(g->errors[0].err, -ENOTUNIQ);
	assert_string_equal(g->errors[0].msg,
		"10.0.0.1 is held by VMs a and c of network default: give them separate networks (--net VM=NAME)");
	topo_graph_free(g);

	f[2].net = f[3].net = "blue";
	assert_int_equal(topo_build(f, 4, TOPO_BY_VM, &g), 0);
	assert_true(g->complete);
	assert_string_equal(summary(g),
		"N external:192.0.2.9\n"
		"N external:192.0.2.9@blue\n"
		"N external:8.8.8.8\n"
		"N external:8.8.8.8@blue\n"
		"N vm:a\n"
		"N vm:b\n"
		"N vm:c\n"
		"N vm:d\n"
		"E external:192.0.2.9 -> vm:b tcp/80 x1 [ESTAB 1]\n"
		"E external:192.0.2.9@blue -> vm:d tcp/80 x1 [ESTAB 1]\n"
		"E vm:a -> external:8.8.8.8 udp/53 x1 [ESTAB 1]\n"
		"E vm:a -> vm:b tcp/80 x2 [ESTAB 1, TIME-WAIT 1]\n"
		"E vm:a -> vm:b udp/514 x1 [ESTAB 1]\n"
		"E vm:c -> external:8.8.8.8@blue udp/53 x1 [ESTAB 1]\n"
		"E vm:c -> vm:d tcp/80 x2 [ESTAB 1, TIME-WAIT 1]\n"
		"E vm:c -> vm:d udp/514 x1 [ESTAB 1]\n");
	topo_graph_free(g);
}

/* Bytes: from the client end when it is in the set, else the server's reversed. */
static void test_bytes(void **state)
{
	struct topo_frame f[2];
	struct topo_graph *g;

	(void)state;
	fleet(f);
	f[0].bytes = (const uint64_t (*)[2])a_bytes;
	f[1].bytes = (const uint64_t (*)[2])b_bytes;
	assert_int_equal(topo_build(f, 2, TOPO_BY_VM, &g), 0);
	/* external:192.0.2.9 -> b: b's socket 3 reversed */
	assert_true(g->edges[0].bytes_known);
	assert_int_equal(g->edges[0].bytes_to_dst, 4003);
	assert_int_equal(g->edges[0].bytes_to_src, 3003);
	/* a -> b tcp/80: a's socket 0 (sent 1000, received 2000) + b's TIME_WAIT socket 2 reversed */
	assert_int_equal(g->edges[2].bytes_to_dst, 1000 + 4002);
	assert_int_equal(g->edges[2].bytes_to_src, 2000 + 3002);
	topo_graph_free(g);
	/* one unknown counter makes the edge's sum unknown */
	a_bytes[0][0] = UINT64_MAX;
	assert_int_equal(topo_build(f, 2, TOPO_BY_VM, &g), 0);
	assert_false(g->edges[2].bytes_known);
	assert_true(g->edges[1].bytes_known);
	topo_graph_free(g);
}

/* Hostile names: DOT and labels escape control bytes and quotes. */
static void test_escape(void **state)
{
	struct topo_frame f[2];
	struct topo_graph *g;
	char *d, label[256];

	(void)state;
	fleet(f);
	snprintf(a_socks[0].owner_comm[0], 16, "x\"\x1b[2J\\");
	f[0].vm = "evil\"vm";
	assert_int_equal(topo_build(f, 2, TOPO_BY_PROCESS, &g), 0);
	d = dot_text(g);
	assert_null(strchr(d, '\x1b'));
	assert_non_null(strstr(d, "\"process:evil\\\"vm:50\" [label=\"evil\\\"vm/x\\\"\\\\x1b[2J\\\\\\\\[50]\""));
	assert_string_equal(g->nodes[6].id, "process:evil\"vm:50");
	assert_string_equal(topo_node_label(g, &g->nodes[6], label, sizeof(label)),
			    "evil\"vm/x\"\\x1b[2J\\\\[50]");
	free(d);
	topo_graph_free(g);
}

/* Misuse and a partial frame. */
static void test_errors(void **state)
{
	struct topo_frame f[2];
	struct topo_graph *g = NULL;

	(void)state;
	fleet(f);
	assert_int_equal(topo_build(NULL, 2, TOPO_BY_VM, &g), -EINVAL);
	f[1].vm = NULL;
	assert_int_equal(topo_build(f, 2, TOPO_BY_VM, &g), -EINVAL);
	assert_null(g);
	fleet(f);
	f[1].complete = false;
	f[1].error = "the socket list was cut short";
	assert_int_equal(topo_build(f, 2, TOPO_BY_VM, &g), 0);
	assert_false(g->complete);
	assert_int_equal(g->nr_errors, 1);
	assert_string_equal(g->errors[0].view, "vm b");
	topo_graph_free(g);
	assert_int_equal(topo_build(f, 0, TOPO_BY_VM, &g), 0);
	assert_int_equal(g->nr_nodes, 0);
	assert_int_equal(g->nr_edges, 0);
	topo_graph_free(g);
}

/* nfm_topology_connections's ports of a pair: most used first (ties: lower port), ten at most,
 * the rest summed into "other"; one port's TCP and UDP edges add up. */
static void test_pair_ports(void **state)
{
	struct topo_edge e[15];
	struct topo_graph g = { .edges = e };
	struct topo_port_count scratch[15];
	struct topo_pair_ports pp;
	int i, next;

	(void)state;
	memset(e, 0, sizeof(e));
	/* pair 0 -> 1: ports 1000..1011, port 1000+k with k % 4 + 1 connections */
	for (i = 0; i < 12; i++)
		e[i] = (struct topo_edge){ .src = 0, .dst = 1, .protocol = IPPROTO_TCP,
					   .port = (uint16_t)(1000 + i), .count = (unsigned)(i % 4 + 1) };
	/* pair 0 -> 2: port 53 over TCP (2) and UDP (3), port 80 (5) */
	e[12] = (struct topo_edge){ .src = 0, .dst = 2, .protocol = IPPROTO_TCP, .port = 53, .count = 2 };
	e[13] = (struct topo_edge){ .src = 0, .dst = 2, .protocol = IPPROTO_UDP, .port = 53, .count = 3 };
	e[14] = (struct topo_edge){ .src = 0, .dst = 2, .protocol = IPPROTO_TCP, .port = 80, .count = 5 };
	g.nr_edges = 15;

	next = topo_pair_ports(&g, 0, scratch, &pp);
	assert_int_equal(next, 12);
	assert_int_equal(pp.src, 0);
	assert_int_equal(pp.dst, 1);
	assert_int_equal(pp.nr, TOPO_PORTS_PER_PAIR);
	/* counts 4 (1003, 1007, 1011), 3 (1002, 1006, 1010), 2 (1001, 1005, 1009), 1 (1000, ...) */
	static const unsigned want_port[] = { 1003, 1007, 1011, 1002, 1006, 1010, 1001, 1005, 1009, 1000 };
	static const unsigned want_n[] = { 4, 4, 4, 3, 3, 3, 2, 2, 2, 1 };
	for (i = 0; i < TOPO_PORTS_PER_PAIR; i++) {
		assert_int_equal(pp.top[i].port, want_port[i]);
		assert_int_equal(pp.top[i].count, want_n[i]);
	}
	assert_true(pp.has_other);
	assert_int_equal(pp.other, 2);	/* 1004 and 1008: one each */

	next = topo_pair_ports(&g, next, scratch, &pp);
	assert_int_equal(next, 15);
	assert_int_equal(pp.dst, 2);
	assert_int_equal(pp.nr, 2);
	assert_int_equal(pp.top[0].port, 53);
	assert_int_equal(pp.top[0].count, 5);
	assert_int_equal(pp.top[1].port, 80);
	assert_int_equal(pp.top[1].count, 5);
	assert_false(pp.has_other);
	assert_int_equal(pp.other, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_by_vm),
		cmocka_unit_test(test_by_process_and_service),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_networks),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_pair_ports),
	};

	if (argc == 3 && !strcmp(argv[1], "--dot")) {
		/* the hostile-name graph of test_escape as DOT, for dot -Tsvg (cmd-topo-svg) */
		struct topo_frame f[2];
		struct topo_graph *g;
		FILE *out = fopen(argv[2], "w");

		if (!out)
			return 1;
		fleet(f);
		snprintf(a_socks[0].owner_comm[0], 16, "x\"\x1b[2J\\");
		f[0].vm = "evil\"vm";
		if (topo_build(f, 2, TOPO_BY_SERVICE, &g) || topo_dot(g, out))
			return 1;
		topo_graph_free(g);
		return fclose(out) ? 1 : 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--dump")) {
		/* one document of each level, JSON Lines, for scripts/validate-json topo */
		struct topo_frame f[2];
		FILE *out = fopen(argv[2], "w");
		int by;

		if (!out)
			return 1;
		fleet(f);
		f[0].bytes = (const uint64_t (*)[2])a_bytes;
		for (by = TOPO_BY_VM; by <= TOPO_BY_SERVICE; by++) {
			struct topo_graph *g;
			struct json_object *doc = jdoc_new("topo");

			if (topo_build(f, 2, (enum topo_by)by, &g))
				return 1;
			topo_json(g, doc);
			fprintf(out, "%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
			json_object_put(doc);
			topo_graph_free(g);
		}
		return fclose(out) ? 1 : 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
