// SPDX-License-Identifier: GPL-2.0-or-later
/* Sizes typed on the command line (cmd/common/units.c): nfm record and nfmd --record-max-size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "units.h"

static void test_sizes(void **state)
{
	(void)state;
	assert_int_equal(units_parse_size("1024"), 1024);
	assert_int_equal(units_parse_size("64K"), 65536);
	assert_int_equal(units_parse_size("64KiB"), 65536);
	assert_int_equal(units_parse_size("500M"), 500ull << 20);
	assert_int_equal(units_parse_size("5G"), 5ull << 30);
	assert_int_equal(units_parse_size("1.5g"), 3ull << 29);
	assert_int_equal(units_parse_size("2TB"), 2ull << 40);
}

static void test_refused(void **state)
{
	(void)state;
	assert_int_equal(units_parse_size(""), 0);
	assert_int_equal(units_parse_size("G"), 0);
	assert_int_equal(units_parse_size("0"), 0);
	assert_int_equal(units_parse_size("-5G"), 0);
	assert_int_equal(units_parse_size("5X"), 0);
	assert_int_equal(units_parse_size("5Gx"), 0);
	assert_int_equal(units_parse_size("nan"), 0);
	assert_int_equal(units_parse_size("1e30"), 0);
	assert_int_equal(units_parse_size("1000000T"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
