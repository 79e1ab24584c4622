// SPDX-License-Identifier: GPL-2.0-or-later
/* The kernel log from the printk ring buffer `prb` (kernel/printk/printk_ringbuffer.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "core/context.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "util/pack.h"
#include "log/printk.h"

/* state_var: the top two bits are the state, the rest the descriptor id. */
#define DESC_FLAGS_SHIFT 62
#define DESC_ID_MASK (~(3ull << DESC_FLAGS_SHIFT))
#define DESC_FINALIZED 2
#define ID_SIZE 8	/* sizeof(unsigned long): the block id before every text */

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static int layout_ok(const struct nfm_prb_layout *l)
{
	return l->desc_size >= 8 && l->info_size >= 8 && l->desc_size <= 4096 && l->info_size <= 4096 &&
	       l->sv >= 0 && l->sv + 8 <= l->desc_size && l->begin >= 0 && l->begin + 8 <= l->desc_size &&
	       l->next >= 0 && l->next + 8 <= l->desc_size && l->seq >= 0 && l->seq + 8 <= l->info_size &&
	       l->ts_nsec >= 0 && l->ts_nsec + 8 <= l->info_size && l->text_len >= 0 &&
	       l->text_len + 2 <= l->info_size && l->facility >= 0 && l->facility < l->info_size &&
	       l->caller_id >= 0 && l->caller_id + 4 <= l->info_size && l->level_byte >= 0 &&
	       l->level_byte < l->info_size && l->level_shift >= 0 && l->level_shift <= 5;
}

/* Where a block's text lies in data (get_data()): 0 with the offset and length, or -1 for no usable text. */
static int block_text(const struct nfm_prb_snapshot *s, uint64_t begin, uint64_t next,
		      size_t *off, size_t *len)
{
	uint64_t size = 1ull << s->size_bits, size_now;

	if ((begin & 1) && (next & 1)) {
		/* Data-less: an empty line (both NO_LPOS, 0x3) or a failed reservation (0x1). */
		*off = 0;
		*len = 0;
		return begin == 3 && next == 3 ? 0 : -1;
	}
	if (begin >> s->size_bits == next >> s->size_bits && begin < next) {
		*off = (size_t)(begin & (size - 1));
		size_now = next - begin;
	} else if ((begin + size) >> s->size_bits == next >> s->size_bits) {
		/* Wrapped: the block was written from the start of the buffer. */
		*off = 0;
		size_now = next & (size - 1);
	} else {
		return -1;
	}
	if ((begin | next) & (ID_SIZE - 1) || size_now < ID_SIZE || size_now > size ||
	    *off + size_now > size)
		return -1;
	*off += ID_SIZE;
	*len = (size_t)(size_now - ID_SIZE);
	return 0;
}

int nfm_prb_decode(const struct nfm_prb_layout *l, const struct nfm_prb_snapshot *s,
		   struct nfm_pack *out)
{
	uint64_t count, id, i;
	int added = 0;

	if (!layout_ok(l) || s->count_bits > NFM_PRB_MAX_COUNT_BITS ||
	    s->size_bits > NFM_PRB_MAX_SIZE_BITS || s->size_bits < 4)
		return -EINVAL;
	count = 1ull << s->count_bits;
	id = s->tail_id & DESC_ID_MASK;
	for (i = 0; i < count; i++, id = (id + 1) & DESC_ID_MASK) {
		size_t idx = (size_t)(id & (count - 1)), off, len;
		const uint8_t *d = s->descs + idx * (size_t)l->desc_size;
		const uint8_t *inf = s->infos + idx * (size_t)l->info_size;
		uint64_t sv = rd64(d + l->sv);
		struct nfm_log_record *r;
		uint16_t tlen;

		if ((sv & DESC_ID_MASK) == id && sv >> DESC_FLAGS_SHIFT == DESC_FINALIZED &&
		    block_text(s, rd64(d + l->begin), rd64(d + l->next), &off, &len) == 0) {
			memcpy(&tlen, inf + l->text_len, 2);
			/* A text longer than its block is cut, as copy_data() does. */
			if (tlen < len)
				len = tlen;
			r = nfm_pack_add(out);
			if (!r)
				return -ENOMEM;
			r->seq = rd64(inf + l->seq);
			r->ts_nsec = rd64(inf + l->ts_nsec);
			r->facility = inf[l->facility];
			r->level = (inf[l->level_byte] >> l->level_shift) & 7;
			memcpy(&r->caller_id, inf + l->caller_id, 4);
			r->text = nfm_pack_str(out, s->data + off, len);
			r->text_len = len;
			if (!r->text)
				return -ENOMEM;
			added++;
		}
		if (id == (s->head_id & DESC_ID_MASK))
			break;
	}
	return added;
}

