// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * File systems, from each mount's superblock: a disk file system read-only (SB_RDONLY) under a
 * mount that was not mounted read-only (MNT_READONLY clear) is what errors=remount-ro and the
 * like leave; a tmpfs nearly full by its own counters (shmem_sb_info: used_blocks, a per-CPU
 * counter, against max_blocks) or an ext4 one by statfs's figures (diag_fs_ext4.c).
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
	int32_t mnt_sb, mnt_flags, s_flags, s_op, s_fs_info, max_blocks, used_blocks;
};

static const struct nfm_field_spec fs_specs[] = {
	NFM_FIELD(struct fs_off, mnt_sb, "mount", "mnt.mnt_sb", 0),
	NFM_FIELD(struct fs_off, mnt_flags, "mount", "mnt.mnt_flags", 0),
	NFM_FIELD(struct fs_off, s_flags, "super_block", "s_flags", 0),
	NFM_FIELD(struct fs_off, s_op, "super_block", "s_op", 0),
	NFM_FIELD(struct fs_off, s_fs_info, "super_block", "s_fs_info", 0),
	NFM_FIELD(struct fs_off, max_blocks, "shmem_sb_info", "max_blocks", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct fs_off, used_blocks, "shmem_sb_info", "used_blocks", NFM_FIELD_OPTIONAL),
};

static bool is_disk_fs(const char *t)
{
	for (size_t i = 0; i < sizeof(disk_fs) / sizeof(disk_fs[0]); i++)
		if (!strcmp(t, disk_fs[i]))
			return true;
	return false;
}

/*
 * An ext4 file system aborted after an error while /proc/mounts still says rw: kernels with
 * "ext4: don't set SB_RDONLY after filesystem errors" (6.1.y's backport, 6.10+) only mark the
 * superblock (aborted in 6.1.y, shut down since 6.6, emergency read-only later) though their
 * log says "Remounting filesystem read-only". What writes then do depends on the kernel and the journal: 6.1.y
 * without a journal still takes them (seen in the lab), so the finding says aborted, not
 * read-only.
 */
/* The kernel's own lines about an ext4 device's errors: "EXT4-fs error (device loop1): ..." (the
 * first four) and the remount notice; how many. */
static int ext4_log_evidence(struct diag *d, struct nfm_diag_finding *f, const struct nfm_mount *m)
{
	const char *dev = strrchr(m->device, '/');
	char needle[80];
	int shown = 0, i;

	snprintf(needle, sizeof(needle), "EXT4-fs error (device %s)", dev ? dev + 1 : m->device);
	for (i = diag_log_find(d, 0, needle); i >= 0 && shown < 4;
	     i = diag_log_find(d, i + 1, needle), shown++)
		diag_log_evidence(d, f, i, 1);
	snprintf(needle, sizeof(needle), "EXT4-fs (%s): Remounting", dev ? dev + 1 : m->device);
	if ((i = diag_log_find(d, 0, needle)) >= 0) {
		diag_log_evidence(d, f, i, 1);
		shown++;
	}
	return shown;
}

/* Whether the kernel logged that it remounted the device read-only after an error. */
static bool ext4_log_remounted(const struct diag *d, const struct nfm_mount *m)
{
	const char *dev = strrchr(m->device, '/');
	char needle[80];

	snprintf(needle, sizeof(needle), "EXT4-fs (%s): Remounting filesystem read-only",
		 dev ? dev + 1 : m->device);
	return diag_log_find(d, 0, needle) >= 0;
}

