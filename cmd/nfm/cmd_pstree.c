// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm pstree: being written. */
#include "cli.h"

int cmd_pstree(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	return cli_fail("pstree: not implemented yet");
}
