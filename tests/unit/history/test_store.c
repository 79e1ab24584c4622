// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The snapshot store (lib/history) with synthetic RAM: the recorder over a buffer source writes
 * snapshots, the snapshot source (snap:DIR@WHEN) reads them back byte for byte. Deduplication
 * (zero pages, duplicate pages, pages shared between snapshots), a writer killed mid-snapshot
 * (SIGKILL of a child process, a pack cut mid-record, an index without a catalog row), check
 * (a flipped pack byte, a damaged or missing index), retention by age and by size with pack
 * compaction, WHEN resolution, and one source read from two threads at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <nfm/history.h>
#include "history/store.h"
#include "source/source.h"

#define NPAGES 16
#define BASE 0x100000ull

static char logbuf[4096];

static void log_fn(void *ud, enum nfm_log_level level, const char *msg)
{
	size_t n = strlen(logbuf);

	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", msg);
}

static const struct nfm_log tlog = { .fn = log_fn, .max_level = NFM_LOG_DEBUG };

static char *mkstore(void)
{
	char tmpl[] = "/tmp/nfm-history-XXXXXX", *d = mkdtemp(tmpl);

	assert_non_null(d);
	return strdup(d);
}

static void rmstore(char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static void fill_random(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		p[i] = (uint8_t)rng;
	}
}

/* NPAGES pages: 0 and 9 zero, 4 a copy of 2 and 11 a copy of 2 too, 6 compressible text, the
 * rest random: 12 distinct non-zero pages. */
static void make_ram(uint8_t *ram)
{
	size_t i;

	fill_random(ram, (size_t)NPAGES * NFM_PAGE);
	memset(ram + 0 * NFM_PAGE, 0, NFM_PAGE);
	memset(ram + 9 * NFM_PAGE, 0, NFM_PAGE);
	memcpy(ram + 4 * NFM_PAGE, ram + 2 * NFM_PAGE, NFM_PAGE);
	memcpy(ram + 11 * NFM_PAGE, ram + 2 * NFM_PAGE, NFM_PAGE);
	for (i = 0; i < NFM_PAGE; i++)
		ram[6 * NFM_PAGE + i] = "snapshot "[i % 9];
}

/* One snapshot of npages of ram through the recorder (buffer source, full re-hash). */
static void record_n(const char *dir, const uint8_t *ram, size_t npages,
		     struct nfm_snapshot_info *in)
{
	NFM_OPTS(nfm_record_opts, ro, .method = NFM_SYNC_FULL);
	struct nfm_source *src;
	struct nfm_store *st;
	struct nfm_recorder *rec;

	assert_int_equal(nfm_source_new_buf(ram, npages * NFM_PAGE, BASE, &src), 0);
	assert_int_equal(nfm_store_open(dir, NFM_STORE_WRITE | NFM_STORE_CREATE, &tlog, &st), 0);
	assert_int_equal(nfm_recorder_new(st, src, &ro, &tlog, &rec), 0);
	assert_int_equal(nfm_recorder_snap(rec, in, NULL), 0);
	nfm_recorder_free(rec);
	nfm_store_close(st);
	nfm_source_free(src);
}

static void record(const char *dir, const uint8_t *ram, struct nfm_snapshot_info *in)
{
	record_n(dir, ram, NPAGES, in);
}

/* Snapshot WHEN of dir, read through the snapshot source, equals ram byte for byte. */
static void assert_snapshot(const char *dir, const char *when, const uint8_t *ram)
{
	uint8_t *got = malloc((size_t)NPAGES * NFM_PAGE), one[100];
	struct nfm_source *src;
	char spec[4200];
	size_t i;

	snprintf(spec, sizeof(spec), "snap:%s@%s", dir, when);
	assert_int_equal(nfm_source_open(spec, &tlog, &src), 0);
	assert_int_equal(nfm_source_read_phys(src, BASE, got, (size_t)NPAGES * NFM_PAGE), 0);
	assert_memory_equal(got, ram, (size_t)NPAGES * NFM_PAGE);
	/* reads that straddle pages and start mid-page */
	for (i = 0; i < NPAGES; i++) {
		uint64_t off = i * NFM_PAGE + NFM_PAGE - 37;

		if (off + sizeof(one) > (uint64_t)NPAGES * NFM_PAGE)
			continue;
		assert_int_equal(nfm_source_read_phys(src, BASE + off, one, sizeof(one)), 0);
		assert_memory_equal(one, ram + off, sizeof(one));
	}
	/* outside the recorded RAM */
	assert_int_not_equal(nfm_source_read_phys(src, BASE + (uint64_t)NPAGES * NFM_PAGE, one, 8),
			     0);
	nfm_source_free(src);
	free(got);
}

