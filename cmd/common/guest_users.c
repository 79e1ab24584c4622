// SPDX-License-Identifier: GPL-2.0-or-later
/* User and group names from the guest's /etc/passwd and /etc/group in its page cache. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nfm/nfm.h>
#include <nfm/system.h>

#include "guest_users.h"

/* One field of a line: [s, s + len). */
struct field {
	const char *s;
	size_t len;
};

/* The decimal id of a passwd/group id field: 0, or -1 (empty, not a number, 2^32 - 1 or more). */
static int parse_id(struct field f, uint32_t *ret)
{
	uint64_t v = 0;
	size_t i;

	if (!f.len || f.len > 10)
		return -1;
	for (i = 0; i < f.len; i++) {
		if (f.s[i] < '0' || f.s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(f.s[i] - '0');
	}
	if (v >= UINT32_MAX)	/* (uid_t)-1 is no one */
		return -1;
	*ret = (uint32_t)v;
	return 0;
}

/* One line (without its newline): 1 with *ret, 0 for a line that is left out silently, -1 bad. */
static int parse_line(const char *s, size_t len, struct guest_id *ret)
{
	struct field f[3];
	size_t i, start = 0;
	int n = 0;

	while (len && (*s == ' ' || *s == '\t')) {	/* nss_files skips leading blanks */
		s++;
		len--;
	}
	if (!len || *s == '#')
		return 0;
	if (*s == '+' || *s == '-')	/* NIS compat entries name no local id */
		return 0;
	if (memchr(s, 0, len) || len > GUEST_IDS_LINE_MAX)
		return -1;
	for (i = 0; i <= len && n < 3; i++) {
		if (i == len || s[i] == ':') {
			f[n].s = s + start;
			f[n].len = i - start;
			n++;
			start = i + 1;
		}
	}
	if (n < 3 || !f[0].len || f[0].len >= GUEST_NAME_MAX)
		return -1;
	if (parse_id(f[2], &ret->id) < 0)
		return -1;
	memcpy(ret->name, f[0].s, f[0].len);
	ret->name[f[0].len] = 0;
	return 1;
}

int guest_ids_parse(const char *text, size_t len, struct guest_ids *out)
{
	size_t pos = 0, cap = 0;

	memset(out, 0, sizeof(*out));
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		struct guest_id id;
		int r = parse_line(text + pos, end - pos, &id);

		pos = end + 1;
		if (r < 0 || (r > 0 && out->n >= GUEST_IDS_MAX)) {
			out->skipped++;
			continue;
		}
		if (!r)
			continue;
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct guest_id *v = realloc(out->v, ncap * sizeof(*v));

			if (!v) {
				guest_ids_free(out);
				return -ENOMEM;
			}
			out->v = v;
			cap = ncap;
		}
		out->v[out->n++] = id;
	}
	return 0;
}

void guest_ids_free(struct guest_ids *ids)
{
	free(ids->v);
	memset(ids, 0, sizeof(*ids));
}

const struct guest_id *guest_ids_by_id(const struct guest_ids *ids, uint32_t id)
{
	for (size_t i = 0; i < ids->n; i++)
		if (ids->v[i].id == id)
			return &ids->v[i];
	return NULL;
}

const struct guest_id *guest_ids_by_name(const struct guest_ids *ids, const char *name)
{
	for (size_t i = 0; i < ids->n; i++)
		if (!strcmp(ids->v[i].name, name))
			return &ids->v[i];
	return NULL;
}

/* ---- per-context tables ---- */

#define CACHE_SLOTS 16

struct tables {
	struct nfm_ctx *ctx;
	struct timespec loaded;
	struct guest_ids users, groups;
};

