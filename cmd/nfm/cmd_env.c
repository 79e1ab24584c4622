// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm env: being written. */
#include "cli.h"

int cmd_env(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	return cli_fail("env: not implemented yet");
}
