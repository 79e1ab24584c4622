// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm top --remote HOST:PORT,...: the VMs of other hosts, read from their nfmd's JSON API
 * (GET /api/v1/vms, then /api/v1/vms/NAME for each), shown beside the local ones. The bearer
 * token, if nfmd wants one, comes from $NFM_REMOTE_TOKEN. %CPU comes from two successive frames
 * exactly as for local VMs.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "top.h"

#define MAX_BODY (64u << 20)
#define TIMEOUT_MS 3000

/* A blocking HTTP/1.0 GET with a deadline; returns the body (malloc'd) or NULL. */
static char *http_get(const char *hostport, const char *path)
{
	char host[256], *colon, req[1024], *buf = NULL, *body;
	const char *token = getenv("NFM_REMOTE_TOKEN");
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	size_t len = 0, cap = 0;
	int fd = -1, n;

	snprintf(host, sizeof(host), "%s", hostport);
	colon = strrchr(host, ':');
	if (!colon)
		return NULL;
	*colon = 0;
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
		return NULL;
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		goto fail;
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n%s%s%sConnection: close\r\n\r\n",
		     path, hostport, token ? "Authorization: Bearer " : "", token ? token : "",
		     token ? "\r\n" : "");
	if (n <= 0 || (size_t)n >= sizeof(req) || write(fd, req, (size_t)n) != n)
		goto fail;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, TIMEOUT_MS) <= 0)
			goto fail;
		if (len + 65536 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 131072;
			if (cap > MAX_BODY || !(nb = realloc(buf, cap)))
				goto fail;
			buf = nb;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = 0;
	if (strncmp(buf, "HTTP/1.", 7) || strncmp(buf + 9, "200", 3) || !(body = strstr(buf, "\r\n\r\n")))
		goto fail;
	memmove(buf, body + 4, len - (size_t)(body + 4 - buf) + 1);
	close(fd);
	freeaddrinfo(ai);
	return buf;
fail:
	free(buf);
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return NULL;
}

