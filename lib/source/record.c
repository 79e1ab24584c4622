// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The recorder: sync a live source into a snapshot store (include/nfm/history.h). A sync walks
 * guest RAM page by page in the order of the source's ranges, and stores each page that changed
 * since the newest snapshot; the rest are taken over from that snapshot's index.
 *
 * Which pages changed: NFM_SYNC_FULL reads and hashes every page (a page whose hash is already
 * in the pack costs no write) but those the host holds no data for (never-written anonymous
 * RAM, the host's zero pages, a shared file's holes: source/pagemap.h), zero without a read;
 * NFM_SYNC_SOFTDIRTY reads only the pages the host kernel marked soft-dirty in the QEMU process
 * since the last sync (/proc/PID/pagemap bit 55, reset by writing "4" to /proc/PID/clear_refs,
 * which write-protects QEMU's page table entries so that the next write to each page faults
 * once). The soft-dirty read and reset run with the vCPUs stopped (QMP) so that no write
 * falls between them. doc/history.md has the measurements.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "history/store.h"
#include "source/pagemap.h"
#include "source/qmp.h"
#include "source/source.h"
#include "util/log.h"

#define BATCH 256
/* pages whose data-or-not bits are asked of the host at once */
#define CHUNK (BATCH * 16)

struct nfm_recorder {
	struct nfm_store *st;
	struct nfm_source *src;
	struct nfm_record_opts o;
	const struct nfm_log *log;
	char qmp[256];
	bool sd_ok;		/* the host sets soft-dirty bits */
	bool sd_armed;		/* bits were reset at the previous sync of this recorder */
	uint64_t nr_pages;
	uint8_t *buf;
	uint8_t bits[CHUNK / 8];	/* one chunk's pages that may hold data */
};

static bool bit(const uint8_t *bits, uint64_t i)
{
	return bits[i / 8] & (1u << (i & 7));
}

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Does this host kernel keep soft-dirty bits (CONFIG_MEM_SOFT_DIRTY)? A fresh page of our own
 * is soft-dirty once written. */
static bool softdirty_works(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	uint8_t *p = mmap(NULL, (size_t)ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	uint64_t e = 0;
	int fd;

	if (p == MAP_FAILED)
		return false;
	p[0] = 1;
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (pread(fd, &e, sizeof(e), (off_t)((uintptr_t)p / (uintptr_t)ps * 8)) != sizeof(e))
			e = 0;
		close(fd);
	}
	munmap(p, (size_t)ps);
	return e & NFM_PM_SOFT_DIRTY;
}

static int qmp_run(struct nfm_recorder *r, const char *cmd)
{
	char *out = NULL;
	int fd, err;

	if (!r->qmp[0])
		return -ENOENT;
	fd = nfm_qmp_connect(r->qmp);
	if (fd < 0)
		return fd;
	err = nfm_qmp_hmp(fd, cmd, &out);
	free(out);
	close(fd);
	return err;
}

int nfm_recorder_new(struct nfm_store *st, struct nfm_source *src,
		     const struct nfm_record_opts *opts, const struct nfm_log *log,
		     struct nfm_recorder **ret)
{
	struct nfm_recorder *r;
	size_t i;

	if (!st || !src || !ret || (opts && opts->sz < sizeof(size_t)))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (opts)
		memcpy(&r->o, opts, opts->sz < sizeof(r->o) ? opts->sz : sizeof(r->o));
	r->o.sz = sizeof(r->o);
	r->st = st;
	r->src = src;
	r->log = log;
	nfm_source_settle(src);
	for (i = 0; i < src->nr_ranges; i++)
		r->nr_pages += src->ranges[i].size / NFM_PAGE;
	if (r->o.qmp) {
		snprintf(r->qmp, sizeof(r->qmp), "%s", r->o.qmp);
	} else if (src->pid) {
		struct nfm_vm_info *vms = calloc(256, sizeof(*vms));
		int n = vms ? nfm_vm_list(vms, 256) : 0, k;

		for (k = 0; k < n; k++)
			if (vms[k].pid == src->pid)
				snprintf(r->qmp, sizeof(r->qmp), "%s", vms[k].qmp);
		free(vms);
	}
	if (r->o.consistent && !r->qmp[0]) {
		nfm_err(log, "--consistent needs the VM's QMP socket (none on QEMU's command line)");
		free(r);
		return -ENOENT;
	}
	r->sd_ok = src->live && src->pid && strcmp(src->ops->kind, "qemu") == 0 &&
		   softdirty_works();
	if (r->o.method == NFM_SYNC_SOFTDIRTY && !r->sd_ok) {
		nfm_err(log, "soft-dirty tracking is not available (the host kernel keeps no "
			"soft-dirty bits, or the source is not a live QEMU)");
		free(r);
		return -EOPNOTSUPP;
	}
	r->buf = malloc((size_t)BATCH * NFM_PAGE);
	if (!r->buf) {
		free(r);
		return -ENOMEM;
	}
	*ret = r;
	return 0;
}

