// SPDX-License-Identifier: GPL-2.0-or-later
/* The x86-64 length decoder, owner resolution and the text scan of lib/check, on bytes alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "check/hookset.h"
#include "check/x86dec.h"

static void test_lengths(void **state)
{
	static const struct { const char *b; int len; uint8_t kind; } t[] = {
		{ "\x0f\x1f\x44\x00\x00", 5, X86_OTHER },		/* fentry nop */
		{ "\xf3\x0f\x1e\xfa", 4, X86_OTHER },			/* endbr64 */
		{ "\x48\xb8\x01\x02\x03\x04\x05\x06\x07\x08", 10, X86_OTHER },	/* movabs */
		{ "\x66\x0f\x1f\x84\x00\x00\x00\x00\x00", 9, X86_OTHER },
		{ "\x48\x8b\x05\x00\x00\x00\x00", 7, X86_OTHER },	/* RIP-relative */
		{ "\xf6\x47\x10\x01", 4, X86_OTHER },			/* test imm8 */
		{ "\xc5\xf8\x77", 3, X86_OTHER },			/* vzeroupper */
		{ "\x0f\x01\xf8", 3, X86_OTHER },			/* swapgs */
		{ "\x48\x0f\x07", 3, X86_OTHER },			/* sysretq */
		{ "\xff\xd0", 2, X86_INDIRECT },
		{ "\xc3", 1, X86_RET },
		{ "\xcc", 1, X86_INT3 },
		{ "\x0f\x0b", 2, X86_UD },
	};
	struct x86_insn in;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(x86_decode((const uint8_t *)t[i].b, 15, 0x1000, &in), 0);
		assert_int_equal(in.len, t[i].len);
		assert_int_equal(in.kind, t[i].kind);
	}
	/* Truncated and invalid. */
	assert_int_equal(x86_decode((const uint8_t *)"\xe8\x00", 2, 0, &in), -ENODATA);
	assert_int_equal(x86_decode((const uint8_t *)"\x06", 1, 0, &in), -EBADMSG);
	assert_int_equal(x86_decode((const uint8_t *)"\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66"
				    "\x66\x66\x66\x66\x66\x90", 16, 0, &in), -EBADMSG);
}

static void test_targets(void **state)
{
	struct x86_insn in;

	(void)state;
	assert_int_equal(x86_decode((const uint8_t *)"\xe8\xfb\xff\xff\xff", 5, 0x1000, &in), 0);
	assert_true(in.has_target && in.kind == X86_CALL && in.target == 0x1000);
	assert_int_equal(x86_decode((const uint8_t *)"\xeb\x10", 2, 0x1000, &in), 0);
	assert_true(in.kind == X86_JMP && in.target == 0x1012);
	assert_int_equal(x86_decode((const uint8_t *)"\x0f\x84\x00\x01\x00\x00", 6, 0x1000, &in), 0);
	assert_true(in.kind == X86_JCC && in.target == 0x1106);
}

static const struct owner_range mods[] = { { 0xffffffffc0000000ull, 0xffffffffc0010000ull, "m" } };
static const struct owner_map om = {
	.text_lo = 0xffffffff81000000ull, .text_hi = 0xffffffff82000000ull,
	.image_lo = 0xffffffff81000000ull, .image_hi = 0xffffffff83000000ull,
	.r = (struct owner_range *)mods, .n = 1,
};

static void test_owner(void **state)
{
	const char *m;

	(void)state;
	assert_int_equal(owner_of(&om, 0xffffffff81000010ull, &m), NFM_OWNER_KERNEL);
	assert_int_equal(owner_of(&om, 0xffffffffc0000010ull, &m), NFM_OWNER_MODULE);
	assert_string_equal(m, "m");
	assert_int_equal(owner_of(&om, 0xffffffff82800000ull, &m), NFM_OWNER_KERNEL_DATA);
	assert_int_equal(owner_of(&om, 0xffffffffc0010000ull, &m), NFM_OWNER_NONE);
	assert_null(m);
}

static struct text_finding got[8];
static int ngot;

static void found(void *arg, const struct text_finding *f)
{
	(void)arg;
	if (ngot < 8)
		got[ngot++] = *f;
}

/* A function at start whose fentry call goes to target (rel32 from start + 5). */
static void fentry_call(uint8_t *code, uint64_t start, uint64_t target)
{
	int32_t rel = (int32_t)(target - (start + 5));

	code[0] = 0xe8;
	memcpy(code + 1, &rel, 4);
}

static void test_scan(void **state)
{
	const uint64_t start = 0xffffffff81100000ull;
	uint64_t tramp[1][2] = { { 0xffffffffc0100000ull, 0xffffffffc0100100ull } };
	uint64_t probe = start;
	struct hook_known none = { 0 }, k = { .tramp = tramp, .ntramp = 1 };
	uint8_t code[16] = { 0 };

	(void)state;
	/* A clean function: nop5, ret. */
	memcpy(code, "\x0f\x1f\x44\x00\x00\xc3", 6);
	ngot = 0;
	assert_int_equal(text_scan(&om, &none, code, 6, start, found, NULL, NULL), 0);
	assert_int_equal(ngot, 0);
	/* An inline call into a module. */
	fentry_call(code, start, 0xffffffffc0000040ull);
	assert_int_equal(text_scan(&om, &none, code, 6, start, found, NULL, NULL), 0);
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].owner, NFM_OWNER_MODULE);
	assert_true(got[0].site == start && got[0].target == 0xffffffffc0000040ull);
	/* The fentry call into an ftrace trampoline is ftrace's, not a finding. */
	ngot = 0;
	fentry_call(code, start, 0xffffffffc0100010ull);
	assert_int_equal(text_scan(&om, &k, code, 6, start, found, NULL, NULL), 0);
	assert_int_equal(ngot, 0);
	/* int3 at the start: a finding unless a kprobe is there. */
	memcpy(code, "\xcc\x1f\x44\x00\x00\xc3", 6);
	assert_int_equal(text_scan(&om, &none, code, 1, start, found, NULL, NULL), 0);
	assert_int_equal(ngot, 1);
	k.probes = &probe;
	k.nprobes = 1;
	assert_int_equal(text_scan(&om, &k, code, 1, start, found, NULL, NULL), 0);
	assert_int_equal(ngot, 1);
	/* Bytes the decoder refuses: -EBADMSG, what came before scanned. */
	memcpy(code, "\x90\x06", 2);
	assert_int_equal(text_scan(&om, &none, code, 2, start, found, NULL, NULL), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_owner),
		cmocka_unit_test(test_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
