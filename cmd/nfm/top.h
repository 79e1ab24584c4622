/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nfm top: shared between the batch/JSON output, the TUI and the remote (nfmd) reader. */
#ifndef NFM_CMD_TOP_H
#define NFM_CMD_TOP_H

#include "top_model.h"

enum top_sort { TOP_SORT_CPU, TOP_SORT_MEM, TOP_SORT_PID, TOP_SORT_TIME };

struct top_state {
	struct top_vm *vms;	/* local VMs, then remote ones */
	size_t nvms;
	double delay;		/* seconds between frames */
	enum top_sort sort;
	size_t max_rows;	/* 0 = all */
	struct top_vm *filter;	/* show only this VM's processes, or NULL */
	int32_t *pids;		/* -p: only these processes (npids 0: all) */
	size_t npids;
	const char *remote;	/* "HOST:PORT,..." of nfmd instances, or NULL */
	void *remote_state;	/* top_remote.c's (the HTTP client) */
};

/* Whether -p lets this pid be shown. */
bool top_pid_wanted(const struct top_state *st, int32_t pid);
/* Every shown process over all (or the filtered) VMs, sorted; *rows is malloc'd. */
size_t top_rows(struct top_state *st, struct top_proc ***rows);
int top_parse_sort(const char *s, enum top_sort *ret);
void top_format_time(uint64_t ns, char *buf, size_t size);
void top_format_uptime(uint64_t ns, char *buf, size_t size);
/* Read one new frame of every VM (attaching the ones that are not yet). */
void top_sample_all(struct top_state *st);

/* The ncurses TUI; returns the exit status. */
int top_tui(struct top_state *st);

/* Remote VMs from nfmd's JSON API (--remote), appended to st->vms as they are read; a host
 * that does not answer within a few seconds shows as one VM entry with an error. */
void top_remote_sample(struct top_state *st);
void top_remote_free(struct top_state *st);

#endif