static uint64_t fsize(const char *dir, const char *name)
{
	char p[4200];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &sb) == 0 ? (uint64_t)sb.st_size : UINT64_MAX;
}

static bool exists(const char *dir, const char *name)
{
	return fsize(dir, name) != UINT64_MAX;
}

static int check_store(const char *dir, char *out, size_t outlen);

static void test_roundtrip_and_dedup(void **state)
{
	uint8_t *ram = malloc((size_t)NPAGES * NFM_PAGE), *ram1 = malloc((size_t)NPAGES * NFM_PAGE);
	struct nfm_snapshot_info in, *list;
	struct nfm_store *st;
	char *dir = mkstore();
	uint64_t pack1;
	char msgs[1024];

	make_ram(ram);
	record(dir, ram, &in);
	assert_int_equal(in.id, 1);
	assert_int_equal(in.nr_pages, NPAGES);
	assert_int_equal(in.ram_bytes, (uint64_t)NPAGES * NFM_PAGE);
	assert_int_equal(in.read_pages, NPAGES);
	assert_int_equal(in.zero_pages, 2);
	assert_int_equal(in.new_pages, 12);		/* the duplicates and zero pages not stored */
	assert_string_equal(in.method, "full");
	pack1 = fsize(dir, "pack-1.dat");
	assert_int_equal(pack1, PACK_HDR + in.new_bytes);
	/* the text page compressed, the random ones stored raw */
	assert_true(in.new_bytes < 11 * (sizeof(struct pack_rec) + NFM_PAGE) + 200);
	assert_true(in.new_bytes > 11 * (sizeof(struct pack_rec) + NFM_PAGE));
	assert_snapshot(dir, "1", ram);
	assert_snapshot(dir, "latest", ram);

	/* The same RAM again: nothing new. Then one page changed, one zeroed: one record more. */
	memcpy(ram1, ram, (size_t)NPAGES * NFM_PAGE);
	record(dir, ram, &in);
	assert_int_equal(in.id, 2);
	assert_int_equal(in.new_pages, 0);
	assert_int_equal(in.new_bytes, 0);
	assert_int_equal(fsize(dir, "pack-1.dat"), pack1);
	ram[7 * NFM_PAGE + 100] ^= 0x5a;
	memset(ram + 3 * NFM_PAGE, 0, NFM_PAGE);
	record(dir, ram, &in);
	assert_int_equal(in.id, 3);
	assert_int_equal(in.new_pages, 1);
	assert_int_equal(in.zero_pages, 3);
	assert_int_equal(fsize(dir, "pack-1.dat"), pack1 + in.new_bytes);
	/* A page going back to content stored earlier costs nothing. */
	memcpy(ram + 3 * NFM_PAGE, ram1 + 3 * NFM_PAGE, NFM_PAGE);
	record(dir, ram, &in);
	assert_int_equal(in.id, 4);
	assert_int_equal(in.new_pages, 0);

	assert_snapshot(dir, "1", ram1);
	assert_snapshot(dir, "#2", ram1);
	assert_snapshot(dir, "latest", ram);
	memset(ram1 + 3 * NFM_PAGE, 0, NFM_PAGE);
	ram1[7 * NFM_PAGE + 100] ^= 0x5a;
	assert_snapshot(dir, "3", ram1);

	assert_int_equal(nfm_store_open(dir, 0, &tlog, &st), 0);
	assert_int_equal(nfm_store_list(st, &list), 4);
	assert_int_equal(list[0].id, 1);
	assert_int_equal(list[3].id, 4);
	assert_true(list[0].time_ns <= list[3].time_ns);
	assert_true(list[0].index_bytes > 0);
	free(list);
	assert_int_equal(nfm_store_check(st, NULL, NULL), 0);
	nfm_store_close(st);
	assert_int_equal(check_store(dir, msgs, sizeof(msgs)), 0);
	rmstore(dir);
	free(ram);
	free(ram1);
}

