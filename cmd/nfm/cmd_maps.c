// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm maps PID: the lines of the guest's /proc/PID/maps, from the process's maple tree. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "guest_text.h"
#include <nfm/task.h>

static struct json_object *vma_json(const struct nfm_vma *v)
{
	struct json_object *o = json_object_new_object();
	char s[32];

#define ADD(k, val) json_object_object_add(o, k, val)
	snprintf(s, sizeof(s), "%08" PRIx64, v->start);
	ADD("start", json_object_new_string(s));
	snprintf(s, sizeof(s), "%08" PRIx64, v->end);
	ADD("end", json_object_new_string(s));
	ADD("perms", json_object_new_string(v->perms));
	ADD("offset", json_object_new_int64((int64_t)v->offset));
	snprintf(s, sizeof(s), "%02x:%02x", v->dev_major, v->dev_minor);
	ADD("dev", json_object_new_string(s));
	ADD("inode", json_object_new_int64((int64_t)v->ino));
	ADD("flags", json_object_new_int64((int64_t)v->flags));
	ADD("name", cli_json_bytes(v->name, v->name_len));
	ADD("name_hex", guest_json_hex(v->name, v->name_len));
#undef ADD
	return o;
}

int cmd_maps(struct cli *cli, int argc, char **argv)
{
	struct json_object *arr = NULL;
	struct nfm_vma_iter *it;
	struct nfm_task t;
	struct nfm_vma *v;
	char *end, line[8192], esc[8192 * 4];
	long pid;
	int r, ret = 0;

	if (argc != 2)
		return cli_fail("usage: nfm maps [-j] PID");
	pid = strtol(argv[1], &end, 10);
	if (*end || pid <= 0 || pid > 4194304)
		return cli_fail("not a pid: '%s'", cli_esc(argv[1]));
	if (cli_attach(cli))
		return 1;
	r = nfm_task_get(cli->ctx, (int32_t)pid, 0, &t);
	if (r == -ENOENT)
		r = nfm_task_get(cli->ctx, (int32_t)pid, NFM_TASK_THREADS, &t);
	if (r < 0)
		return cli_fail("pid %ld: %s", pid, r == -ENOENT ? "no such process" : strerror(-r));
	if (!t.mm) {
		if (cli->json)
			return cli_print_json(cli, json_object_new_array());
		return 0;	/* kernel threads and zombies: /proc/PID/maps is empty */
	}
	r = nfm_vma_iter_new(cli->ctx, &t, &it);
	if (r < 0)
		return cli_fail("pid %ld: cannot read its memory map: %s", pid,
				cli->last_error[0] ? cli->last_error : strerror(-r));
	v = malloc(sizeof(*v));
	if (!v) {
		nfm_vma_iter_free(it);
		return cli_fail("out of memory");
	}
	if (cli->json)
		arr = json_object_new_array();
	while ((r = nfm_vma_iter_next(it, v)) > 0) {
		if (cli->json) {
			json_object_array_add(arr, vma_json(v));
		} else {
			size_t n = nfm_vma_format(v, line, sizeof(line));

			puts(cli_escape(line, n, esc, sizeof(esc)));
		}
	}
	nfm_vma_iter_free(it);
	free(v);
	if (r < 0) {
		json_object_put(arr);
		return cli_fail("pid %ld: the memory map is damaged: %s", pid, strerror(-r));
	}
	if (cli->json)
		ret = cli_print_json(cli, arr);
	return ret;
}

const struct command command_maps = {
	.name = "maps",
	.summary = "a process's memory mappings (/proc/PID/maps)",
	.usage = "[-j] PID",
	.run = cmd_maps,
};
