// SPDX-License-Identifier: GPL-2.0-or-later
/* The printk ring buffer decoder on synthetic rings: good records, wraps, hostile lpos. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <nfm/system.h>

#include "util/pack.h"
#include "log/printk.h"

/* 6.1/6.12 x86-64 layout */
static const struct nfm_prb_layout L = {
	.desc_size = 24, .sv = 0, .begin = 8, .next = 16,
	.info_size = 88, .seq = 0, .ts_nsec = 8, .text_len = 16, .facility = 18, .caller_id = 20,
	.level_byte = 19, .level_shift = 5,
};

#define CB 2
#define SB 6
static uint8_t descs[(1 << CB) * 24], infos[(1 << CB) * 88], data[1 << SB];

static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void desc(uint64_t id, int state, uint64_t begin, uint64_t next, uint64_t seq, uint16_t len,
		 int level)
{
	size_t i = id & ((1 << CB) - 1);

	put64(descs + i * 24, id | (uint64_t)state << 62);
	put64(descs + i * 24 + 8, begin);
	put64(descs + i * 24 + 16, next);
	put64(infos + i * 88, seq);
	put64(infos + i * 88 + 8, seq * 1000);
	memcpy(infos + i * 88 + 16, &len, 2);
	infos[i * 88 + 18] = 0;
	infos[i * 88 + 19] = (uint8_t)(level << 5);
}

static int decode(uint64_t tail, uint64_t head, struct nfm_log_record **recs)
{
	struct nfm_prb_snapshot s = { CB, SB, descs, infos, data, head, tail };
	struct nfm_pack pk;
	int n;

	nfm_pack_init(&pk, sizeof(struct nfm_log_record));
	n = nfm_prb_decode(&L, &s, &pk);
	if (n < 0) {
		nfm_pack_free(&pk);
		return n;
	}
	return nfm_pack_finish(&pk, (size_t[]){ offsetof(struct nfm_log_record, text) }, 1,
			       (void **)recs);
}

static void setup_ring(void)
{
	memset(descs, 0, sizeof(descs));
	memset(infos, 0, sizeof(infos));
	memset(data, 0, sizeof(data));
	/* id 5: "hello" at lpos 64+0 (second wrap), block of 8 id + 8 text */
	put64(data + 0, 5);
	memcpy(data + 8, "hello", 5);
	desc(5, 2, 64, 80, 10, 5, 6);
	/* id 6: empty line, data-less */
	desc(6, 2, 3, 3, 11, 0, 4);
	/* id 7: wraps: begins at 64+48, next at 128+24: text from the buffer start */
	put64(data + 48, 7);
	desc(7, 2, 112, 128 + 40, 12, 3, 3);
}

static void test_good_ring(void **state)
{
	struct nfm_log_record *r;
	int n;

	(void)state;
	setup_ring();
	/* id 8 (head) is committed but not finalized: not readable yet */
	desc(8, 1, 80, 96, 13, 3, 6);
	n = decode(5, 8, &r);
	assert_int_equal(n, 3);
	assert_int_equal(r[0].seq, 10);
	assert_string_equal(r[0].text, "hello");
	assert_int_equal(r[0].level, 6);
	assert_int_equal(r[0].ts_nsec, 10000);
	assert_int_equal(r[1].text_len, 0);
	assert_string_equal(r[1].text, "");
	assert_int_equal(r[1].level, 4);
	/* the wrapped block: its text starts at data[8] (after the id at the buffer start) */
	assert_int_equal(r[2].seq, 12);
	assert_string_equal(r[2].text, "hel");
	free(r);
}

static void test_skips_bad_descriptors(void **state)
{
	struct nfm_log_record *r;
	int n;

	(void)state;
	setup_ring();
	/* reusable state, wrong id, misaligned lpos, lpos past a wrap, a failed reservation */
	desc(5, 3, 64, 80, 10, 5, 6);
	desc(6, 2, 1, 1, 11, 0, 4);
	desc(7, 2, 113, 168, 12, 3, 3);
	desc(8 + 4, 2, 64, 80, 13, 5, 6);	/* slot 0 holds id 12, not 8 */
	n = decode(5, 8, &r);
	assert_int_equal(n, 0);
	free(r);
	/* a block of 1 KiB in a 64-byte ring, and text_len past its block (clamped) */
	setup_ring();
	desc(5, 2, 64, 64 + 1024, 10, 5, 6);
	desc(6, 2, 64, 80, 11, 60000, 6);
	n = decode(5, 6, &r);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].text_len, 8);
	free(r);
}

static void test_bad_layout(void **state)
{
	struct nfm_prb_layout l = L;
	struct nfm_prb_snapshot s = { CB, SB, descs, infos, data, 0, 0 };
	struct nfm_pack pk;

	(void)state;
	nfm_pack_init(&pk, sizeof(struct nfm_log_record));
	l.text_len = 87;
	assert_int_equal(nfm_prb_decode(&l, &s, &pk), -EINVAL);
	s.count_bits = 40;
	assert_int_equal(nfm_prb_decode(&L, &s, &pk), -EINVAL);
	nfm_pack_free(&pk);
}

static void test_bounded_walk(void **state)
{
	struct nfm_log_record *r;
	int n;

	(void)state;
	setup_ring();
	/* head never reached (head id outside the ring): at most 1 << CB descriptors looked at */
	n = decode(5, 1000, &r);
	/* the three finalized records the ring holds, in order, and no more */
	assert_int_equal(n, 3);
	assert_int_equal(r[0].seq, 10);
	assert_int_equal(r[1].seq, 11);
	assert_int_equal(r[2].seq, 12);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_ring),
		cmocka_unit_test(test_skips_bad_descriptors),
		cmocka_unit_test(test_bad_layout),
		cmocka_unit_test(test_bounded_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
