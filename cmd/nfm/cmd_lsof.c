// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm lsof [-p PID]: every open file descriptor, with the target /proc/PID/fd shows. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "guest_text.h"
#include <nfm/task.h>

static struct json_object *fd_json(const struct nfm_task *t, const struct nfm_fd *f)
{
	struct json_object *o = json_object_new_object();
	char s[32];

#define ADD(k, v) json_object_object_add(o, k, v)
	ADD("pid", json_object_new_int(t->tgid));
	ADD("comm", cli_json_bytes(t->name, strlen(t->name)));
	ADD("fd", json_object_new_int(f->fd));
	ADD("type", json_object_new_string(f->type));
	ADD("path", cli_json_bytes(f->path, f->path_len));
	ADD("path_hex", guest_json_hex(f->path, f->path_len));
	ADD("inode", json_object_new_int64((int64_t)f->ino));
	snprintf(s, sizeof(s), "%u,%u", f->dev_major, f->dev_minor);
	ADD("device", json_object_new_string(s));
	ADD("flags", json_object_new_int64(f->f_flags));
	ADD("pos", json_object_new_int64((int64_t)f->pos));
	ADD("mode", json_object_new_int64(f->mode));
	if (f->sock_family >= 0) {
		ADD("family", json_object_new_int(f->sock_family));
		ADD("sock_type", json_object_new_int(f->sock_type));
		ADD("protocol", json_object_new_int(f->sock_protocol));
		ADD("proto", json_object_new_string(f->proto));
	}
#undef ADD
	return o;
}

int cmd_lsof(struct cli *cli, int argc, char **argv)
{
	struct json_object *arr = NULL;
	struct nfm_task_iter *it;
	struct nfm_task t;
	struct nfm_fd *f;
	long want = 0;
	unsigned int skipped = 0, broken = 0;
	int r, found = 0, ret = 0;
	char *end, esc[4][4096 * 4];

	if (argc == 3 && !strcmp(argv[1], "-p")) {
		want = strtol(argv[2], &end, 10);
		if (*end || want <= 0 || want > 4194304)
			return cli_fail("not a pid: '%s'", cli_esc(argv[2]));
	} else if (argc != 1) {
		return cli_fail("usage: nfm lsof [-j] [-p PID]");
	}
	if (cli_attach(cli))
		return 1;
	r = nfm_task_iter_new(cli->ctx, 0, &it);
	if (r < 0)
		return cli_fail("cannot list processes: %s", cli->last_error[0] ? cli->last_error :
				strerror(-r));
	f = malloc(sizeof(*f));
	if (!f) {
		nfm_task_iter_free(it);
		return cli_fail("out of memory");
	}
	if (cli->json)
		arr = json_object_new_array();
	else
		printf("%-15s %7s %5s %5s %-7s %-8s %10s %-6s %s\n", "COMMAND", "PID", "UID", "FD",
		       "TYPE", "DEVICE", "NODE", "PROTO", "NAME");
	while ((r = nfm_task_iter_next(it, &t)) > 0) {
		struct nfm_fd_iter *fi;

		if (want && t.tgid != want)
			continue;
		found = 1;
		if (nfm_fd_iter_new(cli->ctx, &t, &fi) < 0) {
			broken += !t.kthread && t.state != 'Z' && t.mm;
			continue;
		}
		while (nfm_fd_iter_next(fi, f) > 0) {
			char dev[24];

			if (cli->json) {
				json_object_array_add(arr, fd_json(&t, f));
				continue;
			}
			snprintf(dev, sizeof(dev), "%u,%u", f->dev_major, f->dev_minor);
			printf("%-15s %7d %5u %5d %-7s %-8s %10" PRIu64 " %-6s %s\n",
			       cli_escape(t.comm, strlen(t.comm), esc[0], sizeof(esc[0])), t.tgid, t.euid,
			       f->fd, f->type, dev, f->ino, f->proto[0] ? f->proto : "",
			       cli_escape(f->path, f->path_len, esc[1], sizeof(esc[1])));
		}
		skipped += nfm_fd_iter_skipped(fi);
		nfm_fd_iter_free(fi);
	}
	skipped += nfm_task_iter_skipped(it);
	nfm_task_iter_free(it);
	free(f);
	if (r < 0) {
		json_object_put(arr);
		return cli_fail("the guest's task list is broken: %s", strerror(-r));
	}
	if (want && !found) {
		json_object_put(arr);
		return cli_fail("pid %ld: no such process", want);
	}
	if (cli->json)
		ret = cli_print_json(cli, arr);
	if (skipped || broken)
		fprintf(stderr, "nfm: %u entr%s skipped (changed while being read or unreadable)\n",
			skipped + broken, skipped + broken == 1 ? "y" : "ies");
	return ret;
}

const struct command command_lsof = {
	.name = "lsof",
	.summary = "open files of every process (/proc/PID/fd)",
	.usage = "[-j] [-p PID]",
	.run = cmd_lsof,
};
