// SPDX-License-Identifier: MIT
/* Byte buffer and file helpers shared by the zoo and the truth server. */
#include "zoo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void die(const char *what)
{
	fprintf(stderr, "zoo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void buf_reserve(struct buf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 65536;
	while (cap < b->len + n)
		cap *= 2;
	b->p = realloc(b->p, cap);
	if (!b->p)
		die("realloc");
	b->cap = cap;
}

void buf_put(struct buf *b, const void *data, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[512];

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		buf_put(b, small, n);
		return;
	}
	buf_reserve(b, n + 1);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
}

void buf_hex(struct buf *b, const void *data, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *s = data;

	if (!n) {
		buf_put(b, "-", 1);
		return;
	}
	buf_reserve(b, 2 * n);
	char *d = b->p + b->len;
	for (size_t i = 0; i < n; i++) {
		d[2 * i] = digits[s[i] >> 4];
		d[2 * i + 1] = digits[s[i] & 15];
	}
	b->len += 2 * n;
}

int read_file(const char *path, struct buf *out, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	out->len = 0;
	for (;;) {
		buf_reserve(out, 65536);
		/* 64 KiB at a time: a sysctl file refuses a read of KMALLOC_MAX_SIZE or more with
		 * ENOMEM (6.12), and this buffer grows with the largest file read before */
		size_t room = out->cap - out->len;
		ssize_t n = read(fd, out->p + out->len, room < 65536 ? room : 65536);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int err = -errno;
			close(fd);
			return err;
		}
		if (n == 0)
			break;
		out->len += n;
		if (out->len >= max)
			break;
	}
	close(fd);
	return 0;
}

void rec_file_record(struct buf *o, const char *path, const struct buf *content, int err)
{
	if (err) {
		buf_printf(o, "ferr ");
		buf_hex(o, path, strlen(path));
		buf_printf(o, " %d\n", -err);
		return;
	}
	buf_printf(o, "file ");
	buf_hex(o, path, strlen(path));
	buf_put(o, " ", 1);
	buf_hex(o, content->p, content->len);
	buf_put(o, "\n", 1);
}
