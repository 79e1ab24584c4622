/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Logging through the caller's nfm_log; the library itself never prints. */
#ifndef NFM_LIB_UTIL_LOG_H
#define NFM_LIB_UTIL_LOG_H

#include <nfm/nfm.h>

__attribute__((format(printf, 3, 4)))
void nfm_logf(const struct nfm_log *log, enum nfm_log_level level, const char *fmt, ...);

#define nfm_err(log, ...) nfm_logf(log, NFM_LOG_ERR, __VA_ARGS__)
#define nfm_warn(log, ...) nfm_logf(log, NFM_LOG_WARN, __VA_ARGS__)
#define nfm_info(log, ...) nfm_logf(log, NFM_LOG_INFO, __VA_ARGS__)
#define nfm_dbg(log, ...) nfm_logf(log, NFM_LOG_DEBUG, __VA_ARGS__)

#endif
