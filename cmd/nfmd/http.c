// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * HTTP: libmicrohttpd in external-epoll mode, driven by the main loop (its epoll fd sits in ours),
 * so requests are answered on the main thread from the published frames with no locking.
 * Routing, the bearer token and the connection limits; every error is an api_error() document.
 * JSON bodies are compact unless the query string says pretty=1.
 */
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <guest_text.h>
#include <jout.h>

#include "api.h"
#include "http.h"
#include "metrics.h"

static enum MHD_Result send_body(struct http_server *h, struct MHD_Connection *c, unsigned int status, char *body,
				 size_t len, const char *type)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"nfmd\"");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, "Allow", "GET, HEAD");
	if (status >= 400)
		h->counters.errors++;
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_json(struct http_server *h, struct MHD_Connection *c, unsigned int status, struct json_object *o)
{
	/* Compact (one line, what a program wants) unless the URL asks for ?pretty=1. */
	const char *p = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "pretty");
	const char *s = json_object_to_json_string_ext(o, jdoc_flags(p && !strcmp(p, "1")));
	size_t len = s ? strlen(s) : 0;
	char *body = s ? malloc(len + 2) : NULL;
	enum MHD_Result ret;

	if (!body) {
		json_object_put(o);
		return MHD_NO;
	}
	memcpy(body, s, len);
	body[len++] = '\n';
	json_object_put(o);
	ret = send_body(h, c, status, body, len, "application/json");
	return ret;
}

__attribute__((format(printf, 4, 5)))
static enum MHD_Result send_error(struct http_server *h, struct MHD_Connection *c, unsigned int status,
				  const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return send_json(h, c, status, api_error(status, msg));
}

/* Constant-time comparison of the presented token with ours. */
static bool token_ok(const struct http_server *h, struct MHD_Connection *c)
{
	const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	size_t tl, al, i;
	unsigned char diff;

	if (!h->token)
		return true;
	if (!a || strncasecmp(a, "Bearer ", 7))
		return false;
	a += 7;
	while (*a == ' ')
		a++;
	tl = strlen(h->token);
	al = strlen(a);
	diff = tl != al;
	for (i = 0; i < tl; i++)
		diff |= (unsigned char)(h->token[i] ^ (i < al ? a[i] : 0));
	return diff == 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	static const char prefix[] = "/api/v1/vms/";
	struct http_server *h = cls;
	(void)version;
	(void)upload_data;

	/* A request body is never wanted: swallow it, then answer (405 for anything not GET). */
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!*con_cls) {
		*con_cls = (void *)1;
		if (strcmp(method, "GET") && strcmp(method, "HEAD"))
			return MHD_YES;	/* wait for the body to be consumed */
	}
	h->counters.requests++;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return send_error(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "method %s not allowed (use GET)",
				  method);
	if (!token_ok(h, c))
		return send_error(h, c, MHD_HTTP_UNAUTHORIZED,
				  "missing or wrong bearer token (Authorization: Bearer TOKEN)");
	if (!strcmp(url, "/metrics")) {
		struct sbuf b = { 0 };

		metrics_render(&b, h->vms, &h->counters);
		if (b.oom) {
			sb_free(&b);
			return send_error(h, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		}
		return send_body(h, c, MHD_HTTP_OK, b.s ? b.s : strdup(""), b.len,
				 "text/plain; version=0.0.4; charset=utf-8");
	}
	if (!strcmp(url, "/api/v1/vms") || !strcmp(url, "/api/v1/vms/"))
		return send_json(h, c, MHD_HTTP_OK, api_vms(h->vms));
	if (!strncmp(url, prefix, sizeof(prefix) - 1)) {
		const char *name = url + sizeof(prefix) - 1;
		const struct vm *vm = vm_table_find(h->vms, name);
		char esc[300];

		if (!vm)
			return send_error(h, c, MHD_HTTP_NOT_FOUND, "no VM named %s",
					  guest_escape(name, strlen(name), esc, sizeof(esc)));
		return send_json(h, c, MHD_HTTP_OK, api_vm(vm));
	}
	if (!strcmp(url, "/"))
		return send_json(h, c, MHD_HTTP_OK, api_index());
	{
		char esc[300];

		return send_error(h, c, MHD_HTTP_NOT_FOUND, "no such endpoint: %s",
				  guest_escape(url, strlen(url), esc, sizeof(esc)));
	}
}

/* ADDR:PORT, [V6ADDR]:PORT or HOST:PORT -> a listening socket, or -errno (logged). */
static int listen_on(const struct nfmd_log *log, const char *spec)
{
	char host[256], *port;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res, *ai;
	int fd = -1, one = 1, err, saved = 0;

	snprintf(host, sizeof(host), "%s", spec);
	port = strrchr(host, ':');
	if (!port || !port[1]) {
		logmsg(log, NFM_LOG_ERR, "--listen %s: expected ADDR:PORT", spec);
		return -EINVAL;
	}
	*port++ = 0;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	err = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (err) {
		logmsg(log, NFM_LOG_ERR, "--listen %s: %s", spec, gai_strerror(err));
		return -EINVAL;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		logmsg(log, NFM_LOG_ERR, "cannot listen on %s: %s", spec, strerror(saved));
		return -saved;
	}
	return fd;
}

int http_start(struct http_server *h, const char *listen, const char *token,
	       const struct vm_table *vms, const struct nfmd_log *log, int epfd)
{
	const union MHD_DaemonInfo *info;
	struct epoll_event ev = { .events = EPOLLIN };
	int fd;

	*h = (struct http_server){ .token = token, .vms = vms, .log = log };
	fd = listen_on(log, listen);
	if (fd < 0)
		return fd;
	h->daemon = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, handle, h,
				   MHD_OPTION_LISTEN_SOCKET, fd,
				   MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
				   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				   MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
				   MHD_OPTION_END);
	if (!h->daemon) {
		close(fd);
		logmsg(log, NFM_LOG_ERR, "cannot start the HTTP server on %s", listen);
		return -EIO;
	}
	info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || epoll_ctl(epfd, EPOLL_CTL_ADD, info->epoll_fd, &ev) < 0) {
		logmsg(log, NFM_LOG_ERR, "cannot poll the HTTP server: %s", strerror(errno));
		return -EIO;
	}
	logmsg(log, NFM_LOG_INFO, "serving http://%s/metrics and /api/v1/vms", listen);
	return 0;
}

void http_run(struct http_server *h)
{
	MHD_run(h->daemon);
}

int http_timeout_ms(const struct http_server *h)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (!h->daemon || MHD_get_timeout(h->daemon, &t) != MHD_YES)
		return -1;
	return t > 60000 ? 60000 : (int)t;
}

void http_stop(struct http_server *h)
{
	if (h->daemon)
		MHD_stop_daemon(h->daemon);
	h->daemon = NULL;
}