int nfm_prb_check(const struct nfm_prb_layout *l, const struct nfm_prb_snapshot *s)
{
	uint64_t count, head = s->head_id & DESC_ID_MASK, tail = s->tail_id & DESC_ID_MASK, sv;

	if (!layout_ok(l) || s->count_bits > NFM_PRB_MAX_COUNT_BITS)
		return -EINVAL;
	count = 1ull << s->count_bits;
	/* the head is at most count - 1 descriptors ahead of the tail (desc_reserve()) */
	if (((head - tail) & DESC_ID_MASK) >= count)
		return -EBADMSG;
	/* the descriptors at head and tail carry those ids in their state_var */
	sv = rd64(s->descs + (size_t)(head & (count - 1)) * (size_t)l->desc_size + l->sv);
	if ((sv & DESC_ID_MASK) != head)
		return -EBADMSG;
	sv = rd64(s->descs + (size_t)(tail & (count - 1)) * (size_t)l->desc_size + l->sv);
	if ((sv & DESC_ID_MASK) != tail)
		return -EBADMSG;
	return 0;
}

int nfm_prb_check_seqs(const struct nfm_log_record *r, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (r[i].seq <= r[i - 1].seq)
			return -EBADMSG;
	return 0;
}

struct log_off {
	int32_t desc_ring, text_data_ring, count_bits, descs, infos, head_id, tail_id;
	int32_t size_bits, data;
	struct nfm_prb_layout l;
};

#define LF(m, t, p) NFM_FIELD(struct log_off, m, t, p, 0)
static const struct nfm_field_spec log_specs[] = {
	LF(desc_ring, "printk_ringbuffer", "desc_ring"),
	LF(text_data_ring, "printk_ringbuffer", "text_data_ring"),
	LF(count_bits, "prb_desc_ring", "count_bits"),
	LF(descs, "prb_desc_ring", "descs"),
	LF(infos, "prb_desc_ring", "infos"),
	LF(head_id, "prb_desc_ring", "head_id"),
	LF(tail_id, "prb_desc_ring", "tail_id"),
	LF(size_bits, "prb_data_ring", "size_bits"),
	LF(data, "prb_data_ring", "data"),
	NFM_FIELD(struct log_off, l.desc_size, "prb_desc", "", NFM_FIELD_SIZE),
	LF(l.sv, "prb_desc", "state_var"),
	LF(l.begin, "prb_desc", "text_blk_lpos.begin"),
	LF(l.next, "prb_desc", "text_blk_lpos.next"),
	NFM_FIELD(struct log_off, l.info_size, "printk_info", "", NFM_FIELD_SIZE),
	LF(l.seq, "printk_info", "seq"),
	LF(l.ts_nsec, "printk_info", "ts_nsec"),
	LF(l.text_len, "printk_info", "text_len"),
	LF(l.facility, "printk_info", "facility"),
	LF(l.caller_id, "printk_info", "caller_id"),
};
#undef LF

static int make_log_off(struct nfm_ctx *ctx, void *block)
{
	struct log_off *o = block;
	struct nfm_field lv;
	int err = nfm_resolve_fields(ctx, log_specs, sizeof(log_specs) / sizeof(log_specs[0]), o);

	if (err == 0) {
		err = nfm_btf_field(ctx->btf, "printk_info", "level", &lv);
		if (err < 0)
			nfm_err(&ctx->log, "this kernel has no printk_info.level in its BTF");
		o->l.level_byte = (int32_t)lv.offset;
		o->l.level_shift = lv.bit_offset;
	}
	return err;
}

