// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The printk ring (kernel/printk/printk_ringbuffer.c) as nfm_log_records reads it: the input is
 * a header (count_bits, size_bits, head_id, tail_id), then the descriptors, the infos and the
 * text ring, with 6.1's layout; the ring's self-check, the decoder and the sequence check.
 */
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "log/printk.h"
#include "util/pack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct nfm_prb_layout l = {
		.desc_size = 24, .sv = 0, .begin = 8, .next = 16,
		.info_size = 88, .seq = 0, .ts_nsec = 8, .text_len = 16, .facility = 18,
		.caller_id = 20, .level_byte = 19, .level_shift = 5,
	};
	struct nfm_prb_snapshot s = { 0 };
	struct nfm_log_record *r = NULL;
	struct nfm_pack pk;
	size_t nd, need;
	int n;

	if (size < 18)
		return 0;
	s.count_bits = data[0] % 9;	/* up to 256 descriptors */
	s.size_bits = 4 + data[1] % 9;	/* up to 4 KiB of text */
	memcpy(&s.head_id, data + 2, 8);
	memcpy(&s.tail_id, data + 10, 8);
	nd = (size_t)1 << s.count_bits;
	need = 18 + nd * (24 + 88) + ((size_t)1 << s.size_bits);
	if (size < need)
		return 0;
	s.descs = data + 18;
	s.infos = s.descs + nd * 24;
	s.data = s.infos + nd * 88;
	nfm_prb_check(&l, &s);
	nfm_pack_init(&pk, sizeof(struct nfm_log_record));
	n = nfm_prb_decode(&l, &s, &pk);
	if (n >= 0 && nfm_pack_finish(&pk, NULL, 0, (void **)&r) >= 0) {
		nfm_prb_check_seqs(r, (size_t)n);
		free(r);
	} else if (n < 0) {
		nfm_pack_free(&pk);
	}
	return 0;
}