static void test_resolve(void **state)
{
	uint8_t *ram = malloc((size_t)NPAGES * NFM_PAGE);
	struct nfm_snapshot_info in, a, b;
	struct nfm_store *st;
	char *dir = mkstore(), when[64];
	struct nfm_source *src;

	make_ram(ram);
	record(dir, ram, &a);
	record(dir, ram, &b);
	assert_int_equal(nfm_store_open(dir, 0, &tlog, &st), 0);
	assert_int_equal(nfm_store_resolve(st, "latest", b.time_ns, &in), 0);
	assert_int_equal(in.id, 2);
	assert_int_equal(nfm_store_resolve(st, "#1", b.time_ns, &in), 0);
	assert_int_equal(in.id, 1);
	assert_int_equal(nfm_store_resolve(st, "7", b.time_ns, &in), -ENOENT);
	/* a time picks the newest snapshot taken at or before it */
	snprintf(when, sizeof(when), "@%.9f", (double)b.time_ns / 1e9 + 0.5);
	assert_int_equal(nfm_store_resolve(st, when, b.time_ns, &in), 0);
	assert_int_equal(in.id, 2);
	assert_int_equal(nfm_store_resolve(st, "-1s", a.time_ns + 1000000000, &in), 0);
	assert_int_equal(in.id, 1);
	assert_int_equal(nfm_store_resolve(st, "-1h", b.time_ns, &in), -ENOENT);
	assert_int_equal(nfm_store_resolve(st, "yesterday", b.time_ns, &in), -EINVAL);
	assert_int_equal(nfm_store_resolve(st, "#1x", b.time_ns, &in), -EINVAL);
	nfm_store_close(st);
	snprintf(when, sizeof(when), "snap:%s@9", dir);
	logbuf[0] = 0;
	assert_int_equal(nfm_source_open(when, &tlog, &src), -ENOENT);
	assert_non_null(strstr(logbuf, "no snapshot named 9"));
	rmstore(dir);
	free(ram);
}

/* What nfm record --check says: the number of problems, their lines in out. */
static void check_report(void *ud, const char *what)
{
	char *out = ud;
	size_t n = strlen(out);

	snprintf(out + n, 1024 - n, "%s\n", what);
}

static int check_store(const char *dir, char *out, size_t outlen)
{
	struct nfm_store *st;
	int n;

	assert_int_equal(outlen, 1024);
	out[0] = 0;
	assert_int_equal(nfm_store_open(dir, 0, &tlog, &st), 0);
	n = nfm_store_check(st, check_report, out);
	nfm_store_close(st);
	return n;
}

static void copy_file(const char *from, const char *to)
{
	char cmd[9000];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	assert_int_equal(system(cmd), 0);
}

static void flip(const char *path, uint64_t off)
{
	int fd = open(path, O_RDWR);
	uint8_t c;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, (off_t)off), 1);
	c ^= 0x01;
	assert_int_equal(pwrite(fd, &c, 1, (off_t)off), 1);
	close(fd);
}

