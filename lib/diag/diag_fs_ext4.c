// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * An ext4 file system's usage as statfs() gives it to df (fs/ext4/super.c ext4_statfs): blocks
 * are the superblock's count less the metadata overhead; free blocks the free clusters' per-CPU
 * counter less the delayed-allocation ones; available what is free beyond the reserved blocks
 * (s_r_blocks_count) and the reserved clusters. Its types are in vmlinux's BTF when ext4 is
 * built in, else in the ext4 module's own BTF (read from the guest once per report).
 */
#include <errno.h>
#include <string.h>

#include "btf/btf.h"
#include "core/context.h"
#include "diag/diag_int.h"
#include "module/modules.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "walk/percpu.h"

#define EXT4_FEATURE_INCOMPAT_64BIT 0x80u

struct ext4_off {
	int32_t s_es, free, dirty, cbits, overhead, resv, blocksize;
	int32_t blo, bhi, rlo, rhi, incompat;
};

static const struct nfm_field_spec ext4_specs[] = {
	NFM_FIELD(struct ext4_off, s_es, "ext4_sb_info", "s_es", 0),
	NFM_FIELD(struct ext4_off, free, "ext4_sb_info", "s_freeclusters_counter", 0),
	NFM_FIELD(struct ext4_off, dirty, "ext4_sb_info", "s_dirtyclusters_counter", 0),
	NFM_FIELD(struct ext4_off, cbits, "ext4_sb_info", "s_cluster_bits", 0),
	NFM_FIELD(struct ext4_off, overhead, "ext4_sb_info", "s_overhead", 0),
	NFM_FIELD(struct ext4_off, resv, "ext4_sb_info", "s_resv_clusters", 0),
	NFM_FIELD(struct ext4_off, blocksize, "super_block", "s_blocksize", 0),
	NFM_FIELD(struct ext4_off, blo, "ext4_super_block", "s_blocks_count_lo", 0),
	NFM_FIELD(struct ext4_off, bhi, "ext4_super_block", "s_blocks_count_hi", 0),
	NFM_FIELD(struct ext4_off, rlo, "ext4_super_block", "s_r_blocks_count_lo", 0),
	NFM_FIELD(struct ext4_off, rhi, "ext4_super_block", "s_r_blocks_count_hi", 0),
	NFM_FIELD(struct ext4_off, incompat, "ext4_super_block", "s_feature_incompat", 0),
};

/*
 * ext4 runs ext2 and ext3 too unless the kernel has their own drivers (CONFIG_EXT4_USE_FOR_EXT2),
 * and an ext2.ko may be loaded beside ext4: the superblock's s_op says which driver has it
 * (ext4_sops, in vmlinux or in the ext4 module's symbols). Without that symbol, the type's name
 * and whether vmlinux has ext2's own types decide.
 */
bool diag_is_ext4(struct diag *d, const char *fstype, uint64_t sop)
{
	uint32_t size;

	if (strcmp(fstype, "ext4") && strcmp(fstype, "ext3") && strcmp(fstype, "ext2"))
		return false;
	if (!d->ext4_sops_tried) {
		d->ext4_sops_tried = true;
		if (nfm_sym_lookup(d->ctx, "ext4_sops", &d->ext4_sops, NULL) < 0)
			d->ext4_sops = 0;
	}
	if (d->ext4_sops)
		return sop == d->ext4_sops;
	return strcmp(fstype, "ext2") || nfm_btf_type_size(d->ctx->btf, "ext2_sb_info", &size) < 0;
}

/* Where ext4's types are: vmlinux's BTF, or the loaded ext4 module's. NULL and *err if none. */
static const struct nfm_btf *ext4_types(struct diag *d, int *err)
{
	uint32_t size;

	if (nfm_btf_type_size(d->ctx->btf, "ext4_sb_info", &size) == 0)
		return d->ctx->btf;
	if (!d->ext4_btf_tried) {
		d->ext4_btf_tried = true;
		d->ext4_btf_err = nfm_module_btf(d->ctx, "ext4", &d->ext4_btf);
	}
	*err = d->ext4_btf_err < 0 ? d->ext4_btf_err : -ENOENT;
	return d->ext4_btf_err == 0 ? d->ext4_btf : NULL;
}

