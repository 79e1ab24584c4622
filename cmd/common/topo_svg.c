// SPDX-License-Identifier: GPL-2.0-or-later
/* TopoLog's graph through Graphviz's dot (topo_svg.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "topo_svg.h"

extern char **environ;

#define MAX_SVG (64u << 20)
#define TIMEOUT_MS 20000

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* dot's whole output from fd, bounded in size and time; -errno. */
static int read_all(int fd, char **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *b = malloc(cap);
	long long deadline = now_ms() + TIMEOUT_MS;

	if (!b)
		return -ENOMEM;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t r;

		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			free(b);
			return -ETIMEDOUT;
		}
		if (n + 1 == cap) {
			char *nb = cap >= MAX_SVG ? NULL : realloc(b, cap * 2);

			if (!nb) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
			cap *= 2;
		}
		r = read(fd, b + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	b[n] = 0;
	*out = b;
	*len = n;
	return 0;
}

int topo_svg(const struct topo_graph *g, char **out, size_t *len)
{
	int dot = memfd_create("topo.dot", MFD_CLOEXEC), p[2] = { -1, -1 }, ret, status = 0;
	posix_spawn_file_actions_t fa;
	char *argv[] = { "dot", "-Tsvg", NULL };
	FILE *f;
	pid_t pid;

	if (dot < 0)
		return -errno;
	f = fdopen(dup(dot), "w");
	if (!f || topo_dot(g, f)) {
		if (f)
			fclose(f);
		close(dot);
		return -EIO;
	}
	fclose(f);
	lseek(dot, 0, SEEK_SET);
	if (pipe2(p, O_CLOEXEC)) {
		ret = -errno;
		close(dot);
		return ret;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, dot, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	ret = -posix_spawnp(&pid, "dot", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(dot);
	close(p[1]);
	if (ret) {
		close(p[0]);
		return ret == -ENOENT ? -ENOENT : -EIO;
	}
	ret = read_all(p[0], out, len);
	close(p[0]);
	if (ret == -ETIMEDOUT)
		kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) == pid && (!WIFEXITED(status) || WEXITSTATUS(status)) && !ret) {
		free(*out);
		ret = WIFEXITED(status) && WEXITSTATUS(status) == 127 ? -ENOENT : -EIO;
	}
	if (!ret && !*len) {
		free(*out);
		ret = -EIO;
	}
	return ret;
}
