// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sym/vmcoreinfo.h"

/* Modeled on what a Debian 6.1 x86-64 kernel writes (kernel/crash_core.c, arch/x86 additions). */
static const char debian61[] =
	"OSRELEASE=6.1.0-50-cloud-amd64\n"
	"BUILD-ID=8b2c4e1e5a4d0f1c3e9a7b6d5c4b3a29180f7e6d\n"
	"PAGESIZE=4096\n"
	"SYMBOL(init_uts_ns)=ffffffffab413840\n"
	"OFFSET(uts_namespace.name)=0\n"
	"SYMBOL(node_online_map)=ffffffffab50a148\n"
	"SYMBOL(swapper_pg_dir)=ffffffffab40a000\n"
	"SYMBOL(_stext)=ffffffffaa200000\n"
	"SYMBOL(vmap_area_list)=ffffffffab4ee7f0\n"
	"SYMBOL(mem_section)=ffff9a83bffd2000\n"
	"LENGTH(mem_section)=2048\n"
	"SIZE(mem_section)=16\n"
	"OFFSET(mem_section.section_mem_map)=0\n"
	"NUMBER(SECTION_SIZE_BITS)=27\n"
	"NUMBER(MAX_PHYSMEM_BITS)=46\n"
	"SIZE(page)=64\n"
	"SIZE(pglist_data)=174784\n"
	"OFFSET(page.flags)=0\n"
	"OFFSET(page._refcount)=52\n"
	"LENGTH(zone.free_area)=11\n"
	"NUMBER(NR_FREE_PAGES)=0\n"
	"NUMBER(PG_lru)=4\n"
	"NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129\n"
	"SYMBOL(kallsyms_names)=ffffffffaae6b6a8\n"
	"SYMBOL(kallsyms_num_syms)=ffffffffaae6b6a0\n"
	"SYMBOL(kallsyms_token_table)=ffffffffab0a0d28\n"
	"SYMBOL(kallsyms_token_index)=ffffffffab0a10b8\n"
	"SYMBOL(kallsyms_offsets)=ffffffffaadd63a0\n"
	"SYMBOL(kallsyms_relative_base)=ffffffffaae6b698\n"
	"NUMBER(phys_base)=-123\n"
	"SYMBOL(init_top_pgt)=ffffffffab40a000\n"
	"NUMBER(pgtable_l5_enabled)=0\n"
	"SYMBOL(prb)=ffffffffab0f4a80\n"
	"NUMBER(VMALLOC_START)=0xffffb1a3c0000000\n"
	"KERNELOFFSET=2a200000\n"
	"NUMBER(KERNEL_IMAGE_SIZE)=1073741824\n"
	"NUMBER(sme_mask)=0\n"
	"CRASHTIME=1700000000\n";

static struct nfm_vmcoreinfo *parse_ok(const char *text, size_t len)
{
	struct nfm_vmcoreinfo *vi = NULL;

	assert_int_equal(nfm_vmcoreinfo_parse(text, len, &vi), 0);
	assert_non_null(vi);
	return vi;
}

