// SPDX-License-Identifier: GPL-2.0-or-later
/* The command table: every nfm command, in the order `nfm help` lists them. Each command's
 * definition (name, summary, usage, options, handler) lives in its own cmd_*.c file. */
#include <string.h>

#include "cli.h"

static const struct command *const commands[] = {
	&command_info, &command_list, &command_sym, &command_btf,
	&command_ps, &command_pstree, &command_top, &command_maps, &command_lsof, &command_env,
	&command_lsmod, &command_check, &command_yara, &command_dmesg,
	&command_bt, &command_kmem,
	&command_diagnose,
	&command_uname, &command_uptime, &command_free, &command_mount, &command_findmnt, &command_cpuinfo,
	&command_ip, &command_ifconfig, &command_ss, &command_netstat, &command_route, &command_arp,
	&command_shell, &command_crawl,
	&command_topo,
	&command_record, &command_snapshots, &command_diff, &command_timeline, &command_export,
	&command_help,
};
#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

const struct command *cli_command_at(size_t i)
{
	return i < NR_COMMANDS ? commands[i] : NULL;
}

const struct command *cli_command(const char *name)
{
	size_t i;

	for (i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

void cli_print_commands(FILE *f)
{
	size_t i;

	fprintf(f, "usage: nfm [--vm SPEC] [--at WHEN] [-j] [--system-map FILE] [--btf FILE] [-v] COMMAND [ARGS]\n\n"
		   "Near Field Monitoring: a Linux guest's state read from outside, out of its memory.\n"
		   "SPEC: a QEMU pid, a VM name, libvirt:NAME, qmp:SOCKET, or a memory dump file.\n\n"
		   "Options (before COMMAND; nfm(1) OPTIONS):\n"
		   "      --vm SPEC       the guest (may be left out when one QEMU VM runs)\n"
		   "      --at WHEN       the recorded snapshot of that moment: DIR@WHEN, or WHEN in\n"
		   "                      the store of --vm DIR or $NFM_STORE (doc/history.md)\n"
		   "      --system-map FILE  symbols from a System.map, not the guest's kallsyms\n"
		   "      --btf FILE      kernel types from a BTF file, not the guest's own\n"
		   "  -j, --json          JSON (doc/schema/); compact unless stdout is a terminal\n"
		   "      --pretty        indented JSON even to a pipe\n"
		   "      --compact       one-line JSON even on a terminal\n"
		   "      --noheadings    tables without their header line\n"
		   "      --raw           tables as unaligned cells\n"
		   "  -v, --verbose       more messages on stderr (-v -v: debugging)\n"
		   "  -h, --help          this help\n"
		   "      --version       nfm's version\n\n"
		   "Commands:\n");
	for (i = 0; i < NR_COMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "\n'nfm COMMAND --help' for a command's options; see nfm(1).\n");
}

/* nfm help [COMMAND] */
static int cmd_help(struct cli *cli, int argc, char **argv)
{
	const struct command *c;
	int opt;

	while ((opt = cli_getopt(cli, argc, argv, "", NULL)) != -1)
		if (opt == CLI_OPT_STOP)
			return cli_opt_status(cli);
		else
			return cli_usage_error(cli, "no such option");
	if (optind >= argc) {
		cli_print_commands(stdout);
		return 0;
	}
	if (optind + 1 < argc)
		return cli_usage_error(cli, "one command at a time");
	c = cli_command(argv[optind]);
	if (!c)
		return cli_usage_error(cli, "no command '%s'", cli_esc(argv[optind]));
	{
		char *args[] = { (char *)c->name, (char *)"--help", NULL };

		return cli_run(cli, c, 2, args);
	}
}

const struct command command_help = {
	.name = "help",
	.summary = "the commands, or one command's options",
	.usage = "[COMMAND]",
	.run = cmd_help,
};
