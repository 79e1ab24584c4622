// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm mount: the guest's mounts as mount(8) lists them; -p the lines of /proc/mounts. */
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"

int cmd_mount(struct cli *cli, int argc, char **argv)
{
	struct nfm_mount *m;
	bool proc = false, trunc = false;
	int n, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-p") || !strcmp(argv[i], "--proc"))
			proc = true;
		else
			return cli_fail("usage: nfm mount [-j] [-p]");
	}
	if (cli_attach(cli))
		return 1;
	n = nfm_mount_list(cli->ctx, &m, &trunc);
	if (n < 0)
		return cli_fail("cannot list the guest's mounts: %s",
				cli->last_error[0] ? cli->last_error : strerror(-n));
	if (cli->json) {
		struct json_object *a = json_object_new_array();

		for (i = 0; i < n; i++) {
			struct json_object *o = json_object_new_object();
			char *line;
			size_t len = strlen(m[i].device) + strlen(m[i].path) + strlen(m[i].fstype) +
				     strlen(m[i].options) + 16;

			json_object_object_add(o, "device", cli_json_bytes(m[i].device, strlen(m[i].device)));
			json_object_object_add(o, "path", cli_json_bytes(m[i].path, strlen(m[i].path)));
			json_object_object_add(o, "fstype", cli_json_bytes(m[i].fstype, strlen(m[i].fstype)));
			json_object_object_add(o, "options", cli_json_bytes(m[i].options, strlen(m[i].options)));
			json_object_object_add(o, "options_complete", json_object_new_boolean(m[i].options_complete));
			json_object_object_add(o, "mnt_id", json_object_new_int(m[i].mnt_id));
			line = malloc(len);
			if (line) {
				snprintf(line, len, "%s %s %s %s 0 0", m[i].device, m[i].path, m[i].fstype,
					 m[i].options);
				json_object_object_add(o, "line", cli_json_bytes(line, strlen(line)));
				free(line);
			}
			json_object_array_add(a, o);
		}
		free(m);
		return cli_print_json(cli, a) || trunc;
	}
	for (i = 0; i < n; i++) {
		if (proc)
			printf("%s %s %s %s 0 0\n", cli_esc(m[i].device), cli_esc(m[i].path),
			       cli_esc(m[i].fstype), cli_esc(m[i].options));
		else
			printf("%s on %s type %s (%s%s)\n", cli_esc(m[i].device), cli_esc(m[i].path),
			       cli_esc(m[i].fstype), cli_esc(m[i].options),
			       m[i].options_complete ? "" : ",...");
	}
	free(m);
	if (trunc)
		return cli_fail("the mount list was cut short (guest data changed or inconsistent)");
	return 0;
}

const struct command command_mount = {
	.name = "mount",
	.summary = "mounted filesystems (-p: the lines of /proc/mounts)",
	.usage = "[-j] [-p]",
	.run = cmd_mount,
};
