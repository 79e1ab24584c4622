/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TopoLog: who talks to whom across a set of VMs, joined from each VM's socket table
 * (nfm topo, nfmd /api/topology). No guest access here: the join works on frames (one VM's
 * sockets and addresses, as nfm_socket_list and nfm_netdev_list return them), so that a unit
 * test builds them by hand and a bench times the join alone.
 *
 * The join (doc/topo.md has the long form):
 *   - a connection is a TCP socket in any state but LISTEN and CLOSE, or a connected UDP socket
 *     (remote port set), whose addresses are not loopback;
 *   - the two ends of a connection are found by their 4-tuple within one network: a network is
 *     a name the user gives each VM (--net VM=NAME; "default" otherwise), and within it an
 *     address belongs to the VM whose interface holds it. Two VMs of one network holding the
 *     same address make the view ambiguous: the graph says so (complete = false) and the user
 *     gives them separate networks;
 *   - the server end is the one whose local port has a listener (TCP LISTEN, an unconnected
 *     UDP socket) on its VM; when both or neither have one, the end with the lower port; a
 *     connection is counted once, from its client end when that end is in the set;
 *   - a remote address no VM of the network holds is an external node (one per address).
 */
#ifndef NFM_CMD_TOPO_H
#define NFM_CMD_TOPO_H

#include <json-c/json.h>
#include <nfm/system.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum topo_by { TOPO_BY_VM, TOPO_BY_PROCESS, TOPO_BY_SERVICE };

enum topo_kind { TOPO_NODE_VM, TOPO_NODE_PROCESS, TOPO_NODE_SERVICE, TOPO_NODE_EXTERNAL };

/* The number of TCP states (TCP_ESTABLISHED 1 .. TCP_NEW_SYN_RECV 12, index = sk_state). */
#define TOPO_NR_STATES 14

/* One VM's view at one crawl. Nothing here is copied: it must outlive topo_build's call. */
struct topo_frame {
	const char *vm;			/* the VM's name, unique in the set */
	const char *net;		/* its network's name; NULL: "default" */
	const struct nfm_socket *socks;
	int nr_socks;
	const struct nfm_netdev *devs;	/* its interfaces: the addresses it holds */
	int nr_devs;
	/* Per socket (parallel to socks), or NULL: bytes the socket sent and the peer acked
	 * (tcp_sock.bytes_acked) and bytes it received (bytes_received). UINT64_MAX: unknown. */
	const uint64_t (*bytes)[2];
	bool complete;			/* false: its socket or interface list was cut short */
	const char *error;		/* why not complete (or NULL) */
};

struct topo_node {
	char id[320];			/* "vm:NAME", "process:VM:PID", "service:VM:PROTO:PORT",
					   "external:ADDR" (+ "@NET" outside the default network) */
	enum topo_kind kind;
	int vm;				/* index of the frame, -1 for an external node */
	char vm_name[128];		/* the frame's name ("" for an external node) */
	char net[64];			/* its network's name */
	int pid;			/* process, service: the owner (0: none known) */
	char comm[16];
	int protocol;			/* service: IPPROTO_TCP, IPPROTO_UDP */
	uint16_t port;			/* service */
	int family;			/* external: AF_INET or AF_INET6 */
	uint8_t addr[16];		/* external: the address; service: the listener's */
};

struct topo_edge {
	int src, dst;			/* node indices: client -> server */
	int protocol;
	uint16_t port;			/* the server's port */
	unsigned int count;		/* connections */
	unsigned int states[TOPO_NR_STATES];	/* connections by the counted end's sk_state */
	bool bytes_known;		/* bytes_* are the sum over every connection */
	uint64_t bytes_to_dst, bytes_to_src;
	/* Set by the caller that compares two reads (nfm topo --watch): bytes per second each
	 * way over the interval, from each connection's counters at both reads. */
	bool rate_known;
	double rate_to_dst, rate_to_src;
};

struct topo_error {
	char view[160];
	char msg[256];
	int err;			/* -errno */
};

struct topo_graph {
	enum topo_by by;
	int nr_nodes, nr_edges, nr_errors;
	struct topo_node *nodes;	/* sorted by id */
	struct topo_edge *edges;	/* sorted by (src id, dst id, protocol, port) */
	struct topo_error *errors;
	bool complete;
	unsigned int nr_connections;
};

/*
 * Join nr frames into a graph at the level by. Returns 0 and *ret (the caller frees it with
 * topo_graph_free), -EINVAL on misuse, -ENOMEM. Deterministic: the same frames in any order
 * give the same graph.
 */
int topo_build(const struct topo_frame *frames, int nr, enum topo_by by, struct topo_graph **ret);
void topo_graph_free(struct topo_graph *g);
/* Whether the join uses a socket: a listener or a connection (the rules above). */
bool topo_socket_used(const struct nfm_socket *s);

/* "vm", "process", "service", "external"; and the --by words. */
const char *topo_kind_name(enum topo_kind k);
int topo_by_parse(const char *s, enum topo_by *ret);
const char *topo_by_name(enum topo_by by);

/* The node and edge objects of doc/schema/topo_node.json and topo_edge.json. */
struct json_object *obj_topo_node(const struct topo_graph *g, const struct topo_node *n);
struct json_object *obj_topo_edge(const struct topo_graph *g, const struct topo_edge *e);
/* Adds "by", "nr_connections", "nodes", "edges" to doc, and its errors (jdoc_error). */
void topo_json(const struct topo_graph *g, struct json_object *doc);

/*
 * The graph in Graphviz's DOT language: nodes and edges in the graph's (sorted) order, every
 * string escaped (guest bytes as \xNN), so equal graphs give equal text. 0, or 1 on a write
 * error.
 */
int topo_dot(const struct topo_graph *g, FILE *f);

/* An edge's states as ss names them, "ESTAB 3, TIME-WAIT 1", into buf. */
const char *topo_states_text(const struct topo_edge *e, char *buf, size_t size);
/* A node's label in a table or a picture: escaped, into buf. */
const char *topo_node_label(const struct topo_graph *g, const struct topo_node *n, char *buf,
			    size_t size);

#endif