static void test_debian61(void **state)
{
	struct nfm_vmcoreinfo *vi = parse_ok(debian61, sizeof(debian61));
	uint64_t u;
	int64_t s;

	assert_int_equal(nfm_vmcoreinfo_count(vi), 38);
	assert_string_equal(nfm_vmcoreinfo_get(vi, "OSRELEASE"), "6.1.0-50-cloud-amd64");
	assert_string_equal(nfm_vmcoreinfo_get(vi, "BUILD-ID"),
			    "8b2c4e1e5a4d0f1c3e9a7b6d5c4b3a29180f7e6d");
	assert_string_equal(nfm_vmcoreinfo_get(vi, "PAGESIZE"), "4096");
	assert_string_equal(nfm_vmcoreinfo_get(vi, "CRASHTIME"), "1700000000");
	assert_null(nfm_vmcoreinfo_get(vi, "OSRELEASE="));
	assert_null(nfm_vmcoreinfo_get(vi, "SYMBOL(init_uts_ns"));

	assert_int_equal(nfm_vmcoreinfo_symbol(vi, "init_uts_ns", &u), 0);
	assert_int_equal(u, 0xffffffffab413840ull);
	assert_int_equal(nfm_vmcoreinfo_symbol(vi, "swapper_pg_dir", &u), 0);
	assert_int_equal(u, 0xffffffffab40a000ull);
	assert_int_equal(nfm_vmcoreinfo_symbol(vi, "_stext", &u), 0);
	assert_int_equal(u, 0xffffffffaa200000ull);
	assert_int_equal(nfm_vmcoreinfo_symbol(vi, "mem_section", &u), 0);
	assert_int_equal(u, 0xffff9a83bffd2000ull);
	assert_int_equal(nfm_vmcoreinfo_symbol(vi, "kallsyms_relative_base", &u), 0);
	assert_int_equal(u, 0xffffffffaae6b698ull);
	assert_int_equal(nfm_vmcoreinfo_symbol(vi, "kallsyms_markers", &u), -ENOENT);

	assert_int_equal(nfm_vmcoreinfo_length(vi, "mem_section", &s), 0);
	assert_int_equal(s, 2048);
	assert_int_equal(nfm_vmcoreinfo_size(vi, "mem_section", &s), 0);
	assert_int_equal(s, 16);
	assert_int_equal(nfm_vmcoreinfo_offset(vi, "mem_section.section_mem_map", &s), 0);
	assert_int_equal(s, 0);
	assert_int_equal(nfm_vmcoreinfo_offset(vi, "page._refcount", &s), 0);
	assert_int_equal(s, 52);
	assert_int_equal(nfm_vmcoreinfo_number(vi, "phys_base", &s), 0);
	assert_int_equal(s, -123);
	assert_int_equal(nfm_vmcoreinfo_number(vi, "PAGE_BUDDY_MAPCOUNT_VALUE", &s), 0);
	assert_int_equal(s, -129);
	assert_int_equal(nfm_vmcoreinfo_number(vi, "pgtable_l5_enabled", &s), 0);
	assert_int_equal(s, 0);
	assert_int_equal(nfm_vmcoreinfo_number(vi, "VMALLOC_START", &s), 0);
	assert_int_equal((uint64_t)s, 0xffffb1a3c0000000ull);
	assert_int_equal(nfm_vmcoreinfo_number(vi, "KERNEL_IMAGE_SIZE", &s), 0);
	assert_int_equal(s, 1073741824);
	assert_int_equal(nfm_vmcoreinfo_kerneloffset(vi, &u), 0);
	assert_int_equal(u, 0x2a200000);

	/* Missing keys, and the wrong family for a key that exists. */
	assert_int_equal(nfm_vmcoreinfo_number(vi, "nope", &s), -ENOENT);
	assert_int_equal(nfm_vmcoreinfo_offset(vi, "phys_base", &s), -ENOENT);
	assert_int_equal(nfm_vmcoreinfo_size(vi, "nope", &s), -ENOENT);
	assert_int_equal(nfm_vmcoreinfo_length(vi, "nope", &s), -ENOENT);
	assert_int_equal(nfm_vmcoreinfo_symbol(vi, "nope", &u), -ENOENT);
	assert_int_equal(nfm_vmcoreinfo_symbol(NULL, "nope", &u), -EINVAL);
	nfm_vmcoreinfo_free(vi);
	nfm_vmcoreinfo_free(NULL);
}

static void test_no_osrelease(void **state)
{
	struct nfm_vmcoreinfo *vi = NULL;
	static const char t1[] = "PAGESIZE=4096\nSYMBOL(_stext)=ffffffff81000000\n";
	static const char t2[] = "OSRELEASE\nPAGESIZE=4096\n";

	assert_int_equal(nfm_vmcoreinfo_parse(t1, sizeof(t1), &vi), -EBADMSG);
	assert_int_equal(nfm_vmcoreinfo_parse(t2, sizeof(t2), &vi), -EBADMSG);
	assert_int_equal(nfm_vmcoreinfo_parse("", 0, &vi), -EBADMSG);
	/* OSRELEASE after the first NUL does not count. */
	assert_int_equal(nfm_vmcoreinfo_parse("PAGESIZE=1\n\0OSRELEASE=6.1\n", 26, &vi), -EBADMSG);
	assert_null(vi);
	assert_int_equal(nfm_vmcoreinfo_parse(NULL, 0, &vi), -EINVAL);
}

