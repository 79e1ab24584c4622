// SPDX-License-Identifier: GPL-2.0-or-later
/* The growable string, Prometheus values and labels, durations and clocks. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guest_text.h"
#include "util.h"

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
	size_t room = b->cap > b->len ? b->cap - b->len : 0;
	va_list ap;
	int n;

	/* Formatted straight into the room left; only a string that does not fit is formatted
	 * twice (a /metrics page is tens of thousands of these). */
	va_start(ap, fmt);
	n = b->oom ? -1 : vsnprintf(room ? b->s + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= room) {
		if (!sb_grow(b, (size_t)n))
			return;
		va_start(ap, fmt);
		vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* A whole number in decimal, without printf. */
static void sb_int(struct sbuf *b, long long v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	sb_putn(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

void sb_value(struct sbuf *b, double v)
{
	if (isnan(v))
		sb_puts(b, "NaN");
	else if (isinf(v))
		sb_puts(b, v > 0 ? "+Inf" : "-Inf");
	else if (fabs(v) < 9e15 && v == (double)(long long)v)
		sb_int(b, (long long)v);
	else
		sb_printf(b, "%.15g", v);
}

void sb_label(struct sbuf *b, const char *s)
{
	char tmp[1024];
	const char *p;

	guest_escape(s, strlen(s), tmp, sizeof(tmp));
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
	if (!strcmp(end, "d"))
		return v * 86400;
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
