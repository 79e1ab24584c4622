/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One QEMU option's value (qemu_opts.c): pure, no I/O. */
#ifndef NFM_LIB_SOURCE_QEMU_OPTS_H
#define NFM_LIB_SOURCE_QEMU_OPTS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Find key in a QEMU option string "v0,k1=v1,k2=v2" where ",," stands for a comma; the first
 * element may have no "=" and then belongs to implied (may be NULL). Writes the unescaped value.
 * True when found; the last occurrence wins, as in QEMU.
 */
bool nfm_qemu_opt_get(const char *opts, const char *key, const char *implied, char *out,
		      size_t size);

/* The same, or over a flat JSON object when v starts with '{' (libvirt's -object, -netdev). */
bool nfm_qemu_obj_get(const char *v, const char *key, const char *implied, char *out,
		      size_t size);

#endif
