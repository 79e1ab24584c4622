// SPDX-License-Identifier: GPL-2.0-or-later
/* mount -t and findmnt -t: util-linux's file system type lists (mount_types.h). */
#include <string.h>

#include "mount_types.h"

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
