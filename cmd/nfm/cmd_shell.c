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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include <nfm/system.h>

#include "cli.h"
#include "jout.h"
#include "guest_text.h"
#include "objects.h"
#include "table.h"

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

/* ls [-l] [-j] [PATH]: a directory's cached entries (or one file's). */
static int sh_ls(struct cli *cli, int argc, char **argv)
{
	struct nfm_fs_entry *es, one;
	const char *path = "/";
	char pb[4200], m[12];
	bool lng = false, trunc = false, have_path = false;
	struct table *t;
	int i, n;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1]) {
			for (const char *o = argv[i] + 1; *o; o++) {
				if (*o == 'l')
					lng = true;
				else if (*o == 'j')
					cli->json = true;
				else
					return cli_fail("usage: ls [-l] [-j] [PATH]");
			}
		} else if (!have_path) {
			path = abs_path(argv[i], pb, sizeof(pb));
			have_path = true;
		} else {
			return cli_fail("usage: ls [-l] [-j] [PATH] (one PATH)");
		}
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
	if (trunc)
		cli_warn("%s: the listing was cut short (guest data changed or inconsistent)",
			 cli_esc(path));
	if (cli->json) {
		struct json_object *doc = jdoc_new("shell.ls"), *a = json_object_new_array();

		j_add(doc, "path", j_str(path));
		for (i = 0; i < n; i++)
			json_object_array_add(a, obj_fs_entry(&es[i], 0));
		j_add(doc, "entries", a);
		if (trunc)
			jdoc_error(doc, "entries", -EBADMSG, "the listing was cut short");
		free(es);
		return cli_print_json(cli, doc) ?: trunc ? EXIT_PARTIAL : 0;
	}
	if (!lng) {
		for (i = 0; i < n; i++)
			printf("%s%s\n", cli_esc(es[i].name),
			       (es[i].mode & 0170000) == 0040000 ? "/" : "");
		free(es);
		return fflush(stdout) ? 1 : trunc ? EXIT_PARTIAL : 0;
	}
	t = table_new(cli);
	if (!t) {
		free(es);
		return cli_fail("out of memory");
	}
	table_column(t, "MODE", 0);
	table_column(t, "INODE", TBL_RIGHT);
	table_column(t, "SIZE", TBL_RIGHT);
	table_column(t, "CACHED", TBL_RIGHT);
	table_column(t, "NAME", TBL_TRUNC);
	for (i = 0; i < n; i++) {
		mode_str(es[i].mode, m);
		table_row(t);
		table_cell(t, "%s", m);
		table_cell(t, "%" PRIu64, es[i].ino);
		table_cell(t, "%" PRIu64, es[i].size);
		table_cell(t, "%" PRIu64 "p", es[i].nrpages);
		/* the name escaped first; the "/" of a directory is nfm's */
		table_cell(t, "%s%s", cli_esc(es[i].name),
			   (es[i].mode & 0170000) == 0040000 ? "/" : "");
	}
	free(es);
	return table_print(t) ?: trunc ? EXIT_PARTIAL : 0;
}

/*
 * File bytes for a terminal: lines and tabs as they are, everything else through the one escaping
 * rule (cli_escape). Cut into pieces at a newline or every CHUNK bytes, moved back to the start
 * of a UTF-8 sequence so that no valid character is split and shown escaped.
 */
#define CHUNK 4096
static int write_escaped(const unsigned char *p, size_t len)
{
	char out[CHUNK * 4 + 1];
	size_t i = 0;

	while (i < len) {
		size_t n = 0, k;

		while (i + n < len && n < CHUNK && p[i + n] != '\n' && p[i + n] != '\t')
			n++;
		if (n == CHUNK && i + n < len)
			for (k = 0; k < 3 && n > 1 && (p[i + n] & 0xc0) == 0x80; k++)
				n--;
		cli_escape(p + i, n, out, sizeof(out));
		if (fputs(out, stdout) < 0)
			return -1;
		i += n;
		if (i < len && (p[i] == '\n' || p[i] == '\t')) {
			if (putchar(p[i]) == EOF)
				return -1;
			i++;
		}
	}
	return 0;
}

/*
 * cat [--raw] PATH...: a file from the page cache. Escaped like every guest string (a file can
 * hold an escape sequence that sets the clipboard or retitles the terminal); --raw writes the
 * bytes as they are, but only when stdout is not a terminal. -j: one shell.cat document per file.
 */