static void test_killed_writer(void **state)
{
	uint8_t *ram = malloc((size_t)NPAGES * NFM_PAGE), *ram2 = malloc((size_t)NPAGES * NFM_PAGE);
	struct nfm_snapshot_info in, *list;
	struct nfm_store *st;
	char *dir = mkstore(), p1[4200], p2[4200], msgs[1024];
	uint64_t pack1;
	int status, i;
	pid_t pid;

	make_ram(ram);
	record(dir, ram, &in);
	pack1 = fsize(dir, "pack-1.dat");
	fill_random(ram2, (size_t)NPAGES * NFM_PAGE);

	/* A writer killed after its pages reached the pack, before its catalog row. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (nfm_store_open(dir, NFM_STORE_WRITE, NULL, &st) ||
		    nfm_store_begin(st, NPAGES))
			_exit(1);
		for (i = 0; i < NPAGES; i++)
			nfm_store_put(st, (uint64_t)i, ram2 + (size_t)i * NFM_PAGE);
		pack_flush(st, true);
		raise(SIGKILL);
		_exit(2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_true(fsize(dir, "pack-1.dat") > pack1 + 8 * NFM_PAGE);
	/* ... and its index written (plus a temporary one): an index with no row. Then cut the
	 * pack's uncommitted tail in the middle of a record. */
	snprintf(p1, sizeof(p1), "%s/idx/1-1.idx", dir);
	snprintf(p2, sizeof(p2), "%s/idx/2-1.idx", dir);
	copy_file(p1, p2);
	snprintf(p2, sizeof(p2), "%s/idx/2-1.idx.tmp", dir);
	copy_file(p1, p2);
	snprintf(p2, sizeof(p2), "%s/pack-1.dat", dir);
	assert_int_equal(truncate(p2, (off_t)(pack1 + 3 * (sizeof(struct pack_rec) + NFM_PAGE) +
					      100)), 0);

	/* Readers see the completed snapshot only, byte for byte; check finds nothing wrong. */
	assert_int_equal(nfm_store_open(dir, 0, &tlog, &st), 0);
	assert_int_equal(nfm_store_list(st, &list), 1);
	free(list);
	nfm_store_close(st);
	assert_snapshot(dir, "latest", ram);
	assert_int_equal(check_store(dir, msgs, sizeof(msgs)), 0);

	/* The next writable open discards the tail and the orphan indexes. */
	logbuf[0] = 0;
	assert_int_equal(nfm_store_open(dir, NFM_STORE_WRITE, &tlog, &st), 0);
	assert_non_null(strstr(logbuf, "discarding"));
	nfm_store_close(st);
	assert_int_equal(fsize(dir, "pack-1.dat"), pack1);
	assert_false(exists(dir, "idx/2-1.idx"));
	assert_false(exists(dir, "idx/2-1.idx.tmp"));
	assert_true(exists(dir, "idx/1-1.idx"));

	/* Recording goes on: snapshot 2 stores the pages the killed writer lost (its dedup table
	 * must not name them), both snapshots read back. */
	record(dir, ram2, &in);
	assert_int_equal(in.id, 2);
	assert_int_equal(in.new_pages, NPAGES);
	assert_snapshot(dir, "1", ram);
	assert_snapshot(dir, "2", ram2);
	assert_int_equal(check_store(dir, msgs, sizeof(msgs)), 0);
	rmstore(dir);
	free(ram);
	free(ram2);
}

/* A writer that fails mid-snapshot in the same process (nfm_store_abort) leaves no trace. */
static void test_abort(void **state)
{
	uint8_t *ram = malloc((size_t)NPAGES * NFM_PAGE), *ram2 = malloc((size_t)NPAGES * NFM_PAGE);
	struct nfm_snapshot_info in;
	struct nfm_store *st;
	char *dir = mkstore(), msgs[1024];
	uint64_t pack1;
	int i;

	make_ram(ram);
	record(dir, ram, &in);
	pack1 = fsize(dir, "pack-1.dat");
	fill_random(ram2, (size_t)NPAGES * NFM_PAGE);
	assert_int_equal(nfm_store_open(dir, NFM_STORE_WRITE, &tlog, &st), 0);
	assert_int_equal(nfm_store_begin(st, NPAGES), 0);
	for (i = 0; i < NPAGES; i++)
		assert_int_equal(nfm_store_put(st, (uint64_t)i, ram2 + (size_t)i * NFM_PAGE), 2);
	assert_int_equal(pack_flush(st, false), 0);
	nfm_store_abort(st);
	assert_int_equal(fsize(dir, "pack-1.dat"), pack1);
	/* the same pages again in the same store: stored again, not found in a stale table */
	assert_int_equal(nfm_store_begin(st, NPAGES), 0);
	for (i = 0; i < NPAGES; i++)
		assert_int_equal(nfm_store_put(st, (uint64_t)i, ram2 + (size_t)i * NFM_PAGE), 2);
	memset(&in, 0, sizeof(in));
	in.time_ns = 1;
	assert_int_equal(nfm_store_commit(st, &in, "100000:10000"), 0);
	assert_int_equal(in.id, 2);
	nfm_store_close(st);
	assert_snapshot(dir, "2", ram2);
	assert_int_equal(check_store(dir, msgs, sizeof(msgs)), 0);
	rmstore(dir);
	free(ram);
	free(ram2);
}

