// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_text.h"

/* Length of the valid UTF-8 sequence at p (1..4) and its code point, or 0 if it is not one. */
static size_t utf8_decode(const unsigned char *p, size_t avail, unsigned int *cpp)
{
	size_t n, i;
	unsigned int cp;

	if (p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;
	if (n > avail)
		return 0;
	cp = p[0] & (0x3f >> (n - 1));
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* No overlong forms, surrogates or values past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cpp = cp;
	return n;
}

/*
 * Code points a terminal must not get from the guest although they are valid UTF-8: C1 controls
 * (a terminal may act on U+009B as CSI), bidirectional overrides, embeddings and isolates (they
 * reorder what follows: "Trojan Source"), line and paragraph separators, and the zero-width and
 * other invisible characters that make two different names look the same.
 */
static bool hidden(unsigned int cp)
{
	static const struct { unsigned int lo, hi; } ranges[] = {
		{ 0x0080, 0x009f },	/* C1 controls */
		{ 0x00ad, 0x00ad },	/* soft hyphen */
		{ 0x034f, 0x034f },	/* combining grapheme joiner */
		{ 0x061c, 0x061c },	/* arabic letter mark */
		{ 0x115f, 0x1160 },	/* hangul fillers */
		{ 0x17b4, 0x17b5 },	/* khmer inherent vowels */
		{ 0x180b, 0x180f },	/* mongolian variation selectors, vowel separator */
		{ 0x200b, 0x200f },	/* zero-width space/non-joiner/joiner, LRM, RLM */
		{ 0x2028, 0x202e },	/* line/paragraph separators, LRE RLE PDF LRO RLO */
		{ 0x2060, 0x206f },	/* word joiner, invisible operators, LRI RLI FSI PDI, ... */
		{ 0x3164, 0x3164 },	/* hangul filler */
		{ 0xfeff, 0xfeff },	/* zero-width no-break space (BOM) */
		{ 0xffa0, 0xffa0 },	/* halfwidth hangul filler */
		{ 0xfff9, 0xfffb },	/* interlinear annotation controls */
		{ 0xfffe, 0xffff },	/* noncharacters */
		{ 0x1d173, 0x1d17a },	/* musical formatting controls */
		{ 0xe0000, 0xe0fff },	/* tags, variation selectors supplement */
	};
	size_t i;

	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (cp >= ranges[i].lo && cp <= ranges[i].hi)
			return true;
	return false;
}

/* Length of the UTF-8 sequence at p if a terminal may show it as it is, else 0. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
	unsigned int cp;
	size_t n = utf8_decode(p, avail, &cp);

	return n && !hidden(cp) ? n : 0;
}

char *guest_escape(const void *bytes, size_t len, char *out, size_t outsize)
{
	const unsigned char *p = bytes;
	size_t o = 0, i = 0;

	if (!outsize)
		return out;
	/* Each step writes only if its whole form and the final NUL fit: output is never cut
	 * inside an escape, and len * 4 + 1 bytes always hold everything. */
	while (i < len) {
		size_t u;

		if (p[i] == '\\') {
			if (o + 2 >= outsize)
				break;
			out[o++] = '\\';
			out[o++] = '\\';
			i++;
		} else if (p[i] >= 0x20 && p[i] < 0x7f) {
			if (o + 1 >= outsize)
				break;
			out[o++] = (char)p[i++];
		} else if ((u = utf8_len(p + i, len - i))) {
			if (o + u >= outsize)
				break;
			memcpy(out + o, p + i, u);
			o += u;
			i += u;
		} else {
			if (o + 4 >= outsize)
				break;
			o += (size_t)snprintf(out + o, outsize - o, "\\x%02x", p[i++]);
		}
	}
	out[o] = 0;
	return out;
}

struct json_object *guest_json_bytes(const void *bytes, size_t len)
{
	const unsigned char *p = bytes;
	struct json_object *o;
	unsigned int cp;
	size_t i, u;
	char *tmp;

	for (i = 0; i < len; i += u) {
		u = p[i] < 0x80 ? 1 : utf8_decode(p + i, len - i, &cp);
		if (!u)
			break;
	}
	if (i >= len)
		return json_object_new_string_len((const char *)p, (int)len);
	tmp = malloc(len * 4 + 1);
	if (!tmp)
		return NULL;
	guest_escape(p, len, tmp, len * 4 + 1);
	o = json_object_new_string(tmp);
	free(tmp);
	return o;
}

struct json_object *guest_json_hex(const void *bytes, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = bytes;
	char *h = malloc(len * 2 + 1);
	struct json_object *o;
	size_t i;

	if (!h)
		return NULL;
	for (i = 0; i < len; i++) {
		h[2 * i] = digits[p[i] >> 4];
		h[2 * i + 1] = digits[p[i] & 15];
	}
	o = json_object_new_string_len(h, (int)(2 * len));
	free(h);
	return o;
}