int diag_ext4_types(struct diag *d)
{
	int err = 0;

	return ext4_types(d, &err) ? 0 : err;
}

static int rd(struct nfm_ctx *ctx, uint64_t base, int32_t off, void *v, size_t n)
{
	return nfm_kread(ctx, base + (uint64_t)off, v, n);
}

int diag_ext4_usage(struct diag *d, uint64_t sb, uint64_t info, const uint64_t *offs, int ncpu,
		    struct diag_df *df)
{
	struct ext4_off o;
	uint64_t es, overhead, bsize;
	uint32_t lo, hi, rlo, rhi, incompat, cbits;
	int64_t free, dirty, resv;
	uint64_t total, clusters, rblocks, blocks, bfree, reserved;
	const struct nfm_btf *btf;
	int err;

	btf = ext4_types(d, &err);
	if (!btf || (err = nfm_resolve_fields_in(d->ctx, btf, ext4_specs,
						 sizeof(ext4_specs) / sizeof(ext4_specs[0]), &o)) < 0)
		return err;
	if (!info || !nfm_kptr_ok(d->ctx, info))
		return -EBADMSG;
	if ((err = rd(d->ctx, info, o.s_es, &es, 8)) < 0 ||
	    (err = rd(d->ctx, info, o.cbits, &cbits, 4)) < 0 ||
	    (err = rd(d->ctx, info, o.overhead, &overhead, 8)) < 0 ||
	    (err = rd(d->ctx, info, o.resv, &resv, 8)) < 0 ||
	    (err = rd(d->ctx, sb, o.blocksize, &bsize, 8)) < 0)
		return err;
	if (!nfm_kptr_ok(d->ctx, es))
		return -EBADMSG;
	if ((err = rd(d->ctx, es, o.blo, &lo, 4)) < 0 || (err = rd(d->ctx, es, o.bhi, &hi, 4)) < 0 ||
	    (err = rd(d->ctx, es, o.rlo, &rlo, 4)) < 0 || (err = rd(d->ctx, es, o.rhi, &rhi, 4)) < 0 ||
	    (err = rd(d->ctx, es, o.incompat, &incompat, 4)) < 0)
		return err;
	/* ext4's limits: blocks of 1 KiB to 64 KiB, clusters of up to 2^16 blocks */
	if (bsize < 1024 || bsize > 65536 || (bsize & (bsize - 1)) || cbits > 16)
		return -EBADMSG;
	if (!(incompat & EXT4_FEATURE_INCOMPAT_64BIT))
		hi = rhi = 0;
	if ((err = nfm_percpu_counter_sum(d->ctx, info + (uint64_t)o.free, offs, ncpu, &free)) < 0 ||
	    (err = nfm_percpu_counter_sum(d->ctx, info + (uint64_t)o.dirty, offs, ncpu, &dirty)) < 0)
		return err;
	/*
	 * percpu_counter_sum_positive() each, then EXT4_C2B(). Every count is the guest's: each
	 * is checked against the clusters there are before a shift or a sum, all in u64.
	 */
	total = (uint64_t)hi << 32 | lo;
	clusters = total >> cbits;
	rblocks = (uint64_t)rhi << 32 | rlo;
	if (free < 0)
		free = 0;
	if (dirty < 0)
		dirty = 0;
	if (overhead > clusters || (uint64_t)free > clusters || (uint64_t)dirty > clusters ||
	    resv < 0 || (uint64_t)resv > clusters || rblocks > total)
		return -EBADMSG;	/* more than the file system holds: torn or forged */
	blocks = total - (overhead << cbits);
	bfree = free > dirty ? (uint64_t)(free - dirty) << cbits : 0;
	reserved = rblocks + ((uint64_t)resv << cbits);
	if (bfree > blocks)
		return -EBADMSG;
	df->block_bytes = bsize;
	df->blocks = blocks;
	df->bfree = bfree;
	df->bavail = bfree > reserved ? bfree - reserved : 0;
	return 0;
}

