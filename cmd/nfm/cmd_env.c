// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm env PID: a process's environment (/proc/PID/environ), read from its own memory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/task.h>

#include "cli.h"
#include "jout.h"
#include "walk_words.h"

#define ENV_MAX (4u << 20)

/* env.json: the NUL-separated strings, and the exact bytes when the text is not exact. */
static struct json_object *env_json(long pid, const char *buf, size_t len,
				    const struct nfm_umem_stat *st)
{
	struct json_object *doc = jdoc_new("env"), *a = json_object_new_array();
	size_t i, s;

	for (i = 0, s = 0; i < len; i++) {
		if (buf[i] == 0) {
			json_object_array_add(a, j_bytes(buf + s, i - s));
			s = i + 1;
		}
	}
	if (s < len)
		json_object_array_add(a, j_bytes(buf + s, len - s));
	j_add(doc, "pid", j_int(pid));
	j_add(doc, "environ", a);
	if (!j_bytes_exact(buf, len))
		j_add(doc, "environ_hex", j_hex(buf, len));
	j_add(doc, "expected_bytes", j_u64(st->want));
	j_add(doc, "pages_missing", j_int(st->pages_missing));
	j_add(doc, "pages_swapped", j_int(st->pages_swapped));
	if (st->pages_missing)
		jdoc_error(doc, "environ", -EFAULT, "pages of the environment are not resident");
	return doc;
}

static int cmd_env(struct cli *cli, int argc, char **argv)
{
	struct nfm_umem_stat st;
	struct nfm_task t;
	char *buf, *end, *esc;
	long pid;
	size_t i, s;
	int r, ret = 0;

	if (cli_getopt(cli, argc, argv, "", NULL) != -1)
		return cli_opt_status(cli);	/* --help, or an unknown option */
	if (argc - optind != 1)
		return cli_usage_error(cli, "one PID is needed");
	pid = strtol(argv[optind], &end, 10);
	if (!argv[optind][0] || *end || pid <= 0 || pid > 4194304)
		return cli_usage_error(cli, "not a pid: '%s'", cli_esc(argv[optind]));
	if (cli_attach(cli))
		return 1;
	r = nfm_task_get(cli->ctx, (int32_t)pid, 0, &t);
	if (r < 0)
		return cli_fail("pid %ld: %s", pid, r == -ENOENT ? "no such process" :
				r == -ELOOP || r == -EBADMSG ? task_walk_words(r) : strerror(-r));
	buf = malloc(ENV_MAX);
	if (!buf)
		return cli_fail("out of memory");
	r = nfm_task_environ(cli->ctx, &t, buf, ENV_MAX, &st);
	if (r < 0) {
		free(buf);
		return cli_fail("pid %ld: cannot read its environment: %s", pid, strerror(-r));
	}
	if (st.pages_missing)
		cli_warn("pid %ld: %u page%s of its environment %s not resident%s: shown up to there",
			 pid, st.pages_missing, st.pages_missing == 1 ? "" : "s",
			 st.pages_missing == 1 ? "is" : "are", st.pages_swapped ? " (swapped out)" : "");
	if (cli->json) {
		ret = cli_print_json(cli, env_json(pid, buf, (size_t)r, &st));
	} else {
		/* One escaped NAME=value line a string (env's own output: not a table). */
		esc = malloc(ENV_MAX * 4 + 1);
		for (i = 0, s = 0; esc && i <= (size_t)r; i++) {
			if (i == (size_t)r || buf[i] == 0) {
				if (i > s || i < (size_t)r)
					puts(cli_escape(buf + s, i - s, esc, ENV_MAX * 4 + 1));
				s = i + 1;
			}
		}
		if (!esc)
			ret = cli_fail("out of memory");
		free(esc);
	}
	free(buf);
	return ret ?: st.pages_missing ? EXIT_PARTIAL : 0;
}

const struct command command_env = {
	.name = "env",
	.summary = "a process's environment, from its own memory",
	.usage = "PID",
	.help = "  PID                 the process whose environment (/proc/PID/environ) to show\n",
	.run = cmd_env,
};
