// SPDX-License-Identifier: GPL-2.0-or-later
/* TopoLog's frames as JSON and back (topo_frames.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nfm/system.h>

#include "jout.h"
#include "topo_frames.h"

#define MAX_SOCKETS (1 << 20)
#define MAX_ADDRS 4096

static struct json_object *addr_json(int family, const uint8_t *a)
{
	char t[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, a, t, sizeof(t)))
		snprintf(t, sizeof(t), "?");
	return json_object_new_string(t);
}

struct json_object *topo_frame_json(const struct topo_frame *f)
{
	struct json_object *o = json_object_new_object(), *as = json_object_new_array(),
			   *ss = json_object_new_array();
	int i, k;

	j_add(o, "vm", j_str(f->vm));
	j_add(o, "complete", j_bool(f->complete));
	if (!f->complete && f->error)
		j_add(o, "error", j_str(f->error));
	for (i = 0; i < f->nr_devs; i++)
		for (k = 0; k < f->devs[i].nr_addrs && k < NFM_NETDEV_MAX_ADDRS; k++) {
			const struct nfm_ifaddr *a = &f->devs[i].addrs[k];

			if (a->family == AF_INET || a->family == AF_INET6)
				json_object_array_add(as, addr_json(a->family, a->addr));
		}
	for (i = 0; i < f->nr_socks; i++) {
		const struct nfm_socket *s = &f->socks[i];
		struct json_object *so, *ow;

		if (!topo_socket_used(s))
			continue;
		so = json_object_new_object();
		ow = json_object_new_array();
		j_add(so, "protocol", json_object_new_string(s->protocol == IPPROTO_TCP ? "tcp" : "udp"));
		j_add(so, "local", addr_json(s->family, s->laddr));
		j_add(so, "local_port", j_int(s->lport));
		j_add(so, "remote", addr_json(s->family, s->raddr));
		j_add(so, "remote_port", j_int(s->rport));
		j_add(so, "state_code", j_int(s->state));
		for (k = 0; k < s->nr_owners && k < NFM_SOCK_MAX_OWNERS; k++) {
			struct json_object *w = json_object_new_object();

			j_add(w, "pid", j_int(s->owner_pid[k]));
			j_add_bytes(w, "comm", s->owner_comm[k], strnlen(s->owner_comm[k], 16));
			json_object_array_add(ow, w);
		}
		j_add(so, "owners", ow);
		if (f->bytes && f->bytes[i][0] != UINT64_MAX && f->bytes[i][1] != UINT64_MAX) {
			j_add(so, "bytes_acked", j_u64(f->bytes[i][0]));
			j_add(so, "bytes_received", j_u64(f->bytes[i][1]));
		}
		json_object_array_add(ss, so);
	}
	j_add(o, "addresses", as);
	j_add(o, "sockets", ss);
	return o;
}

static struct json_object *member(struct json_object *o, const char *k, json_type t)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, t) ? v : NULL;
}

/* An integer member in [lo, hi], or -1 with *ok cleared. */
static int64_t int_in(struct json_object *o, const char *k, int64_t lo, int64_t hi, bool *ok)
{
	struct json_object *v = member(o, k, json_type_int);
	int64_t x = v ? json_object_get_int64(v) : lo - 1;

	if (x < lo || x > hi) {
		*ok = false;
		return -1;
	}
	return x;
}

/* An address member into family and 16 bytes (IPv4 in the first 4). */
static bool addr_in(struct json_object *o, const char *k, int *family, uint8_t a[16])
{
	struct json_object *v = member(o, k, json_type_string);
	const char *t = v ? json_object_get_string(v) : NULL;

	memset(a, 0, 16);
	if (!t)
		return false;
	*family = strchr(t, ':') ? AF_INET6 : AF_INET;
	return inet_pton(*family, t, a) == 1;
}

/* A guest string member: key_hex's exact bytes when present, else the text. */
static void bytes_in(struct json_object *o, const char *k, char *out, size_t size)
{
	char hk[64];
	struct json_object *h, *v;
	size_t i;

	memset(out, 0, size);
	snprintf(hk, sizeof(hk), "%s_hex", k);
	h = member(o, hk, json_type_string);
	if (h) {
		const char *x = json_object_get_string(h);

		for (i = 0; i + 1 < size && x[2 * i] && x[2 * i + 1]; i++) {
			unsigned int b;

			if (sscanf(x + 2 * i, "%2x", &b) != 1)
				break;
			out[i] = (char)b;
		}
	} else if ((v = member(o, k, json_type_string))) {
		snprintf(out, size, "%s", json_object_get_string(v));
	}
}

