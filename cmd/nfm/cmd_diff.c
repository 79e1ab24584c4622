// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm diff T1 T2 [VIEW [ARGS]]: what changed between two moments (doc/history.md). Each moment
 * is a recorded snapshot (WHEN as `nfm --at` takes it), the live VM (`live`, `live:SPEC`), or
 * a saved document (`json:FILE`). The view's document is made for each moment by the command
 * itself, in a child process attached to that moment (one attach per moment for all views),
 * and the two documents are compared object by object by identity keys (diff.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "diff.h"
#include "jout.h"
#include "table.h"

/* A document from a child or a file is bounded: past this, the moment is refused. */
#define DOC_MAX (256u << 20)
#define MAX_VIEWS 8

/* The views of `nfm diff T1 T2` without VIEW: what the issue lists (processes and execs, open
 * files, sockets, modules, interfaces and addresses, mounts, log lines, routes, neighbours). */
static const char *const default_views[][6] = {
	{ "crawl", "-f", "processes,modules,interfaces,sockets,mounts", NULL },
	{ "lsof", NULL },
	{ "dmesg", NULL },
	{ "route", NULL },
	{ "arp", NULL },
};

struct moment {
	const char *text;	/* as the user wrote it */
	char *spec;		/* the source spec (NULL: json file) */
	const char *file;	/* json:FILE */
	struct json_object *docs[MAX_VIEWS];
	int status[MAX_VIEWS];
};

static bool is_dir(const char *path)
{
	struct stat st;

	return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int moment_parse(struct cli *cli, const char *vm, struct moment *m)
{
	if (!strncmp(m->text, "json:", 5)) {
		m->file = m->text + 5;
		return 0;
	}
	if (!strcmp(m->text, "live")) {
		if (is_dir(vm) || (vm && !strncmp(vm, "snap:", 5)))
			return cli_usage_error(cli, "--vm names a store: say which VM is live with "
					       "live:SPEC");
		m->spec = vm ? strdup(vm) : NULL;
		return 0;
	}
	if (!strncmp(m->text, "live:", 5)) {
		m->spec = strdup(m->text + 5);
		return m->spec ? 0 : cli_fail("out of memory");
	}
	m->spec = strdup(cli_at_spec(vm, m->text));
	return m->spec ? 0 : cli_fail("out of memory");
}

/* Read fd to the end into a NUL-terminated buffer of at most DOC_MAX bytes. */
static int read_all(int fd, char **ret, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap), *nb;
	ssize_t r;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n + 1 >= cap) {
			if (cap >= DOC_MAX) {
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return -errno;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	*ret = buf;
	*len = n;
	return 0;
}

static struct json_object *parse_doc(const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(64);
	struct json_object *o;

	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (o && (json_tokener_get_error(tok) != json_tokener_success ||
		  !json_object_is_type(o, json_type_object) ||
		  (size_t)json_tokener_get_parse_end(tok) < len)) {
		/* trailing whitespace is fine, anything else is not one document */
		size_t end = json_tokener_get_parse_end(tok);

		while (end < len && (text[end] == '\n' || text[end] == ' ' || text[end] == '\r' ||
				     text[end] == '\t'))
			end++;
		if (end < len || !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			o = NULL;
		}
	}
	json_tokener_free(tok);
	return o;
}

/*
 * Make each view's document at moment m: a child attached to m runs the views' commands with
 * -j, each document one line followed by a line "\x1e<exit status>".
 */
static int moment_collect(struct cli *cli, struct moment *m, char *const *views[], int nviews)
{
	int fds[2], status, err, v;
	char *out, *p, *end;
	size_t len;
	pid_t pid;

	if (m->file) {
		int fd = open(m->file, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return cli_fail("%s: %s", cli_esc(m->file), strerror(errno));
		err = read_all(fd, &out, &len);
		close(fd);
		if (err)
			return cli_fail("%s: %s", cli_esc(m->file),
					err == -EFBIG ? "larger than 256 MiB" : strerror(-err));
		m->docs[0] = parse_doc(out, len);
		free(out);
		if (!m->docs[0])
			return cli_fail("%s: not one JSON document", cli_esc(m->file));
		m->status[0] = jdoc_complete(m->docs[0]) ? 0 : EXIT_PARTIAL;
		return 0;
	}
	fflush(stdout);
	fflush(stderr);
	if (pipe2(fds, O_CLOEXEC))
		return cli_fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		return cli_fail("fork: %s", strerror(errno));
	if (!pid) {
		close(fds[0]);
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(1);
		cli->vm = m->spec;
		cli->json = true;
		cli->pretty = 0;
		for (v = 0; v < nviews; v++) {
			const struct command *c = cli_command(views[v][0]);
			int argc = 0, ret;

			while (views[v][argc])
				argc++;
			ret = c ? cli_run(cli, c, argc, (char **)views[v]) : EXIT_USAGE;
			fflush(stdout);
			printf("\x1e%d\n", ret);
			if (fflush(stdout))
				_exit(1);
			if (ret && ret != EXIT_PARTIAL)
				break;	/* the same failure for every view: said once */
		}
		cli_detach(cli);
		_exit(0);
	}
	close(fds[1]);
	err = read_all(fds[0], &out, &len);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (err) {
		return cli_fail("%s: the documents: %s", cli_esc(m->text),
				err == -EFBIG ? "larger than 256 MiB" : strerror(-err));
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		free(out);
		return cli_fail("%s: reading the views failed", cli_esc(m->text));
	}
	p = out;
	for (v = 0; v < nviews; v++) {
		char *rs = strstr(p, "\n\x1e");
		char *doc_end;

		if (!strncmp(p, "\x1e", 1))
			rs = p - 1;	/* no document at all */
		if (!rs)
			break;
		doc_end = rs + 1;
		m->status[v] = (int)strtol(rs + 2, &end, 10);
		if (doc_end > p)
			m->docs[v] = parse_doc(p, (size_t)(doc_end - p));
		p = strchr(rs + 2, '\n');
		p = p ? p + 1 : out + len;
		if (m->status[v] && m->status[v] != EXIT_PARTIAL) {
			free(out);
			return cli_fail("%s: nfm %s failed (exit %d)", cli_esc(m->text), views[v][0],
					m->status[v]);
		}
		if (!m->docs[v]) {
			free(out);
			return cli_fail("%s: nfm %s printed no document", cli_esc(m->text),
					views[v][0]);
		}
	}
	free(out);
	if (v < nviews)
		return cli_fail("%s: reading the views failed", cli_esc(m->text));
	return 0;
}

static void moment_free(struct moment *m)
{
	for (int v = 0; v < MAX_VIEWS; v++)
		json_object_put(m->docs[v]);
	free(m->spec);
}

static json_object *moment_json(const struct moment *m)
{
	struct json_object *o = json_object_new_object();

	j_add(o, "at", j_str(m->text));
	if (m->spec)
		j_add(o, "source", j_str(m->spec));
	if (m->file)
		j_add(o, "file", j_str(m->file));
	return o;
}

static int print_table(struct cli *cli, struct json_object *views)
{
	struct table *t = table_new(cli);
	static char text[8192], key[1024];

	if (!t)
		return cli_fail("out of memory");
	table_column(t, "VIEW", 0);
	table_column(t, "CHANGE", 0);
	table_column(t, "KEY", 0);
	table_column(t, "WHAT", TBL_TRUNC);
	for (size_t i = 0; i < json_object_array_length(views); i++) {
		struct json_object *v = json_object_array_get_idx(views, i), *a, *member, *view;
		static const char *const kinds[] = { "removed", "added", "changed" };

		json_object_object_get_ex(v, "member", &member);
		json_object_object_get_ex(v, "view", &view);
		for (int k = 0; k < 3; k++) {
			json_object_object_get_ex(v, kinds[k], &a);
			for (size_t j = 0; j < json_object_array_length(a); j++) {
				struct json_object *o = json_object_array_get_idx(a, j), *kk, *f;

				table_row(t);
				table_cell(t, "%s", json_object_get_string(view));
				table_cell(t, "%s", kinds[k]);
				if (k == 2) {
					json_object_object_get_ex(o, "key", &kk);
					json_object_object_get_ex(o, "fields", &f);
					diff_key_text(kk, key, sizeof(key));
					diff_fields_text(f, text, sizeof(text));
				} else {
					struct json_object *ko = diff_key(json_object_get_string(member), o);

					key[0] = 0;
					if (ko)
						diff_key_text(ko, key, sizeof(key));
					json_object_put(ko);
					diff_label(json_object_get_string(member), o, text, sizeof(text));
				}
				table_cell_gstr(t, key);
				table_cell_gstr(t, text);
			}
		}
	}
	return table_print(t);
}

static int cmd_diff(struct cli *cli, int argc, char **argv)
{
	enum { OPT_ALL = 0x100 };
	static const struct option longopts[] = {
		{ "all-fields", no_argument, NULL, OPT_ALL },
		{ 0 }
	};
	static char *vbuf[MAX_VIEWS][6];
	char *const *views[MAX_VIEWS];
	struct moment m[2] = { 0 };
	struct json_object *doc, *out;
	const char *vm = cli->vm;
	bool all = false, partial = false;
	int nviews = 0, c, ret = 1, total = 0, argc_own = argc;

	/* Options end at VIEW: its own options are the view's (nfm diff 1 2 crawl -f processes). */
	for (int i = 1, pos = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			break;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			if (!strcmp(argv[i], "--vm") || !strcmp(argv[i], "--system-map") ||
			    !strcmp(argv[i], "--btf"))
				i++;
		} else if (++pos == 3) {
			argc_own = i;
			break;
		}
	}
	while ((c = cli_getopt(cli, argc_own, argv, "", longopts)) != -1) {
		switch (c) {
		case OPT_ALL: all = true; break;
		default: return cli_opt_status(cli);
		}
	}
	if (argc_own - optind < 2)
		return cli_usage_error(cli, "two moments expected");
	m[0].text = argv[optind];
	m[1].text = argv[optind + 1];
	if (argc_own - optind > 2)
		return cli_usage_error(cli, "two moments expected");
	optind = argc_own;
	if (optind < argc) {
		static const char *const refused[] = { "diff", "record", "snapshots", "shell", "top",
						       "help", "list", "timeline", "export" };
		const struct command *cmd = cli_command(argv[optind]);

		if (!cmd)
			return cli_usage_error(cli, "no command '%s'", cli_esc(argv[optind]));
		for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
			if (!strcmp(refused[i], argv[optind]))
				return cli_usage_error(cli, "nfm %s is not a view", argv[optind]);
		views[0] = argv + optind;
		nviews = 1;
	} else {
		for (size_t i = 0; i < sizeof(default_views) / sizeof(default_views[0]); i++) {
			for (int k = 0; k < 6; k++)
				vbuf[i][k] = (char *)default_views[i][k];
			views[nviews++] = vbuf[i];
		}
	}
	for (int s = 0; s < 2; s++) {
		ret = moment_parse(cli, vm, &m[s]);
		if (ret)
			goto out;
	}
	ret = 1;
	if ((m[0].file || m[1].file) && !(m[0].file && m[1].file)) {
		ret = cli_usage_error(cli, "json:FILE compares with another json:FILE");
		goto out;
	}
	if (m[0].file && optind < argc) {
		ret = cli_usage_error(cli, "no VIEW with json:FILE (the files are the views)");
		goto out;
	}
	if (m[0].file)
		nviews = 1;
	for (int s = 0; s < 2; s++)
		if (moment_collect(cli, &m[s], views, nviews))
			goto out;
	out = json_object_new_array();
	for (int v = 0; v < nviews; v++) {
		struct json_object *kind = NULL, *kb = NULL;
		const char *name = views[v][0];
		int n;

		if (m[0].file) {
			json_object_object_get_ex(m[0].docs[v], "kind", &kind);
			json_object_object_get_ex(m[1].docs[v], "kind", &kb);
			if (!kind || !kb || strcmp(json_object_get_string(kind),
						  json_object_get_string(kb))) {
				json_object_put(out);
				ret = cli_fail("the two files are not documents of the same kind");
				goto out;
			}
			name = json_object_get_string(kind);
		}
		n = diff_docs(name, m[0].docs[v], m[1].docs[v], all, out);
		if (n < 0) {
			json_object_put(out);
			ret = cli_fail("out of memory");
			goto out;
		}
		total += n;
	}
	doc = jdoc_new("diff");
	for (int s = 0; s < 2; s++)
		for (int v = 0; v < nviews; v++)
			if (m[s].status[v] == EXIT_PARTIAL || !jdoc_complete(m[s].docs[v])) {
				char what[160];

				snprintf(what, sizeof(what), "%s at %s", m[0].file ? "document" :
					 views[v][0], s ? "T2" : "T1");
				jdoc_error(doc, what, 0, "the view was partial: changes may be missing "
					   "or wrong");
				partial = true;
			}
	j_add(doc, "from", moment_json(&m[0]));
	j_add(doc, "to", moment_json(&m[1]));
	j_add(doc, "changes", j_int(total));
	j_add(doc, "views", out);
	if (partial)
		cli_warn("a view was partial at one of the moments: the differences may be incomplete");
	if (cli->json) {
		ret = cli_print_json(cli, doc);
	} else {
		ret = print_table(cli, out);
		json_object_put(doc);
	}
	if (!ret && partial)
		ret = EXIT_PARTIAL;
out:
	moment_free(&m[0]);
	moment_free(&m[1]);
	return ret;
}

const struct command command_diff = {
	.name = "diff",
	.summary = "what changed between two moments: snapshots, the live VM, saved documents",
	.usage = "[--all-fields] T1 T2 [VIEW [ARGS]]",
	.help = "  T1, T2              a snapshot (WHEN as --at takes it: ID, time, -5m, DIR@WHEN),\n"
		"                      live (the --vm VM), live:SPEC, or json:FILE (a saved -j document)\n"
		"  VIEW [ARGS]         the command to compare (ps, lsof, ss, ip, lsmod, mount, dmesg,\n"
		"                      route, arp, maps PID, crawl...); default: processes, open files,\n"
		"                      sockets, modules, interfaces, mounts, log, routes, neighbours\n"
		"      --all-fields    compare the members that change all the time too (CPU times,\n"
		"                      RSS, counters, queues)\n",
	.run = cmd_diff,
};
