// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * HTTP: libmicrohttpd in external-epoll mode, driven by the main loop (its epoll fd sits in ours),
 * so requests are answered on the main thread from the published frames with no locking.
 * Every error is a JSON object {"error": "...", "status": N}.
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

#include "nfmd.h"

uint64_t http_requests, http_errors;
static struct MHD_Daemon *daemon_;

static enum MHD_Result send_body(struct MHD_Connection *c, unsigned int status, char *body,
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
		http_errors++;
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned int status, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(s);
	char *body = malloc(len + 2);
	enum MHD_Result ret;

	if (!body) {
		json_object_put(o);
		return MHD_NO;
	}
	memcpy(body, s, len);
	body[len++] = '\n';
	json_object_put(o);
	ret = send_body(c, status, body, len, "application/json");
	return ret;
}

__attribute__((format(printf, 3, 4)))
static enum MHD_Result send_error(struct MHD_Connection *c, unsigned int status, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "error", json_str(msg));
	json_object_object_add(o, "status", json_object_new_int((int)status));
	return send_json(c, status, o);
}

/* Constant-time comparison of the presented token with ours. */
static bool token_ok(struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	size_t tl, hl, i;
	unsigned char diff;

	if (!cfg.token)
		return true;
	if (!h || strncasecmp(h, "Bearer ", 7))
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	tl = strlen(cfg.token);
	hl = strlen(h);
	diff = tl != hl;
	for (i = 0; i < tl; i++)
		diff |= (unsigned char)(cfg.token[i] ^ (i < hl ? h[i] : 0));
	return diff == 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	static const char prefix[] = "/api/v1/vms/";
	(void)cls;
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
	http_requests++;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method %s not allowed (use GET)",
				  method);
	if (!token_ok(c))
		return send_error(c, MHD_HTTP_UNAUTHORIZED,
				  "missing or wrong bearer token (Authorization: Bearer TOKEN)");
	if (!strcmp(url, "/metrics")) {
		struct sbuf b = { 0 };

		metrics_render(&b);
		if (b.oom) {
			sb_free(&b);
			return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		}
		return send_body(c, MHD_HTTP_OK, b.s ? b.s : strdup(""), b.len,
				 "text/plain; version=0.0.4; charset=utf-8");
	}
	if (!strcmp(url, "/api/v1/vms") || !strcmp(url, "/api/v1/vms/")) {
		struct json_object *o = json_object_new_object(), *a = json_object_new_array();

		for (struct vm *vm = vms; vm; vm = vm->next)
			if (!vm->gone)
				json_object_array_add(a, api_vm_summary(vm));
		json_object_object_add(o, "vms", a);
		return send_json(c, MHD_HTTP_OK, o);
	}
	if (!strncmp(url, prefix, sizeof(prefix) - 1)) {
		const char *name = url + sizeof(prefix) - 1;
		struct vm *vm = vm_find(name);
		char esc[300];

		if (!vm)
			return send_error(c, MHD_HTTP_NOT_FOUND, "no VM named %s",
					  esc_bytes(name, strlen(name), esc, sizeof(esc)));
		return send_json(c, MHD_HTTP_OK, api_vm_frame(vm));
	}
	if (!strcmp(url, "/")) {
		struct json_object *o = json_object_new_object(), *a = json_object_new_array();

		json_object_object_add(o, "name", json_object_new_string("nfmd"));
		json_object_object_add(o, "version", json_object_new_string(nfm_version()));
		json_object_array_add(a, json_object_new_string("/metrics"));
		json_object_array_add(a, json_object_new_string("/api/v1/vms"));
		json_object_array_add(a, json_object_new_string("/api/v1/vms/NAME"));
		json_object_object_add(o, "endpoints", a);
		return send_json(c, MHD_HTTP_OK, o);
	}
	{
		char esc[300];

		return send_error(c, MHD_HTTP_NOT_FOUND, "no such endpoint: %s",
				  esc_bytes(url, strlen(url), esc, sizeof(esc)));
	}
}

/* ADDR:PORT, [V6ADDR]:PORT or HOST:PORT -> a listening socket, or -errno (logged). */
static int listen_on(const char *spec)
{
	char host[256], *port;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res, *ai;
	int fd = -1, one = 1, err, saved = 0;

	snprintf(host, sizeof(host), "%s", spec);
	port = strrchr(host, ':');
	if (!port || !port[1]) {
		logmsg(NFM_LOG_ERR, "--listen %s: expected ADDR:PORT", spec);
		return -EINVAL;
	}
	*port++ = 0;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	err = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (err) {
		logmsg(NFM_LOG_ERR, "--listen %s: %s", spec, gai_strerror(err));
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
		logmsg(NFM_LOG_ERR, "cannot listen on %s: %s", spec, strerror(saved));
		return -saved;
	}
	return fd;
}

int http_start(const char *listen, int epfd)
{
	const union MHD_DaemonInfo *info;
	struct epoll_event ev = { .events = EPOLLIN };
	int fd = listen_on(listen);

	if (fd < 0)
		return fd;
	daemon_ = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, handle, NULL,
				   MHD_OPTION_LISTEN_SOCKET, fd,
				   MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
				   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				   MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
				   MHD_OPTION_END);
	if (!daemon_) {
		close(fd);
		logmsg(NFM_LOG_ERR, "cannot start the HTTP server on %s", listen);
		return -EIO;
	}
	info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || epoll_ctl(epfd, EPOLL_CTL_ADD, info->epoll_fd, &ev) < 0) {
		logmsg(NFM_LOG_ERR, "cannot poll the HTTP server: %s", strerror(errno));
		return -EIO;
	}
	logmsg(NFM_LOG_INFO, "serving http://%s/metrics and /api/v1/vms", listen);
	return 0;
}

void http_run(void)
{
	MHD_run(daemon_);
}

int http_timeout_ms(void)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (!daemon_ || MHD_get_timeout(daemon_, &t) != MHD_YES)
		return -1;
	return t > 60000 ? 60000 : (int)t;
}

void http_stop(void)
{
	if (daemon_)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
}
