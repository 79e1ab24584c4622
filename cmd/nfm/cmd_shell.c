// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm shell: a read-only console on one guest. Every nfm command runs here over one attach
 * (dispatched through main.c's command table), plus ls and cat from the guest's dentry and page
 * caches and refresh (a new crawl of a live guest). Interactive with readline (history, tab
 * completion of commands and cached paths); -c 'CMD; CMD' runs a list and exits non-zero if any
 * failed. Bad input gives one error line and the shell goes on.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include <nfm/system.h>

#include "cli.h"

#define MAX_ARGS 64

static struct cli *g_cli;	/* for the completion callbacks */

static const char *const builtins[] = { "ls", "cat", "refresh", "help", "exit", "quit", NULL };

static const char *fs_error(int err)
{
	switch (err) {
	case -ENOENT: return "not in the guest's dentry cache";
	case -ENOTDIR: return "not a directory";
	case -EISDIR: return "is a directory";
	case -EFBIG: return "too large to read at once";
	case -EINVAL: return "not a regular file (or not an absolute path)";
	}
	return strerror(-err);
}

/* Relative paths are taken from the root. */
static const char *abs_path(const char *p, char *buf, size_t size)
{
	if (p[0] == '/')
		return p;
	snprintf(buf, size, "/%s", p);
	return buf;
}

static char type_char(uint32_t mode)
{
	switch (mode & 0170000) {
	case 0040000: return 'd';
	case 0120000: return 'l';
	case 0020000: return 'c';
	case 0060000: return 'b';
	case 0010000: return 'p';
	case 0140000: return 's';
	}
	return '-';
}

static void mode_str(uint32_t m, char *s)
{
	const char *rwx = "rwxrwxrwx";
	int i;

	s[0] = type_char(m);
	for (i = 0; i < 9; i++)
		s[i + 1] = m & (0400u >> i) ? rwx[i] : '-';
	s[10] = 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct nfm_fs_entry *)a)->name, ((const struct nfm_fs_entry *)b)->name);
}

static int sh_ls(struct cli *cli, int argc, char **argv)
{
	struct nfm_fs_entry *es, one;
	const char *path = "/";
	char pb[4200], m[12];
	bool lng = false, trunc = false;
	int i, n;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-l"))
			lng = true;
		else if (argv[i][0] == '-')
			return cli_fail("usage: ls [-l] [PATH]");
		else
			path = abs_path(argv[i], pb, sizeof(pb));
	}
	n = nfm_fs_list(cli->ctx, path, &es, &trunc);
	if (n == -ENOTDIR && nfm_fs_stat(cli->ctx, path, &one) == 0) {
		es = malloc(sizeof(*es));
		if (!es)
			return cli_fail("out of memory");
		*es = one;
		n = 1;
	}
	if (n < 0)
		return cli_fail("%s: %s", cli_esc(path), fs_error(n));
	qsort(es, (size_t)n, sizeof(*es), name_cmp);
	if (cli->json) {
		struct json_object *a = json_object_new_array();

		for (i = 0; i < n; i++) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "name", cli_json_bytes(es[i].name, strlen(es[i].name)));
			json_object_object_add(o, "mode", json_object_new_int64(es[i].mode));
			json_object_object_add(o, "ino", json_object_new_int64((int64_t)es[i].ino));
			json_object_object_add(o, "size", json_object_new_int64((int64_t)es[i].size));
			json_object_object_add(o, "cached_pages", json_object_new_int64((int64_t)es[i].nrpages));
			json_object_object_add(o, "mountpoint", json_object_new_boolean(es[i].mountpoint));
			json_object_array_add(a, o);
		}
		free(es);
		return cli_print_json(cli, a) || trunc;
	}
	for (i = 0; i < n; i++) {
		if (lng) {
			mode_str(es[i].mode, m);
			printf("%s %8" PRIu64 " %10" PRIu64 " %6" PRIu64 "p %s%s\n", m, es[i].ino,
			       es[i].size, es[i].nrpages, cli_esc(es[i].name),
			       (es[i].mode & 0170000) == 0040000 ? "/" : "");
		} else {
			printf("%s%s\n", cli_esc(es[i].name), (es[i].mode & 0170000) == 0040000 ? "/" : "");
		}
	}
	free(es);
	if (trunc)
		return cli_fail("%s: the listing was cut short (guest data changed or inconsistent)",
				cli_esc(path));
	return 0;
}