struct ext4_state_off {
	int32_t mount_flags, ext4_flags, mount_state;
};

static const struct nfm_field_spec state_specs[] = {
	NFM_FIELD(struct ext4_state_off, mount_flags, "ext4_sb_info", "s_mount_flags",
		  NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct ext4_state_off, ext4_flags, "ext4_sb_info", "s_ext4_flags",
		  NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct ext4_state_off, mount_state, "ext4_sb_info", "s_mount_state", 0),
};

#define EXT4_ERROR_FS 0x0002u
/* EXT4_FLAGS_SHUTDOWN: bit 1 of s_ext4_flags since the flags began (4.11) */
#define EXT4_FLAGS_SHUTDOWN_BIT 1

/*
 * Bit `name` (an enum of the kernel's; `known` where the BTF lacks it, -1 for none) of the word
 * at base + off; false if either is unknown. ext4's flag enums are anonymous: a module's BTF
 * may not carry them (6.12's ext4.ko has no EXT4_FLAGS_*).
 */
static bool flag_bit(struct diag *d, const struct nfm_btf *btf, uint64_t base, int32_t off,
		     const char *name, int known, int *err)
{
	int64_t bit;
	uint64_t w;

	if (nfm_btf_enum_value(btf, name, &bit) < 0)
		bit = known;
	if (off < 0 || bit < 0 || bit > 63)
		return false;
	if ((*err = rd(d->ctx, base, off, &w, 8)) < 0)
		return false;
	return w >> bit & 1;
}

int diag_ext4_state(struct diag *d, uint64_t info, struct diag_ext4_state *st)
{
	struct ext4_state_off o;
	const struct nfm_btf *btf;
	uint16_t state;
	int64_t bit;
	int err = 0;

	memset(st, 0, sizeof(*st));
	btf = ext4_types(d, &err);
	if (!btf || (err = nfm_resolve_fields_in(d->ctx, btf, state_specs,
						 sizeof(state_specs) / sizeof(state_specs[0]), &o)) < 0)
		return err;
	if (!info || !nfm_kptr_ok(d->ctx, info))
		return -EBADMSG;
	if ((err = rd(d->ctx, info, o.mount_state, &state, 2)) < 0)
		return err;
	st->error_fs = state & EXT4_ERROR_FS;
	/*
	 * Where an error leaves ext4 without SB_RDONLY: the aborted mount flag (before 6.6; 6.1.y's
	 * backport of "don't set SB_RDONLY after filesystem errors"), a shutdown (an abort since
	 * 6.6, or EXT4_IOC_SHUTDOWN), the emergency read-only flag later. The abort flag's bit
	 * comes from the BTF only; its enum there without it means a kernel that no longer has it.
	 * Neither: its state cannot be told, said rather than taken as clear.
	 */
	if (nfm_btf_enum_value(btf, "EXT4_MF_FS_ABORTED", &bit) < 0 &&
	    nfm_btf_enum_value(btf, "EXT4_MF_MNTDIR_SAMPLED", &bit) < 0)
		return -ENOENT;
	st->aborted = flag_bit(d, btf, info, o.mount_flags, "EXT4_MF_FS_ABORTED", -1, &err);
	/* bit 3 was never used before EXT4_FLAGS_EMERGENCY_RO took it: safe to read as such */
	if (err == 0)
		st->emergency_ro = flag_bit(d, btf, info, o.ext4_flags, "EXT4_FLAGS_EMERGENCY_RO", 3,
					   &err);
	if (err == 0)
		st->shutdown = flag_bit(d, btf, info, o.ext4_flags, "EXT4_FLAGS_SHUTDOWN",
				       EXT4_FLAGS_SHUTDOWN_BIT, &err);
	return err;
}