static void test_check(void **state)
{
	uint8_t *ram = malloc((size_t)NPAGES * NFM_PAGE);
	struct nfm_snapshot_info in;
	struct nfm_store *st;
	char *dir = mkstore(), pack[4200], idx[4200], save[4200], msgs[1024];
	struct nfm_source *src;
	uint64_t off;

	make_ram(ram);
	record(dir, ram, &in);
	record(dir, ram, &in);
	snprintf(pack, sizeof(pack), "%s/pack-1.dat", dir);
	snprintf(idx, sizeof(idx), "%s/idx/1-1.idx", dir);
	snprintf(save, sizeof(save), "%s/saved", dir);
	assert_int_equal(check_store(dir, msgs, sizeof(msgs)), 0);

	/* One flipped bit in a page's bytes: its record fails its hash (or does not decompress). */
	copy_file(pack, save);
	off = PACK_HDR + sizeof(struct pack_rec) + 1000;	/* the first record: page 1, raw */
	flip(pack, off);
	assert_int_equal(check_store(dir, msgs, sizeof(msgs)), 1);
	assert_non_null(strstr(msgs, "pack record at 16: its page does not match its hash"));
	assert_int_equal(strchr(msgs, '\n')[1], '\0');	/* one line */
	copy_file(save, pack);
	/* In a record's hash */
	flip(pack, PACK_HDR + 9);
	assert_int_equal(check_store(dir, msgs, sizeof(msgs)), 1);
	assert_non_null(strstr(msgs, "pack record at 16"));
	copy_file(save, pack);
	/* In a record's header: the chain of records is broken */
	flip(pack, PACK_HDR + 1);
	assert_true(check_store(dir, msgs, sizeof(msgs)) >= 1);
	assert_non_null(strstr(msgs, "record chain is broken"));
	copy_file(save, pack);
	assert_int_equal(check_store(dir, msgs, sizeof(msgs)), 0);

	/* A damaged index: a byte of its compressed entries, then of its header */
	copy_file(idx, save);
	flip(idx, fsize(dir, "idx/1-1.idx") - 3);
	assert_int_equal(check_store(dir, msgs, sizeof(msgs)), 1);
	assert_non_null(strstr(msgs, "snapshot 1: its index is damaged"));
	/* ... which the snapshot source refuses in words */
	{
		char spec[4300];

		snprintf(spec, sizeof(spec), "snap:%s@1", dir);
		logbuf[0] = 0;
		assert_int_not_equal(nfm_source_open(spec, &tlog, &src), 0);
		assert_non_null(strstr(logbuf, "snapshot 1 cannot be read"));
	}
	copy_file(save, idx);
	flip(idx, 32);	/* struct idx_hdr: magic[8], id, gen, nr_pages, then hash */
	assert_int_equal(check_store(dir, msgs, sizeof(msgs)), 1);
	assert_non_null(strstr(msgs, "snapshot 1: its index is damaged"));
	copy_file(save, idx);
	/* A missing index */
	assert_int_equal(unlink(idx), 0);
	assert_int_equal(check_store(dir, msgs, sizeof(msgs)), 1);
	assert_non_null(strstr(msgs, "snapshot 1: its index is missing"));
	copy_file(save, idx);
	assert_int_equal(check_store(dir, msgs, sizeof(msgs)), 0);

	/* A pack shorter than the catalog says: the store does not open, in words. */
	assert_int_equal(truncate(pack, (off_t)(fsize(dir, "pack-1.dat") - 10)), 0);
	logbuf[0] = 0;
	assert_int_equal(nfm_store_open(dir, 0, &tlog, &st), -EBADMSG);
	assert_non_null(strstr(logbuf, "the pack is shorter"));
	rmstore(dir);
	free(ram);
}

