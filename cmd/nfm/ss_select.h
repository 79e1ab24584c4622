/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which sockets nfm ss lists, and in what order, as iproute2's ss decides (ss_select.c): its
 * tables and families from -t -u -x -4 -6, its states from -a -l or the tables' defaults, then
 * the listing with what -p, -x and a listener's Send-Q need beside each socket.
 */
#ifndef NFM_CMD_SS_SELECT_H
#define NFM_CMD_SS_SELECT_H

#include <stdbool.h>
#include <stdint.h>

struct cli;
struct nfm_socket;
struct nfm_socket_fd;

/* sk_state numbers (include/net/tcp_states.h), which ss's state filter is over */
#define ST_ESTABLISHED 1
#define ST_SYN_RECV 3
#define ST_TIME_WAIT 6
#define ST_CLOSE 7
#define ST_LISTEN 10
#define ST_NEW_SYN_RECV 12
#define SS_ALL_ 0xfffu		/* every state bit ss knows, UNKNOWN to CLOSING */

/* ss's socket tables ("dbs") and families */
enum { DB_TCP = 1, DB_UDP = 2, DB_USTR = 4, DB_UDGR = 8, DB_USEQ = 16 };
enum { FAM_INET = 1, FAM_INET6 = 2, FAM_UNIX = 4 };

struct filter {
	unsigned int dbs, families, states;
	bool is_default;	/* no -t -u -x -4 -6: every table, connected states */
	bool info, users, extended;
	bool timers, mem;		/* -o (and -e), -m */
};

/* -t, -u: a table and its default states (iproute2's filter_db_set) */
void ss_filter_db(struct filter *f, unsigned int dbs);
/* -x, -4, -6: a family and the connected states (filter_af_set) */
void ss_filter_family(struct filter *f, unsigned int fam);
/* After the options: state_filter is -a's or -l's (0: neither); the tables and families merged */
void ss_filter_finish(struct filter *f, unsigned int state_filter);
/* The sk_state ss filters and names a socket by (a unix socket's from nfm's St column) */
int ss_sock_state(const struct nfm_socket *s);

/* One listing: the sockets wanted in ss's order, with what -p and -x show beside them. */
struct listing {
	struct nfm_socket *socks;
	int n;
	int *order, norder;		/* indexes into socks: unix, then udp, then tcp */
	struct nfm_socket_fd *fds;	/* by socket index */
	int nfds;
	int *first_fd;			/* per socket: its first entry in fds (-1: none) */
	uint64_t *peer;			/* per socket: a unix socket's peer inode */
	uint32_t *sendq;		/* per socket: ss's Send-Q (a TCP listener's backlog limit) */
	bool fds_partial, peers_partial;	/* some fds, peers or backlogs did not read */
};

/* Fills l from l->socks/l->n (an nfm_socket_list): the order, fds, peers; 0 or -errno. */
int ss_listing_build(struct cli *cli, const struct filter *f, struct listing *l);
void ss_listing_free(struct listing *l);
/* The fds of socket i: *n of them from the returned entry (NULL: none). */
const struct nfm_socket_fd *ss_listing_fds(const struct listing *l, int i, int *n);

#endif
