/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Interned tables: byte arrays that many contexts hold the same of (the kallsyms tables of one
 * kernel build, read from each of fifty VMs), kept once per distinct content with a count of
 * holders. Content, not a name or version, decides: a hostile guest's tables are shared only
 * with a guest whose bytes are the same. An interned table must never be written.
 */
#ifndef NFM_LIB_UTIL_INTERN_H
#define NFM_LIB_UTIL_INTERN_H

#include <stddef.h>

/*
 * Hand over data (len bytes from malloc) and get the shared copy: an equal table already held
 * (data is freed), or data itself, now held. Out of memory, data stays private (and
 * nfm_intern_put frees it as it would a shared one). NULL gives NULL.
 */
void *nfm_intern(void *data, size_t len);

/* Drop one hold of what nfm_intern gave; the last frees it. NULL is ignored. */
void nfm_intern_put(const void *p);

#endif
