// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * File systems, from each mount's superblock: a disk file system read-only (SB_RDONLY) under a
 * mount that was not mounted read-only (MNT_READONLY clear) is what errors=remount-ro and the
 * like leave; a tmpfs nearly full by its own counters (shmem_sb_info: used_blocks, a per-CPU
 * counter, against max_blocks).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/diag.h>
#include <nfm/system.h>

#include "core/context.h"
#include "diag/diag_int.h"
#include "walk/fields.h"
#include "walk/percpu.h"

#define SB_RDONLY_ 1ull
#define MNT_READONLY_ 0x40u
#define FULL_PERCENT 95

/* Writable disk file systems: read-only without being asked is a sign of errors. */
static const char *const disk_fs[] = { "ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs", "vfat",
				       "exfat", "ntfs3", "jfs", "reiserfs", "nilfs2" };

struct fs_off {
	int32_t mnt_sb, mnt_flags, s_flags, s_fs_info, max_blocks, used_blocks, pc_count,
		pc_counters;
};

static const struct nfm_field_spec fs_specs[] = {
	NFM_FIELD(struct fs_off, mnt_sb, "mount", "mnt.mnt_sb", 0),
	NFM_FIELD(struct fs_off, mnt_flags, "mount", "mnt.mnt_flags", 0),
	NFM_FIELD(struct fs_off, s_flags, "super_block", "s_flags", 0),
	NFM_FIELD(struct fs_off, s_fs_info, "super_block", "s_fs_info", 0),
	NFM_FIELD(struct fs_off, max_blocks, "shmem_sb_info", "max_blocks", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct fs_off, used_blocks, "shmem_sb_info", "used_blocks", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct fs_off, pc_count, "percpu_counter", "count", 0),
	NFM_FIELD(struct fs_off, pc_counters, "percpu_counter", "counters", 0),
};

static bool is_disk_fs(const char *t)
{
	for (size_t i = 0; i < sizeof(disk_fs) / sizeof(disk_fs[0]); i++)
		if (!strcmp(t, disk_fs[i]))
			return true;
	return false;
}

/* percpu_counter_sum(): count plus every online CPU's s32 delta. */
static int pc_sum(struct diag *d, const struct fs_off *o, uint64_t pc, const uint64_t *offs,
		  int ncpu, int64_t *ret)
{
	int64_t count;
	uint64_t counters;
	int err;

	if ((err = nfm_kread(d->ctx, pc + o->pc_count, &count, 8)) < 0 ||
	    (err = nfm_kread(d->ctx, pc + o->pc_counters, &counters, 8)) < 0)
		return err;
	for (int c = 0; c < ncpu && counters; c++) {
		int32_t v;

		if (nfm_kread(d->ctx, counters + offs[c], &v, 4) == 0)
			count += v;
	}
	*ret = count;
	return 0;
}

void diag_check_filesystems(struct diag *d)
{
	struct nfm_mount *m;
	struct fs_off o;
	uint64_t *offs;
	bool trunc = false;
	int n, ncpu, err;
	uint64_t seen_sb[64];
	int nr_seen = 0;

	diag_check(d, "filesystems", 0, NULL);
	if ((err = nfm_resolve_fields(d->ctx, fs_specs, sizeof(fs_specs) / sizeof(fs_specs[0]),
				      &o)) < 0) {
		diag_check(d, "filesystems", err, "mount and super_block members");
		return;
	}
	if ((n = nfm_mount_list(d->ctx, &m, &trunc)) < 0) {
		diag_check(d, "filesystems", n, "the mounts");
		return;
	}
	if (trunc)
		diag_check(d, "filesystems", -ELOOP, "the mounts (cut short)");
	offs = calloc(DIAG_MAX_CPUS, sizeof(*offs));
	ncpu = offs ? nfm_percpu_offsets(d->ctx, 1, offs, DIAG_MAX_CPUS) : -ENOMEM;
	for (int i = 0; i < n; i++) {
		struct nfm_diag_finding *f;
		uint64_t sb = 0, sflags = 0, info = 0;
		uint32_t mflags = 0;
		bool dup = false;

		if (nfm_kread(d->ctx, m[i].mount + o.mnt_sb, &sb, 8) < 0 ||
		    nfm_kread(d->ctx, m[i].mount + o.mnt_flags, &mflags, 4) < 0 ||
		    nfm_kread(d->ctx, sb + o.s_flags, &sflags, 8) < 0 ||
		    nfm_kread(d->ctx, sb + o.s_fs_info, &info, 8) < 0) {
			diag_check(d, "filesystems", -EFAULT, "a superblock");
			continue;
		}
		for (int k = 0; k < nr_seen; k++)
			dup |= seen_sb[k] == sb;
		if (dup)
			continue;	/* a bind mount of one already judged */
		if (nr_seen < 64)
			seen_sb[nr_seen++] = sb;
		if (is_disk_fs(m[i].fstype) && sflags & SB_RDONLY_ && !(mflags & MNT_READONLY_)) {
			f = diag_add(d, NFM_DIAG_FS_READONLY, NFM_DIAG_ERROR,
				     "%s (%s on %s) is read-only though mounted read-write: "
				     "remounted read-only after errors?", m[i].path, m[i].fstype,
				     m[i].device);
			diag_subject(d, f, m[i].path);
			diag_evidence(d, f, "super_block s_flags 0x%llx (SB_RDONLY), mount flags "
				      "0x%x (no MNT_READONLY)", (unsigned long long)sflags, mflags);
			diag_evidence(d, f, "%s %s %s %s", m[i].device, m[i].path, m[i].fstype,
				      m[i].options);
		}
		if (!strcmp(m[i].fstype, "tmpfs") && o.max_blocks >= 0 && o.used_blocks >= 0 &&
		    info && ncpu > 0) {
			uint64_t max = 0;
			int64_t used = 0;

			if (nfm_kread(d->ctx, info + o.max_blocks, &max, 8) < 0 || !max ||
			    pc_sum(d, &o, info + o.used_blocks, offs, ncpu, &used) < 0 || used < 0 ||
			    (uint64_t)used * 100 < max * FULL_PERCENT)
				continue;
			f = diag_add(d, NFM_DIAG_FS_FULL, NFM_DIAG_WARNING,
				     "%s (tmpfs) is %llu%% full", m[i].path,
				     (unsigned long long)((uint64_t)used * 100 / max));
			diag_subject(d, f, m[i].path);
			diag_evidence(d, f, "shmem_sb_info used_blocks %lld of max_blocks %llu pages",
				      (long long)used, (unsigned long long)max);
			diag_evidence(d, f, "%s %s %s %s", m[i].device, m[i].path, m[i].fstype,
				      m[i].options);
		}
	}
	free(offs);
	free(m);
}
