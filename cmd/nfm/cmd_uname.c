// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm uname: the guest's utsname (init_uts_ns), as uname(1) prints it. */
#include <string.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"

/* uname(1)'s order: -s -n -r -v -m -o */
enum { U_S, U_N, U_R, U_V, U_M, U_O, U_NR };

static int cmd_uname(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "kernel-name", no_argument, NULL, 's' },
		{ "nodename", no_argument, NULL, 'n' },
		{ "kernel-release", no_argument, NULL, 'r' },
		{ "kernel-version", no_argument, NULL, 'v' },
		{ "machine", no_argument, NULL, 'm' },
		{ "operating-system", no_argument, NULL, 'o' },
		{ 0 }
	};
	static const char opts[] = "snrvmo";
	struct nfm_kernel_info ki;
	const char *f[U_NR];
	bool want[U_NR] = { false }, any = false;
	int i, j, ret, c;

	while ((c = cli_getopt(cli, argc, argv, "asnrvmo", longopts)) != -1) {
		if (c == 'a') {
			for (i = 0; i < U_NR; i++)
				want[i] = true;
		} else if (c > 0 && c < 0x100 && strchr(opts, c)) {
			want[strchr(opts, c) - opts] = true;
		} else {
			return cli_opt_status(cli);
		}
		any = true;
	}
	if (optind < argc)
		return cli_usage_error(cli, "extra operand '%s'", cli_esc(argv[optind]));
	if (!any)
		want[U_S] = true;
	if (cli_attach(cli))
		return 1;
	ret = nfm_ctx_kernel_info(cli->ctx, &ki);
	if (ret < 0)
		return cli_fail("cannot read the guest's utsname: %s", strerror(-ret));
	if (cli->json) {
		struct json_object *doc = jdoc_new("uname");

		j_add(doc, "kernel", obj_kernel(&ki));
		return cli_print_json(cli, doc);
	}
	f[U_S] = ki.sysname;
	f[U_N] = ki.nodename;
	f[U_R] = ki.release;
	f[U_V] = ki.version;
	f[U_M] = ki.machine;
	f[U_O] = NULL;
	for (i = 0, j = 0; i < U_NR; i++)
		if (want[i])	/* uname -o for a Linux kernel: GNU/Linux */
			printf("%s%s", j++ ? " " : "", i == U_O ? "GNU/Linux" : cli_esc(f[i]));
	printf("\n");
	return 0;
}

const struct command command_uname = {
	.name = "uname",
	.summary = "the guest's kernel name, release, version, machine",
	.usage = "[-j] [-asnrvmo]",
	.help = "  -a, --all           all of the below, in this order\n"
		"  -s, --kernel-name   the kernel name (the default)\n"
		"  -n, --nodename      the network node hostname\n"
		"  -r, --kernel-release  the kernel release\n"
		"  -v, --kernel-version  the kernel version (build number and date)\n"
		"  -m, --machine       the machine hardware name\n"
		"  -o, --operating-system  the operating system (GNU/Linux)\n",
	.run = cmd_uname,
};
