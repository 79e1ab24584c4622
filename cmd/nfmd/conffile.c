// SPDX-License-Identifier: GPL-2.0-or-later
/* nfmd's configuration file and secret files (conffile.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conffile.h"

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

int conffile_read(const char *path, const struct nfmd_log *log,
		  int (*set)(const char *key, const char *value, int line, void *arg), void *arg)
{
	char buf[4096];
	int line = 0, ret = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		logmsg(log, NFM_LOG_ERR, "--config %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(buf, sizeof(buf), f)) {
		char *k = trim(buf), *eq, *v;

		line++;
		if (!*k || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			logmsg(log, NFM_LOG_ERR, "%s:%d: expected key = value", path, line);
			ret = -1;
			break;
		}
		*eq = 0;
		v = trim(eq + 1);
		k = trim(k);
		if (set(k, v, line, arg) < 0) {
			ret = -1;
			break;
		}
	}
	fclose(f);
	return ret;
}

char *conffile_slurp(const char *path, const char *what, size_t max, const struct nfmd_log *log)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f) {
		logmsg(log, NFM_LOG_ERR, "%s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	buf = malloc(max + 1);
	n = buf ? fread(buf, 1, max + 1, f) : 0;
	fclose(f);
	if (!buf || !n || n > max) {
		logmsg(log, NFM_LOG_ERR, "%s %s: %s", what, path, !buf ? "out of memory" :
		       !n ? "empty" : "too large");
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	return buf;
}

char *conffile_secret(const char *path, const char *what, const struct nfmd_log *log)
{
	struct stat st;
	char *s = conffile_slurp(path, what, 4095, log);
	size_t n;

	if (!s)
		return NULL;
	if (stat(path, &st) == 0 && (st.st_mode & 0077))
		logmsg(log, NFM_LOG_WARN, "%s %s is readable by other users", what, path);
	n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = 0;
	if (!n || strpbrk(s, "\r\n")) {
		logmsg(log, NFM_LOG_ERR, "%s %s: expected one line", what, path);
		free(s);
		return NULL;
	}
	return s;
}