static struct tables cache[CACHE_SLOTS];
static unsigned int cache_next;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* The guest file at path parsed into ids (empty when it is not cached or too large). */
static void load(struct nfm_ctx *ctx, const char *path, struct guest_ids *ids)
{
	struct nfm_fs_entry e;
	struct nfm_fs_read_stat st;
	void *buf = NULL;

	memset(ids, 0, sizeof(*ids));
	if (nfm_fs_stat(ctx, path, &e) < 0 || e.size > GUEST_IDS_FILE_MAX)
		return;
	if (nfm_fs_read(ctx, path, &buf, &st) < 0)
		return;
	/* missing pages read as zeros: parse_line() leaves the lines they touch out */
	if (st.size <= GUEST_IDS_FILE_MAX && st.pages_missing < st.pages)
		guest_ids_parse(buf, st.size, ids);
	free(buf);
}

static void drop(struct tables *t)
{
	guest_ids_free(&t->users);
	guest_ids_free(&t->groups);
	t->ctx = NULL;
}

static bool expired(const struct timespec *then)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec - then->tv_sec >= GUEST_IDS_TTL_S || now.tv_sec < then->tv_sec;
}

/* ctx's tables, read now when absent or old; called with cache_lock held. */
static struct tables *tables_of(struct nfm_ctx *ctx)
{
	struct tables *t = NULL;
	unsigned int i;

	for (i = 0; i < CACHE_SLOTS; i++)
		if (cache[i].ctx == ctx) {
			t = &cache[i];
			break;
		}
	if (t && !expired(&t->loaded))
		return t;
	if (t)
		drop(t);
	else
		t = &cache[cache_next++ % CACHE_SLOTS];
	drop(t);
	load(ctx, "/etc/passwd", &t->users);
	load(ctx, "/etc/group", &t->groups);
	clock_gettime(CLOCK_MONOTONIC, &t->loaded);
	t->ctx = ctx;
	return t;
}

static const char *lookup(struct nfm_ctx *ctx, bool group, uint32_t id, char *buf)
{
	const struct guest_id *g;
	struct tables *t;

	if (!ctx)
		return NULL;
	pthread_mutex_lock(&cache_lock);
	t = tables_of(ctx);
	g = guest_ids_by_id(group ? &t->groups : &t->users, id);
	if (g)
		memcpy(buf, g->name, GUEST_NAME_MAX);
	pthread_mutex_unlock(&cache_lock);
	return g ? buf : NULL;
}

const char *guest_user_name(struct nfm_ctx *ctx, uint32_t uid, char *buf)
{
	return lookup(ctx, false, uid, buf);
}

const char *guest_group_name(struct nfm_ctx *ctx, uint32_t gid, char *buf)
{
	return lookup(ctx, true, gid, buf);
}

const char *guest_user_or_id(struct nfm_ctx *ctx, uint32_t uid, char *buf)
{
	if (!lookup(ctx, false, uid, buf))
		snprintf(buf, GUEST_NAME_MAX, "%u", uid);
	return buf;
}

const char *guest_group_or_id(struct nfm_ctx *ctx, uint32_t gid, char *buf)
{
	if (!lookup(ctx, true, gid, buf))
		snprintf(buf, GUEST_NAME_MAX, "%u", gid);
	return buf;
}

static int id_of(struct nfm_ctx *ctx, bool group, const char *name, uint32_t *ret)
{
	const struct guest_id *g;
	struct tables *t;

	if (!ctx)
		return -ENOENT;
	pthread_mutex_lock(&cache_lock);
	t = tables_of(ctx);
	g = guest_ids_by_name(group ? &t->groups : &t->users, name);
	if (g)
		*ret = g->id;
	pthread_mutex_unlock(&cache_lock);
	return g ? 0 : -ENOENT;
}

int guest_user_id(struct nfm_ctx *ctx, const char *name, uint32_t *uid)
{
	return id_of(ctx, false, name, uid);
}

int guest_group_id(struct nfm_ctx *ctx, const char *name, uint32_t *gid)
{
	return id_of(ctx, true, name, gid);
}

void guest_users_forget(struct nfm_ctx *ctx)
{
	pthread_mutex_lock(&cache_lock);
	for (unsigned int i = 0; i < CACHE_SLOTS; i++)
		if (cache[i].ctx == ctx)
			drop(&cache[i]);
	pthread_mutex_unlock(&cache_lock);
}
