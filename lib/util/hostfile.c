// SPDX-License-Identifier: GPL-2.0-or-later
/* Host files: a small file read whole (/proc/PID/maps, cmdline), and why one could not be. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/hostfile.h"

int nfm_read_file(const char *path, size_t max, char **ret, size_t *len)
{
	size_t n = 0, cap = 4096;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *tmp;

			if (cap >= max) {
				break;
			}
			cap *= 2;
			tmp = realloc(buf, cap + 1);
			if (!tmp) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = tmp;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			int err = -errno;

			if (err == -EINTR)
				continue;
			free(buf);
			close(fd);
			return err;
		}
		if (!r)
			break;
		n += r;
	}
	close(fd);
	buf[n] = '\0';
	*ret = buf;
	*len = n;
	return 0;
}

const char *nfm_perm_hint(void)
{
	return geteuid() ? " (run as root)" :
	       " (even as root: ptrace is restricted here, see kernel.yama.ptrace_scope, or the "
	       "process is in another user namespace)";
}
