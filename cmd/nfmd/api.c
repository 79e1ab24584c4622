// SPDX-License-Identifier: GPL-2.0-or-later
/* The JSON API's documents: GET /, GET /api/v1/vms, GET /api/v1/vms/NAME and errors. */
#include <string.h>

#include <jout.h>

#include "api.h"

/* A value of the latest base section's "info" object, or NULL. */
static struct json_object *info_field(const struct vm *vm, const char *key)
{
	struct json_object *info, *v;

	if (!vm->sec[F_BASE] || !vm->sec[F_BASE]->json ||
	    !json_object_object_get_ex(vm->sec[F_BASE]->json, "info", &info) ||
	    !json_object_object_get_ex(info, key, &v))
		return NULL;
	return v;
}

static void add_copy(struct json_object *o, const char *key, struct json_object *v)
{
	if (v)
		json_object_object_add(o, key, json_object_get(v));
}

static struct json_object *vm_summary(const struct vm *vm)
{
	struct json_object *o = json_object_new_object();

#define ADD(k, v) json_object_object_add(o, k, v)
	ADD("name", j_str(vm->name));
	ADD("pid", json_object_new_int(vm->pid));
	ADD("status", json_object_new_string(vm_status_names[vm->status]));
	ADD("up", json_object_new_boolean(vm->status == VS_UP || vm->status == VS_PAUSED));
	if (vm->error[0])
		ADD("error", j_str(vm->error));
	ADD("libvirt", json_object_new_boolean(vm->libvirt));
	ADD("ram_bytes", json_object_new_int64((int64_t)vm->ram_size));
	add_copy(o, "release", info_field(vm, "release"));
	add_copy(o, "uptime_s", info_field(vm, "uptime_s"));
	add_copy(o, "cpus_online", info_field(vm, "cpus_online"));
	ADD("discovered_at", json_object_new_double(vm->discovered_at));
	if (vm->last_crawl_at) {
		ADD("last_crawl_at", json_object_new_double(vm->last_crawl_at));
		ADD("last_crawl_ms", json_object_new_double(vm->last_crawl_duration * 1000));
	}
	ADD("crawls", json_object_new_int64((int64_t)vm->crawls));
	ADD("crawl_errors", json_object_new_int64((int64_t)vm->crawl_errors));
	ADD("attaches", json_object_new_int64((int64_t)vm->attaches));
	ADD("reboots", json_object_new_int64((int64_t)vm->reboots));
#undef ADD
	return o;
}

/* The summary, then every key of the latest section of each feature, then when each was read. */
struct json_object *api_vm(const struct vm *vm)
{
	struct json_object *o = vm_summary(vm), *col = json_object_new_object();

	for (int f = 0; f < F_NR; f++) {
		struct section *s = vm->sec[f];
		struct json_object *c;

		if (!s)
			continue;
		if (s->json) {
			json_object_object_foreach(s->json, k, v)
				json_object_object_add(o, k, json_object_get(v));
		}
		c = json_object_new_object();
		json_object_object_add(c, "at", json_object_new_double(s->collected_at));
		json_object_object_add(c, "duration_ms", json_object_new_double(s->duration * 1000));
		if (s->err)
			json_object_object_add(c, "error", j_str(s->errmsg));
		json_object_object_add(col, feature_names[f], c);
	}
	json_object_object_add(o, "collected", col);
	return o;
}

struct json_object *api_vms(const struct vm_table *vms)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();

	for (const struct vm *vm = vms->head; vm; vm = vm->next)
		if (!vm->gone)
			json_object_array_add(a, vm_summary(vm));
	json_object_object_add(o, "vms", a);
	return o;
}

struct json_object *api_index(void)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string("nfmd"));
	json_object_object_add(o, "version", json_object_new_string(nfm_version()));
	json_object_array_add(a, json_object_new_string("/metrics"));
	json_object_array_add(a, json_object_new_string("/api/v1/vms"));
	json_object_array_add(a, json_object_new_string("/api/v1/vms/NAME"));
	json_object_object_add(o, "endpoints", a);
	return o;
}

struct json_object *api_error(unsigned int http_status, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", j_str(msg));
	json_object_object_add(o, "status", json_object_new_int((int)http_status));
	return o;
}
