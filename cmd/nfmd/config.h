/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nfmd's configuration: the configuration file (--config, conffile.c) and then the command line,
 * parsed once in main.c and read-only afterwards.
 */
#ifndef NFMD_CONFIG_H
#define NFMD_CONFIG_H

#include "collect.h"

struct nfmd_config {
	const char *listen;		/* ADDR:PORT */
	const char *token_file;
	char *token;			/* read from token_file, or NULL */
	const char *basic_user, *basic_password_file;
	char *basic_password;		/* read from basic_password_file, or NULL */
	const char *tls_cert, *tls_key;	/* PEM files: HTTPS when set */
	char *tls_cert_pem, *tls_key_pem;
	bool insecure_listen;		/* a non-loopback address without authentication is allowed */
	double interval[F_NR];		/* seconds; F_BASE is --interval, 0 disables a feature */
	double rescan;			/* VM discovery period */
	double crawl_timeout;		/* per-crawl time budget */
	double attach_backoff_max;
	int workers;			/* crawl threads */
	int attach_workers;		/* attach threads */
	int max_vms;
	struct collect_limits lim;
	const char *only;		/* --vm PATTERN: fnmatch on the name, or NULL for all */
	/* --record DIR (record.h): NULL records nothing */
	const char *record_dir;
	const char *record_only;	/* --record-vm PATTERN, or NULL for every VM */
	double record_every;		/* seconds between memory snapshots; 0: timeline only */
	double record_keep;		/* seconds of snapshots and frames kept; 0: no limit */
	uint64_t record_max_bytes;	/* snapshots removed while a store is larger; 0: no limit */
};

#endif
