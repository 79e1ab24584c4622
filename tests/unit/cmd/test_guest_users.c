// SPDX-License-Identifier: GPL-2.0-or-later
/* The passwd/group parser behind ps's USER and GROUP columns: bounded, and hostile input safe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest_users.h"

static void parse(const char *text, size_t len, struct guest_ids *ids)
{
	assert_int_equal(guest_ids_parse(text, len, ids), 0);
}

static void test_passwd(void **state)
{
	static const char text[] =
		"root:x:0:0:root:/root:/bin/sh\n"
		"# a comment\n"
		"\n"
		"  daemon:x:1:1::/:/bin/false\n"
		"zoo:x:1000:1000:Zoo,,,:/home/zoo:/bin/sh\n"
		"+nisuser::::::\n"
		"-\n"
		"dup:x:1000:1000::/:/bin/sh\n"
		"nogid:x:1001\n"
		"last:x:65534:65534::/:/bin/sh";	/* no newline at the end */
	struct guest_ids ids;

	(void)state;
	parse(text, sizeof(text) - 1, &ids);
	assert_int_equal(ids.n, 6);
	assert_int_equal(ids.skipped, 0);
	assert_string_equal(guest_ids_by_id(&ids, 0)->name, "root");
	assert_string_equal(guest_ids_by_id(&ids, 1)->name, "daemon");
	/* the first entry of an id wins, as getpwuid() */
	assert_string_equal(guest_ids_by_id(&ids, 1000)->name, "zoo");
	assert_string_equal(guest_ids_by_id(&ids, 1001)->name, "nogid");
	assert_string_equal(guest_ids_by_id(&ids, 65534)->name, "last");
	assert_null(guest_ids_by_id(&ids, 2));
	assert_int_equal(guest_ids_by_name(&ids, "dup")->id, 1000);
	assert_null(guest_ids_by_name(&ids, "+nisuser"));
	guest_ids_free(&ids);
}

static void test_group(void **state)
{
	static const char text[] = "root:x:0:\nwheel:x:10:root,zoo\nusers::100:\n";
	struct guest_ids ids;

	(void)state;
	parse(text, sizeof(text) - 1, &ids);
	assert_int_equal(ids.n, 3);
	assert_string_equal(guest_ids_by_id(&ids, 10)->name, "wheel");
	assert_string_equal(guest_ids_by_id(&ids, 100)->name, "users");
	guest_ids_free(&ids);
}

static void test_malformed(void **state)
{
	static const char text[] =
		":x:5:5::/:/bin/sh\n"		/* empty name */
		"a:x::0\n"			/* empty id */
		"b:x:-1:0\n"			/* not a number */
		"c:x:4294967295:0\n"		/* (uid_t)-1 */
		"d:x:99999999999:0\n"		/* too large */
		"e:x:12a:0\n"
		"f\n"				/* too few fields */
		"g:x\n"
		"ok:x:7:7\n";
	struct guest_ids ids;

	(void)state;
	parse(text, sizeof(text) - 1, &ids);
	assert_int_equal(ids.n, 1);
	assert_int_equal(ids.skipped, 8);
	assert_string_equal(ids.v[0].name, "ok");
	guest_ids_free(&ids);
}

/* Names are raw bytes (escaped where printed): kept, but bounded. */
static void test_hostile_names(void **state)
{
	char text[8192];
	struct guest_ids ids;
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "\x1b]0;owned\x07:x:1:1\n\xc3\xbcser:x:2:2\n");
	memset(text + n, 'L', 64);		/* a 64-byte name: longer than GUEST_NAME_MAX - 1 */
	memcpy(text + n + 64, ":x:3:3\n", 7);
	n += 71;
	memset(text + n, 'M', 63);		/* 63 bytes: fits */
	memcpy(text + n + 63, ":x:4:4\n", 7);
	n += 70;
	parse(text, n, &ids);
	assert_int_equal(ids.n, 3);
	assert_int_equal(ids.skipped, 1);
	assert_string_equal(guest_ids_by_id(&ids, 1)->name, "\x1b]0;owned\x07");
	assert_string_equal(guest_ids_by_id(&ids, 2)->name, "\xc3\xbcser");
	assert_null(guest_ids_by_id(&ids, 3));
	assert_int_equal(strlen(guest_ids_by_id(&ids, 4)->name), 63);
	guest_ids_free(&ids);
}

/* Pages the page cache did not hold read as zeros: every line they touch is left out. */
static void test_missing_pages(void **state)
{
	char *text = calloc(1, 3 * 4096);
	struct guest_ids ids;
	size_t n = 0;

	(void)state;
	assert_non_null(text);
	while (n < 4096 - 40)
		n += (size_t)sprintf(text + n, "u%zu:x:%zu:0::/:/bin/sh\n", n, n);
	/* a line cut by the end of the first page, then a page of zeros, then good lines */
	memcpy(text + 4096 - 8, "cut:x:9", 7);
	strcpy(text + 2 * 4096, "\nafter:x:424242:0\n");
	parse(text, 2 * 4096 + strlen(text + 2 * 4096), &ids);
	assert_null(guest_ids_by_name(&ids, "cut"));
	assert_non_null(guest_ids_by_name(&ids, "after"));
	assert_int_equal(guest_ids_by_name(&ids, "after")->id, 424242);
	assert_int_equal(ids.skipped, 1);
	guest_ids_free(&ids);
	free(text);
}

/* Bounds: a line over GUEST_IDS_LINE_MAX, more than GUEST_IDS_MAX entries. */
static void test_bounds(void **state)
{
	size_t size = (GUEST_IDS_MAX + 10) * 16 + 8192, n = 0, i;
	char *text = malloc(size);
	struct guest_ids ids;

	(void)state;
	assert_non_null(text);
	memcpy(text, "long:x:1:1:", 11);
	memset(text + 11, 'x', GUEST_IDS_LINE_MAX);
	text[11 + GUEST_IDS_LINE_MAX] = '\n';
	n = 12 + GUEST_IDS_LINE_MAX;
	for (i = 0; i < GUEST_IDS_MAX + 10; i++)
		n += (size_t)snprintf(text + n, size - n, "u%zu:x:%zu:\n", i, i + 10);
	parse(text, n, &ids);
	assert_int_equal(ids.n, GUEST_IDS_MAX);
	assert_int_equal(ids.skipped, 11);
	assert_null(guest_ids_by_name(&ids, "long"));
	guest_ids_free(&ids);
	free(text);
	/* nothing at all */
	parse("", 0, &ids);
	assert_int_equal(ids.n, 0);
	guest_ids_free(&ids);
}

/* No context: no name, the number. */
static void test_no_ctx(void **state)
{
	char buf[GUEST_NAME_MAX];

	(void)state;
	assert_null(guest_user_name(NULL, 0, buf));
	assert_string_equal(guest_user_or_id(NULL, 1000, buf), "1000");
	assert_string_equal(guest_group_or_id(NULL, 4294967294u, buf), "4294967294");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passwd),
		cmocka_unit_test(test_group),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_missing_pages),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_no_ctx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
