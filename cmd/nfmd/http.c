// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * HTTP: libmicrohttpd in external-epoll mode, driven by the main loop (its epoll fd sits in ours),
 * so requests are answered on the main thread from the published frames with no locking.
 * Routing, TLS, authentication (bearer token or basic) and the connection limits; every error is
 * an api_error() document.
 * JSON bodies are compact unless the query string says pretty=1.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <guest_text.h>
#include <jout.h>

#include "api.h"
#include "http.h"
#include "metrics.h"
#include "web_assets.h"

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
		MHD_add_response_header(r, "WWW-Authenticate", h->token ? "Bearer realm=\"nfmd\"" :
					"Basic realm=\"nfmd\", charset=\"UTF-8\"");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, "Allow", "GET, HEAD");
	if (status >= 400)
		h->counters.errors++;
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A built-in page or file (web_assets.h): the page may load only nfmd's own files. */
static enum MHD_Result send_asset(struct MHD_Connection *c, const struct web_asset *a)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(a->len, (void *)a->data,
								 MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", a->type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
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

/* Constant-time comparison of what was presented with what we expect (its length aside). */
static bool secret_eq(const char *want, const char *got)
{
	size_t wl = strlen(want), gl = got ? strlen(got) : 0;
	unsigned char diff = wl != gl || !got;

	for (size_t i = 0; i < wl; i++)
		diff |= (unsigned char)(want[i] ^ (i < gl ? got[i] : 0));
	return diff == 0;
}

/* With no authentication configured every request passes; else a right bearer token or a right
 * basic user and password does. */
static bool auth_ok(const struct http_server *h, struct MHD_Connection *c)
{
	const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	bool ok = false;

	if (!h->token && !h->basic_user)
		return true;
	if (!a)
		return false;
	if (h->token && !strncasecmp(a, "Bearer ", 7)) {
		a += 7;
		while (*a == ' ')
			a++;
		ok = secret_eq(h->token, a);
	} else if (h->basic_user && !strncasecmp(a, "Basic ", 6)) {
		char *pass = NULL, *user = MHD_basic_auth_get_username_password(c, &pass);
		/* both compared, whatever the first says: no timing hint of a right user */
		bool u = secret_eq(h->basic_user, user), p = secret_eq(h->basic_password, pass);

		ok = u && p;
		MHD_free(user);
		MHD_free(pass);
	}
	return ok;
}

/*
 * Abuse limits. Connections are cheap in epoll mode, so the table is large enough that idle
 * keep-alive clients cannot fill it, and one address gets a fair share of it. A client must send
 * its whole request head within HEADER_TIMEOUT_S of connecting: libmicrohttpd's own timeout only
 * counts idle time, so a "slowloris" sending a byte every few seconds would hold its slot forever.
 */
#define MAX_CONNECTIONS 256u
#define MAX_PER_ADDRESS 32u
#define IDLE_TIMEOUT_S 10u
#define HEADER_TIMEOUT_S 5

/* One open connection (MHD_OPTION_NOTIFY_CONNECTION): when it came, whether a request head has
 * arrived on it yet. */
struct conn_track {
	struct conn_track *next, **pprev;
	int fd;
	struct timespec accepted;
	bool head_seen;
};

static int64_t ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode what)
{
	struct http_server *h = cls;
	struct conn_track *t = *socket_context;

	if (what == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		t = calloc(1, sizeof(*t));
		if (!t || !ci)
			return (void)free(t);	/* untracked: the idle timeout still applies */
		t->fd = ci->connect_fd;
		clock_gettime(CLOCK_MONOTONIC, &t->accepted);
		t->next = h->conns;
		t->pprev = &h->conns;
		if (h->conns)
			h->conns->pprev = &t->next;
		h->conns = t;
		*socket_context = t;
	} else if (what == MHD_CONNECTION_NOTIFY_CLOSED && t) {
		*t->pprev = t->next;
		if (t->next)
			t->next->pprev = t->pprev;
		free(t);
		*socket_context = NULL;
	}
}

/* Shut the connections whose request head is overdue; libmicrohttpd then sees them close. */
static void reap_slow_heads(struct http_server *h)
{
	struct conn_track *t;

	for (t = h->conns; t; t = t->next)
		if (!t->head_seen && t->fd >= 0 && ms_since(&t->accepted) >= HEADER_TIMEOUT_S * 1000) {
			shutdown(t->fd, SHUT_RDWR);
			t->fd = -1;
			h->counters.slow_closed++;
		}
}

