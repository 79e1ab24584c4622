/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NFM_LIB_UTIL_REREAD_H
#define NFM_LIB_UTIL_REREAD_H

#include <stddef.h>

/*
 * Small host files read again every sample (a thread's schedstat, a cgroup's counters), kept
 * open and read with pread at offset 0 (which makes a procfs or cgroupfs seq_file generate its
 * text anew) instead of an open and a close each time. A round is one sample: the files a round
 * did not read are closed at its end (a thread that exited, a group the process left).
 */
struct nfm_reread;

/* At most max files kept open (more are read the plain way); NULL when memory runs out. */
struct nfm_reread *nfm_reread_new(unsigned int max);
void nfm_reread_free(struct nfm_reread *r);

/* Read path whole (NUL-terminated, at most size - 1 bytes): its length or -errno. r may be NULL. */
int nfm_reread(struct nfm_reread *r, const char *path, char *buf, size_t size);

/* The end of a round: close the files it did not read. */
void nfm_reread_round_end(struct nfm_reread *r);

#endif