static int sh_cat(struct cli *cli, int argc, char **argv)
{
	struct nfm_fs_read_stat st;
	char pb[4200];
	int i, ret = 0;

	if (argc < 2)
		return cli_fail("usage: cat PATH...");
	for (i = 1; i < argc; i++) {
		const char *path = abs_path(argv[i], pb, sizeof(pb));
		void *buf;
		int err = nfm_fs_read(cli->ctx, path, &buf, &st);

		if (err < 0) {
			ret = cli_fail("%s: %s", cli_esc(path), fs_error(err));
			continue;
		}
		/* file contents go out as they are, like cat(1) */
		if (st.size && fwrite(buf, 1, st.size, stdout) != st.size)
			ret = 1;
		free(buf);
		fflush(stdout);
		if (st.pages_missing)
			ret = cli_fail("%s: %" PRIu64 " of %" PRIu64 " pages not in the page cache%s "
				       "(shown as zeros; the first at byte %" PRIu64 ")",
				       cli_esc(path), st.pages_missing, st.pages,
				       st.pages_swapped ? ", some swapped out" : "",
				       st.first_missing * 4096);
	}
	return ret;
}

static void sh_help(void)
{
	size_t i;
	const struct command *c;

	printf("Commands (add -j for JSON):\n");
	for (i = 0; (c = cli_command_at(i)); i++)
		if (strcmp(c->name, "shell") && strcmp(c->name, "list"))
			printf("  %-8s %s\n", c->name, c->summary);
	printf("  %-8s %s\n  %-8s %s\n  %-8s %s\n  %-8s %s\n", "ls", "[-l] PATH: cached directory entries",
	       "cat", "PATH...: file contents from the page cache", "refresh",
	       "read a live guest afresh", "exit", "leave the shell");
}

/* Split a command into words (whitespace; '...' and "..." quote). Returns argc or -1. */
static int split_words(char *s, char **argv)
{
	int argc = 0;
	char *o;

	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		if (argc >= MAX_ARGS - 1)
			return -1;
		argv[argc++] = o = s;
		while (*s && *s != ' ' && *s != '\t') {
			if (*s == '\'' || *s == '"') {
				char q = *s++;

				while (*s && *s != q)
					*o++ = *s++;
				if (!*s)
					return -1;
				s++;
			} else {
				*o++ = *s++;
			}
		}
		if (*s)
			s++;
		*o = 0;
	}
	argv[argc] = NULL;
	return argc;
}

/* Run one command; -1 asks the shell to exit. */
static int run_one(struct cli *cli, char *line)
{
	char *argv[MAX_ARGS], *args[MAX_ARGS];
	const struct command *c;
	bool json = cli->json;
	int argc, i, n = 0, ret;

	argc = split_words(line, argv);
	if (argc < 0)
		return cli_fail("cannot parse that line (unbalanced quote or too many words)");
	if (argc == 0)
		return 0;
	/* -j anywhere, as on the command line */
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			cli->json = true;
		else
			args[n++] = argv[i];
	}
	args[n] = NULL;
	if (!strcmp(args[0], "exit") || !strcmp(args[0], "quit")) {
		ret = -1;
	} else if (!strcmp(args[0], "help")) {
		sh_help();
		ret = 0;
	} else if (!strcmp(args[0], "refresh")) {
		nfm_ctx_refresh(cli->ctx);
		ret = 0;
	} else if (!strcmp(args[0], "ls")) {
		ret = sh_ls(cli, n, args);
	} else if (!strcmp(args[0], "cat")) {
		ret = sh_cat(cli, n, args);
	} else if (!strcmp(args[0], "shell") || !strcmp(args[0], "list") ||
		   !(c = cli_command(args[0]))) {
		ret = cli_fail("unknown command '%s' (try help)", cli_esc(args[0]));
	} else {
		cli->last_error[0] = 0;
		ret = cli_run(cli, c, n, args);
	}
	cli->json = json;
	fflush(stdout);
	return ret;
}

/* Run every ';'-separated command of line; returns 1 if any failed, -1 on exit. */
static int run_line(struct cli *cli, char *line)
{
	char *p = line, *start = line, q = 0;
	int failed = 0, r;

	for (;; p++) {
		if (q) {
			if (*p == q)
				q = 0;
			else if (!*p)
				return cli_fail("cannot parse that line (unbalanced quote)");
			continue;
		}
		if (*p == '\'' || *p == '"') {
			q = *p;
			continue;
		}
		if (*p == ';' || !*p) {
			bool end = !*p;

			*p = 0;
			r = run_one(cli, start);
			if (r < 0)
				return -1;
			failed |= r != 0;
			if (end)
				break;
			start = p + 1;
		}
	}
	return failed;
}

