/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What mount and findmnt share: the guest's mount list, a -t LIST of file system types. */
#ifndef NFM_CMD_MOUNT_COMMON_H
#define NFM_CMD_MOUNT_COMMON_H

#include <stdbool.h>

struct cli;
struct nfm_mount;

/* Attach and list the guest's mounts: how many (*m to free), or -1 after one error line. */
int mount_list_or_fail(struct cli *cli, struct nfm_mount **m, bool *trunc);

/*
 * Whether fstype is in list as util-linux matches it (libmount's mnt_match_fstype): comma-
 * separated types; "no" before the list negates all of it ("nosysfs,proc": neither), a "no"
 * before a later item is dropped. An empty list takes every type.
 */
bool mount_type_wanted(const char *list, const char *fstype);

#endif
