/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nfm ss -s and the TCP cross-view check that ss and ss -s both make (ss_summary.c). */
#ifndef NFM_CMD_SS_SUMMARY_H
#define NFM_CMD_SS_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>

struct cli;

/* ss -s: iproute2's summary from the guest kernel's counters; the command's exit status. */
int ss_summary(struct cli *cli);
/* true (and msg) when the TCP hash tables and the kernel's inuse counters disagree. */
bool ss_tcp_views_disagree(struct cli *cli, char *msg, size_t size);

#endif
