// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm maps: being written. */
#include "cli.h"

int cmd_maps(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	return cli_fail("maps: not implemented yet");
}
