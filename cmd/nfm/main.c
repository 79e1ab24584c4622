// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm: one binary, one file per subcommand (the git/bpftool pattern). */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct command commands[] = {
	{ "info", cmd_info, "[-j]", "what attach found: kernel, KASLR, paging, CPUs, memory, uptime" },
	{ "list", cmd_list, "[-j]", "every QEMU VM on this host" },
	{ "sym", cmd_sym, "[-j] NAME|ADDRESS...", "kernel symbol lookup, both ways" },
	{ "btf", cmd_btf, "[-j] [-o FILE]", "the kernel's BTF from guest memory (-o: save it, for --btf)" },
	{ "ps", cmd_ps, "[-j] [-L] [--sort [-]KEY] [-p PID[,PID]]", "processes (-L: threads), as ps aux" },
	{ "pstree", cmd_pstree, "[-j] [-p] [PID]", "the process tree" },
	{ "maps", cmd_maps, "[-j] PID", "a process's memory mappings (/proc/PID/maps)" },
	{ "lsof", cmd_lsof, "[-j] [-p PID]", "open files of every process (/proc/PID/fd)" },
	{ "env", cmd_env, "[-j] PID", "a process's environment, from its own memory" },
	{ "lsmod", cmd_lsmod, "[-j] [-p]", "loaded kernel modules (-p: the lines of /proc/modules)" },
	{ "yara", cmd_yara, "[-j] [-p PID[,PID] | --kernel] RULES",
	  "PaVScan: YARA rules over every process's memory, or the kernel's" },
	{ "check", cmd_check, "[-j]", "cross-view checks: hooked syscalls, hidden modules and processes (exit 3: found)" },
	{ "dmesg", cmd_dmesg, "[-j] [-r]", "the kernel log (printk ring buffer)" },
	{ "uname", cmd_uname, "[-j] [-asnrvm]", "the guest's kernel name, release, version, machine" },
	{ "uptime", cmd_uptime, "[-j]", "time since boot, load averages, tasks (/proc/loadavg)" },
	{ "free", cmd_free, "[-j]", "the guest's memory (/proc/meminfo)" },
	{ "mount", cmd_mount, "[-j] [-p]", "mounted filesystems (-p: the lines of /proc/mounts)" },
	{ "ip", cmd_ip, "[-j] [-s] addr|link [show] [dev NAME]", "network interfaces of every namespace" },
	{ "ifconfig", cmd_ip, "[-j] [NAME]", "alias of ip -s addr" },
	{ "ss", cmd_ss, "[-j] [-tuxl46]", "TCP, UDP and UNIX sockets with their processes" },
	{ "netstat", cmd_ss, "[-j] [-tuxl46]", "alias of ss" },
	{ "route", cmd_route, "[-j] [-n] [-p]", "IPv4 main routing table (-p: the lines of /proc/net/route)" },
	{ "arp", cmd_arp, "[-j] [-6]", "neighbour table, as /proc/net/arp (-6: IPv6 too)" },
	{ "cpuinfo", cmd_cpuinfo, "[-j]", "the guest's CPUs, as /proc/cpuinfo" },
	{ "shell", cmd_shell, "[-c 'CMD; CMD']", "read-only console: every command, ls and cat from the caches" },
	{ "top", cmd_top, "[-b] [-n N] [-d SECS] [-s cpu|mem|pid|time] [-m ROWS] [-j] [--remote HOST:PORT,...]",
	  "processes of every VM on the host (or --vm one), live, as top" },
	{ "crawl", cmd_crawl, "[--features LIST] [--interval SECS [-n N]]",
	  "everything about the guest as one JSON document per crawl (doc/crawl.md)" },
};
#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: nfm [--vm SPEC] [-j] [--system-map FILE] [--btf FILE] [-v] COMMAND [ARGS]\n\n"
		   "Near Field Monitoring: a Linux guest's state read from outside, out of its memory.\n"
		   "SPEC: a QEMU pid, a VM name, libvirt:NAME, qmp:SOCKET, or a memory dump file.\n\n"
		   "Commands:\n");
	for (i = 0; i < NR_COMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nSee nfm(1) for details.\n");
}

static void log_to_cli(void *userdata, enum nfm_log_level level, const char *msg)
{
	struct cli *cli = userdata;

	if (level == NFM_LOG_ERR)
		snprintf(cli->last_error, sizeof(cli->last_error), "%s", msg);
	else
		fprintf(stderr, "nfm: %s\n", cli_esc(msg));
}

/* Take the global options out of argv, wherever they stand; returns the new argc. */
static int global_options(struct cli *cli, int argc, char **argv)
{
	int i, out = 0;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = NULL;

		if (!strcmp(a, "--vm"))
			dst = &cli->vm;
		else if (!strcmp(a, "--system-map"))
			dst = &cli->system_map;
		else if (!strcmp(a, "--btf"))
			dst = &cli->btf;
		if (dst) {
			if (i + 1 >= argc) {
				cli_fail("%s needs a value", a);
				exit(2);
			}
			*dst = argv[++i];
			continue;
		}
		if (!strncmp(a, "--vm=", 5)) {
			cli->vm = a + 5;
			continue;
		}
		if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			cli->json = true;
			continue;
		}
		if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			cli->verbose++;
			continue;
		}
		if (!strcmp(a, "--")) {
			while (i < argc)
				argv[out++] = argv[i++];
			break;
		}
		argv[out++] = argv[i];
	}
	argv[out] = NULL;
	return out;
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	size_t i;
	int ret;

	/*
	 * Attach allocates and frees megabytes (the RAM scan's buffer, symbol tables, the BTF
	 * blob); from the heap, kept for reuse, they are not faulted in afresh each time: a cold
	 * `nfm info` is ~3 ms faster. A short-lived command can afford the retained memory.
	 */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);

	cli.log = (struct nfm_log){ .fn = log_to_cli, .userdata = &cli, .max_level = NFM_LOG_ERR };
	argc = global_options(&cli, argc - 1, argv + 1);
	argv++;
	if (cli.verbose)
		cli.log.max_level = cli.verbose > 1 ? NFM_LOG_DEBUG : NFM_LOG_INFO;
	if (argc < 1 || !strcmp(argv[0], "help") || !strcmp(argv[0], "--help") ||
	    !strcmp(argv[0], "-h")) {
		usage(argc < 1 ? stderr : stdout);
		return argc < 1 ? 2 : 0;
	}
	if (!strcmp(argv[0], "--version")) {
		printf("nfm %s\n", nfm_version());
		return 0;
	}
	for (i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(argv[0], commands[i].name))
			break;
	if (i == NR_COMMANDS)
		return cli_fail("unknown command '%s' (see nfm --help)", cli_esc(argv[0])) + 1;
	ret = commands[i].run(&cli, argc, argv);
	cli_detach(&cli);
	/* A failed write to stdout (a full disk, a closed pipe) is an error too. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "nfm: write error: %s\n", strerror(errno));
		return 1;
	}
	return ret;
}

const struct command *cli_command_at(size_t i)
{
	return i < NR_COMMANDS ? &commands[i] : NULL;
}

const struct command *cli_command(const char *name)
{
	size_t i;

	for (i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}
