/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nfmd's configuration file (--config FILE): one setting a line, `key = value`, the keys being the
 * long options' names (listen, tls-cert, token-file, interval...); `#` starts a comment; blank
 * lines are ignored; a flag (insecure-listen) takes yes/no, true/false, 1/0. The command line
 * overrides the file. nfmd(8) lists the keys.
 */
#ifndef NFMD_CONFFILE_H
#define NFMD_CONFFILE_H

#include "log.h"

/*
 * Read path and call set(key, value, line, arg) for each setting (key and value trimmed, valid
 * during the call). set returns 0 or -1 (it said why). 0, or -1 after logging what is wrong
 * (unreadable file, a line without '=', a failed set).
 */
int conffile_read(const char *path, const struct nfmd_log *log,
		  int (*set)(const char *key, const char *value, int line, void *arg), void *arg);

/* Read a secret file: its one line, trailing newline and spaces removed; NULL (logged) when
 * unreadable, empty or more than one line. Warns when others may read it. Caller frees. */
char *conffile_secret(const char *path, const char *what, const struct nfmd_log *log);

/* A whole file (certificate, key), NUL-terminated; NULL (logged) on failure. Caller frees. */
char *conffile_slurp(const char *path, const char *what, size_t max, const struct nfmd_log *log);

#endif
