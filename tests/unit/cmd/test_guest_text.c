// SPDX-License-Identifier: GPL-2.0-or-later
/* Guest bytes made safe for a terminal and exact in JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guest_text.h"

static const char *esc(const char *in, size_t len)
{
	static char out[256];

	return guest_escape(in, len, out, sizeof(out));
}

static void test_escape(void **state)
{
	(void)state;
	assert_string_equal(esc("plain name", 10), "plain name");
	/* A terminal escape sequence cannot reach the terminal. */
	assert_string_equal(esc("\x1b[31mred", 8), "\\x1b[31mred");
	assert_string_equal(esc("tab\there", 8), "tab\\x09here");
	assert_string_equal(esc("back\\slash", 10), "back\\\\slash");
	/* Valid UTF-8 stays; C1 controls (U+009B is a CSI), overlong forms and strays do not. */
	assert_string_equal(esc("zoo-\xc3\xbc", 6), "zoo-\xc3\xbc");
	assert_string_equal(esc("\xc2\x9b" "2J", 4), "\\xc2\\x9b2J");
	assert_string_equal(esc("\xc0\xaf", 2), "\\xc0\\xaf");
	assert_string_equal(esc("\xe2\x82", 2), "\\xe2\\x82");
	assert_string_equal(esc("a\0b", 3), "a\\x00b");
	/* Bidi overrides and isolates (reorder what follows), zero-width and invisible characters
	 * (two names that look alike), a BOM and a tag character: every byte escaped. */
	assert_string_equal(esc("evil\xe2\x80\xaetxt.exe", 14), "evil\\xe2\\x80\\xaetxt.exe");
	assert_string_equal(esc("\xe2\x81\xa6x", 4), "\\xe2\\x81\\xa6x");
	assert_string_equal(esc("ss\xe2\x80\x8bhd", 7), "ss\\xe2\\x80\\x8bhd");
	assert_string_equal(esc("\xef\xbb\xbf", 3), "\\xef\\xbb\\xbf");
	assert_string_equal(esc("\xf3\xa0\x80\x81", 4), "\\xf3\\xa0\\x80\\x81");
	assert_string_equal(esc("a\xe2\x80\xa8" "b", 5), "a\\xe2\\x80\\xa8b");
	/* Their neighbours are ordinary text. */
	assert_string_equal(esc("\xe2\x80\x94\xe2\x82\xac", 6), "\xe2\x80\x94\xe2\x82\xac");
}

static void test_escape_bounded(void **state)
{
	char out[8];

	(void)state;
	guest_escape("\x01\x02\x03\x04\x05", 5, out, sizeof(out));
	assert_true(strlen(out) < sizeof(out));
	assert_string_equal(out, "\\x01");
	memset(out, 'z', sizeof(out));
	guest_escape("abc", 3, out, 0);	/* no room at all: nothing written, no crash */
	assert_memory_equal(out, "zzzzzzzz", sizeof(out));
}

static void test_json(void **state)
{
	struct json_object *o;

	(void)state;
	o = guest_json_bytes("\x1b[1m\xc3\xa9", 6);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "\"\\u001b[1m\xc3\xa9\"");
	json_object_put(o);
	/* Valid UTF-8 is exact in JSON, C1 and bidi characters included (one rule: README). */
	o = guest_json_bytes("\xc2\x9b\xe2\x80\xae", 5);
	assert_string_equal(json_object_get_string(o), "\xc2\x9b\xe2\x80\xae");
	json_object_put(o);
	o = guest_json_bytes("\xff" "x", 2);
	assert_string_equal(json_object_get_string(o), "\\xffx");
	json_object_put(o);
	o = guest_json_hex("\x00\xff\x1b" "A", 4);
	assert_string_equal(json_object_get_string(o), "00ff1b41");
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_bounded),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests_name("cmd-guest-text", tests, NULL, NULL);
}
