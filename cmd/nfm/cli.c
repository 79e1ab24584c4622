// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "guest_text.h"

int cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("nfm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int cli_open(struct cli *cli)
{
	int ret;

	cli->last_error[0] = 0;
	ret = nfm_source_open(cli->vm, &cli->log, &cli->src);
	if (ret < 0)
		return cli_fail("%s", cli->last_error[0] ? cli->last_error : strerror(-ret));
	return 0;
}

int cli_attach(struct cli *cli)
{
	struct nfm_attach_opts opts = { .system_map = cli->system_map, .btf_path = cli->btf };
	int ret;

	if (cli->ctx)
		return 0;	/* attached already (nfm shell runs many commands on one attach) */
	if (!cli->src && cli_open(cli))
		return 1;
	cli->last_error[0] = 0;
	ret = nfm_ctx_new(cli->src, &opts, &cli->log, &cli->ctx);
	if (ret < 0)
		return cli_fail("%s: %s", nfm_source_describe(cli->src),
				cli->last_error[0] ? cli->last_error : strerror(-ret));
	return 0;
}

void cli_detach(struct cli *cli)
{
	nfm_ctx_free(cli->ctx);
	cli->ctx = NULL;
	nfm_source_free(cli->src);
	cli->src = NULL;
}

int cli_print_json(struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	int ret = puts(s) < 0;

	json_object_put(o);
	return ret;
}

char *cli_escape(const void *bytes, size_t len, char *out, size_t outsize)
{
	return guest_escape(bytes, len, out, outsize);
}

const char *cli_esc(const char *s)
{
	static char bufs[4][2048];
	static int next;
	char *b = bufs[next++ & 3];

	return cli_escape(s, strlen(s), b, sizeof(bufs[0]));
}

struct json_object *cli_json_bytes(const void *bytes, size_t len)
{
	return guest_json_bytes(bytes, len);
}

int cli_usage(const struct command *cmd)
{
	fprintf(stderr, "usage: nfm %s %s\n", cmd->name, cmd->usage);
	return 2;
}
