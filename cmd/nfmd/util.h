/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A growable string for the text nfmd writes (/metrics, labels), durations and clocks. */
#ifndef NFMD_UTIL_H
#define NFMD_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* A growable string; on allocation failure it sticks in an error state (oom) and stays valid. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};
void sb_putn(struct sbuf *b, const char *s, size_t n);
void sb_puts(struct sbuf *b, const char *s);
/* A string literal, its length known when compiled. */
#define SB_LIT(b, lit) sb_putn((b), "" lit, sizeof(lit) - 1)
__attribute__((format(printf, 2, 3))) void sb_printf(struct sbuf *b, const char *fmt, ...);
/* A double the way Prometheus writes it: integers without exponent, NaN, +Inf, -Inf. */
void sb_value(struct sbuf *b, double v);
/* A Prometheus label value (quotes not included): guest bytes made printable (\xNN for control
 * bytes and invalid UTF-8, as nfm does for a terminal), then \\ \" \n escaped. */
void sb_label(struct sbuf *b, const char *s);
void sb_free(struct sbuf *b);

/* "250ms", "1s", "1.5s", "2m", "1h", "7d"; a bare number is seconds. Returns seconds or -1. */
double parse_duration(const char *s);
double now_mono(void);		/* CLOCK_MONOTONIC, seconds */
double now_real(void);		/* CLOCK_REALTIME, seconds */

#endif