static int sh_cat(struct cli *cli, int argc, char **argv)
{
	struct nfm_fs_read_stat st;
	char pb[4200];
	bool raw = false;
	int i, ret = 0, files = 0;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--raw"))
			raw = true;
	if (raw && isatty(STDOUT_FILENO))
		return cli_fail("cat --raw writes guest bytes as they are: only into a pipe or a "
				"file, never to a terminal");
	for (i = 1; i < argc; i++) {
		const char *path;
		void *buf;
		int err;
		char msg[256] = "";

		if (!strcmp(argv[i], "--raw"))
			continue;
		files++;
		path = abs_path(argv[i], pb, sizeof(pb));
		err = nfm_fs_read(cli->ctx, path, &buf, &st);
		if (err < 0) {
			ret = cli_fail("%s: %s", cli_esc(path), fs_error(err));
			continue;
		}
		if (st.pages_missing)
			snprintf(msg, sizeof(msg), "%" PRIu64 " of %" PRIu64 " pages not in the page "
				 "cache%s (shown as zeros; the first at byte %" PRIu64 ")", st.pages_missing,
				 st.pages, st.pages_swapped ? ", some swapped out" : "",
				 st.first_missing * 4096);
		if (cli->json) {
			struct json_object *doc = jdoc_new("shell.cat");

			j_add(doc, "path", j_str(path));
			j_add(doc, "size_bytes", j_u64(st.size));
			j_add(doc, "content", guest_json_bytes(buf, st.size));
			if (st.pages_missing)
				jdoc_error(doc, "content", -ENODATA, msg);
			if (cli_print_json(cli, doc))
				ret = 1;
		} else if (raw) {
			if (st.size && fwrite(buf, 1, st.size, stdout) != st.size)
				ret = 1;
		} else if (write_escaped(buf, st.size)) {
			ret = 1;
		}
		free(buf);
		fflush(stdout);
		if (st.pages_missing) {
			cli_warn("%s: %s", cli_esc(path), msg);
			if (!ret)
				ret = EXIT_PARTIAL;
		}
	}
	if (!files)
		return cli_fail("usage: cat [--raw] PATH...");
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
	printf("  %-8s %s\n  %-8s %s\n  %-8s %s\n  %-8s %s\n",
	       "ls", "[-l] [-j] PATH: cached directory entries",
	       "cat", "[--raw] PATH...: a file from the page cache, escaped (--raw: exact bytes, "
	       "never to a terminal)",
	       "refresh", "read a live guest afresh", "exit", "leave the shell");
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

/* The options a command may change for itself (-j, --pretty, --raw...): each command starts
 * from the shell's own. */
struct cli_opts {
	bool json, noheadings, raw;
	int pretty;
};

/* Run one command; -1 asks the shell to exit. */
static int run_one(struct cli *cli, char *line)
{
	char *argv[MAX_ARGS], *args[MAX_ARGS];
	const struct command *c;
	struct cli_opts saved = { cli->json, cli->noheadings, cli->raw, cli->pretty };
	int argc, i, n = 0, ret;

	argc = split_words(line, argv);
	if (argc < 0)
		return cli_fail("cannot parse that line (unbalanced quote or too many words)");
	if (argc == 0)
		return 0;
	if (!strcmp(argv[0], "exit") || !strcmp(argv[0], "quit")) {
		ret = -1;
	} else if (!strcmp(argv[0], "help")) {
		sh_help();
		ret = 0;
	} else if (!strcmp(argv[0], "refresh")) {
		nfm_ctx_refresh(cli->ctx);
		ret = 0;
	} else if (!strcmp(argv[0], "ls")) {
		ret = sh_ls(cli, argc, argv);
	} else if (!strcmp(argv[0], "cat")) {
		/* -j anywhere, as for every command (cat's output is the file itself) */
		for (i = 0; i < argc; i++)
			if (strcmp(argv[i], "-j") && strcmp(argv[i], "--json"))
				args[n++] = argv[i];
		args[n] = NULL;
		ret = sh_cat(cli, n, args);
	} else if (!strcmp(argv[0], "shell") || !strcmp(argv[0], "list") ||
		   !(c = cli_command(argv[0]))) {
		ret = cli_fail("unknown command '%s' (try help)", cli_esc(argv[0]));
	} else {
		/* the command parses its own options (-j too) with getopt, reset per run */
		cli->last_error[0] = 0;
		ret = cli_run(cli, c, argc, argv);
	}
	cli->json = saved.json;
	cli->noheadings = saved.noheadings;
	cli->raw = saved.raw;
	cli->pretty = saved.pretty;
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

static int cmd_shell(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "command", required_argument, NULL, 'c' },
		{ 0 }
	};
	const char *cmds = NULL, *name;
	char prompt[96], *line;
	int r, c, failed = 0;

	while ((c = cli_getopt(cli, argc, argv, "c:", longopts)) != -1) {
		switch (c) {
		case 'c':
			cmds = optarg;
			break;
		default:
			return cli_opt_status(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "unexpected argument '%s' (commands go in -c 'CMD; CMD')",
				       cli_esc(argv[optind]));
	if (cli_attach(cli))
		return 1;
	g_cli = cli;
	if (cmds || !isatty(STDIN_FILENO)) {
		/* Not a conversation: with -j, one compact document per command (JSON Lines) even
		 * on a terminal, unless --pretty was asked for. */
		if (cli->pretty < 0)
			cli->pretty = 0;
	}
	if (cmds) {
		char *copy = strdup(cmds);

		if (!copy)
			return cli_fail("out of memory");
		r = run_line(cli, copy);
		free(copy);
		return r > 0;	/* 1 when a command failed; -1: the list said exit */
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
	.usage = "[-j] [-c 'CMD; CMD']",
	.help = "  -c, --command 'CMD; CMD'  run these commands, then exit (non-zero if one failed)\n",
	.run = cmd_shell,
};
