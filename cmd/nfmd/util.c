// SPDX-License-Identifier: GPL-2.0-or-later
/* Strings, escaping, durations and clocks. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nfmd.h"

static bool sb_grow(struct sbuf *b, size_t need)
{
	size_t cap;
	char *s;

	if (b->oom)
		return false;
	if (b->len + need + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + need + 1)
		cap *= 2;
	s = realloc(b->s, cap);
	if (!s) {
		b->oom = true;
		return false;
	}
	b->s = s;
	b->cap = cap;
	return true;
}

void sb_putn(struct sbuf *b, const char *s, size_t n)
{
	if (!sb_grow(b, n))
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

void sb_puts(struct sbuf *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !sb_grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void sb_value(struct sbuf *b, double v)
{
	if (isnan(v))
		sb_puts(b, "NaN");
	else if (isinf(v))
		sb_puts(b, v > 0 ? "+Inf" : "-Inf");
	else if (v == (double)(long long)v && fabs(v) < 9e15)
		sb_printf(b, "%lld", (long long)v);
	else
		sb_printf(b, "%.15g", v);
}

void sb_label(struct sbuf *b, const char *s)
{
	char tmp[1024];
	const char *p;

	esc_bytes(s, strlen(s), tmp, sizeof(tmp));
	for (p = tmp; *p; p++) {
		if (*p == '\\')
			sb_puts(b, "\\\\");
		else if (*p == '"')
			sb_puts(b, "\\\"");
		else if (*p == '\n')
			sb_puts(b, "\\n");
		else
			sb_putn(b, p, 1);
	}
}

void sb_free(struct sbuf *b)
{
	free(b->s);
	*b = (struct sbuf){ 0 };
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not one (as cmd/nfm/cli.c). */
static size_t utf8_len(const unsigned char *p, size_t avail)
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
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
		return 0;
	return n;
}

char *esc_bytes(const void *bytes, size_t len, char *out, size_t outsize)
{
	const unsigned char *p = bytes;
	size_t o = 0, i = 0;

	if (!outsize)
		return out;
	while (i < len && o + 5 < outsize) {
		size_t u;

		if (p[i] == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
			i++;
		} else if (p[i] >= 0x20 && p[i] < 0x7f) {
			out[o++] = (char)p[i++];
		} else if ((u = utf8_len(p + i, len - i)) && o + u < outsize) {
			memcpy(out + o, p + i, u);
			o += u;
			i += u;
		} else {
			o += (size_t)snprintf(out + o, outsize - o, "\\x%02x", p[i++]);
		}
	}
	out[o] = 0;
	return out;
}

struct json_object *json_bytes(const void *bytes, size_t len)
{
	const unsigned char *p = bytes;
	struct json_object *o;
	size_t i, u;
	char *tmp;

	for (i = 0; i < len; i += u) {
		u = p[i] < 0x80 ? 1 : utf8_len(p + i, len - i);
		if (!u)
			break;
	}
	if (i >= len)
		return json_object_new_string_len((const char *)p, (int)len);
	tmp = malloc(len * 4 + 1);
	if (!tmp)
		return NULL;
	esc_bytes(p, len, tmp, len * 4 + 1);
	o = json_object_new_string(tmp);
	free(tmp);
	return o;
}

double parse_duration(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || !(v >= 0) || isinf(v))
		return -1;
	if (!*end || !strcmp(end, "s"))
		return v;
	if (!strcmp(end, "ms"))
		return v / 1000;
	if (!strcmp(end, "m"))
		return v * 60;
	if (!strcmp(end, "h"))
		return v * 3600;
	return -1;
}

double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