static int64_t get_i64(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

static const char *get_str(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

/* Fill vm's current frame from an nfmd frame document. */
static void fill_from_frame(struct top_vm *vm, struct json_object *f)
{
	struct json_object *up, *mem, *ps, *load;
	size_t i, n;

	top_vm_rotate(vm);
	vm->error[0] = 0;
	snprintf(vm->ki.release, sizeof(vm->ki.release), "%s", get_str(f, "release") ? get_str(f, "release") : "?");
	if (json_object_object_get_ex(f, "uptime", &up)) {
		vm->uptime_ns = (uint64_t)get_i64(up, "uptime_ns");
		if (json_object_object_get_ex(up, "load", &load))
			for (i = 0; i < 3 && i < json_object_array_length(load); i++)
				vm->load.load[i] = json_object_get_double(json_object_array_get_idx(load, i));
	}
	if (json_object_object_get_ex(f, "memory", &mem)) {
		vm->mem.mem_total = (uint64_t)get_i64(mem, "MemTotal");
		vm->mem.mem_free = (uint64_t)get_i64(mem, "MemFree");
		vm->mem.mem_available = (uint64_t)get_i64(mem, "MemAvailable");
		vm->mem.buffers = (uint64_t)get_i64(mem, "Buffers");
		vm->mem.cached = (uint64_t)get_i64(mem, "Cached");
		vm->mem.swap_total = (uint64_t)get_i64(mem, "SwapTotal");
		vm->mem.swap_free = (uint64_t)get_i64(mem, "SwapFree");
	}
	vm->tasks = vm->running = vm->sleeping = vm->stopped = vm->zombie = 0;
	if (json_object_object_get_ex(f, "ps", &ps) && json_object_is_type(ps, json_type_array)) {
		n = json_object_array_length(ps);
		vm->procs = calloc(n ? n : 1, sizeof(*vm->procs));
		for (i = 0; vm->procs && i < n; i++) {
			struct json_object *p = json_object_array_get_idx(ps, i);
			struct top_proc *t = &vm->procs[vm->nprocs++];
			const char *st = get_str(p, "state"), *comm = get_str(p, "comm");

			t->pid = (int32_t)get_i64(p, "pid");
			t->ppid = (int32_t)get_i64(p, "ppid");
			t->uid = (uint32_t)get_i64(p, "uid");
			t->state = st && *st ? *st : '?';
			t->nice = (int32_t)get_i64(p, "nice");
			t->priority = 20 + t->nice;
			t->vsize = (uint64_t)get_i64(p, "vsize");
			t->rss_kb = (uint64_t)get_i64(p, "rss") * 4;
			t->cpu_ns = (uint64_t)(get_i64(p, "utime_ns") + get_i64(p, "stime_ns"));
			t->start_ns = (uint64_t)get_i64(p, "start_ns");
			snprintf(t->name, sizeof(t->name), "%s", comm ? comm : "");
			vm->tasks++;
			if (t->state == 'R')
				vm->running++;
			else if (t->state == 'Z')
				vm->zombie++;
			else if (t->state == 'T' || t->state == 't')
				vm->stopped++;
			else
				vm->sleeping++;
		}
	}
	top_vm_compute(vm);
}

struct remote_state {
	size_t first;	/* index in st->vms where remote VMs start */
};

static struct top_vm *find_or_add(struct top_state *st, const char *name)
{
	size_t i;
	struct top_vm *nv;

	for (i = 0; i < st->nvms; i++)
		if (!st->vms[i].ctx && !strcmp(st->vms[i].spec, name))
			return &st->vms[i];
	nv = realloc(st->vms, (st->nvms + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	if (st->filter)
		st->filter = nv + (st->filter - st->vms);
	st->vms = nv;
	/* Process rows point at their VM's name: re-point after the move. */
	for (i = 0; i < st->nvms; i++)
		for (size_t j = 0; j < st->vms[i].nprocs; j++)
			st->vms[i].procs[j].vm = st->vms[i].name;
	memset(&st->vms[st->nvms], 0, sizeof(*nv));
	snprintf(st->vms[st->nvms].spec, sizeof(nv->spec), "%s", name);
	snprintf(st->vms[st->nvms].name, sizeof(nv->name), "%s", name);
	st->vms[st->nvms].pid = -1;	/* remote: no local pid, never attached here */
	return &st->vms[st->nvms++];
}

void top_remote_sample(struct top_state *st)
{
	char list[1024], *save = NULL, *hp;

	if (!st->remote)
		return;
	snprintf(list, sizeof(list), "%s", st->remote);
	for (hp = strtok_r(list, ",", &save); hp; hp = strtok_r(NULL, ",", &save)) {
		char *body = http_get(hp, "/api/v1/vms");
		struct json_object *vms = body ? json_tokener_parse(body) : NULL;
		size_t i, n;

		free(body);
		if (!vms || !json_object_is_type(vms, json_type_array)) {
			struct top_vm *vm = find_or_add(st, hp);

			if (vm)
				snprintf(vm->error, sizeof(vm->error), "nfmd at %s did not answer", hp);
			json_object_put(vms);
			continue;
		}
		n = json_object_array_length(vms);
		for (i = 0; i < n; i++) {
			const char *name = get_str(json_object_array_get_idx(vms, i), "name");
			char path[512], id[384];
			struct top_vm *vm;
			struct json_object *f;
			size_t k, o = 0;

			if (!name)
				continue;
			/* Percent-encode the name for the URL. */
			for (k = 0; name[k] && o + 4 < sizeof(path) - 16; k++) {
				unsigned char c = (unsigned char)name[k];

				if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
				    c == '-' || c == '_' || c == '.')
					path[o++] = (char)c;
				else
					o += (size_t)snprintf(path + o, sizeof(path) - o, "%%%02X", c);
			}
			path[o] = 0;
			snprintf(id, sizeof(id), "%s/%s", hp, name);
			vm = find_or_add(st, id);
			if (!vm)
				continue;
			{
				char url[600];

				snprintf(url, sizeof(url), "/api/v1/vms/%s", path);
				body = http_get(hp, url);
			}
			f = body ? json_tokener_parse(body) : NULL;
			free(body);
			if (f)
				fill_from_frame(vm, f);
			else
				snprintf(vm->error, sizeof(vm->error), "no frame from nfmd at %s", hp);
			json_object_put(f);
		}
		json_object_put(vms);
	}
}

void top_remote_free(struct top_state *st)
{
	(void)st;
}
