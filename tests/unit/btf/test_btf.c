// SPDX-License-Identifier: GPL-2.0-or-later
/* BTF lookups through the name index give what libbpf's scans give: the first of a name, a
 * struct before a typedef of the same name, the first enumerator, members of anonymous parts.
 * Blobs parsed twice are one object while both are held, and only when the bytes are the same. */
#include <bpf/btf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "btf/btf.h"

static struct nfm_btf *make(void)
{
	struct btf *btf = btf__new_empty();
	struct nfm_btf *b;
	int u32, s1, s2, anon, e;

	assert_non_null(btf);
	u32 = btf__add_int(btf, "u32", 4, 0);			/* 1 */
	s1 = btf__add_struct(btf, "dup", 8);			/* 2: the first "dup" struct */
	btf__add_field(btf, "a", u32, 0, 0);
	btf__add_field(btf, "b", u32, 32, 0);
	s2 = btf__add_struct(btf, "dup", 16);			/* 3: a second one, later */
	btf__add_field(btf, "z", u32, 96, 0);
	btf__add_typedef(btf, "dup_t", s2);			/* 4 */
	btf__add_typedef(btf, "both", u32);			/* 5: typedef named like ... */
	anon = btf__add_struct(btf, NULL, 8);			/* 6: anonymous */
	btf__add_field(btf, "inner", u32, 32, 0);
	btf__add_struct(btf, "both", 16);			/* 7: ... a later struct */
	btf__add_field(btf, "x", u32, 0, 0);
	btf__add_field(btf, NULL, anon, 64, 0);			/* anonymous member at byte 8 */
	e = btf__add_enum(btf, "e1", 4);
	btf__add_enum_value(btf, "ONE", 1);
	btf__add_enum_value(btf, "TWO", 2);
	btf__add_enum(btf, "e2", 4);
	btf__add_enum_value(btf, "TWO", 22);			/* a later enumerator of the name */
	btf__add_enum_value(btf, "NEG", -5);
	assert_true(u32 > 0 && s1 > 0 && e > 0);
	assert_int_equal(nfm_btf_wrap(btf, &b), 0);
	return b;
}

static void test_lookups(void **state)
{
	struct nfm_btf *b = make();
	struct nfm_field f;
	uint32_t size;
	int64_t v;

	(void)state;
	for (int round = 0; round < 2; round++) {
		/* First libbpf's scans (as if the index could not be built), then the index. */
		b->index_err[0] = b->index_err[1] = round == 0 ? -ENOMEM : 0;
		assert_int_equal(nfm_btf_type_size(b, "dup", &size), 0);
		assert_int_equal(size, 8);		/* the first struct of the name */
		assert_int_equal(nfm_btf_field(b, "dup", "b", &f), 0);
		assert_int_equal(f.offset, 4);
		assert_int_equal(nfm_btf_field(b, "dup_t", "z", &f), 0);
		assert_int_equal(f.offset, 12);		/* the typedef resolves to the second */
		assert_int_equal(nfm_btf_type_size(b, "both", &size), 0);
		assert_int_equal(size, 16);		/* a struct before a typedef */
		assert_int_equal(nfm_btf_field(b, "both", "inner", &f), 0);
		assert_int_equal(f.offset, 12);		/* through the anonymous member */
		assert_int_equal(nfm_btf_type_size(b, "u32", &size), 0);
		assert_int_equal(size, 4);
		assert_int_equal(nfm_btf_type_size(b, "nothing", &size), -ENOENT);
		assert_int_equal(nfm_btf_field(b, "dup", "nothing", &f), -ENOENT);
		assert_int_equal(nfm_btf_enum_value(b, "TWO", &v), 0);
		assert_int_equal(v, 2);			/* the first enumerator of the name */
		assert_int_equal(nfm_btf_enum_value(b, "NEG", &v), 0);
		assert_int_equal(v, -5);
		assert_int_equal(nfm_btf_enum_value(b, "THREE", &v), -ENOENT);
		assert_true(round == 0 ? b->index[0] == NULL : b->index[0] != NULL);
		assert_true(round == 0 ? b->index[1] == NULL : b->index[1] != NULL);
	}
	nfm_btf_free(b);
}

static void test_shared_by_bytes(void **state)
{
	struct nfm_btf *w = make(), *a, *b, *c, *d;
	uint32_t n = 0;
	const void *raw = btf__raw_data(w->btf, &n);
	uint8_t *other;
	uint32_t size;

	(void)state;
	assert_non_null(raw);
	assert_int_equal(nfm_btf_new(raw, n, &a), 0);
	assert_int_equal(nfm_btf_new(raw, n, &b), 0);
	assert_ptr_equal(a, b);				/* the same bytes: one parse */
	assert_int_equal(a->refs, 2);
	other = malloc(n);
	assert_non_null(other);
	memcpy(other, raw, n);
	other[n - 2] ^= 1;				/* one byte of a name differs */
	assert_int_equal(nfm_btf_new(other, n, &c), 0);
	assert_ptr_not_equal(c, a);
	assert_int_equal(nfm_btf_type_size(a, "dup", &size), 0);	/* index under sharing */
	nfm_btf_free(a);
	assert_int_equal(b->refs, 1);
	assert_int_equal(nfm_btf_type_size(b, "dup", &size), 0);	/* still whole */
	assert_int_equal(size, 8);
	nfm_btf_free(b);
	assert_int_equal(nfm_btf_new(raw, n, &d), 0);	/* after the last reference: a new one */
	assert_int_equal(d->refs, 1);
	nfm_btf_free(d);
	nfm_btf_free(c);
	free(other);
	nfm_btf_free(w);
}

/* A module's split BTF over the kernel's: its struct names a base type and is found with its
 * members; the base's types are found through it; bytes libbpf rejects give -EBADMSG. */
static void test_split(void **state)
{
	struct nfm_btf *base = make(), *mod;
	struct btf *sp = btf__new_empty_split(base->btf);
	struct nfm_field f;
	uint32_t n = 0, size;
	const void *raw;
	int s;

	(void)state;
	assert_non_null(sp);
	s = btf__add_struct(sp, "ext4_like", 16);
	assert_true(s > 0);
	btf__add_field(sp, "count", 1, 64, 0);		/* base's u32 */
	raw = btf__raw_data(sp, &n);
	assert_non_null(raw);
	assert_int_equal(nfm_btf_new_split(raw, n, base, &mod), 0);
	assert_int_equal(nfm_btf_field(mod, "ext4_like", "count", &f), 0);
	assert_int_equal(f.offset, 8);
	assert_int_equal(f.size, 4);
	assert_int_equal(nfm_btf_type_size(mod, "dup", &size), 0);	/* a base type */
	assert_int_equal(size, 8);
	assert_int_equal(nfm_btf_type_size(base, "ext4_like", &size), -ENOENT);
	nfm_btf_free(mod);
	assert_int_equal(nfm_btf_new_split("garbage, not BTF at all.", 24, base, &mod), -EBADMSG);
	assert_int_equal(nfm_btf_new_split(raw, 8, base, &mod), -EBADMSG);
	btf__free(sp);
	nfm_btf_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_shared_by_bytes),
		cmocka_unit_test(test_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