/* A snapshot of NPAGES pages of its own (all distinct from every other) at time t. */
static void put_snapshot(struct nfm_store *st, uint8_t *ram, int64_t t, int64_t want_id)
{
	struct nfm_snapshot_info in;
	int i;

	fill_random(ram, (size_t)NPAGES * NFM_PAGE);
	assert_int_equal(nfm_store_begin(st, NPAGES), 0);
	for (i = 0; i < NPAGES; i++)
		assert_true(nfm_store_put(st, (uint64_t)i, ram + (size_t)i * NFM_PAGE) >= 0);
	memset(&in, 0, sizeof(in));
	in.time_ns = t;
	snprintf(in.vm, sizeof(in.vm), "unit");
	assert_int_equal(nfm_store_commit(st, &in, "100000:10000"), 0);
	assert_int_equal(in.id, want_id);
}

static void test_retention(void **state)
{
	uint8_t *ram[5];
	const int64_t s = 1000000000, now = 1000 * s;
	struct nfm_snapshot_info *list;
	struct nfm_store *st;
	char *dir = mkstore(), msgs[1024];
	uint64_t full, before;
	int i, removed;

	for (i = 0; i < 5; i++)
		ram[i] = malloc((size_t)NPAGES * NFM_PAGE);
	assert_int_equal(nfm_store_open(dir, NFM_STORE_WRITE | NFM_STORE_CREATE, &tlog, &st), 0);
	/* snapshots at now-400s, -300s, -200s, -100s */
	for (i = 0; i < 4; i++)
		put_snapshot(st, ram[i], now - (4 - i) * 100 * s, i + 1);
	/* the RAM of a fifth snapshot, recorded below: the same pages as snapshot 4 */
	memcpy(ram[4], ram[3], (size_t)NPAGES * NFM_PAGE);
	full = fsize(dir, "pack-1.dat");
	assert_int_equal(full, st->pack_len);

	/* by age: keep 250 s removes snapshots 1 and 2; half the pack unreferenced: compacted */
	assert_int_equal(nfm_store_retain(st, 250 * s, 0, now, &removed), 0);
	assert_int_equal(removed, 2);
	assert_int_equal(nfm_store_list(st, &list), 2);
	assert_int_equal(list[0].id, 3);
	assert_int_equal(list[1].id, 4);
	free(list);
	assert_false(exists(dir, "pack-1.dat"));
	assert_int_equal(fsize(dir, "pack-2.dat"), PACK_HDR + (full - PACK_HDR) / 2);
	assert_false(exists(dir, "idx/1-1.idx"));
	assert_false(exists(dir, "idx/3-1.idx"));
	assert_true(exists(dir, "idx/3-2.idx"));
	assert_true(exists(dir, "idx/4-2.idx"));
	/* nothing more is old enough */
	assert_int_equal(nfm_store_retain(st, 250 * s, 0, now, &removed), 0);
	assert_int_equal(removed, 0);

	/* recording goes on against the new generation; a page already stored costs nothing */
	before = st->pack_len;
	{
		struct nfm_snapshot_info in;

		assert_int_equal(nfm_store_begin(st, NPAGES), 0);
		for (i = 0; i < NPAGES; i++)
			assert_int_equal(nfm_store_put(st, (uint64_t)i,
						       ram[4] + (size_t)i * NFM_PAGE), 1);
		memset(&in, 0, sizeof(in));
		in.time_ns = now;
		assert_int_equal(nfm_store_commit(st, &in, "100000:10000"), 0);
		assert_int_equal(in.id, 5);
		assert_int_equal(in.new_pages, 0);
	}
	assert_int_equal(st->pack_len, before);
	nfm_store_close(st);
	assert_snapshot(dir, "3", ram[2]);
	assert_snapshot(dir, "4", ram[3]);
	assert_snapshot(dir, "5", ram[4]);
	assert_int_equal(check_store(dir, msgs, sizeof(msgs)), 0);

	/* by size: a limit below one snapshot leaves the newest only, whose pages stay */
	assert_int_equal(nfm_store_open(dir, NFM_STORE_WRITE, &tlog, &st), 0);
	assert_int_equal(nfm_store_retain(st, 0, 1, now, &removed), 0);
	assert_int_equal(removed, 2);
	assert_int_equal(nfm_store_list(st, &list), 1);
	assert_int_equal(list[0].id, 5);
	free(list);
	nfm_store_close(st);
	assert_snapshot(dir, "5", ram[4]);
	assert_snapshot(dir, "latest", ram[4]);
	assert_int_equal(check_store(dir, msgs, sizeof(msgs)), 0);
	/* snapshots 3 and 4 gone: 3's pages (half the pack) dropped by a second compaction, 4's
	 * kept since 5 shares every one */
	assert_false(exists(dir, "pack-2.dat"));
	assert_int_equal(fsize(dir, "pack-3.dat"), PACK_HDR + (full - PACK_HDR) / 4);

	/* a read-only store cannot be retained */
	assert_int_equal(nfm_store_open(dir, 0, &tlog, &st), 0);
	assert_int_equal(nfm_store_retain(st, 1, 0, now, &removed), -EINVAL);
	nfm_store_close(st);
	rmstore(dir);
	for (i = 0; i < 5; i++)
		free(ram[i]);
}

