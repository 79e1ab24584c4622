// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm: one binary, one file per subcommand (the git/bpftool pattern); the table is commands.c. */
#include <errno.h>
#include <locale.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void log_to_cli(void *userdata, enum nfm_log_level level, const char *msg)
{
	struct cli *cli = userdata;

	if (level == NFM_LOG_ERR)
		snprintf(cli->last_error, sizeof(cli->last_error), "%s", msg);
	else
		fprintf(stderr, "nfm: %s\n", cli_esc(msg));
}

enum { OPT_VERSION = 0x30000, OPT_PRETTY, OPT_COMPACT, OPT_NOHEADINGS, OPT_RAW, OPT_SYSTEM_MAP,
	OPT_BTF, OPT_VM, OPT_AT };

/* The options before the command; a command's own options come after its name. */
static int global_options(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vm", required_argument, NULL, OPT_VM },
		{ "at", required_argument, NULL, OPT_AT },
		{ "system-map", required_argument, NULL, OPT_SYSTEM_MAP },
		{ "btf", required_argument, NULL, OPT_BTF },
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, OPT_PRETTY },
		{ "compact", no_argument, NULL, OPT_COMPACT },
		{ "noheadings", no_argument, NULL, OPT_NOHEADINGS },
		{ "raw", no_argument, NULL, OPT_RAW },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 }
	};
	const char *at = NULL;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:jvh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_VM: cli->vm = optarg; break;
		case OPT_AT: at = optarg; break;
		case OPT_SYSTEM_MAP: cli->system_map = optarg; break;
		case OPT_BTF: cli->btf = optarg; break;
		case 'j': cli->json = true; break;
		case OPT_PRETTY: cli->pretty = 1; break;
		case OPT_COMPACT: cli->pretty = 0; break;
		case OPT_NOHEADINGS: cli->noheadings = true; break;
		case OPT_RAW: cli->raw = true; break;
		case 'v': cli->verbose++; break;
		case 'h':
			cli_print_commands(stdout);
			exit(0);
		case OPT_VERSION:
			printf("nfm %s\n", nfm_version());
			exit(0);
		case ':':
			exit(cli_usage_error(cli, "option '%s' needs a value", cli_esc(argv[optind - 1])));
		default:
			exit(cli_usage_error(cli, "unknown option '%s'", cli_esc(argv[optind - 1])));
		}
	}
	/* --at WHEN: the command runs on the recorded snapshot of that moment (doc/history.md). */
	if (at)
		cli->vm = cli_at_spec(cli->vm, at);
	return optind;
}

int main(int argc, char **argv)
{
	struct cli cli = { .pretty = -1 };
	const struct command *cmd;
	int first, ret;

	/*
	 * Attach allocates and frees megabytes (the RAM scan's buffer, symbol tables, the BTF
	 * blob); from the heap, kept for reuse, they are not faulted in afresh each time: a cold
	 * `nfm info` is ~3 ms faster. A short-lived command can afford the retained memory.
	 */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);

	/*
	 * Character classes of UTF-8 whatever the environment says: guest text that is valid
	 * UTF-8 is shown as it is (everything else was escaped before), and libsmartcols then
	 * measures its width instead of encoding it. Only LC_CTYPE: numbers keep their C form.
	 */
	setlocale(LC_CTYPE, "C.UTF-8");

	cli.log = (struct nfm_log){ .fn = log_to_cli, .userdata = &cli, .max_level = NFM_LOG_ERR };
	first = global_options(&cli, argc, argv);
	if (cli.verbose)
		cli.log.max_level = cli.verbose > 1 ? NFM_LOG_DEBUG : NFM_LOG_INFO;
	if (first >= argc) {
		cli_print_commands(stderr);
		return EXIT_USAGE;
	}
	cmd = cli_command(argv[first]);
	if (!cmd)
		return cli_usage_error(&cli, "unknown command '%s'", cli_esc(argv[first]));
	ret = cli_run(&cli, cmd, argc - first, argv + first);
	cli_detach(&cli);
	/* A failed write to stdout (a full disk, a closed pipe) is an error too. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "nfm: write error: %s\n", strerror(errno));
		return 1;
	}
	return ret;
}
