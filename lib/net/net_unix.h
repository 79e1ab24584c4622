/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The AF_UNIX walk (net_unix.c) that nfm_socket_list() calls. */
#ifndef NFM_LIB_NET_NET_UNIX_H
#define NFM_LIB_NET_NET_UNIX_H

#include <stdbool.h>

struct nfm_ctx;
struct nfm_netns;
struct nfm_pack;

/*
 * AF_UNIX sockets of every namespace (the rows of /proc/net/unix) appended to pk as struct
 * nfm_socket. Returns 0 or -errno; sets *truncated on a walk cut short.
 */
int nfm_unix_collect(struct nfm_ctx *ctx, const struct nfm_netns *ns, int nns, struct nfm_pack *pk,
		     bool *truncated);

#endif
