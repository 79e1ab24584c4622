/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The lockless printk ring buffer (kernel/printk/printk_ringbuffer.c, 5.10+), decoded from copies
 * of its three arrays. The decoder is a pure function of those bytes so that unit tests and the
 * fuzz target can feed it anything.
 */
#ifndef NFM_LIB_LOG_PRINTK_H
#define NFM_LIB_LOG_PRINTK_H

#include <stddef.h>
#include <stdint.h>

struct nfm_pack;

/* Bounds against a hostile guest: 2^22 descriptors, 2^28 bytes of text (the kernel's max is 2^25). */
#define NFM_PRB_MAX_COUNT_BITS 22
#define NFM_PRB_MAX_SIZE_BITS 28

struct nfm_prb_layout {
	int32_t desc_size, sv, begin, next;			/* prb_desc, text_blk_lpos.begin/next */
	int32_t info_size, seq, ts_nsec, text_len, facility, caller_id;	/* printk_info */
	int32_t level_byte, level_shift;			/* printk_info.level:3 */
};

struct nfm_prb_snapshot {
	unsigned int count_bits, size_bits;
	const uint8_t *descs;	/* (1 << count_bits) * desc_size bytes */
	const uint8_t *infos;	/* (1 << count_bits) * info_size bytes */
	const uint8_t *data;	/* 1 << size_bits bytes */
	uint64_t head_id, tail_id;
};

/*
 * Append a struct nfm_log_record for every finalized record from tail to head to out (texts are
 * packed strings). Returns the number added, -EINVAL for a layout or snapshot out of bounds,
 * -ENOMEM.
 */
int nfm_prb_decode(const struct nfm_prb_layout *l, const struct nfm_prb_snapshot *s,
		   struct nfm_pack *out);

/*
 * Does the ring agree with itself? 0, or -EBADMSG when head_id and tail_id are further apart than
 * the ring holds, or the descriptors at head and tail do not carry those ids (a wild or torn
 * head/tail): the records decoded are then not the log. -EINVAL for a bad layout.
 */
int nfm_prb_check(const struct nfm_prb_layout *l, const struct nfm_prb_snapshot *s);

struct nfm_log_record;
/* Sequence numbers of decoded records strictly increase: 0, or -EBADMSG. */
int nfm_prb_check_seqs(const struct nfm_log_record *r, size_t n);

#endif
