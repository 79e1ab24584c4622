// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
	size_t n, i;
	unsigned int cp;

	if (p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;
	if (n > avail)
		return 0;
	cp = p[0] & (0x3f >> (n - 1));
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* No overlong forms, surrogates, C1 controls or values past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
		return 0;
	return n;
}

char *cli_escape(const void *bytes, size_t len, char *out, size_t outsize)
{
	const unsigned char *p = bytes;
	size_t o = 0, i = 0;

	if (!outsize)
		return out;
	while (i < len && o + 5 < outsize) {
		size_t u;

		if (p[i] == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
			i++;
		} else if (p[i] >= 0x20 && p[i] < 0x7f) {
			out[o++] = (char)p[i++];
		} else if ((u = utf8_len(p + i, len - i)) && o + u < outsize) {
			memcpy(out + o, p + i, u);
			o += u;
			i += u;
		} else {
			o += (size_t)snprintf(out + o, outsize - o, "\\x%02x", p[i++]);
		}
	}
	out[o] = 0;
	return out;
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
	const unsigned char *p = bytes;
	size_t i, u;
	char *tmp;
	struct json_object *o;

	/* Valid UTF-8 goes as it is (json-c escapes control characters itself). */
	for (i = 0; i < len; i += u) {
		u = p[i] < 0x80 ? 1 : utf8_len(p + i, len - i);
		if (!u)
			break;
	}
	if (i >= len)
		return json_object_new_string_len((const char *)p, (int)len);
	tmp = malloc(len * 4 + 1);
	if (!tmp)
		return NULL;
	/* Not UTF-8: the terminal escaping (\xNN, backslash doubled), documented in doc/json.md. */
	cli_escape(p, len, tmp, len * 4 + 1);
	o = json_object_new_string(tmp);
	free(tmp);
	return o;
}

int cli_usage(const struct command *cmd)
{
	fprintf(stderr, "usage: nfm %s %s\n", cmd->name, cmd->usage);
	return 2;
}