static void ext4_refusing(struct diag *d, const struct nfm_mount *m, uint64_t info)
{
	struct nfm_diag_finding *f;
	struct diag_ext4_state st;
	int err = diag_ext4_state(d, info, &st);

	if (err < 0) {
		diag_check(d, "filesystems", err, err == -ENOENT ?
			   "an ext4 superblock's error state (its abort flag is not in the BTF)" :
			   "an ext4 superblock's error state");
		return;
	}
	if (!st.aborted && !st.emergency_ro && !st.shutdown)
		return;
	f = diag_add(d, NFM_DIAG_FS_READONLY, NFM_DIAG_ERROR,
		     "%s (%s on %s) was %s, though /proc/mounts says rw",
		     m->path, m->fstype, m->device,
		     st.aborted || st.emergency_ro || st.error_fs ? "aborted after errors" :
		     "shut down");
	diag_subject(d, f, m->path);
	diag_evidence(d, f, "ext4_sb_info:%s%s%s%s", st.aborted ? " EXT4_MF_FS_ABORTED" : "",
		      st.emergency_ro ? " EXT4_FLAGS_EMERGENCY_RO" : "",
		      st.shutdown ? " EXT4_FLAGS_SHUTDOWN" : "",
		      st.error_fs ? ", s_mount_state EXT4_ERROR_FS" : "");
	diag_evidence(d, f, "%s %s %s %s", m->device, m->path, m->fstype, m->options);
	ext4_log_evidence(d, f, m);
}

/*
 * An ext4 file system nearly full as df sees it: Use% = used / (used + available), rounded up
 * as coreutils' df does; the evidence gives df -k's three figures.
 */
static void ext4_full(struct diag *d, const struct nfm_mount *m, uint64_t sb, uint64_t info,
		      const uint64_t *offs, int ncpu)
{
	struct nfm_diag_finding *f;
	struct diag_df df;
	uint64_t used, total, kb;
	int err = diag_ext4_usage(d, sb, info, offs, ncpu, &df);

	if (err < 0) {
		diag_check(d, "filesystems", err, err == -ENOENT ?
			   "ext4 usage (a member it needs is not in the BTF)" :
			   "an ext4 superblock's counters");
		return;
	}
	used = df.blocks - df.bfree;
	total = used + df.bavail;
	if (!total || used * 100 < total * FULL_PERCENT)
		return;
	kb = df.block_bytes / 1024;
	f = diag_add(d, NFM_DIAG_FS_FULL, NFM_DIAG_WARNING, "%s (%s) is %llu%% full", m->path,
		     m->fstype, (unsigned long long)((used * 100 + total - 1) / total));
	diag_subject(d, f, m->path);
	diag_evidence(d, f, "statfs as ext4 gives it: %llu blocks of %llu bytes, %llu free, %llu "
		      "available", (unsigned long long)df.blocks, (unsigned long long)df.block_bytes,
		      (unsigned long long)df.bfree, (unsigned long long)df.bavail);
	diag_evidence(d, f, "df -k: 1K-blocks %llu used %llu available %llu",
		      (unsigned long long)(df.blocks * kb), (unsigned long long)(used * kb),
		      (unsigned long long)(df.bavail * kb));
	diag_evidence(d, f, "%s %s %s %s", m->device, m->path, m->fstype, m->options);
}

