// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "util/reread.h"

struct kept {
	char *path;
	int fd;
	bool used;	/* read in this round */
};

struct nfm_reread {
	unsigned int n, max;
	struct kept f[];
};

struct nfm_reread *nfm_reread_new(unsigned int max)
{
	struct nfm_reread *r = calloc(1, sizeof(*r) + max * sizeof(r->f[0]));

	if (r)
		r->max = max;
	return r;
}

static void drop(struct nfm_reread *r, unsigned int i)
{
	close(r->f[i].fd);
	free(r->f[i].path);
	r->f[i] = r->f[--r->n];
}

void nfm_reread_free(struct nfm_reread *r)
{
	if (!r)
		return;
	while (r->n)
		drop(r, 0);
	free(r);
}

static int read_fd(int fd, char *buf, size_t size)
{
	ssize_t n;

	do
		n = pread(fd, buf, size - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return (int)n;
}

/*
 * Whether one more descriptor may stay open: fds are numbered lowest free first, so fd is about
 * the number open; half the soft limit is left to everything else (sockets, guests' memory).
 */
static bool may_keep(int fd)
{
	struct rlimit rl;

	return getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	       (rl.rlim_cur == RLIM_INFINITY || (rlim_t)fd < rl.rlim_cur / 2);
}

int nfm_reread(struct nfm_reread *r, const char *path, char *buf, size_t size)
{
	char *copy = NULL;
	int fd, n;

	if (!size)
		return -EINVAL;
	for (unsigned int i = 0; r && i < r->n; i++) {
		if (strcmp(r->f[i].path, path))
			continue;
		n = read_fd(r->f[i].fd, buf, size);
		if (n >= 0) {
			r->f[i].used = true;
			return n;
		}
		drop(r, i);	/* gone (ESRCH, ENODEV): opened again below if the path is back */
		break;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Copied before the read: callers may read a file into the buffer holding its name. */
	if (r && r->n < r->max && may_keep(fd))
		copy = strdup(path);
	n = read_fd(fd, buf, size);
	if (n >= 0 && copy) {
		r->f[r->n++] = (struct kept){ .path = copy, .fd = fd, .used = true };
		return n;
	}
	free(copy);
	close(fd);
	return n;
}

void nfm_reread_round_end(struct nfm_reread *r)
{
	if (!r)
		return;
	for (unsigned int i = 0; i < r->n;) {
		if (!r->f[i].used) {
			drop(r, i);
			continue;
		}
		r->f[i++].used = false;
	}
}
