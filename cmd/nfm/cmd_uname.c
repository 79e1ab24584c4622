// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm uname: the guest's utsname (init_uts_ns), as uname(1) prints it. */
#include <string.h>

#include "cli.h"

int cmd_uname(struct cli *cli, int argc, char **argv)
{
	/* uname(1) order: -s -n -r -v -m; -a prints all of them */
	static const char opts[] = "snrvm";
	struct nfm_kernel_info ki;
	const char *f[5];
	bool want[5] = { false };
	int i, j, ret, any = 0;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] != '-' || !argv[i][1])
			return cli_fail("usage: nfm uname [-j] [-asnrvm]");
		for (j = 1; argv[i][j]; j++) {
			const char *p = strchr(opts, argv[i][j]);

			if (argv[i][j] == 'a')
				for (ret = 0; ret < 5; ret++)
					want[ret] = true;
			else if (p)
				want[p - opts] = true;
			else
				return cli_fail("usage: nfm uname [-j] [-asnrvm]");
			any = 1;
		}
	}
	if (!any)
		want[0] = true;
	if (cli_attach(cli))
		return 1;
	ret = nfm_ctx_kernel_info(cli->ctx, &ki);
	if (ret < 0)
		return cli_fail("cannot read the guest's utsname: %s", strerror(-ret));
	f[0] = ki.sysname;
	f[1] = ki.nodename;
	f[2] = ki.release;
	f[3] = ki.version;
	f[4] = ki.machine;
	if (cli->json) {
		static const char *const keys[] = { "sysname", "nodename", "release", "version", "machine" };
		struct json_object *o = json_object_new_object();

		for (i = 0; i < 5; i++)
			json_object_object_add(o, keys[i], cli_json_bytes(f[i], strlen(f[i])));
		json_object_object_add(o, "domainname", cli_json_bytes(ki.domainname, strlen(ki.domainname)));
		return cli_print_json(cli, o);
	}
	for (i = 0, j = 0; i < 5; i++)
		if (want[i])
			printf("%s%s", j++ ? " " : "", cli_esc(f[i]));
	/* uname -a ends with the operating system: GNU/Linux for a Linux kernel */
	if (want[0] && want[4] && want[1] && want[2] && want[3])
		printf(" GNU/Linux");
	printf("\n");
	return 0;
}

const struct command command_uname = {
	.name = "uname",
	.summary = "the guest's kernel name, release, version, machine",
	.usage = "[-j] [-asnrvm]",
	.run = cmd_uname,
};