static void test_malformed_values(void **state)
{
	static const char text[] =
		"OSRELEASE=6.12.0\n"
		"SYMBOL(a)=\n"
		"SYMBOL(b)=ffffffffg1000000\n"
		"SYMBOL(c)=1ffffffff81000000\n"
		"SYMBOL(d)=0xffffffff81000000\n"
		"SYMBOL(e)=-1\n"
		"NUMBER(a)=12x\n"
		"NUMBER(b)=9223372036854775807\n"
		"NUMBER(c)=9223372036854775808\n"
		"NUMBER(d)=-9223372036854775808\n"
		"NUMBER(e)=-9223372036854775809\n"
		"NUMBER(f)=-\n"
		"NUMBER(g)= 5\n"
		"OFFSET(x.y)=18446744073709551615\n"
		"KERNELOFFSET=zz\n";
	struct nfm_vmcoreinfo *vi = parse_ok(text, sizeof(text));
	uint64_t u;
	int64_t s;

	assert_int_equal(nfm_vmcoreinfo_symbol(vi, "a", &u), -EBADMSG);
	assert_int_equal(nfm_vmcoreinfo_symbol(vi, "b", &u), -EBADMSG);
	assert_int_equal(nfm_vmcoreinfo_symbol(vi, "c", &u), -EBADMSG);
	assert_int_equal(nfm_vmcoreinfo_symbol(vi, "d", &u), 0);
	assert_int_equal(u, 0xffffffff81000000ull);
	assert_int_equal(nfm_vmcoreinfo_symbol(vi, "e", &u), -EBADMSG);
	assert_int_equal(nfm_vmcoreinfo_number(vi, "a", &s), -EBADMSG);
	assert_int_equal(nfm_vmcoreinfo_number(vi, "b", &s), 0);
	assert_int_equal(s, INT64_MAX);
	assert_int_equal(nfm_vmcoreinfo_number(vi, "c", &s), -EBADMSG);
	assert_int_equal(nfm_vmcoreinfo_number(vi, "d", &s), 0);
	assert_int_equal(s, INT64_MIN);
	assert_int_equal(nfm_vmcoreinfo_number(vi, "e", &s), -EBADMSG);
	assert_int_equal(nfm_vmcoreinfo_number(vi, "f", &s), -EBADMSG);
	assert_int_equal(nfm_vmcoreinfo_number(vi, "g", &s), -EBADMSG);
	assert_int_equal(nfm_vmcoreinfo_offset(vi, "x.y", &s), -EBADMSG);
	assert_int_equal(nfm_vmcoreinfo_kerneloffset(vi, &u), -EBADMSG);
	nfm_vmcoreinfo_free(vi);

	/* No KERNELOFFSET line: no KASLR. */
	vi = parse_ok("OSRELEASE=6.1\n", 14);
	u = 5;
	assert_int_equal(nfm_vmcoreinfo_kerneloffset(vi, &u), 0);
	assert_int_equal(u, 0);
	nfm_vmcoreinfo_free(vi);
}

