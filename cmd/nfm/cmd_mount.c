// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm mount: the guest's mounts as mount(8) lists them; -p the lines of /proc/mounts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"
#include "jout.h"
#include "mount_common.h"
#include "objects.h"

/* The /proc/mounts line (show_vfsmnt: the strings come escaped already, "0 0" at the end). */
static char *proc_line(const struct nfm_mount *m)
{
	char *line = NULL;

	if (asprintf(&line, "%s %s %s %s 0 0", m->device, m->path, m->fstype, m->options) < 0)
		return NULL;
	return line;
}

static int cmd_mount(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "proc", no_argument, NULL, 'p' },
		{ "types", required_argument, NULL, 't' },
		{ 0 }
	};
	struct nfm_mount *m;
	const char *types = "";
	bool proc = false, trunc = false;
	int n, i, c;

	while ((c = cli_getopt(cli, argc, argv, "pt:", longopts)) != -1) {
		switch (c) {
		case 'p':
			proc = true;
			break;
		case 't':
			types = optarg;
			break;
		default:
			return cli_opt_status(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "no arguments expected");
	n = mount_list_or_fail(cli, &m, &trunc);
	if (n < 0)
		return 1;
	if (trunc)
		cli_warn("the mount list was cut short (guest data changed or inconsistent)");
	if (cli->json) {
		struct json_object *doc = jdoc_new("mount"), *a = json_object_new_array();

		for (i = 0; i < n; i++) {
			struct json_object *o;
			char *line;

			if (!mount_type_wanted(types, m[i].fstype ? m[i].fstype : ""))
				continue;
			o = obj_mount(&m[i]);
			line = proc_line(&m[i]);

			if (line)
				j_add(o, "line", j_str(line));
			free(line);
			json_object_array_add(a, o);
		}
		j_add(doc, "mounts", a);
		if (trunc)
			jdoc_error(doc, "mounts", -EBADMSG, "the mount list was cut short");
		free(m);
		return cli_print_json(cli, doc) ?: trunc ? EXIT_PARTIAL : 0;
	}
	/* mount(8)'s lines, or -p /proc/mounts' verbatim: not tables */
	for (i = 0; i < n; i++) {
		if (!mount_type_wanted(types, m[i].fstype ? m[i].fstype : ""))
			continue;
		if (proc)
			printf("%s %s %s %s 0 0\n", cli_esc(m[i].device), cli_esc(m[i].path),
			       cli_esc(m[i].fstype), cli_esc(m[i].options));
		else
			printf("%s on %s type %s (%s%s)\n", cli_esc(m[i].device), cli_esc(m[i].path),
			       cli_esc(m[i].fstype), cli_esc(m[i].options),
			       m[i].options_complete ? "" : ",...");
	}
	free(m);
	return trunc ? EXIT_PARTIAL : 0;
}

const struct command command_mount = {
	.name = "mount",
	.summary = "mounted filesystems (-p: the lines of /proc/mounts)",
	.usage = "[-j] [-p] [-t TYPE,...]",
	.help = "  -p, --proc          the lines of /proc/mounts instead of mount's \"on ... type\" lines\n"
		"  -t, --types LIST    only these file system types (comma-separated; \"no\" before the\n"
		"                      list: all but these, as util-linux: -t nosysfs,proc)\n",
	.run = cmd_mount,
};