void nfm_recorder_free(struct nfm_recorder *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}

/* Soft-dirty bits of every page (1: read it again), then reset them all. */
static int softdirty_collect(struct nfm_recorder *r, uint8_t *dirty)
{
	char path[64];
	uint64_t pg = 0, *pm;
	size_t i;
	int fd, cfd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", r->src->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/clear_refs", r->src->pid);
	cfd = open(path, O_WRONLY | O_CLOEXEC);
	pm = malloc(BATCH * 8 * sizeof(*pm));
	if (fd < 0 || cfd < 0 || !pm) {
		err = fd < 0 || cfd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	for (i = 0; i < r->src->nr_ranges && !err; i++) {
		const struct nfm_source_range *rg = &r->src->ranges[i];
		uint64_t n = rg->size / NFM_PAGE, k = 0;

		while (k < n) {
			uint64_t m = n - k < BATCH * 8 ? n - k : BATCH * 8, j;
			off_t off = (off_t)((rg->backing / NFM_PAGE + k) * 8);

			if (pread(fd, pm, m * 8, off) != (ssize_t)(m * 8)) {
				err = -EIO;
				break;
			}
			for (j = 0; j < m; j++) {
				uint64_t e = pm[j], p = pg + k + j;
				bool d = (e & NFM_PM_SOFT_DIRTY) ||
					 /* dropped (MADV_DONTNEED, a shared file's page cache):
					  * read it unless it was zero */
					 (!(e & (NFM_PM_PRESENT | NFM_PM_SWAP)) &&
					  nfm_store_has_parent(r->st, r->nr_pages) &&
					  r->st->parent[p]);

				if (d)
					dirty[p / 8] |= (uint8_t)(1u << (p & 7));
			}
			k += m;
		}
		pg += n;
	}
	if (!err && write(cfd, "4", 1) != 1)
		err = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (cfd >= 0)
		close(cfd);
	free(pm);
	return err;
}

