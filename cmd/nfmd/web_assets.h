/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nfmd's web pages (cmd/nfmd/web/, built into the binary by web/embed.py): /topology and /fleet
 * and their scripts and style under /static/. No external assets: the pages load nothing but
 * these files and nfmd's JSON API.
 */
#ifndef NFMD_WEB_ASSETS_H
#define NFMD_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *name;		/* the file's name, e.g. "topology.js" */
	const char *type;		/* Content-Type */
	const char *data;
	size_t len;
};

extern const struct web_asset web_assets[];	/* ends with { 0 } */

/* The asset a URL names ("/topology", "/fleet", "/static/NAME"), or NULL. */
const struct web_asset *web_asset_find(const char *url);

#endif
