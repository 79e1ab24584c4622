/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The HTTP server: libmicrohttpd in external-epoll mode, driven by the main loop (its epoll fd
 * sits in ours), so requests are answered on the main thread from the VM table with no locking.
 * Routing, TLS, authentication and connection limits are here; the bodies are metrics.c's and
 * api.c's.
 */
#ifndef NFMD_HTTP_H
#define NFMD_HTTP_H

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "vms.h"

struct MHD_Daemon;
struct conn_track;

struct http_server {
	struct MHD_Daemon *daemon;
	const char *token;		/* accepted bearer token, or NULL */
	const char *basic_user, *basic_password;	/* accepted basic auth, or NULL */
	const struct vm_table *vms;
	const struct nfmd_log *log;
	struct http_counters counters;
	struct conn_track *conns;	/* open connections, for the request-head deadline */
};

/*
 * Listen on cfg->listen (HTTPS with cfg's certificate and key, authentication by cfg's token or
 * basic credentials) and add the server's epoll fd to epfd; 0 or -errno (logged). Refuses
 * (-EACCES) an address beyond loopback without authentication unless cfg->insecure_listen.
 */
int http_start(struct http_server *h, const struct nfmd_config *cfg, const struct vm_table *vms,
	       const struct nfmd_log *log, int epfd);
/* Serve what is ready (every loop). */
void http_run(struct http_server *h);
/* Milliseconds until http_run is due for a timeout (libmicrohttpd's, or a request-head
 * deadline); -1 for none. */
int http_timeout_ms(const struct http_server *h);
void http_stop(struct http_server *h);

#endif
