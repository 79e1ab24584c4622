// SPDX-License-Identifier: GPL-2.0-or-later
/* nfmd's web pages: which built-in file a URL names (web_assets.h). */
#include <string.h>

#include "web_assets.h"

const struct web_asset *web_asset_find(const char *url)
{
	const char *name = !strcmp(url, "/topology") ? "topology.html" :
			   !strcmp(url, "/fleet") ? "fleet.html" :
			   !strncmp(url, "/static/", 8) ? url + 8 : NULL;

	for (const struct web_asset *a = web_assets; name && a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}
