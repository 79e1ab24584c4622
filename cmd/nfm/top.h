/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nfm top: the TUI and the remote (nfmd) reader; what both front ends share is top_model.h. */
#ifndef NFM_CMD_TOP_H
#define NFM_CMD_TOP_H

#include "top_model.h"

/* The ncurses TUI; returns the exit status. */
int top_tui(struct top_state *st);

/* Remote VMs from nfmd's JSON API (--remote), appended to st->vms as they are read; a host
 * that does not answer within a few seconds shows as one VM entry with an error. */
void top_remote_sample(struct top_state *st);
void top_remote_free(struct top_state *st);
/* For the TUI: from now on a worker thread reads the nfmd instances and top_remote_sample()
 * only takes what has arrived (a host that does not answer never holds up the screen). */
void top_remote_start_async(struct top_state *st);

#endif
