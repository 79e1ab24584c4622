// SPDX-License-Identifier: GPL-2.0-or-later
/* Sizes as people type them (units.h). */
#include <stdlib.h>
#include <string.h>

#include "units.h"

uint64_t units_parse_size(const char *s)
{
	static const char units[] = "KMGT";
	char *end;
	double v = strtod(s, &end);
	const char *u;

	if (end == s || !(v > 0) || v > 1e18)
		return 0;
	if (!*end)
		return (uint64_t)v;
	u = strchr(units, *end & ~0x20);
	if (!u || (end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB")))
		return 0;
	v *= (double)(1ull << (10 * (u - units + 1)));
	return v > 1e18 ? 0 : (uint64_t)v;
}
