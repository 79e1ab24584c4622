// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm lsmod: the guest's loaded modules (lsmod table; -p the lines of /proc/modules). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"

/* The /proc/modules line (kernel/module/procfs.c m_show), without the newline. */
static void proc_line(const struct nfm_module *m, char *buf, size_t size)
{
	snprintf(buf, size, "%s %" PRIu64 " %d %s %s 0x%016" PRIx64 "%s%s", m->name, m->size,
		 m->refcount, m->users, m->state, m->address, m->taints[0] ? " " : "", m->taints);
}

static struct json_object *mod_json(const struct nfm_module *m)
{
	struct json_object *o = json_object_new_object(), *u = json_object_new_array();
	char buf[1200];
	const char *p = m->users, *c;

	json_object_object_add(o, "name", cli_json_bytes(m->name, strlen(m->name)));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)m->size));
	json_object_object_add(o, "refcount", json_object_new_int(m->refcount));
	/* "a,b," -> ["a", "b"]; "-" -> [] */
	while (strcmp(p, "-") && (c = strchr(p, ','))) {
		json_object_array_add(u, cli_json_bytes(p, (size_t)(c - p)));
		p = c + 1;
	}
	json_object_object_add(o, "users", u);
	json_object_object_add(o, "state", json_object_new_string(m->state));
	snprintf(buf, sizeof(buf), "0x%016" PRIx64, m->address);
	json_object_object_add(o, "address", json_object_new_string(buf));
	json_object_object_add(o, "taints", json_object_new_string(m->taints));
	proc_line(m, buf, sizeof(buf));
	json_object_object_add(o, "line", cli_json_bytes(buf, strlen(buf)));
	return o;
}

int cmd_lsmod(struct cli *cli, int argc, char **argv)
{
	struct nfm_module *mods;
	bool proc = false, trunc = false;
	char line[1200];
	int n, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-p") || !strcmp(argv[i], "--proc"))
			proc = true;
		else
			return cli_fail("usage: nfm lsmod [-j] [-p]");
	}
	if (cli_attach(cli))
		return 1;
	n = nfm_module_list(cli->ctx, &mods, &trunc);
	if (n < 0)
		return cli_fail("cannot list the guest's modules: %s",
				cli->last_error[0] ? cli->last_error : strerror(-n));
	if (cli->json) {
		struct json_object *a = json_object_new_array();

		for (i = 0; i < n; i++)
			json_object_array_add(a, mod_json(&mods[i]));
		free(mods);
		return cli_print_json(a) || trunc;
	}
	if (!proc)
		printf("%-19s %8s  %s\n", "Module", "Size", "Used by");
	for (i = 0; i < n; i++) {
		const struct nfm_module *m = &mods[i];

		if (proc) {
			proc_line(m, line, sizeof(line));
			printf("%s\n", cli_esc(line));
			continue;
		}
		/* lsmod (kmod): users without the trailing comma, "-" as nothing. */
		snprintf(line, sizeof(line), "%s", strcmp(m->users, "-") ? m->users : "");
		if (line[0] && line[strlen(line) - 1] == ',')
			line[strlen(line) - 1] = 0;
		printf("%-19s %8" PRIu64 "  %d%s%s\n", cli_esc(m->name), m->size, m->refcount,
		       line[0] ? " " : "", cli_esc(line));
	}
	free(mods);
	if (trunc)
		return cli_fail("the module list was cut short (guest data changed or inconsistent)");
	return 0;
}