/* ---- readline completion ---- */

static char *complete_command(const char *text, int state)
{
	static size_t i, b;
	const struct command *c;
	size_t len = strlen(text);

	if (!state)
		i = b = 0;
	while ((c = cli_command_at(i))) {
		i++;
		if (!strncmp(c->name, text, len) && strcmp(c->name, "shell") && strcmp(c->name, "list"))
			return strdup(c->name);
	}
	while (builtins[b]) {
		const char *n = builtins[b++];

		if (!strncmp(n, text, len))
			return strdup(n);
	}
	return NULL;
}

static char *complete_path(const char *text, int state)
{
	static struct nfm_fs_entry *es;
	static int n, i;
	static char dir[4096], base[256];
	const char *slash;

	if (!state) {
		free(es);
		es = NULL;
		n = i = 0;
		slash = strrchr(text, '/');
		if (slash) {
			snprintf(dir, sizeof(dir), "%.*s", (int)(slash - text + 1), text);
			snprintf(base, sizeof(base), "%s", slash + 1);
		} else {
			strcpy(dir, "");
			snprintf(base, sizeof(base), "%s", text);
		}
		{
			char d[4200];

			snprintf(d, sizeof(d), "%s%s", dir[0] == '/' ? "" : "/", dir);
			n = nfm_fs_list(g_cli->ctx, d, &es, NULL);
		}
		if (n < 0)
			n = 0;
	}
	while (i < n) {
		const struct nfm_fs_entry *e = &es[i++];
		char out[4400];

		if (strncmp(e->name, base, strlen(base)))
			continue;
		snprintf(out, sizeof(out), "%s%s%s", dir, e->name,
			 (e->mode & 0170000) == 0040000 ? "/" : "");
		return strdup(out);
	}
	return NULL;
}

static char **complete(const char *text, int start, int end)
{
	(void)end;
	rl_attempted_completion_over = 1;
	/* the first word of a command (after the start of the line or a ';') is a command */
	{
		int i = start - 1;

		while (i >= 0 && (rl_line_buffer[i] == ' ' || rl_line_buffer[i] == '\t'))
			i--;
		if (i < 0 || rl_line_buffer[i] == ';')
			return rl_completion_matches(text, complete_command);
	}
	rl_completion_append_character = '\0';
	return rl_completion_matches(text, complete_path);
}

int cmd_shell(struct cli *cli, int argc, char **argv)
{
	const char *cmds = NULL, *name;
	char prompt[96], *line;
	int i, r, failed = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc)
			cmds = argv[++i];
		else
			return cli_fail("usage: nfm shell [--vm SPEC] [-c 'COMMAND; COMMAND']");
	}
	if (cli_attach(cli))
		return 1;
	g_cli = cli;
	if (cmds) {
		char *copy = strdup(cmds);

		if (!copy)
			return cli_fail("out of memory");
		r = run_line(cli, copy);
		free(copy);
		return r != 0;
	}
	name = nfm_source_vm_name(cli->src);
	snprintf(prompt, sizeof(prompt), "nfm(%s)> ", cli_esc(name ? name : nfm_source_describe(cli->src)));
	rl_readline_name = "nfm";
	rl_attempted_completion_function = complete;
	if (!isatty(STDIN_FILENO)) {
		/* a script on stdin: no prompt, no line editing */
		size_t cap = 0;
		ssize_t len;

		line = NULL;
		while ((len = getline(&line, &cap, stdin)) >= 0) {
			if (len && line[len - 1] == '\n')
				line[len - 1] = 0;
			r = run_line(cli, line);
			if (r < 0)
				break;
			failed |= r;
		}
		free(line);
		return failed;
	}
	using_history();
	while ((line = readline(prompt))) {
		if (line[0])
			add_history(line);
		r = run_line(cli, line);
		free(line);
		if (r < 0)
			break;
	}
	if (!line)
		putchar('\n');
	return 0;
}

const struct command command_shell = {
	.name = "shell",
	.summary = "read-only console: every command, ls and cat from the caches",
	.usage = "[-c 'CMD; CMD']",
	.run = cmd_shell,
};