static int parse_socket(struct json_object *so, struct nfm_socket *s, uint64_t bytes[2])
{
	struct json_object *p = member(so, "protocol", json_type_string), *ow, *b1, *b2;
	bool ok = true;
	int rf = 0, k;
	size_t n;

	memset(s, 0, sizeof(*s));
	if (!p || (strcmp(json_object_get_string(p), "tcp") && strcmp(json_object_get_string(p), "udp")))
		return -EBADMSG;
	s->protocol = !strcmp(json_object_get_string(p), "tcp") ? IPPROTO_TCP : IPPROTO_UDP;
	s->type = s->protocol == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	if (!addr_in(so, "local", &s->family, s->laddr) || !addr_in(so, "remote", &rf, s->raddr) ||
	    rf != s->family)
		return -EBADMSG;
	s->lport = (uint16_t)int_in(so, "local_port", 0, 65535, &ok);
	s->rport = (uint16_t)int_in(so, "remote_port", 0, 65535, &ok);
	s->state = (int)int_in(so, "state_code", 0, 255, &ok);
	if (!ok || !(ow = member(so, "owners", json_type_array)))
		return -EBADMSG;
	n = json_object_array_length(ow);
	s->nr_owners = n > NFM_SOCK_MAX_OWNERS ? NFM_SOCK_MAX_OWNERS : (int)n;
	for (k = 0; k < s->nr_owners; k++) {
		struct json_object *w = json_object_array_get_idx(ow, (size_t)k);

		if (!json_object_is_type(w, json_type_object))
			return -EBADMSG;
		s->owner_pid[k] = (int)int_in(w, "pid", 0, 1 << 22, &ok);
		bytes_in(w, "comm", s->owner_comm[k], sizeof(s->owner_comm[k]));
	}
	b1 = member(so, "bytes_acked", json_type_int);
	b2 = member(so, "bytes_received", json_type_int);
	bytes[0] = b1 && b2 ? json_object_get_uint64(b1) : UINT64_MAX;
	bytes[1] = b1 && b2 ? json_object_get_uint64(b2) : UINT64_MAX;
	return ok ? 0 : -EBADMSG;
}

void topo_frame_store_free(struct topo_frame_store *s)
{
	free(s->socks);
	free(s->devs);
	free(s->bytes);
	memset(s, 0, sizeof(*s));
}

int topo_frame_parse(struct json_object *o, struct topo_frame_store *out, char *err, size_t errsize)
{
	struct json_object *vm = member(o, "vm", json_type_string), *as, *ss, *c, *e;
	size_t na, ns, i;
	int ret;

	memset(out, 0, sizeof(*out));
	as = member(o, "addresses", json_type_array);
	ss = member(o, "sockets", json_type_array);
	c = member(o, "complete", json_type_boolean);
	if (!vm || !as || !ss || !c || strlen(json_object_get_string(vm)) >= sizeof(out->vm) ||
	    !json_object_get_string(vm)[0]) {
		snprintf(err, errsize, "a VM object lacks vm, complete, addresses or sockets");
		return -EBADMSG;
	}
	na = json_object_array_length(as);
	ns = json_object_array_length(ss);
	if (na > MAX_ADDRS || ns > MAX_SOCKETS) {
		snprintf(err, errsize, "more than %d addresses or %d sockets", MAX_ADDRS, MAX_SOCKETS);
		return -EBADMSG;
	}
	snprintf(out->vm, sizeof(out->vm), "%s", json_object_get_string(vm));
	out->devs = calloc(na / NFM_NETDEV_MAX_ADDRS + 1, sizeof(*out->devs));
	out->socks = calloc(ns + 1, sizeof(*out->socks));
	out->bytes = calloc(ns + 1, sizeof(*out->bytes));
	if (!out->devs || !out->socks || !out->bytes) {
		topo_frame_store_free(out);
		return -ENOMEM;
	}
	for (i = 0; i < na; i++) {
		struct nfm_netdev *d = &out->devs[i / NFM_NETDEV_MAX_ADDRS];
		struct nfm_ifaddr *a = &d->addrs[d->nr_addrs];
		struct json_object *w = json_object_array_get_idx(as, i);
		const char *t = json_object_is_type(w, json_type_string) ? json_object_get_string(w) : "";

		a->family = strchr(t, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(a->family, t, a->addr) != 1) {
			snprintf(err, errsize, "%s: a bad address", out->vm);
			topo_frame_store_free(out);
			return -EBADMSG;
		}
		d->nr_addrs++;
	}
	for (i = 0; i < ns; i++)
		if ((ret = parse_socket(json_object_array_get_idx(ss, i), &out->socks[i], out->bytes[i]))) {
			snprintf(err, errsize, "%.128s: socket %zu is malformed", out->vm, i);
			topo_frame_store_free(out);
			return ret;
		}
	e = member(o, "error", json_type_string);
	if (e)
		snprintf(out->error, sizeof(out->error), "%s", json_object_get_string(e));
	out->frame = (struct topo_frame){
		.vm = out->vm, .socks = out->socks, .nr_socks = (int)ns, .devs = out->devs,
		.nr_devs = (int)(na / NFM_NETDEV_MAX_ADDRS + (na % NFM_NETDEV_MAX_ADDRS != 0)),
		.bytes = (const uint64_t (*)[2])out->bytes, .complete = json_object_get_boolean(c),
		.error = out->error[0] ? out->error : "a partial view",
	};
	return 0;
}
