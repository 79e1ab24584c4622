/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A -t LIST of file system types (mount, findmnt). */
#ifndef NFM_CMD_MOUNT_TYPES_H
#define NFM_CMD_MOUNT_TYPES_H

#include <stdbool.h>

/*
 * Whether fstype is in list as util-linux matches it (libmount's mnt_match_fstype): comma-
 * separated types; "no" before the list negates all of it ("nosysfs,proc": neither), a "no"
 * before a later item is dropped. An empty list takes every type.
 */
bool mount_type_wanted(const char *list, const char *fstype);

#endif