void diag_check_filesystems(struct diag *d)
{
	struct nfm_mount *m;
	struct fs_off o;
	uint64_t *offs, *seen_sb;
	bool trunc = false, ext4_types_missing = false;
	int n, ncpu, err;
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
	/* one superblock per mount at most: bind mounts of one are judged once */
	seen_sb = calloc((size_t)n + 1, sizeof(*seen_sb));
	offs = calloc(DIAG_MAX_CPUS, sizeof(*offs));
	if (!seen_sb || !offs) {
		diag_check(d, "filesystems", -ENOMEM, "the mounts");
		goto out;
	}
	ncpu = nfm_percpu_offsets(d->ctx, 1, offs, DIAG_MAX_CPUS);
	if (ncpu <= 0)	/* per-CPU counters unread: no file system's fullness can be judged */
		diag_check(d, "filesystems", ncpu < 0 ? ncpu : -ENOENT,
			   "the CPUs' per-CPU offsets (fullness not judged)");
	for (int i = 0; i < n; i++) {
		struct nfm_diag_finding *f;
		uint64_t sb = 0, sflags = 0, info = 0, sop = 0;
		uint32_t mflags = 0;
		bool dup = false, ext4;

		if (nfm_kread(d->ctx, m[i].mount + o.mnt_sb, &sb, 8) < 0 ||
		    nfm_kread(d->ctx, m[i].mount + o.mnt_flags, &mflags, 4) < 0 ||
		    nfm_kread(d->ctx, sb + o.s_flags, &sflags, 8) < 0 ||
		    nfm_kread(d->ctx, sb + o.s_op, &sop, 8) < 0 ||
		    nfm_kread(d->ctx, sb + o.s_fs_info, &info, 8) < 0) {
			diag_check(d, "filesystems", -EFAULT, "a superblock");
			continue;
		}
		for (int k = 0; k < nr_seen; k++)
			dup |= seen_sb[k] == sb;
		if (dup)
			continue;	/* a bind mount of one already judged */
		seen_sb[nr_seen++] = sb;
		ext4 = diag_is_ext4(d, m[i].fstype, sop);
		if (ext4 && (err = diag_ext4_types(d)) < 0) {
			/* say why once, not as each of ext4's checks failing by turn */
			diag_check(d, "filesystems", err, err == -ENOENT ?
				   "ext4's superblock state and usage (ext4 is a module and this kernel "
				   "keeps no BTF for modules)" :
				   "ext4's superblock state and usage (the ext4 module's BTF)");
			ext4_types_missing = true;
		}
		if (ext4 && !ext4_types_missing && !(sflags & SB_RDONLY_) &&
		    !(mflags & MNT_READONLY_))
			ext4_refusing(d, &m[i], info);
		if (is_disk_fs(m[i].fstype) && sflags & SB_RDONLY_ && !(mflags & MNT_READONLY_)) {
			struct diag_ext4_state st = { 0 };
			/* ext4 says so itself (before "don't set SB_RDONLY after filesystem errors":
			 * 5.10): its superblock's error state, its log's lines */
			bool state = ext4 && !ext4_types_missing && diag_ext4_state(d, info, &st) == 0 &&
				     st.error_fs;
			/* without ext4's types (a module, no module BTF) its log line says it */
			bool errors = state || (ext4 && ext4_log_remounted(d, &m[i]));

			f = diag_add(d, NFM_DIAG_FS_READONLY, NFM_DIAG_ERROR,
				     "%s (%s on %s) is read-only though mounted read-write: %s",
				     m[i].path, m[i].fstype, m[i].device,
				     errors ? "remounted read-only after errors" :
				     "remounted read-only after errors?");
			diag_subject(d, f, m[i].path);
			diag_evidence(d, f, "super_block s_flags 0x%llx (SB_RDONLY), mount flags "
				      "0x%x (no MNT_READONLY)%s", (unsigned long long)sflags, mflags,
				      state ? ", ext4 s_mount_state EXT4_ERROR_FS" : "");
			diag_evidence(d, f, "%s %s %s %s", m[i].device, m[i].path, m[i].fstype,
				      m[i].options);
			if (ext4)
				ext4_log_evidence(d, f, &m[i]);
		}
		if (ext4 && !ext4_types_missing && ncpu > 0)
			ext4_full(d, &m[i], sb, info, offs, ncpu);
		if (!strcmp(m[i].fstype, "tmpfs") && o.max_blocks >= 0 && o.used_blocks >= 0 &&
		    info && ncpu > 0) {
			uint64_t max = 0;
			int64_t used = 0;

			if (nfm_kread(d->ctx, info + o.max_blocks, &max, 8) < 0 ||
			    (max && nfm_percpu_counter_sum(d->ctx, info + (uint64_t)o.used_blocks, offs, ncpu,
						&used) < 0)) {
				diag_check(d, "filesystems", -EFAULT, "a tmpfs's block counters");
				continue;
			}
			/* max 0: a tmpfs without a size limit */
			if (!max || used < 0 || (uint64_t)used * 100 < max * FULL_PERCENT)
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
out:
	free(seen_sb);
	free(offs);
	free(m);
}
