// SPDX-License-Identifier: GPL-2.0-or-later
/* The command framework: options every command takes, usage errors, attach, output helpers. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "guest_text.h"
#include "jout.h"

/* Long options every command takes; values above any character a command may use. */
enum {
	OPT_PRETTY = 0x20000, OPT_COMPACT, OPT_NOHEADINGS, OPT_RAW, OPT_VM, OPT_SYSTEM_MAP, OPT_BTF,
};

static const struct option common_long[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "pretty", no_argument, NULL, OPT_PRETTY },
	{ "compact", no_argument, NULL, OPT_COMPACT },
	{ "noheadings", no_argument, NULL, OPT_NOHEADINGS },
	{ "raw", no_argument, NULL, OPT_RAW },
	{ "vm", required_argument, NULL, OPT_VM },
	{ "system-map", required_argument, NULL, OPT_SYSTEM_MAP },
	{ "btf", required_argument, NULL, OPT_BTF },
};
#define NR_COMMON (sizeof(common_long) / sizeof(common_long[0]))

/* Per command run: the merged option tables and whether getopt was reset. */
static struct {
	const struct command *cmd;
	struct option longs[64];
	char shorts[128];
	int status;
} opt_state;

static void print_help(const struct cli *cli)
{
	const struct command *c = cli->cmd;

	printf("usage: nfm [--vm SPEC] %s %s\n\n%s.\n\n", c->name, c->usage, c->summary);
	if (c->help)
		printf("Options:\n%s\n", c->help);
	printf("Options of every command:\n"
	       "  -j, --json          JSON (doc/schema/); compact unless stdout is a terminal\n"
	       "      --pretty        indented JSON; --compact: one line even on a terminal\n"
	       "      --noheadings    tables without their header line; --raw: unaligned cells\n"
	       "      --vm SPEC       the guest: a QEMU pid, a VM name, libvirt:NAME, qmp:SOCKET, a dump\n"
	       "      --system-map F  --btf F: symbols and types from files (kernels without them)\n"
	       "  -h, --help          this help\n\n"
	       "Exit status: 0 ok, 1 error, 2 usage error, 3 partial view (said on stderr and in\n"
	       "JSON as \"complete\": false), 4 findings (check, diagnose). See nfm(1).\n");
}

/* Build the merged tables once per command run. */
static int merge_options(const char *shortopts, const struct option *longopts)
{
	size_t n = 0, i;
	bool own_h = shortopts && strchr(shortopts, 'h');

	snprintf(opt_state.shorts, sizeof(opt_state.shorts), ":%sj%s", shortopts ? shortopts : "",
		 own_h ? "" : "h");
	for (i = 0; longopts && longopts[i].name; i++) {
		if (n >= sizeof(opt_state.longs) / sizeof(opt_state.longs[0]) - NR_COMMON - 1)
			return -1;
		opt_state.longs[n++] = longopts[i];
	}
	for (i = 0; i < NR_COMMON; i++)
		opt_state.longs[n++] = common_long[i];
	opt_state.longs[n] = (struct option){ 0 };
	return 0;
}

int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	bool own_h = shortopts && strchr(shortopts, 'h');
	int c, idx = -1;

	if (opt_state.cmd != cli->cmd) {
		opt_state.cmd = cli->cmd;
		opt_state.status = 0;
		optind = 0;	/* glibc: a full reset (nfm shell runs many commands) */
		opterr = 0;
		if (merge_options(shortopts, longopts)) {
			opt_state.status = cli_usage_error(cli, "too many options");
			return CLI_OPT_STOP;
		}
	}
	for (;;) {
		idx = -1;
		c = getopt_long(argc, argv, opt_state.shorts, opt_state.longs, &idx);
		switch (c) {
		case 'j':
			cli->json = true;
			continue;
		case 'h':
			/* A command's own -h (free -h); --help is always help. */
			if (own_h && (idx < 0 || strcmp(opt_state.longs[idx].name, "help")))
				return c;
			print_help(cli);
			opt_state.status = 0;
			return CLI_OPT_STOP;
		case OPT_PRETTY:
			cli->pretty = 1;
			continue;
		case OPT_COMPACT:
			cli->pretty = 0;
			continue;
		case OPT_NOHEADINGS:
			cli->noheadings = true;
			continue;
		case OPT_RAW:
			cli->raw = true;
			continue;
		case OPT_VM:
			cli->vm = optarg;
			continue;
		case OPT_SYSTEM_MAP:
			cli->system_map = optarg;
			continue;
		case OPT_BTF:
			cli->btf = optarg;
			continue;
		case '?':
			if (optopt)
				opt_state.status = cli_usage_error(cli, "unknown option '-%c'", optopt);
			else
				opt_state.status = cli_usage_error(cli, "unknown option '%s'",
								   cli_esc(argv[optind - 1]));
			return CLI_OPT_STOP;
		case ':':
			if (optopt && optopt < 0x100)
				opt_state.status = cli_usage_error(cli, "option '-%c' needs a value", optopt);
			else
				opt_state.status = cli_usage_error(cli, "option '%s' needs a value",
								   cli_esc(argv[optind - 1]));
			return CLI_OPT_STOP;
		default:
			return c;
		}
	}
}

int cli_opt_status(const struct cli *cli)
{
	(void)cli;
	return opt_state.status;
}

int cli_usage_error(struct cli *cli, const char *fmt, ...)
{
	const char *name = cli->cmd ? cli->cmd->name : NULL;
	va_list ap;

	fprintf(stderr, "nfm%s%s: ", name ? " " : "", name ? name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (name)
		fprintf(stderr, " (see nfm %s --help)\n", name);
	else
		fputs(" (see nfm --help)\n", stderr);
	return EXIT_USAGE;
}

int cli_run(struct cli *cli, const struct command *cmd, int argc, char **argv)
{
	const struct command *outer = cli->cmd;
	int ret;

	cli->cmd = cmd;
	opt_state.cmd = NULL;	/* the next cli_getopt() starts afresh */
	ret = cmd->run(cli, argc, argv);
	cli->cmd = outer;
	opt_state.cmd = NULL;
	return ret;
}

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

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("nfm: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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
	NFM_OPTS(nfm_attach_opts, opts, .system_map = cli->system_map, .btf_path = cli->btf);
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

int cli_print_json(struct cli *cli, struct json_object *o)
{
	return jdoc_print(stdout, o, cli->pretty);
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