int nfm_recorder_snap(struct nfm_recorder *r, struct nfm_snapshot_info *info,
		      uint64_t *missed)
{
	struct nfm_snapshot_info in;
	struct nfm_phys_iov iov[BATCH];
	uint64_t t0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID), p0 = 0;
	uint64_t pg = 0, miss = 0, pause = 0;
	uint8_t *dirty = NULL;
	bool sd = false, paused = false;
	char *ranges = NULL;
	size_t rlen = 0, i;
	FILE *rf;
	int err;

	if (!r)
		return -EINVAL;
	memset(&in, 0, sizeof(in));
	in.time_ns = (int64_t)now_ns(CLOCK_REALTIME);
	snprintf(in.vm, sizeof(in.vm), "%s", r->src->vm_name ? r->src->vm_name : r->src->desc);
	in.vmcoreinfo_pa = r->o.vmcoreinfo_pa;
	rf = open_memstream(&ranges, &rlen);
	if (!rf)
		return -ENOMEM;
	for (i = 0; i < r->src->nr_ranges; i++) {
		fprintf(rf, "%s%llx:%llx", i ? "," : "", (unsigned long long)r->src->ranges[i].start,
			(unsigned long long)r->src->ranges[i].size);
		in.ram_bytes += r->src->ranges[i].size / NFM_PAGE * NFM_PAGE;
	}
	fclose(rf);
	if (r->o.consistent || (r->sd_ok && r->qmp[0] && r->o.method != NFM_SYNC_FULL)) {
		p0 = now_ns(CLOCK_MONOTONIC);
		err = qmp_run(r, "stop");
		if (err) {
			nfm_err(r->log, "cannot pause the VM over QMP (%s): %s", r->qmp, strerror(-err));
			free(ranges);
			return err;
		}
		paused = true;
	}
	if (r->sd_ok && r->o.method != NFM_SYNC_FULL) {
		dirty = calloc(r->nr_pages / 8 + 1, 1);
		if (!dirty) {
			err = -ENOMEM;
			goto out;
		}
		err = softdirty_collect(r, dirty);
		if (err) {
			nfm_err(r->log, "soft-dirty tracking failed: %s", strerror(-err));
			goto out;
		}
		sd = r->sd_armed && nfm_store_has_parent(r->st, r->nr_pages);
		r->sd_armed = true;
		if (paused && !r->o.consistent) {
			/* Only the collect-and-reset needed the fence. */
			qmp_run(r, "cont");
			pause += now_ns(CLOCK_MONOTONIC) - p0;
			paused = false;
		}
	}
	snprintf(in.method, sizeof(in.method), "%s", sd ? "softdirty" : "full");
	err = nfm_store_begin(r->st, r->nr_pages);
	if (err)
		goto out;
	for (i = 0; i < r->src->nr_ranges && !err; i++) {
		const struct nfm_source_range *rg = &r->src->ranges[i];
		uint64_t n = rg->size / NFM_PAGE, k = 0, cbase = 0, cend = 0;
		bool known = false;	/* bits holds which pages of [cbase, cend) may hold data */

		while (k < n && !err) {
			size_t m = 0, j;

			if (k >= cend) {
				cbase = k;
				cend = n - k < CHUNK ? n : k + CHUNK;
				known = nfm_source_resident(r->src, rg->start + cbase * NFM_PAGE,
							    cend - cbase, r->bits) == 0;
			}
			/* one batch of up to BATCH pages, skipping the clean ones */
			for (; k < cend && m < BATCH; k++) {
				uint64_t p = pg + k;

				if (sd && !r->o.verify && !(dirty[p / 8] & (1u << (p & 7)))) {
					nfm_store_keep(r->st, p);
					continue;
				}
				if (!r->o.verify && known && !bit(r->bits, k - cbase)) {
					nfm_store_zero(r->st, p);
					continue;
				}
				iov[m].pa = rg->start + k * NFM_PAGE;
				iov[m].buf = r->buf + m * NFM_PAGE;
				iov[m].len = NFM_PAGE;
				m++;
			}
			nfm_source_read_phys_vec(r->src, iov, m);
			for (j = 0; j < m && !err; j++) {
				uint64_t rk = (iov[j].pa - rg->start) / NFM_PAGE, p = pg + rk;
				uint8_t *page = r->buf + j * NFM_PAGE;

				if (iov[j].err)
					memset(page, 0, NFM_PAGE);
				if (sd && !(dirty[p / 8] & (1u << (p & 7)))) {
					/* verify: what soft-dirty would have kept */
					nfm_store_keep(r->st, p);
					if (!nfm_store_same(r->st, nfm_store_cur_entry(r->st, p), page))
						miss++;
					continue;
				}
				if (known && !bit(r->bits, rk - cbase)) {
					/* verify: the host said it holds no data here */
					nfm_store_zero(r->st, p);
					if (!nfm_store_same(r->st, 0, page))
						miss++;
					continue;
				}
				in.read_pages++;
				err = nfm_store_put(r->st, p, page);
				if (err > 0)
					err = 0;
			}
		}
		pg += n;
	}
	if (paused) {
		qmp_run(r, "cont");
		pause += now_ns(CLOCK_MONOTONIC) - p0;
		paused = false;
	}
	if (err) {
		nfm_store_abort(r->st);
		goto out;
	}
	in.pause_ns = pause;
	in.sync_ns = now_ns(CLOCK_MONOTONIC) - t0;
	in.cpu_ns = now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
	err = nfm_store_commit(r->st, &in, ranges);
	if (!err && info)
		*info = in;
	if (missed)
		*missed = miss;
out:
	if (paused)
		qmp_run(r, "cont");
	if (err == -ENOSPC)
		nfm_err(r->log, "%s: the disk is full: recording stopped (the snapshots taken so far "
			"are complete)", r->st->dir);
	free(dirty);
	free(ranges);
	return err;
}
