/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nfmd's log: lines on stderr, "nfmd: ..." on a terminal, "<N>..." (the syslog level) when
 * stderr is the journal. Set up once before any thread starts and read-only afterwards, so
 * workers log through the same object without a lock (stderr is line-buffered: one write a line).
 */
#ifndef NFMD_LOG_H
#define NFMD_LOG_H

#include <nfm/nfm.h>	/* NFM_LOG_* */
#include <stdbool.h>

struct nfmd_log {
	int level;	/* NFM_LOG_*: messages above it are dropped */
	bool journal;	/* stderr goes to the journal: prefix lines with <N> */
};

__attribute__((format(printf, 3, 4)))
void logmsg(const struct nfmd_log *log, int level, const char *fmt, ...);

#endif
