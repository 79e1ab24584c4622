// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm env PID: a process's environment (/proc/PID/environ), read from its own memory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include <nfm/task.h>

#define ENV_MAX (4u << 20)

int cmd_env(struct cli *cli, int argc, char **argv)
{
	struct nfm_umem_stat st;
	struct nfm_task t;
	char *buf, *end, *esc;
	long pid;
	size_t i, s;
	int r, ret = 0;

	if (argc != 2)
		return cli_fail("usage: nfm env [-j] PID");
	pid = strtol(argv[1], &end, 10);
	if (*end || pid <= 0 || pid > 4194304)
		return cli_fail("not a pid: '%s'", cli_esc(argv[1]));
	if (cli_attach(cli))
		return 1;
	r = nfm_task_get(cli->ctx, (int32_t)pid, 0, &t);
	if (r < 0)
		return cli_fail("pid %ld: %s", pid, r == -ENOENT ? "no such process" : strerror(-r));
	buf = malloc(ENV_MAX);
	if (!buf)
		return cli_fail("out of memory");
	r = nfm_task_environ(cli->ctx, &t, buf, ENV_MAX, &st);
	if (r < 0) {
		free(buf);
		return cli_fail("pid %ld: cannot read its environment: %s", pid, strerror(-r));
	}
	if (cli->json) {
		struct json_object *o = json_object_new_object(), *a = json_object_new_array();
		char *hex = malloc((size_t)r * 2 + 1);

		for (i = 0, s = 0; i < (size_t)r; i++) {
			if (buf[i] == 0) {
				json_object_array_add(a, cli_json_bytes(buf + s, i - s));
				s = i + 1;
			}
		}
		if (s < (size_t)r)
			json_object_array_add(a, cli_json_bytes(buf + s, (size_t)r - s));
		json_object_object_add(o, "pid", json_object_new_int((int)pid));
		json_object_object_add(o, "environ", a);
		if (hex) {
			for (i = 0; i < (size_t)r; i++)
				snprintf(hex + 2 * i, 3, "%02x", (unsigned char)buf[i]);
			hex[2 * (size_t)r] = 0;
			json_object_object_add(o, "environ_hex", json_object_new_string(hex));
			free(hex);
		}
		json_object_object_add(o, "bytes_expected", json_object_new_int64((int64_t)st.want));
		json_object_object_add(o, "pages_missing", json_object_new_int((int)st.pages_missing));
		json_object_object_add(o, "pages_swapped", json_object_new_int((int)st.pages_swapped));
		ret = cli_print_json(cli, o);
	} else {
		esc = malloc(ENV_MAX * 4 + 1);
		for (i = 0, s = 0; esc && i <= (size_t)r; i++) {
			if (i == (size_t)r || buf[i] == 0) {
				if (i > s || i < (size_t)r)
					puts(cli_escape(buf + s, i - s, esc, ENV_MAX * 4 + 1));
				s = i + 1;
			}
		}
		free(esc);
	}
	free(buf);
	if (st.pages_missing) {
		fprintf(stderr, "nfm: pid %ld: %u page%s of its environment %s not resident%s: shown up "
			"to there\n", pid, st.pages_missing, st.pages_missing == 1 ? "" : "s",
			st.pages_missing == 1 ? "is" : "are", st.pages_swapped ? " (swapped out)" : "");
		ret = ret ? ret : 3;
	}
	return ret;
}

const struct command command_env = {
	.name = "env",
	.summary = "a process's environment, from its own memory",
	.usage = "[-j] PID",
	.run = cmd_env,
};
