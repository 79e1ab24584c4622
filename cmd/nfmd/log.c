// SPDX-License-Identifier: GPL-2.0-or-later
/* The log object: one line per message on stderr. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

void logmsg(const struct nfmd_log *log, int level, const char *fmt, ...)
{
	va_list ap;

	if (level > log->level)
		return;
	if (log->journal)
		fprintf(stderr, "<%d>", level);
	else
		fputs("nfmd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
