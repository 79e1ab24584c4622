// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Option structs that grow (NFM_OPTS, util/opts.h): an old caller's smaller struct gets defaults
 * for the members it lacks; a newer caller's larger struct is accepted when the members this
 * library does not know are zero and refused (-EINVAL) when one is set; sz below sizeof(size_t)
 * is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <nfm/nfm.h>
#include <nfm/host.h>

#include "util/opts.h"

/* A later version of nfm_attach_opts, as a newer caller would have it. */
struct attach_opts_v2 {
	size_t sz;
	const char *system_map;
	const char *btf_path;
	long future;
};

static void test_macro_sets_size_and_zeroes(void **state)
{
	NFM_OPTS(nfm_attach_opts, o, .btf_path = "x");

	(void)state;
	assert_int_equal(o.sz, sizeof(struct nfm_attach_opts));
	assert_null(o.system_map);
	assert_string_equal(o.btf_path, "x");
	assert_true(nfm_opts_valid(&o, sizeof(o)));
	assert_true(nfm_opts_valid(NULL, sizeof(o)));
}

static void test_older_caller_gets_defaults(void **state)
{
	/* A caller built when the struct ended after system_map. */
	struct nfm_attach_opts o = { .sz = offsetof(struct nfm_attach_opts, btf_path),
				     .system_map = "map", .btf_path = "garbage" };
	const struct nfm_attach_opts *p = &o;

	(void)state;
	assert_true(nfm_opts_valid(p, sizeof(*p)));
	assert_string_equal(NFM_OPTS_GET(p, system_map, NULL), "map");
	assert_null(NFM_OPTS_GET(p, btf_path, NULL));
}

static void test_newer_caller(void **state)
{
	struct attach_opts_v2 o = { .sz = sizeof(o) };
	struct nfm_source *src = (struct nfm_source *)&o;	/* never read: opts are checked first */
	struct nfm_ctx *ctx = NULL;

	(void)state;
	assert_true(nfm_opts_valid(&o, sizeof(struct nfm_attach_opts)));
	o.future = 1;
	assert_false(nfm_opts_valid(&o, sizeof(struct nfm_attach_opts)));
	assert_int_equal(nfm_ctx_new(src, (const struct nfm_attach_opts *)&o, NULL, &ctx), -EINVAL);
	assert_null(ctx);
	o.sz = 4;
	assert_false(nfm_opts_valid(&o, sizeof(struct nfm_attach_opts)));
	assert_int_equal(nfm_host_vm_new(1, (const struct nfm_host_opts *)&o, (void *)&ctx), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_macro_sets_size_and_zeroes),
		cmocka_unit_test(test_older_caller_gets_defaults),
		cmocka_unit_test(test_newer_caller),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
