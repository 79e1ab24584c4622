// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm sym: NAME -> address and type; ADDRESS -> symbol+offset; --all: every symbol. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"

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
 * With -j, the same symbols as one document.
 */
static int list_all(struct cli *cli, bool no_kaslr)
{
	struct json_object *doc = NULL, *arr = NULL;
	struct nfm_kernel_info ki;
	size_t i, n;

	if (cli_attach(cli))
		return 1;
	if (nfm_ctx_kernel_info(cli->ctx, &ki) < 0)
		return cli_fail("cannot read the kernel's identity");
	if (cli->json) {
		doc = jdoc_new("sym");
		arr = json_object_new_array();
		j_add(doc, "symbols", arr);
	}
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
		if (arr)
			json_object_array_add(arr, obj_symbol(name, type, addr, NULL));
		else if (printf("%016" PRIx64 " %c %s\n", addr, type, cli_esc(name)) < 0)
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
		if (arr)
			json_object_array_add(arr, obj_symbol(name, type, addr, mod));
		else if (printf("%016" PRIx64 " %c %s\t[%s]\n", addr, type, cli_esc(name),
				cli_esc(mod)) < 0)
			return 1;
	}
	return doc ? cli_print_json(cli, doc) : 0;
}

static int cmd_sym(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "no-kaslr", no_argument, NULL, 'K' },
		{ 0 }
	};
	struct json_object *doc = NULL, *arr = NULL;
	bool all = false, no_kaslr = false;
	int i, c, failed = 0;

	while ((c = cli_getopt(cli, argc, argv, "a", longopts)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'K':
			no_kaslr = true;
			break;
		default:
			return cli_opt_status(cli);
		}
	}
	if (all) {
		if (optind < argc)
			return cli_usage_error(cli, "--all takes no NAME or ADDRESS");
		return list_all(cli, no_kaslr);
	}
	if (no_kaslr)
		return cli_usage_error(cli, "--no-kaslr goes with --all");
	if (optind >= argc)
		return cli_usage_error(cli, "a symbol NAME or a 0xADDRESS is needed");
	if (cli_attach(cli))
		return 1;
	if (cli->json) {
		doc = jdoc_new("sym");
		arr = json_object_new_array();
		j_add(doc, "symbols", arr);
	}
	for (i = optind; i < argc; i++) {
		struct json_object *o;
		const char *name, *mod;
		uint64_t addr, off;
		char type = '?';

		if (parse_address(argv[i], &addr) == 0) {
			if (nfm_sym_symbolize_module(cli->ctx, addr, &name, &type, &off, &mod) < 0) {
				failed = cli_fail("no symbol at %s", cli_esc(argv[i]));
				continue;
			}
			if (!arr) {
				printf("%016" PRIx64 " %c %s+0x%" PRIx64 "%s%s%s\n", addr, type,
				       cli_esc(name), off, mod ? "\t[" : "", mod ? cli_esc(mod) : "",
				       mod ? "]" : "");
				continue;
			}
			o = obj_symbol(name, type, addr - off, mod);
			j_add(o, "query", j_addr(addr));
			j_add(o, "offset_bytes", j_u64(off));
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
			o = obj_symbol(name, type, addr, mod);
		}
		json_object_array_add(arr, o);
	}
	if (doc && cli_print_json(cli, doc))
		return 1;
	return failed;
}

const struct command command_sym = {
	.name = "sym",
	.summary = "kernel symbol lookup, both ways (--all: every symbol, as /proc/kallsyms)",
	.usage = "[-j] NAME|[MODULE:]NAME|0xADDRESS... | --all [--no-kaslr]",
	.help = "  -a, --all           every symbol, as /proc/kallsyms (modules' symbols last)\n"
		"      --no-kaslr      with --all: addresses without the KASLR shift, as a System.map\n",
	.run = cmd_sym,
};
