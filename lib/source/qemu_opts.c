// SPDX-License-Identifier: GPL-2.0-or-later
/* Reading one QEMU option's value: "v0,k1=v1" strings and libvirt's flat JSON objects. */
#include <stdbool.h>
#include <string.h>

#include "source/qemu_opts.h"

static void copy_str(char *dst, size_t size, const char *s, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/*
 * Find key in a QEMU option string "v0,k1=v1,k2=v2" where ",," stands for a comma; the first
 * element may have no "=" and then belongs to implied (may be NULL). Writes the unescaped value.
 * Returns true when found. The last occurrence wins, as in QEMU.
 */
bool nfm_qemu_opt_get(const char *opts, const char *key, const char *implied, char *out,
		      size_t size)
{
	const char *p = opts;
	bool first = true, found = false;
	size_t klen = strlen(key);

	while (*p) {
		const char *eq = NULL, *q = p;
		char tmp[512];
		size_t n = 0;
		bool match;

		/* Find this element's end and its first '=' (keys contain no commas). */
		while (*q) {
			if (*q == ',') {
				if (q[1] == ',') {
					q += 2;
					continue;
				}
				break;
			}
			if (*q == '=' && !eq)
				eq = q;
			q++;
		}
		if (eq)
			match = (size_t)(eq - p) == klen && !strncmp(p, key, klen);
		else
			match = first && implied && !strcmp(key, implied);
		if (match) {
			const char *v = eq ? eq + 1 : p;

			while (v < q && n < sizeof(tmp) - 1) {
				tmp[n++] = *v;
				v += (*v == ',' && v + 1 < q && v[1] == ',') ? 2 : 1;
			}
			tmp[n] = '\0';
			copy_str(out, size, tmp, n);
			found = true;
		}
		first = false;
		p = *q ? q + 1 : q;
	}
	return found;
}

/*
 * The same over a flat JSON object ({"qom-type":"memory-backend-file","id":"m0","share":true}),
 * as libvirt passes -object. Strings, numbers and booleans only; nested values are skipped.
 */
static bool json_get(const char *s, const char *key, char *out, size_t size)
{
	const char *p = s;
	size_t klen = strlen(key);
	int depth = 0;

	while (*p) {
		if (*p == '{' || *p == '[') {
			depth++;
			p++;
			continue;
		}
		if (*p == '}' || *p == ']') {
			depth--;
			p++;
			continue;
		}
		if (*p != '"') {
			p++;
			continue;
		}
		/* A string: is it a key of the top-level object matching ours? */
		const char *start = ++p;

		while (*p && *p != '"') {
			if (*p == '\\' && p[1])
				p++;
			p++;
		}
		if (!*p)
			return false;
		size_t slen = p - start;

		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != ':')
			continue;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (depth != 1 || slen != klen || strncmp(start, key, klen))
			continue;
		if (*p == '"') {
			char tmp[512];
			size_t n = 0;

			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				if (n < sizeof(tmp) - 1)
					tmp[n++] = *p;
				p++;
			}
			copy_str(out, size, tmp, n);
			return true;
		}
		size_t n = 0;

		while (p[n] && p[n] != ',' && p[n] != '}' && p[n] != ' ')
			n++;
		copy_str(out, size, p, n);
		return true;
	}
	return false;
}

bool nfm_qemu_obj_get(const char *v, const char *key, const char *implied, char *out,
		      size_t size)
{
	if (v[0] == '{')
		return json_get(v, key, out, size);
	return nfm_qemu_opt_get(v, key, implied, out, size);
}
