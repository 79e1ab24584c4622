// SPDX-License-Identifier: GPL-2.0-or-later
/* Which sockets nfm ss lists and in what order: iproute2's rules (ss_select.h). */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <nfm/system.h>

#include "cli.h"
#include "ss_select.h"

#define SO_ACCEPTCON_ (1u << 16)

#define SS_CONN_ (SS_ALL_ & ~(1u << ST_LISTEN | 1u << ST_CLOSE | 1u << ST_TIME_WAIT | \
			      1u << ST_SYN_RECV))

/* iproute2's groups of tables */
#define DB_INET (DB_TCP | DB_UDP)
#define DB_UNIX (DB_USTR | DB_UDGR | DB_USEQ)

/* iproute2's default states of a table (ss.c default_dbs[]) */
static unsigned int db_states(unsigned int db)
{
	return db == DB_UDP ? 1u << ST_ESTABLISHED : db == DB_UDGR ? 1u << ST_CLOSE : SS_CONN_;
}

void ss_filter_db(struct filter *f, unsigned int dbs)
{
	unsigned int db;

	for (db = 1; db <= DB_USEQ; db <<= 1)
		if (dbs & db)
			f->states |= db_states(db);
	f->dbs |= dbs;
	f->is_default = false;
}

void ss_filter_family(struct filter *f, unsigned int fam)
{
	f->states |= SS_CONN_;	/* default_afs[]: inet, inet6 and unix alike */
	f->families |= fam;
	f->is_default = false;
}

/* ss's main(): the default, -a/-l over the tables' own states, filter_merge_defaults() */
void ss_filter_finish(struct filter *f, unsigned int state_filter)
{
	if (f->is_default) {
		state_filter = state_filter ? state_filter : SS_CONN_;
		f->dbs = DB_INET | DB_UNIX;
	}
	if (state_filter)
		f->states = state_filter;
	if ((f->dbs & DB_INET) && !(f->families & (FAM_INET | FAM_INET6)))
		f->families |= FAM_INET | FAM_INET6;
	if ((f->dbs & DB_UNIX) && !(f->families & FAM_UNIX))
		f->families |= FAM_UNIX;
	if ((f->families & (FAM_INET | FAM_INET6)) && !(f->dbs & DB_INET))
		f->dbs |= DB_INET;
	if ((f->families & FAM_UNIX) && !(f->dbs & DB_UNIX))
		f->dbs |= DB_UNIX;
}

/* The sk_state ss filters and names a socket by: unix sockets' from nfm's St column. */
int ss_sock_state(const struct nfm_socket *s)
{
	if (s->family == AF_UNIX)	/* SS_CONNECTING, SS_CONNECTED: TCP_ESTABLISHED */
		return s->unix_flags & SO_ACCEPTCON_ ? ST_LISTEN :
		       s->state == 2 || s->state == 3 ? ST_ESTABLISHED : ST_CLOSE;
	return s->state == ST_NEW_SYN_RECV ? ST_SYN_RECV : s->state;	/* as inet_diag */
}

static unsigned int ss_db(const struct nfm_socket *s)
{
	if (s->family == AF_UNIX)
		return s->type == SOCK_STREAM ? DB_USTR : s->type == SOCK_SEQPACKET ? DB_USEQ :
		       DB_UDGR;
	return s->protocol == IPPROTO_TCP ? DB_TCP : DB_UDP;
}

static bool wanted(const struct filter *f, const struct nfm_socket *s)
{
	unsigned int fam = s->family == AF_UNIX ? FAM_UNIX : s->family == AF_INET ? FAM_INET :
			   FAM_INET6;
	int st = ss_sock_state(s);

	return (f->dbs & ss_db(s)) && (f->families & fam) && st >= 0 && st < 12 &&
	       (f->states & (1u << st));
}

void ss_listing_free(struct listing *l)
{
	free(l->socks);
	free(l->order);
	free(l->fds);
	free(l->first_fd);
	free(l->peer);
	free(l->sendq);
}

int ss_listing_build(struct cli *cli, const struct filter *f, struct listing *l)
{
	/* iproute2's order: unix, udp, tcp; each inet table's IPv4 dump before its IPv6 one */
	static const struct {
		unsigned int db;
		int family;
	} pass[] = { { DB_UNIX, AF_UNIX }, { DB_UDP, AF_INET }, { DB_UDP, AF_INET6 },
		     { DB_TCP, AF_INET }, { DB_TCP, AF_INET6 } };
	size_t p;
	int i, k;

	l->order = malloc(((size_t)l->n + 1) * sizeof(int));
	l->first_fd = malloc(((size_t)l->n + 1) * sizeof(int));
	l->peer = calloc((size_t)l->n + 1, sizeof(uint64_t));
	l->sendq = calloc((size_t)l->n + 1, sizeof(uint32_t));
	if (!l->order || !l->first_fd || !l->peer || !l->sendq)
		return -ENOMEM;
	for (p = 0; p < sizeof(pass) / sizeof(pass[0]); p++)
		for (i = 0; i < l->n; i++)
			if ((ss_db(&l->socks[i]) & pass[p].db) &&
			    l->socks[i].family == pass[p].family && wanted(f, &l->socks[i]))
				l->order[l->norder++] = i;
	for (i = 0; i < l->n; i++)
		l->first_fd[i] = -1;
	/* the fds cost a second walk of every fd table: only when shown (-p, -j) */
	k = f->users || cli->json ? nfm_socket_fds(cli->ctx, l->socks, l->n, &l->fds,
						   &l->fds_partial) : 0;
	if (k < 0)
		return k;
	l->nfds = k;
	for (i = k - 1; i >= 0; i--)
		if (l->fds[i].sock >= 0 && l->fds[i].sock < l->n)
			l->first_fd[l->fds[i].sock] = i;
	for (i = 0; i < l->norder; i++) {
		int x = l->order[i];
		const struct nfm_socket *s = &l->socks[x];
		struct nfm_tcp_info ti;

		l->sendq[x] = s->tx_queue;
		if (s->family == AF_UNIX &&
		    nfm_socket_unix_peer(cli->ctx, s->sk, &l->peer[x]) < 0)
			l->peers_partial = true;
		/* inet_diag's Send-Q of a listener is its backlog limit (/proc/net/tcp's is 0) */
		if (s->protocol == IPPROTO_TCP && s->state == ST_LISTEN) {
			if (nfm_socket_tcp_info(cli->ctx, s->sk, &ti) == 0)
				l->sendq[x] = ti.sacked;
			else
				l->peers_partial = true;
		}
	}
	return 0;
}

const struct nfm_socket_fd *ss_listing_fds(const struct listing *l, int i, int *n)
{
	int j = l->first_fd[i];

	*n = 0;
	if (j < 0)
		return NULL;
	while (j + *n < l->nfds && l->fds[j + *n].sock == i)
		(*n)++;
	return &l->fds[j];
}