static int log_offsets(struct nfm_ctx *ctx, const struct log_off **ret)
{
	int err;

	*ret = nfm_kernel_layout(ctx, NFM_SLOT_LOG, sizeof(struct log_off), make_log_off, &err);
	return err;
}

static int read_array(struct nfm_ctx *ctx, uint64_t va, size_t size, uint8_t **ret)
{
	uint8_t *b;
	int err;

	if (!nfm_kptr_ok(ctx, va))
		return -EBADMSG;
	b = malloc(size);
	if (!b)
		return -ENOMEM;
	err = nfm_kread(ctx, va, b, size);
	if (err < 0) {
		free(b);
		return err;
	}
	*ret = b;
	return 0;
}

int nfm_log_records(struct nfm_ctx *ctx, struct nfm_log_record **ret, bool *truncated)
{
	static const size_t fields[] = { offsetof(struct nfm_log_record, text) };
	const struct log_off *o;
	struct nfm_prb_snapshot s = { 0 };
	uint8_t *descs = NULL, *infos = NULL, *data = NULL;
	uint64_t prbp, prb, dr, tr;
	struct nfm_pack pk;
	uint32_t cb, sb;
	bool bad = false;
	int err;

	err = log_offsets(ctx, &o);
	if (err < 0)
		return err;
	/* prb is a pointer to the ring in use (printk_rb_static, or the one setup_log_buf made). */
	err = nfm_ksym(ctx, "prb", &prbp);
	if (err == 0)
		err = nfm_kread_u64(ctx, prbp, &prb);
	if (err < 0)
		return err;
	if (!nfm_kptr_ok(ctx, prb))
		return -EBADMSG;
	dr = prb + (uint64_t)o->desc_ring;
	tr = prb + (uint64_t)o->text_data_ring;
	if ((err = nfm_kread_u32(ctx, dr + (uint64_t)o->count_bits, &cb)) < 0 ||
	    (err = nfm_kread_u32(ctx, tr + (uint64_t)o->size_bits, &sb)) < 0 ||
	    (err = nfm_kread_u64(ctx, dr + (uint64_t)o->head_id, &s.head_id)) < 0 ||
	    (err = nfm_kread_u64(ctx, dr + (uint64_t)o->tail_id, &s.tail_id)) < 0)
		return err;
	if (cb > NFM_PRB_MAX_COUNT_BITS || sb > NFM_PRB_MAX_SIZE_BITS || sb < 4)
		return -EBADMSG;
	s.count_bits = cb;
	s.size_bits = sb;
	{
		uint64_t pd, pi, pt;

		if ((err = nfm_kread_u64(ctx, dr + (uint64_t)o->descs, &pd)) < 0 ||
		    (err = nfm_kread_u64(ctx, dr + (uint64_t)o->infos, &pi)) < 0 ||
		    (err = nfm_kread_u64(ctx, tr + (uint64_t)o->data, &pt)) < 0)
			return err;
		err = read_array(ctx, pd, ((size_t)1 << cb) * (size_t)o->l.desc_size, &descs);
		if (err == 0)
			err = read_array(ctx, pi, ((size_t)1 << cb) * (size_t)o->l.info_size, &infos);
		if (err == 0)
			err = read_array(ctx, pt, (size_t)1 << sb, &data);
	}
	if (err == 0) {
		s.descs = descs;
		s.infos = infos;
		s.data = data;
		/* the ring's own ids and sequence numbers against the records read */
		bad = nfm_prb_check(&o->l, &s) < 0;
		if (bad)
			nfm_dbg(&ctx->log, "printk ring: head_id %#llx, tail_id %#llx do not fit the ring",
				(unsigned long long)s.head_id, (unsigned long long)s.tail_id);
		nfm_pack_init(&pk, sizeof(struct nfm_log_record));
		err = nfm_prb_decode(&o->l, &s, &pk);
		if (err >= 0)
			err = nfm_pack_finish(&pk, fields, 1, (void **)ret);
		else
			nfm_pack_free(&pk);
		if (err > 0 && nfm_prb_check_seqs(*ret, (size_t)err) < 0)
			bad = true;
	}
	free(descs);
	free(infos);
	free(data);
	if (err >= 0 && truncated)
		*truncated = bad;
	return err;
}
