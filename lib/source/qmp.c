// SPDX-License-Identifier: GPL-2.0-or-later
/* A minimal, bounded QMP client and parsers for the HMP answers nfm uses. See qmp.h. */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "source/qmp.h"

#define QMP_TIMEOUT_MS 1000
#define QMP_MAX_REPLY (16u << 20)
#define MTREE_MAX_RANGES 4096

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int send_all(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n < 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN || poll(&pfd, 1, QMP_TIMEOUT_MS) <= 0)
				return errno == EAGAIN ? -ETIMEDOUT : -errno;
			continue;
		}
		s += n;
		len -= n;
	}
	return 0;
}

/* Bytes received and not consumed yet: replies to pipelined commands can share one recv(). */
struct rbuf {
	char *buf;
	size_t len, cap;
};

/*
 * Read QMP lines until one holding "return" or "error" (events and the greeting are skipped when
 * want_return is set). *line is the reply line, NUL-terminated; caller frees. What follows it
 * stays in rb for the next call; the caller frees rb->buf.
 */
static int read_reply(int fd, struct rbuf *rb, bool want_return, char **line)
{
	int64_t deadline = now_ms() + QMP_TIMEOUT_MS;

	if (!rb->buf) {
		rb->cap = 4096;
		rb->len = 0;
		rb->buf = malloc(rb->cap);
		if (!rb->buf)
			return -ENOMEM;
	}
	for (;;) {
		char *nl;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left;
		ssize_t n;

		while ((nl = memchr(rb->buf, '\n', rb->len))) {
			size_t l = (size_t)(nl - rb->buf);
			bool take;

			*nl = '\0';
			take = !want_return || strstr(rb->buf, "\"return\"") || strstr(rb->buf, "\"error\"");
			if (take && !(*line = strdup(rb->buf)))
				return -ENOMEM;
			memmove(rb->buf, nl + 1, rb->len - l - 1);
			rb->len -= l + 1;
			if (take)
				return 0;
		}
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -ETIMEDOUT;
		if (rb->len + 4096 > rb->cap) {
			char *tmp;

			if (rb->cap >= QMP_MAX_REPLY)
				return -E2BIG;
			tmp = realloc(rb->buf, rb->cap * 2);
			if (!tmp)
				return -ENOMEM;
			rb->buf = tmp;
			rb->cap *= 2;
		}
		n = recv(fd, rb->buf + rb->len, rb->cap - rb->len - 1, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return n ? -errno : -ECONNRESET;
		rb->len += (size_t)n;
	}
}

int nfm_qmp_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct rbuf rb = { 0 };
	char *line = NULL;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	/*
	 * Non-blocking: QEMU serves one QMP client at a time and listens with a backlog of 1, so a
	 * blocking connect() to a monitor someone else holds can wait forever.
	 */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = errno == EAGAIN ? -EBUSY : -errno;
		goto fail;
	}
	/* Negotiate without waiting for the greeting ({"QMP": {...}}): one round trip less. */
	err = send_all(fd, "{\"execute\":\"qmp_capabilities\"}\n");
	if (err)
		goto fail;
	err = read_reply(fd, &rb, false, &line);
	if (err)
		goto fail;
	if (!strstr(line, "\"QMP\"")) {
		err = -EPROTO;
		goto fail;
	}
	free(line);
	line = NULL;
	err = read_reply(fd, &rb, true, &line);
	if (err)
		goto fail;
	if (!strstr(line, "\"return\"")) {
		err = -EPROTO;
		goto fail;
	}
	free(line);
	free(rb.buf);
	return fd;
fail:
	free(line);
	free(rb.buf);
	close(fd);
	return err;
}

