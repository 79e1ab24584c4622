// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm lsof [-p [^]PID,...] [-u USER] [-i [46][PROTO][@ADDR][:PORT]] [-a]: every open file
 * descriptor, with the target /proc/PID/fd shows; selections OR'ed as lsof's (-a: AND'ed), ^PID
 * excluded before any; a pid asked for and not found is an error after the rest is listed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/task.h>

#include "cli.h"
#include "guest_users.h"
#include "lsof_sel.h"
#include "jout.h"
#include "objects.h"
#include "table.h"
#include "walk_words.h"

/* fd.json with the process's pid and comm (the flat list's members). */
static struct json_object *fd_json(const struct nfm_task *t, const struct nfm_fd *f)
{
	struct json_object *o = obj_fd(f);

	j_add(o, "pid", j_int(t->tgid));
	j_add_bytes(o, "comm", t->comm, strnlen(t->comm, sizeof(t->comm)));
	return o;
}

static void fd_row(struct cli *cli, struct table *tb, const struct nfm_task *t,
		   const struct nfm_fd *f, const char *inet_name)
{
	char user[GUEST_NAME_MAX];

	table_row(tb);
	table_cell_guest(tb, t->comm, strnlen(t->comm, sizeof(t->comm)));
	table_cell(tb, "%d", t->tgid);
	guest_user_or_id(cli->ctx, t->euid, user);
	table_cell_guest(tb, user, strlen(user));
	table_cell(tb, "%d", f->fd);
	table_cell_guest(tb, f->type, strnlen(f->type, sizeof(f->type)));
	table_cell(tb, "%u,%u", f->dev_major, f->dev_minor);
	table_cell(tb, "%" PRIu64, f->ino);
	table_cell_guest(tb, f->proto, strnlen(f->proto, sizeof(f->proto)));
	if (inet_name)
		table_cell(tb, "%s", inet_name);	/* addresses and a state: no guest text */
	else
		table_cell_guest(tb, f->path, f->path_len < sizeof(f->path) ? f->path_len :
				 sizeof(f->path));
}

static int cmd_lsof(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "user", required_argument, NULL, 'u' },
		{ "inet", optional_argument, NULL, 'i' },
		{ "and", no_argument, NULL, 'a' },
		{ 0 }
	};
	static const char *const cols[] = { "COMMAND", "PID", "USER", "FD", "TYPE", "DEVICE", "NODE",
		"PROTO", "NAME" };
	struct json_object *doc = NULL, *arr = NULL;
	struct table *tb = NULL;
	struct nfm_task_iter *it;
	struct nfm_task t;
	struct nfm_fd *f;
	struct lsof_sel sel = { 0 };
	const char *users = NULL;
	bool and = false;
	unsigned int skipped = 0, broken = 0;
	int r, c, listed = 0, missing = 0, ret = 0, damaged;
	size_t i;

	while ((c = cli_getopt(cli, argc, argv, "p:u:i::anP", longopts)) != -1) {
		switch (c) {
		case 'p':
			if (lsof_pids_parse(&sel, optarg))
				return cli_usage_error(cli, "not a pid list: '%s' (want [^]PID,..., "
						       "at most %d of each)", cli_esc(optarg),
						       LSOF_PIDS_MAX);
			break;
		case 'u':
			users = optarg;
			break;
		case 'i':
			/* lsof -i takes its address in the same word or the next one */
			if (!optarg && optind < argc && lsof_inet_word(argv[optind]))
				optarg = argv[optind++];
			if (lsof_inet_parse(&sel, optarg))
				return cli_usage_error(cli, "not an -i address: '%s' (want "
						       "[46][TCP|UDP][@ADDR][:PORT[-PORT]])",
						       cli_esc(optarg));
			break;
		case 'a':
			and = true;
			break;
		case 'n':
		case 'P':
			break;	/* always numeric */
		default:
			return cli_opt_status(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "unexpected argument '%s'", cli_esc(argv[optind]));
	if (cli_attach(cli))
		return 1;
	if (users && lsof_users_parse(cli, users, &sel))
		return 2;
	if (sel.on && lsof_inet_load(cli, &sel)) {
		lsof_inet_free(&sel);
		return 1;
	}
	r = nfm_task_iter_new(cli->ctx, 0, &it);
	if (r < 0)
		return cli_fail("cannot list processes: %s", cli->last_error[0] ? cli->last_error :
				strerror(-r));
	f = malloc(sizeof(*f));
	if (cli->json) {
		doc = jdoc_new("lsof");
		arr = json_object_new_array();
		j_add(doc, "files", arr);
	} else if ((tb = table_new(cli))) {
		for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
			table_column(tb, cols[i], i == 1 || i == 3 || i == 6 ? TBL_RIGHT :
				     i == 8 ? TBL_TRUNC : 0);
	}
	if (!f || (!doc && !tb)) {
		nfm_task_iter_free(it);
		free(f);
		table_free(tb);
		return cli_fail("out of memory");
	}
	while ((r = nfm_task_iter_next(it, &t)) > 0) {
		struct nfm_fd_iter *fi;

		bool by_pid, by_user = lsof_user_match(&sel, t.euid);
		bool proc_sel = sel.nr_pids || sel.nr_users;

		if (lsof_pid_excluded(&sel, t.tgid))
			continue;	/* before any selection, as lsof's exclusions */
		by_pid = lsof_pid_match(&sel, t.tgid);
		/* a process selection (-p, -u) OR'ed with -i as lsof does; -a ANDs them */
		if (proc_sel && !sel.on && !by_pid && !by_user)
			continue;
		if (and && ((sel.nr_pids && !by_pid) || (sel.nr_users && !by_user)))
			continue;
		listed++;
		if (nfm_fd_iter_new(cli->ctx, &t, &fi) < 0) {
			/* Kernel threads and zombies have no files; a live process should. */
			broken += !t.kthread && t.state != 'Z' && t.mm;
			continue;
		}
		while (nfm_fd_iter_next(fi, f) > 0) {
			char name[128];
			const char *in = sel.on ? lsof_inet_match(&sel, f, name, sizeof(name)) : NULL;

			/* -i alone, or OR'ed with a process the other options did not select */
			if (sel.on && !in && (!proc_sel || and || (!by_pid && !by_user)))
				continue;
			if (arr)
				json_object_array_add(arr, fd_json(&t, f));
			else
				fd_row(cli, tb, &t, f, in);
		}
		skipped += nfm_fd_iter_skipped(fi);
		nfm_fd_iter_free(fi);
	}
	skipped += nfm_task_iter_skipped(it);
	damaged = r == -ELOOP || r == -EBADMSG ? r : r == 0 ? nfm_task_iter_status(it) : 0;
	if (damaged)
		r = 0;
	nfm_task_iter_free(it);
	free(f);
	lsof_inet_free(&sel);
	for (int k = 0; k < sel.nr_pids; k++)
		missing += !sel.pid_seen[k];
	if (r < 0 || (missing && !listed)) {
		json_object_put(doc);
		table_free(tb);
		if (r < 0)
			return cli_fail("the guest's task list is broken: %s", strerror(-r));
		for (int k = 0; k < sel.nr_pids; k++)
			if (!sel.pid_seen[k])
				cli_fail("pid %d: no such process", sel.pids[k]);
		return 1;
	}
	if (damaged) {
		cli_warn("%s", task_walk_words(damaged));
		if (doc)
			jdoc_error(doc, "files", damaged, task_walk_words(damaged));
	} else if (skipped || broken) {
		cli_warn("%u entr%s skipped (changed while being read, unreadable or inconsistent)",
			 skipped + broken, skipped + broken == 1 ? "y" : "ies");
		if (doc)
			jdoc_error(doc, "files", -EAGAIN, "entries skipped (changed while being read, "
				   "unreadable or inconsistent)");
	}
	ret = doc ? cli_print_json(cli, doc) : table_print(tb);
	/* lsof's status 1 when a pid it was asked for is not there, after listing the others */
	for (int k = 0; k < sel.nr_pids; k++)
		if (!sel.pid_seen[k])
			cli_fail("pid %d: no such process", sel.pids[k]);
	return ret ?: missing ? 1 : skipped || broken || damaged ? EXIT_PARTIAL : 0;
}

const struct command command_lsof = {
	.name = "lsof",
	.summary = "open files of every process (/proc/PID/fd)",
	.usage = "[-j] [-p [^]PID,...] [-u USER,...] [-i [46][TCP|UDP][@ADDR][:PORT[-PORT]]] [-a]",
	.help = "  -p, --pid [^]PID,... these processes' files; ^PID: never that one's (lsof's\n"
		"                      exclusion, before any other selection)\n"
		"  -u, --user USER,... the files of these users' processes (names from the guest's\n"
		"                      /etc/passwd as cached, or numeric uids)\n"
		"  -i, --inet [SPEC]   IPv4/IPv6 sockets (NAME: addr:port->addr:port (STATE));\n"
		"                      SPEC as lsof's: [46][TCP|UDP][@ADDR][:PORT[-PORT]]\n"
		"  -a, --and           AND the selections (lsof's default is OR)\n"
		"  -n, -P              accepted, always on (no name or service lookups)\n"
		"USER is the process's effective uid, by name when the guest's cached /etc/passwd\n"
		"names it.\n",
	.run = cmd_lsof,
};
