// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>

#include "util/log.h"

void nfm_logf(const struct nfm_log *log, enum nfm_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!log || !log->fn || level > log->max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log->fn(log->userdata, level, msg);
}

const char *nfm_version(void)
{
	return NFM_LIB_VERSION;	/* meson.build: the project's version */
}