/* Decode the JSON string starting at s (just after the opening quote). */
static char *json_unescape(const char *s)
{
	size_t n = strlen(s), o = 0;
	char *out = malloc(n + 1);

	if (!out)
		return NULL;
	while (*s && *s != '"') {
		if (*s != '\\') {
			out[o++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 'n': out[o++] = '\n'; break;
		case 't': out[o++] = '\t'; break;
		case 'r': out[o++] = '\r'; break;
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'u': {
			unsigned int c = 0;
			int i;

			for (i = 1; i <= 4 && s[i]; i++) {
				char h = s[i];

				c = c * 16 + (h >= '0' && h <= '9' ? h - '0' :
					      (h | 0x20) >= 'a' && (h | 0x20) <= 'f' ?
					      (h | 0x20) - 'a' + 10 : 0);
			}
			s += i - 1;
			out[o++] = c < 0x80 ? (char)c : '?';
			break;
		}
		case '\0':
			out[o] = '\0';
			return out;
		default: out[o++] = *s; break;
		}
		s++;
	}
	out[o] = '\0';
	return out;
}

/* The text of one human-monitor-command reply line; *out NULL with -EPROTO on an error reply. */
static int hmp_text(const char *line, char **out)
{
	const char *p = strstr(line, "\"return\"");

	*out = NULL;
	if (!p || !(p = strchr(p + 8, '"')))
		return -EPROTO;
	*out = json_unescape(p + 1);
	return *out ? 0 : -ENOMEM;
}

int nfm_qmp_hmp_many(int fd, const char *const *cmds, size_t n, char **outs)
{
	size_t cap = 512 * n + 1, len = 0, i;
	struct rbuf rb = { 0 };
	char *req, *line = NULL;
	int err = 0;

	if (!n)
		return 0;
	req = malloc(cap);
	if (!req)
		return -ENOMEM;
	req[0] = '\0';
	for (i = 0; i < n; i++) {
		int k = snprintf(req + len, cap - len,
				 "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"%s\"}}\n",
				 cmds[i]);

		outs[i] = NULL;
		if (k < 0 || (size_t)k >= 512 || strpbrk(cmds[i], "\"\\\n")) {
			free(req);
			return -EINVAL;
		}
		len += (size_t)k;
	}
	/* One write, then the replies in order: one round trip for all (QMP answers in order). */
	err = send_all(fd, req);
	free(req);
	for (i = 0; i < n && !err; i++) {
		err = read_reply(fd, &rb, true, &line);
		if (!err) {
			err = hmp_text(line, &outs[i]);
			free(line);
			line = NULL;
		}
	}
	free(rb.buf);
	if (err) {
		for (i = 0; i < n; i++) {
			free(outs[i]);
			outs[i] = NULL;
		}
	}
	return err;
}

int nfm_qmp_hmp(int fd, const char *cmd, char **out)
{
	return nfm_qmp_hmp_many(fd, &cmd, 1, out);
}

static bool name_wanted(const char *name, const char *const *names)
{
	for (; names && *names; names++)
		if (!strcmp(name, *names))
			return true;
	return false;
}

int nfm_qmp_parse_mtree(const char *text, const char *const *names, struct nfm_qmp_ram **ret)
{
	struct nfm_qmp_ram *all;
	size_t n = 0, i, out = 0;
	const char *p = text;
	int view = -1, system_view = -1;
	bool any_wanted = false;
	char best[64] = "";

	all = calloc(MTREE_MAX_RANGES, sizeof(*all));
	if (!all)
		return -ENOMEM;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		char line[512];
		unsigned long long s, e, off = 0;
		char type[32], name[64];
		const char *at;

		if (ll >= sizeof(line))
			ll = sizeof(line) - 1;
		memcpy(line, p, ll);
		line[ll] = '\0';
		p = eol ? eol + 1 : p + ll;
		if (!strncmp(line, "FlatView #", 10)) {
			view++;
			continue;
		}
		/* The flat view of the system address space: 'AS "memory", root: system'. */
		if (strstr(line, " AS \"memory\"") && system_view < 0) {
			system_view = view;
			continue;
		}
		if (view < 0 || view != system_view)
			continue;
		if (sscanf(line, " %llx-%llx (prio %*d, %31[^)]): %63s", &s, &e, type, name) != 4)
			continue;
		if (strcmp(type, "ram") || e < s || n == MTREE_MAX_RANGES)
			continue;
		at = strstr(line, " @");
		if (at && sscanf(at, " @%llx", &off) != 1)
			off = 0;
		all[n].start = s;
		all[n].size = e - s + 1;
		all[n].offset = off;
		snprintf(all[n].name, sizeof(all[n].name), "%s", name);
		if (name_wanted(name, names))
			any_wanted = true;
		n++;
	}
	if (system_view < 0) {
		free(all);
		return -EBADMSG;
	}
	if (!any_wanted) {
		/* Guest RAM is the block with the most bytes mapped (vram is 16 MiB). */
		uint64_t best_sum = 0;

		for (i = 0; i < n; i++) {
			uint64_t sum = 0;
			size_t j;

			for (j = 0; j < n; j++)
				if (!strcmp(all[i].name, all[j].name))
					sum += all[j].size;
			if (sum > best_sum) {
				best_sum = sum;
				snprintf(best, sizeof(best), "%s", all[i].name);
			}
		}
	}
	for (i = 0; i < n; i++) {
		if (any_wanted ? name_wanted(all[i].name, names) : !strcmp(all[i].name, best))
			all[out++] = all[i];
	}
	if (!out) {
		free(all);
		return -ENOENT;
	}
	*ret = all;
	return (int)out;
}

