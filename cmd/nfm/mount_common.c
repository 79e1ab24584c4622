// SPDX-License-Identifier: GPL-2.0-or-later
/* What mount and findmnt share (mount_common.h). */
#include <string.h>

#include <nfm/system.h>

#include "cli.h"
#include "mount_common.h"

int mount_list_or_fail(struct cli *cli, struct nfm_mount **m, bool *trunc)
{
	int n;

	if (cli_attach(cli))
		return -1;
	n = nfm_mount_list(cli->ctx, m, trunc);
	if (n < 0) {
		cli_fail("cannot list the guest's mounts: %s",
			 cli->last_error[0] ? cli->last_error : strerror(-n));
		return -1;
	}
	return n;
}

/*
 * mount -t LIST as util-linux matches it (libmount's mnt_match_fstype): a comma-separated list
 * of types; "no" before the list negates all of it ("-t nosysfs,proc": neither), and a "no"
 * before a later item is dropped.
 */
bool mount_type_wanted(const char *list, const char *fstype)
{
	bool neg = !strncmp(list, "no", 2);
	const char *p = list;

	if (!list[0])
		return true;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len >= 2 && !strncmp(p, "no", 2)) {
			p += 2;
			len -= 2;
		}
		if (len == strlen(fstype) && !strncmp(p, fstype, len))
			return !neg;
		if (!end)
			break;
		p = end + 1;
	}
	return neg;
}
