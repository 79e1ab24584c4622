// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm lsof: being written. */
#include "cli.h"

int cmd_lsof(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	return cli_fail("lsof: not implemented yet");
}