int nfm_qmp_parse_gpa2hva(const char *text, uint64_t *hva)
{
	const char *p = strstr(text, " is 0x");
	unsigned long long v;

	if (!strstr(text, "Host virtual address") || !p || sscanf(p, " is 0x%llx", &v) != 1)
		return -EBADMSG;
	*hva = v;
	return 0;
}

/*
 * Every vCPU's registers from HMP "info registers -a" (target/i386/cpu-dump.c): one block per
 * CPU, "CPU#N" then lines such as "RAX=... RBX=... RCX=... RDX=...", "RIP=... RFL=...",
 * "CS =0010 <base> <limit> <flags> ..." and "GS =0000 <base> ...". A stuck guest's running tasks
 * are unwound from them.
 */
#define MAX_REG_CPUS 8192

/* The hex value after "KEY=" inside [p, end); false when absent or not hex. */
static bool hexval(const char *p, const char *end, const char *key, uint64_t *v)
{
	size_t k = strlen(key);

	for (const char *q = p; q + k < end; q++) {
		char *e;

		if (memcmp(q, key, k) || (q > p && q[-1] != ' ' && q[-1] != '\n'))
			continue;
		*v = strtoull(q + k, &e, 16);
		return e != q + k && e <= end;
	}
	return false;
}

/* A segment line "XS =SEL BASE ...": its selector and base. */
static bool segment(const char *p, const char *end, const char *key, uint32_t *sel,
		    uint64_t *base)
{
	uint64_t s;
	size_t k = strlen(key);

	for (const char *q = p; q + k < end; q++) {
		char *e, *e2;

		if (memcmp(q, key, k) || (q > p && q[-1] != '\n'))
			continue;
		s = strtoull(q + k, &e, 16);
		if (e == q + k || *e != ' ')
			return false;
		*base = strtoull(e + 1, &e2, 16);
		*sel = (uint32_t)s;
		return e2 != e + 1 && e2 <= end;
	}
	return false;
}

static int parse_cpu(const char *p, const char *end, struct nfm_cpu_state *c)
{
	static const char *const names[16] = {
		"RAX=", "RBX=", "RCX=", "RDX=", "RSI=", "RDI=", "RSP=", "RBP=",
		"R8 =", "R9 =", "R10=", "R11=", "R12=", "R13=", "R14=", "R15=",
	};
	uint32_t sel;

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 16; i++)
		if (!hexval(p, end, names[i], &c->gpr[i]))
			return -EBADMSG;
	if (!hexval(p, end, "RIP=", &c->rip) || !hexval(p, end, "RFL=", &c->rflags) ||
	    !segment(p, end, "CS =", &c->cs, &(uint64_t){ 0 }) ||
	    !segment(p, end, "GS =", &sel, &c->gs_base))
		return -EBADMSG;
	hexval(p, end, "CR0=", &c->cr0);
	hexval(p, end, "CR3=", &c->cr3);
	hexval(p, end, "CR4=", &c->cr4);
	c->rsp = c->gpr[NFM_GPR_SP];
	c->has_gprs = true;
	return 0;
}

int nfm_qmp_parse_regs(const char *text, struct nfm_cpu_state **ret, size_t *n)
{
	struct nfm_cpu_state *a = NULL, *tmp;
	size_t k = 0;
	const char *p = text ? strstr(text, "CPU#") : NULL;

	/* One CPU without -a support prints no "CPU#" header: its whole text is CPU 0. */
	if (text && !p && strstr(text, "RIP="))
		p = text;
	while (p) {
		const char *next = strstr(p + 1, "\nCPU#"), *end = next ? next : p + strlen(p);
		int err;

		if (k >= MAX_REG_CPUS) {
			free(a);
			return -EBADMSG;
		}
		tmp = realloc(a, (k + 1) * sizeof(*a));
		if (!tmp) {
			free(a);
			return -ENOMEM;
		}
		a = tmp;
		err = parse_cpu(p, end, &a[k]);
		if (err < 0) {
			free(a);
			return err;
		}
		k++;
		p = next ? next + 1 : NULL;
	}
	if (!k)
		return -EBADMSG;
	*ret = a;
	*n = k;
	return 0;
}
