/* SPDX-License-Identifier: MIT */
/* Shared helpers of the in-guest lab program (zoo roles + truth server). */
#ifndef NFM_LAB_ZOO_H
#define NFM_LAB_ZOO_H

#include <stddef.h>
#include <stdio.h>

#define ZOO_RUN_DIR "/run/zoo"
#define ZOO_MANIFEST "/run/zoo-manifest"

/* Growing byte buffer; the truth snapshot is built in memory, then written at once. */
struct buf {
	char *p;
	size_t len, cap;
};

void buf_put(struct buf *b, const void *data, size_t n);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Lowercase hex of data, or "-" for empty data (keeps fields space-separated). */
void buf_hex(struct buf *b, const void *data, size_t n);
/* Reads a whole file (proc files report size 0, so read until EOF). Returns 0 or -errno. */
int read_file(const char *path, struct buf *out, size_t max);
void die(const char *what) __attribute__((noreturn));
/* A `file <hex path> <hex content>` record of the truth, or `ferr <hex path> <errno>` when err. */
void rec_file_record(struct buf *o, const char *path, const struct buf *content, int err);

int truth_server(const char *dev);
/* zoo-sockdiag.c: a `file sock_diag:tcp_info` record of every TCP socket's tcp_info. */
void rec_tcp_info(struct buf *o);
void rec_ss_details(struct buf *o);

#endif
