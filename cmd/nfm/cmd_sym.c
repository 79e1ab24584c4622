// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm sym: NAME -> address and type; ADDRESS -> symbol+offset. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int parse_address(const char *s, uint64_t *ret)
{
	char *end;

	if (strncmp(s, "0x", 2) && strncmp(s, "0X", 2))
		return -EINVAL;
	errno = 0;
	*ret = strtoull(s, &end, 16);
	return errno || *end ? -EINVAL : 0;
}

/*
 * Every symbol, as /proc/kallsyms lists them, or (--no-kaslr) as a System.map of the same kernel
 * with the KASLR shift taken out: what --system-map wants for a guest that lost its VMCOREINFO.
 */
static int list_all(struct cli *cli, bool no_kaslr)
{
	struct nfm_kernel_info ki;
	size_t i, n;

	if (cli_attach(cli))
		return 1;
	if (nfm_ctx_kernel_info(cli->ctx, &ki) < 0)
		return cli_fail("cannot read the kernel's identity");
	n = nfm_sym_count(cli->ctx);
	for (i = 0; i < n; i++) {
		const char *name;
		uint64_t addr;
		char type;

		if (nfm_sym_get(cli->ctx, i, &name, &type, &addr) < 0)
			continue;
		/* Absolute symbols (per-CPU offsets on x86-64) do not move with KASLR. */
		if (no_kaslr && type != 'A' && type != 'a')
			addr -= ki.kaslr_offset;
		if (printf("%016" PRIx64 " %c %s\n", addr, type, cli_esc(name)) < 0)
			return 1;
	}
	/* Then the modules' symbols, as /proc/kallsyms does (a System.map has none). */
	n = no_kaslr ? 0 : nfm_modsym_count(cli->ctx);
	for (i = 0; i < n; i++) {
		const char *name, *mod;
		uint64_t addr;
		char type;

		if (nfm_modsym_get(cli->ctx, i, &name, &type, &addr, &mod) < 0)
			continue;
		if (printf("%016" PRIx64 " %c %s\t[%s]\n", addr, type, cli_esc(name),
			   cli_esc(mod)) < 0)
			return 1;
	}
	return 0;
}

int cmd_sym(struct cli *cli, int argc, char **argv)
{
	struct json_object *arr = NULL;
	int i, failed = 0;

	if (argc == 2 && !strcmp(argv[1], "--all"))
		return list_all(cli, false);
	if (argc == 3 && !strcmp(argv[1], "--all") && !strcmp(argv[2], "--no-kaslr"))
		return list_all(cli, true);
	if (argc < 2)
		return cli_fail("usage: nfm sym [-j] NAME|0xADDRESS... | nfm sym --all [--no-kaslr]");
	if (cli_attach(cli))
		return 1;
	if (cli->json)
		arr = json_object_new_array();
	for (i = 1; i < argc; i++) {
		struct json_object *o = NULL;
		const char *name, *mod;
		uint64_t addr, off;
		char type = '?', hex[32];

		if (parse_address(argv[i], &addr) == 0) {
			if (nfm_sym_symbolize_module(cli->ctx, addr, &name, &type, &off, &mod) < 0) {
				failed = cli_fail("no symbol at %s", argv[i]);
				continue;
			}
			if (!arr) {
				printf("%016" PRIx64 " %c %s+0x%" PRIx64 "%s%s%s\n", addr, type,
				       cli_esc(name), off, mod ? "\t[" : "", mod ? cli_esc(mod) : "",
				       mod ? "]" : "");
				continue;
			}
			o = json_object_new_object();
			json_object_object_add(o, "name", json_object_new_string(name));
			json_object_object_add(o, "offset", json_object_new_int64((int64_t)off));
		} else {
			if (nfm_sym_lookup_module(cli->ctx, argv[i], &addr, &type, &mod) < 0) {
				failed = cli_fail("no symbol named %s", cli_esc(argv[i]));
				continue;
			}
			name = strchr(argv[i], ':') && mod ? strchr(argv[i], ':') + 1 : argv[i];
			if (!arr) {
				/* The /proc/kallsyms line. */
				printf("%016" PRIx64 " %c %s%s%s%s\n", addr, type, cli_esc(name),
				       mod ? "\t[" : "", mod ? cli_esc(mod) : "", mod ? "]" : "");
				continue;
			}
			o = json_object_new_object();
			json_object_object_add(o, "name", json_object_new_string(name));
		}
		json_object_object_add(o, "module", mod ? json_object_new_string(mod) : NULL);
		snprintf(hex, sizeof(hex), "0x%016" PRIx64, addr);
		json_object_object_add(o, "address", json_object_new_string(hex));
		json_object_object_add(o, "type", json_object_new_string_len(&type, 1));
		json_object_array_add(arr, o);
	}
	if (arr && cli_print_json(cli, arr))
		return 1;
	return failed;
}

const struct command command_sym = {
	.name = "sym",
	.summary = "kernel symbol lookup, both ways",
	.usage = "[-j] NAME|ADDRESS...",
	.run = cmd_sym,
};