static void head_seen(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	if (ci && ci->socket_context)
		((struct conn_track *)ci->socket_context)->head_seen = true;
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
		head_seen(c);
		if (strcmp(method, "GET") && strcmp(method, "HEAD"))
			return MHD_YES;	/* wait for the body to be consumed */
	}
	h->counters.requests++;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return send_error(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "method %s not allowed (use GET)",
				  method);
	if (!auth_ok(h, c))
		return send_error(h, c, MHD_HTTP_UNAUTHORIZED, h->token ?
				  "missing or wrong bearer token (Authorization: Bearer TOKEN)" :
				  "missing or wrong user or password (HTTP basic authentication)");
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
	if (!strcmp(url, "/api/topology")) {
		struct json_object *doc = api_topology(h->vms);

		if (!doc)
			return send_error(h, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return send_json(h, c, MHD_HTTP_OK, doc);
	}
	if (!strcmp(url, "/api/topology/svg")) {
		char *svg = NULL;
		size_t len = 0;
		int ret = api_topology_svg(h->vms, &svg, &len);

		if (ret)
			return send_error(h, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
					  "cannot draw the graph: %s%s", strerror(-ret),
					  ret == -ENOENT ? " (Graphviz's dot, Debian package graphviz)" : "");
		return send_body(h, c, MHD_HTTP_OK, svg, len, "image/svg+xml");
	}
	if (web_asset_find(url))
		return send_asset(c, web_asset_find(url));
	if (!strcmp(url, "/api/topology/frames"))
		return send_json(h, c, MHD_HTTP_OK, api_topology_frames(h->vms));
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

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

/*
 * ADDR:PORT, [V6ADDR]:PORT or HOST:PORT -> a listening socket, or -errno (logged); *loopback
 * says whether only this host can connect.
 */
static int listen_on(const struct nfmd_log *log, const char *spec, bool *loopback)
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
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0) {
			*loopback = is_loopback(ai->ai_addr);
			break;
		}
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

int http_start(struct http_server *h, const struct nfmd_config *cfg, const struct vm_table *vms,
	       const struct nfmd_log *log, int epfd)
{
	const union MHD_DaemonInfo *info;
	struct epoll_event ev = { .events = EPOLLIN };
	const char *listen = cfg->listen;
	bool tls = cfg->tls_cert_pem && cfg->tls_key_pem, loopback = false;
	int fd;

	*h = (struct http_server){ .token = cfg->token, .basic_user = cfg->basic_user,
				   .basic_password = cfg->basic_password, .vms = vms, .log = log };
	if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		logmsg(log, NFM_LOG_ERR, "tls-cert: this libmicrohttpd was built without TLS (GnuTLS)");
		return -EOPNOTSUPP;
	}
	fd = listen_on(log, listen, &loopback);
	if (fd < 0)
		return fd;
	/* The guests' process lists are not for everyone on the network. */
	if (!loopback && !h->token && !h->basic_user) {
		if (!cfg->insecure_listen) {
			close(fd);
			logmsg(log, NFM_LOG_ERR, "refusing to serve %s without authentication: anyone who "
			       "can connect would read every guest's processes; set token-file or "
			       "basic-auth-user (nfmd(8)), or --insecure-listen", listen);
			return -EACCES;
		}
		logmsg(log, NFM_LOG_WARN, "serving %s without authentication (--insecure-listen): "
		       "anyone who can connect reads every guest's processes", listen);
	} else if (!loopback && !tls) {
		logmsg(log, NFM_LOG_WARN, "serving %s without TLS: the credentials and the guests' "
		       "data cross the network in clear (set tls-cert and tls-key)", listen);
	}
	h->daemon = MHD_start_daemon(MHD_USE_EPOLL | (tls ? MHD_USE_TLS : 0), 0, NULL, NULL, handle, h,
				     MHD_OPTION_LISTEN_SOCKET, fd,
				     MHD_OPTION_CONNECTION_LIMIT, MAX_CONNECTIONS,
				     MHD_OPTION_PER_IP_CONNECTION_LIMIT, MAX_PER_ADDRESS,
				     MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S,
				     MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
				     tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cfg->tls_cert_pem,
				     MHD_OPTION_HTTPS_MEM_KEY, cfg->tls_key_pem,
				     MHD_OPTION_END);
	if (!h->daemon) {
		close(fd);
		logmsg(log, NFM_LOG_ERR, "cannot start the HTTP%s server on %s%s", tls ? "S" : "", listen,
		       tls ? " (is tls-key the private key of tls-cert, both PEM?)" : "");
		return -EIO;
	}
	info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || epoll_ctl(epfd, EPOLL_CTL_ADD, info->epoll_fd, &ev) < 0) {
		logmsg(log, NFM_LOG_ERR, "cannot poll the HTTP server: %s", strerror(errno));
		return -EIO;
	}
	logmsg(log, NFM_LOG_INFO, "serving http%s://%s/metrics and /api/v1/vms", tls ? "s" : "", listen);
	return 0;
}

void http_run(struct http_server *h)
{
	reap_slow_heads(h);
	MHD_run(h->daemon);
}

int http_timeout_ms(const struct http_server *h)
{
	MHD_UNSIGNED_LONG_LONG t;
	const struct conn_track *c;
	int ms = -1;

	if (!h->daemon)
		return -1;
	if (MHD_get_timeout(h->daemon, &t) == MHD_YES)
		ms = t > 60000 ? 60000 : (int)t;
	for (c = h->conns; c; c = c->next)
		if (!c->head_seen && c->fd >= 0) {
			int64_t left = HEADER_TIMEOUT_S * 1000 - ms_since(&c->accepted);
			int due = left < 0 ? 0 : (int)left + 1;

			if (ms < 0 || due < ms)
				ms = due;
		}
	return ms;
}

void http_stop(struct http_server *h)
{
	if (h->daemon)
		MHD_stop_daemon(h->daemon);
	h->daemon = NULL;
}
