// SPDX-License-Identifier: GPL-2.0-or-later
/* ss -o, -m and the unix part of -e: iproute2 6.1's words and order (ss_extras.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <json-c/json.h>
#include <nfm/system.h>

#include "cli.h"
#include "jout.h"
#include "ss_extras.h"
#include "ss_select.h"

/* One read's outcome counted: 0 when it gave something to show. */
static int counted(int err, struct ss_extras_tally *tally)
{
	if (err == -ENOENT || err == -ENOMEM)
		tally->err = err;
	else if (err < 0)
		tally->unread++;
	return err;
}

static int timer_of(struct cli *cli, const struct filter *f, const struct nfm_socket *s,
		    struct nfm_socket_timer *t, struct ss_extras_tally *tally)
{
	if (!f->timers || s->protocol != IPPROTO_TCP || tally->err)
		return -ENOENT;
	return counted(nfm_socket_timer(cli->ctx, s->sk, t), tally);
}

/* -m's counters; TIME-WAIT and SYN-RECV keep none (-EINVAL, not a failure) */
static int mem_of(struct cli *cli, const struct filter *f, const struct nfm_socket *s,
		  struct nfm_socket_meminfo *m, struct ss_extras_tally *tally)
{
	int err;

	if (!f->mem || tally->err)
		return -ENOENT;
	err = nfm_socket_meminfo(cli->ctx, s->sk, m);
	if (err == -EINVAL && s->protocol == IPPROTO_TCP)
		return err;	/* a timewait or request sock (whatever its substate says) */
	return counted(err, tally);
}

/* -e of a unix socket: its details (*d, 0) and for a listener its pending peers (*np >= 0) */
static int unix_of(struct cli *cli, const struct filter *f, const struct nfm_socket *s,
		   struct nfm_socket_unix_details *d, uint64_t **peers, int *np,
		   struct ss_extras_tally *tally)
{
	int err;

	*np = -1;
	*peers = NULL;
	if (!f->extended || s->family != AF_UNIX || tally->err)
		return -ENOENT;
	err = counted(nfm_socket_unix_details(cli->ctx, s->sk, d), tally);
	if (ss_sock_state(s) == ST_LISTEN && !tally->err) {
		*np = counted(nfm_socket_unix_pending(cli->ctx, s->sk, peers), tally);
		if (*np < 0)
			*np = -1;
	}
	return err;
}

void ss_extras_row(struct cli *cli, const struct filter *f, const struct nfm_socket *s,
		   char *buf, size_t size, struct ss_extras_tally *tally)
{
	struct nfm_socket_unix_details d;
	struct nfm_socket_meminfo m;
	struct nfm_socket_timer t;
	char part[512];
	uint64_t *peers;
	int np;

	buf[0] = 0;
	if (s->family != AF_UNIX) {
		if (timer_of(cli, f, s, &t, tally) == 0)
			ss_timer_text(&t, buf, size);
		return;
	}
	/* unix_show_sock(): skmem on the row, then -e's */
	if (mem_of(cli, f, s, &m, tally) == 0) {
		ss_skmem_text(&m, part, sizeof(part));
		ss_append(buf, size, "%s", part);
	}
	if (f->extended) {
		bool ok = unix_of(cli, f, s, &d, &peers, &np, tally) == 0;

		if (ok || np >= 0) {
			char *text = malloc(size);

			if (text) {
				ss_unix_text(ok ? &d : NULL, peers, np, text, size);
				ss_append(buf, size, "%s", text);
				free(text);
			}
		}
		free(peers);
	}
}

bool ss_extras_note(struct cli *cli, const struct filter *f, const struct nfm_socket *s,
		    char *buf, size_t size, struct ss_extras_tally *tally)
{
	struct nfm_socket_meminfo m;

	buf[0] = 0;
	if (s->family == AF_UNIX || !(f->mem || (f->info && s->protocol == IPPROTO_TCP)))
		return false;
	if (mem_of(cli, f, s, &m, tally) == 0)
		ss_skmem_text(&m, buf, size);
	return true;
}

void ss_extras_json(struct cli *cli, const struct filter *f, const struct nfm_socket *s,
		    struct json_object *so, struct ss_extras_tally *tally)
{
	struct nfm_socket_unix_details d;
	struct nfm_socket_meminfo m;
	struct nfm_socket_timer t;
	uint64_t *peers;
	int np, i;

	if (timer_of(cli, f, s, &t, tally) == 0) {
		j_add(so, "timer", j_str(ss_timer_name(t.timer)));
		j_add(so, "timer_expires_ms", j_u64(t.expires_ms));
		j_add(so, "timer_retrans", j_u64(t.retrans));
	}
	if (mem_of(cli, f, s, &m, tally) == 0) {
		struct json_object *o = json_object_new_object();

		j_add(o, "rmem_alloc_bytes", j_u64(m.rmem_alloc));
		j_add(o, "rcvbuf_bytes", j_u64(m.rcvbuf));
		j_add(o, "wmem_alloc_bytes", j_u64(m.wmem_alloc));
		j_add(o, "sndbuf_bytes", j_u64(m.sndbuf));
		j_add(o, "fwd_alloc_bytes", j_int((int32_t)m.fwd_alloc));
		j_add(o, "wmem_queued_bytes", j_u64(m.wmem_queued));
		j_add(o, "optmem_bytes", j_u64(m.optmem));
		j_add(o, "backlog_bytes", j_u64(m.backlog));
		j_add(o, "drops", j_u64(m.drops));
		j_add(so, "skmem", o);
	}
	if (unix_of(cli, f, s, &d, &peers, &np, tally) == 0) {
		j_add(so, "shutdown_read", j_bool(d.shutdown & 1));
		j_add(so, "shutdown_write", j_bool(d.shutdown & 2));
		if (d.has_vfs) {
			j_add(so, "vfs_inode", j_u64(d.vfs_ino));
			j_add(so, "vfs_dev_major", j_u64(d.vfs_dev_major));
			j_add(so, "vfs_dev_minor", j_u64(d.vfs_dev_minor));
		}
	}
	if (np >= 0) {
		struct json_object *a = json_object_new_array();

		for (i = 0; i < np; i++)
			json_object_array_add(a, j_u64(peers[i]));
		j_add(so, "pending_peer_inodes", a);
	}
	free(peers);
}

bool ss_extras_said(struct cli *cli, const struct ss_extras_tally *tally)
{
	if (tally->err) {
		cli_warn("no socket timers, memory or unix details: %s",
			 cli->last_error[0] ? cli->last_error : strerror(-tally->err));
		return true;
	}
	if (tally->unread) {
		cli_warn("the timers, memory or unix details of %d socket(s) could not be read "
			 "(closed during the read, or inconsistent)", tally->unread);
		return true;
	}
	return false;
}