static void test_bounds(void **state)
{
	char *buf = malloc(3 * NFM_VMCOREINFO_MAX);
	struct nfm_vmcoreinfo *vi;
	size_t i, pos;

	/* No NUL anywhere, far more than a page: only the first 4096 bytes count. */
	pos = (size_t)sprintf(buf, "OSRELEASE=6.1.0\n");
	for (i = 0; pos + 40 < 3 * NFM_VMCOREINFO_MAX; i++)
		pos += (size_t)sprintf(buf + pos, "NUMBER(k%zu)=%zu\n", i, i);
	memset(buf + pos, 'x', 3 * NFM_VMCOREINFO_MAX - pos);
	vi = parse_ok(buf, 3 * NFM_VMCOREINFO_MAX);
	assert_true(nfm_vmcoreinfo_count(vi) < NFM_VMCOREINFO_MAX / 12);
	{
		/* The last line kept is complete: it ended with '\n' inside the first page. */
		size_t n = nfm_vmcoreinfo_count(vi);
		char key[32];
		int64_t v;

		snprintf(key, sizeof(key), "k%zu", n - 2);
		assert_int_equal(nfm_vmcoreinfo_number(vi, key, &v), 0);
		assert_int_equal(v, (int64_t)(n - 2));
		snprintf(key, sizeof(key), "k%zu", n - 1);
		assert_int_equal(nfm_vmcoreinfo_number(vi, key, &v), -ENOENT);
	}
	nfm_vmcoreinfo_free(vi);

	/* An overlong line is skipped, the next one is still read. */
	strcpy(buf, "OSRELEASE=6.1.0\nSYMBOL(long)=");
	pos = strlen(buf);
	memset(buf + pos, 'f', 1000);
	pos += 1000;
	pos += (size_t)sprintf(buf + pos, "\nPAGESIZE=4096\n");
	vi = parse_ok(buf, pos);
	assert_null(nfm_vmcoreinfo_get(vi, "SYMBOL(long)"));
	assert_string_equal(nfm_vmcoreinfo_get(vi, "PAGESIZE"), "4096");
	assert_int_equal(nfm_vmcoreinfo_count(vi), 2);
	nfm_vmcoreinfo_free(vi);

	/* Control characters, empty keys and lines without '=' are skipped. */
	{
		static const char t[] = "OSRELEASE=6.1\n=x\nA B=1\nC=\x1b[31m\nnoequals\n\n\nD=4\nE=5";

		vi = parse_ok(t, strlen(t));
	}
	assert_int_equal(nfm_vmcoreinfo_count(vi), 2);
	assert_string_equal(nfm_vmcoreinfo_get(vi, "D"), "4");
	assert_null(nfm_vmcoreinfo_get(vi, "C"));
	/* The last line was cut by len, not ended: dropped. */
	assert_null(nfm_vmcoreinfo_get(vi, "E"));
	nfm_vmcoreinfo_free(vi);

	/* The same line ended by a NUL is complete. */
	vi = parse_ok("OSRELEASE=6.1\nE=5", 18);
	assert_string_equal(nfm_vmcoreinfo_get(vi, "E"), "5");
	nfm_vmcoreinfo_free(vi);

	/* Duplicate keys: the first wins. */
	vi = parse_ok("OSRELEASE=6.1\nOSRELEASE=evil\n", 29);
	assert_string_equal(nfm_vmcoreinfo_get(vi, "OSRELEASE"), "6.1");
	nfm_vmcoreinfo_free(vi);
	free(buf);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void test_match(void **state)
{
	uint8_t page[4096] = { 0 };
	size_t off = 99, len = 99;
	struct nfm_vmcoreinfo *vi;

	/* The note: Elf64_Nhdr {11, descsz, 0}, "VMCOREINFO\0" + 1 pad byte, text at 24. */
	put32(page, 11);
	put32(page + 4, (uint32_t)strlen(debian61));
	put32(page + 8, 0);
	memcpy(page + 12, "VMCOREINFO", 11);
	memcpy(page + 24, debian61, strlen(debian61));
	assert_int_equal(nfm_vmcoreinfo_match(page, sizeof(page), &off, &len), 0);
	assert_int_equal(off, 24);
	assert_int_equal(len, strlen(debian61));
	vi = parse_ok((const char *)page + off, len);
	assert_int_equal(nfm_vmcoreinfo_count(vi), 38);
	nfm_vmcoreinfo_free(vi);

	/* descsz larger than the page: clipped. */
	put32(page + 4, 100000);
	assert_int_equal(nfm_vmcoreinfo_match(page, sizeof(page), &off, &len), 0);
	assert_int_equal(len, sizeof(page) - 24);
	assert_int_equal(nfm_vmcoreinfo_match(page, 100, &off, &len), 0);
	assert_int_equal(len, 76);

	/* Wrong type, wrong namesz, wrong name, text not starting with OSRELEASE=. */
	put32(page + 8, 1);
	assert_int_equal(nfm_vmcoreinfo_match(page, sizeof(page), &off, &len), -ENOENT);
	put32(page + 8, 0);
	put32(page, 12);
	assert_int_equal(nfm_vmcoreinfo_match(page, sizeof(page), &off, &len), -ENOENT);
	put32(page, 11);
	page[12] = 'v';
	assert_int_equal(nfm_vmcoreinfo_match(page, sizeof(page), &off, &len), -ENOENT);
	page[12] = 'V';
	page[24] = 'o';
	assert_int_equal(nfm_vmcoreinfo_match(page, sizeof(page), &off, &len), -ENOENT);
	page[24] = 'O';
	put32(page + 4, 3);
	assert_int_equal(nfm_vmcoreinfo_match(page, sizeof(page), &off, &len), -ENOENT);
	/* Too short to hold the header. */
	assert_int_equal(nfm_vmcoreinfo_match(page, 20, &off, &len), -ENOENT);

	/* The bare vmcoreinfo_data page. */
	memset(page, 0, sizeof(page));
	memcpy(page, debian61, strlen(debian61));
	assert_int_equal(nfm_vmcoreinfo_match(page, sizeof(page), &off, &len), 0);
	assert_int_equal(off, 0);
	assert_int_equal(len, sizeof(page));
	page[0] = 'o';
	assert_int_equal(nfm_vmcoreinfo_match(page, sizeof(page), &off, &len), -ENOENT);
	assert_int_equal(nfm_vmcoreinfo_match(NULL, 0, &off, &len), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debian61),
		cmocka_unit_test(test_no_osrelease),
		cmocka_unit_test(test_malformed_values),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