/* One writer at a time; readers need no lock. */
/*
 * Two threads reading one snapshot source at once (attach parses BTF on a second thread): the
 * source's page cache and the store's decompression context are shared, so every read must still
 * return the recorded bytes. 256 pages against the cache's 64 slots: most reads decompress.
 */
#define TPAGES 256

struct reader {
	struct nfm_source *src;
	const uint8_t *ram;
	unsigned int seed, bad;
};

static void *read_many(void *arg)
{
	struct reader *r = arg;
	uint8_t buf[NFM_PAGE + 64];
	int i;

	for (i = 0; i < 4000; i++) {
		uint64_t off;
		size_t len;

		r->seed = r->seed * 1103515245u + 12345u;
		off = (uint64_t)(r->seed >> 8) % ((uint64_t)TPAGES * NFM_PAGE - sizeof(buf));
		len = 1 + (r->seed >> 4) % sizeof(buf);
		if (nfm_source_read_phys(r->src, BASE + off, buf, len) ||
		    memcmp(buf, r->ram + off, len))
			r->bad++;
	}
	return NULL;
}

static void test_two_threads(void **state)
{
	uint8_t *ram = malloc((size_t)TPAGES * NFM_PAGE);
	struct reader r[2];
	struct nfm_snapshot_info in = { 0 };
	struct nfm_source *src;
	pthread_t t;
	char *dir = mkstore(), spec[4200];

	fill_random(ram, (size_t)TPAGES * NFM_PAGE);
	record_n(dir, ram, TPAGES, &in);
	snprintf(spec, sizeof(spec), "snap:%s", dir);
	assert_int_equal(nfm_source_open(spec, &tlog, &src), 0);
	r[0] = (struct reader){ src, ram, 1, 0 };
	r[1] = (struct reader){ src, ram, 2, 0 };
	assert_int_equal(pthread_create(&t, NULL, read_many, &r[1]), 0);
	read_many(&r[0]);
	pthread_join(t, NULL);
	assert_int_equal(r[0].bad, 0);
	assert_int_equal(r[1].bad, 0);
	nfm_source_free(src);
	free(ram);
	rmstore(dir);
}

static void test_lock(void **state)
{
	struct nfm_store *a, *b;
	char *dir = mkstore();

	assert_int_equal(nfm_store_open(dir, NFM_STORE_WRITE | NFM_STORE_CREATE, &tlog, &a), 0);
	logbuf[0] = 0;
	assert_int_equal(nfm_store_open(dir, NFM_STORE_WRITE, &tlog, &b), -EBUSY);
	assert_non_null(strstr(logbuf, "another recorder"));
	assert_int_equal(nfm_store_open(dir, 0, &tlog, &b), 0);
	nfm_store_close(b);
	nfm_store_close(a);
	assert_int_equal(nfm_store_open(dir, NFM_STORE_WRITE, &tlog, &b), 0);
	nfm_store_close(b);
	rmstore(dir);
	assert_int_equal(nfm_store_open("/nonexistent/nfm-store", 0, &tlog, &a), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_and_dedup),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_killed_writer),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_retention),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_two_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
