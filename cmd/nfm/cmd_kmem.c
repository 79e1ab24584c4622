// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm kmem ADDRESS|SYMBOL...: which allocation holds a kernel address, as the guest's own
 * allocators record it (crash's `kmem ADDRESS`): a slab object and its cache, a block of pages,
 * or a vmalloc area, with where it starts and how large it really is.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"
#include "table.h"

/* "0x..." (hex) or a symbol of the kernel or a module ([MODULE:]NAME). */
static int resolve(struct cli *cli, const char *arg, uint64_t *va)
{
	const char *mod;
	char *end;
	char type;

	if (!strncmp(arg, "0x", 2) || !strncmp(arg, "0X", 2)) {
		errno = 0;
		*va = strtoull(arg, &end, 16);
		return errno || *end || end == arg + 2 ? -EINVAL : 0;
	}
	return nfm_sym_lookup_module(cli->ctx, arg, va, &type, &mod) < 0 ? -ENOENT : 0;
}

static void row(struct table *t, uint64_t va, const struct nfm_kmem *a)
{
	table_row(t);
	table_cell(t, "0x%" PRIx64, va);
	table_cell(t, "%s", a ? nfm_kmem_kind_name(a->kind) : "none");
	if (!a) {
		for (int i = 0; i < 6; i++)
			table_cell(t, "-");
		return;
	}
	table_cell(t, "0x%" PRIx64, a->start);
	table_cell(t, "%" PRIu64, a->size);
	if (a->kind == NFM_KMEM_SLAB)
		table_cell(t, "%" PRIu64, a->slot_size);
	else
		table_cell(t, "-");
	table_cell(t, "%" PRIu64, va - a->start);
	if (a->kind == NFM_KMEM_VMALLOC)
		table_cell(t, "-");
	else
		table_cell(t, "%u", a->order);
	if (a->kind == NFM_KMEM_SLAB)
		table_cell_gstr(t, a->cache_name);
	else
		table_cell(t, "-");
}

static int cmd_kmem(struct cli *cli, int argc, char **argv)
{
	static const char *const cols[] = { "ADDRESS", "KIND", "START", "SIZE", "SLOT", "OFFSET",
					    "ORDER", "CACHE" };
	struct json_object *doc = NULL, *arr = NULL;
	struct table *t = NULL;
	int c, failed = 0, partial = 0;

	while ((c = cli_getopt(cli, argc, argv, "", NULL)) != -1)
		return cli_opt_status(cli);
	if (optind >= argc)
		return cli_usage_error(cli, "a kernel 0xADDRESS or a symbol NAME is needed");
	if (cli_attach(cli))
		return 1;
	if (cli->json) {
		doc = jdoc_new("kmem");
		arr = json_object_new_array();
		j_add(doc, "allocations", arr);
	} else {
		t = table_new(cli);
		if (!t)
			return cli_fail("out of memory");
		for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
			table_column(t, cols[i], i >= 3 && i <= 6 ? TBL_RIGHT : 0);
	}
	for (int i = optind; i < argc; i++) {
		struct nfm_kmem a;
		uint64_t va;
		int r = resolve(cli, argv[i], &va);

		if (r < 0) {
			failed = cli_fail(r == -EINVAL ? "not a 0xADDRESS: %s" : "no symbol named %s",
					  cli_esc(argv[i]));
			continue;
		}
		r = nfm_kmem_find(cli->ctx, va, &a);
		if (r < 0 && r != -ENOENT) {
			/* Not "none": the allocator data could not be read or does not agree. */
			cli_warn("0x%" PRIx64 ": cannot tell which allocation holds it: %s", va,
				 r == -EBADMSG ? "the allocator data is inconsistent" :
				 r == -ENODATA ? "this kernel's allocator tables are not found (slab_caches, "
				 "vmemmap; on an arm64 kernel without KALLSYMS_ALL they are not in kallsyms)" :
				 strerror(-r));
			if (doc)
				jdoc_error(doc, "allocations", r, "the allocator data could not be read");
			partial = 1;
			continue;
		}
		if (arr)
			json_object_array_add(arr, obj_kmem_allocation(va, r < 0 ? NULL : &a));
		else
			row(t, va, r < 0 ? NULL : &a);
	}
	if (doc ? cli_print_json(cli, doc) : table_print(t))
		return 1;
	return failed ? failed : partial ? EXIT_PARTIAL : 0;
}

const struct command command_kmem = {
	.name = "kmem",
	.summary = "which slab object, page block or vmalloc area holds a kernel address (crash's kmem)",
	.usage = "[-j] 0xADDRESS|[MODULE:]SYMBOL...",
	.help = "  For each address: its allocation's KIND (slab, pages, vmalloc, or none: the kernel\n"
		"  image, memblock tables, a free page), START, usable SIZE in bytes, a slab's SLOT\n"
		"  (its stride: slabinfo's objsize), the OFFSET of the address inside it, the page\n"
		"  ORDER of the slab or block, and the slab CACHE.\n",
	.run = cmd_kmem,
};
