// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The live QEMU backend. Guest-physical ranges map to host-virtual addresses in the QEMU process,
 * found through QMP (`info mtree -f` + `gpa2hva`) when a socket is known, else through the RAM
 * mapping in /proc/PID/maps plus the machine's low/high split around the PCI hole. Reads go
 * through pread(/proc/PID/mem) or batched process_vm_readv; RAM in a shared file or memfd is
 * mmapped read-only instead, so a read is a memcpy. Nothing is ever opened for writing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <nfm/host.h>

#include "source/pagemap.h"
#include "source/qemu.h"
#include "source/qemu_cmdline.h"
#include "source/qmp.h"
#include "util/hostfile.h"
#include "util/log.h"

#define PAGE 4096ULL
#define FOUR_GIB (4ULL << 30)
#define MAX_MAPS 65536
#define MAX_CMDLINE (1u << 20)

/* Memory that reads as zeros until written: a page absent from its page table holds nothing. */
struct anon_span {
	uint64_t start, end;
};

struct qemu_priv {
	int pid;
	int mem_fd;
	int pagemap_fd;		/* opened on first use */
	bool no_vec;		/* process_vm_readv is not allowed here */
	uint64_t cr3_at_open;	/* CPU 0's CR3 as QMP told at open, for the first attach; 0: ask */
	struct nfm_qmp_layout_job *job;	/* QMP's layout, still coming (see qemu_settle) */
	bool layout_changed;	/* QMP's layout was not the one guessed from the maps */
	void *map_base;		/* shared RAM, mmapped read-only */
	size_t map_len;
	uint64_t map_start;	/* its host address in QEMU */
	int map_fd;		/* its file (read-only), for SEEK_DATA */
	uint64_t map_file_off;	/* file offset of map_base */
	struct anon_span *anon;	/* QEMU's large private anonymous mappings, sorted */
	size_t nr_anon;
	char qmp[256];		/* QMP socket, "" when none is known */
};

int nfm_qemu_parse_maps(const char *text, struct nfm_qemu_map **ret)
{
	struct nfm_qemu_map *m = NULL, *tmp;
	size_t n = 0, cap = 0;
	const char *p = text;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		char line[1024];
		unsigned long long s, e, off;
		char perms[8];
		int pos = 0;

		if (ll >= sizeof(line))
			ll = sizeof(line) - 1;
		memcpy(line, p, ll);
		line[ll] = '\0';
		p = eol ? eol + 1 : p + ll;
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s%n", &s, &e, perms, &off, &pos) < 4 ||
		    e <= s)
			continue;
		if (n == cap) {
			if (cap >= MAX_MAPS)
				break;
			cap = cap ? cap * 2 : 256;
			tmp = realloc(m, cap * sizeof(*m));
			if (!tmp) {
				free(m);
				return -ENOMEM;
			}
			m = tmp;
		}
		memset(&m[n], 0, sizeof(m[n]));
		m[n].start = s;
		m[n].end = e;
		m[n].offset = off;
		snprintf(m[n].perms, sizeof(m[n].perms), "%s", perms);
		if (pos > 0) {
			const char *path = line + pos;

			while (*path == ' ')
				path++;
			snprintf(m[n].path, sizeof(m[n].path), "%s", path);
		}
		n++;
	}
	*ret = m;
	return (int)n;
}

/* Does the mapping belong to the RAM backend we expect? */
static bool map_matches_backend(const struct nfm_qemu_map *m, const struct nfm_qemu_memdev *md)
{
	size_t l;

	if (!md || !strcmp(md->type, "memory-backend-ram"))
		return !m->path[0] || !strncmp(m->path, "[anon", 5);
	if (!strcmp(md->type, "memory-backend-memfd"))
		return !strncmp(m->path, "/memfd:", 7);
	if (!strcmp(md->type, "memory-backend-file") && md->mem_path[0]) {
		l = strlen(md->mem_path);
		/* mem-path is the file, or a directory QEMU made an (unlinked) file in. */
		return !strncmp(m->path, md->mem_path, l) &&
		       (m->path[l] == '\0' || m->path[l] == '/' || !strcmp(m->path + l, " (deleted)"));
	}
	return true;
}

int nfm_qemu_find_ram_map(const struct nfm_qemu_map *maps, size_t n, uint64_t ram_size,
			  const struct nfm_qemu_memdev *md, size_t *idx)
{
	size_t i, found = SIZE_MAX, count = 0;

	for (i = 0; i < n; i++) {
		const struct nfm_qemu_map *m = &maps[i];

		/* Guest RAM is rw; TCG's code buffer beside it is rwx. */
		if (m->end - m->start != ram_size || strncmp(m->perms, "rw-", 3) ||
		    !map_matches_backend(m, md))
			continue;
		if (found == SIZE_MAX)
			found = i;
		count++;
	}
	if (found == SIZE_MAX)
		return -ENOENT;
	*idx = found;
	return (int)count;
}

/* The backend object of the machine's RAM, when the command line names one. */
static const struct nfm_qemu_memdev *ram_memdev(const struct nfm_qemu_cmdline *cl)
{
	size_t i;

	for (i = 0; i < cl->nr_memdevs; i++)
		if (cl->ram_backend[0] && !strcmp(cl->memdevs[i].id, cl->ram_backend))
			return &cl->memdevs[i];
	/* -numa node,memdev=ID without memory-backend=: a single backend of the RAM size. */
	for (i = 0; i < cl->nr_memdevs; i++)
		if (cl->memdevs[i].size == cl->ram_size)
			return &cl->memdevs[i];
	return NULL;
}

static int qemu_read(struct nfm_source *src, uint64_t off, void *buf, size_t len)
{
	struct qemu_priv *p = src->priv;
	uint8_t *b = buf;

	/* process_vm_readv first: it copies once, where /proc/PID/mem copies each page through a
	 * bounce page (measured here: 16 KiB 1.2-1.7 us against 1.7-3.9 us; 64 bytes to 4 KiB
	 * the same or a little less). /proc/PID/mem says which part of a failed read fails. */
	if (!p->no_vec) {
		struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)off, len };
		ssize_t got = process_vm_readv(p->pid, &local, 1, &remote, 1, 0);

		if (got == (ssize_t)len)
			return 0;
		if (got < 0 && (errno == EPERM || errno == ENOSYS))
			p->no_vec = true;
	}
	while (len) {
		ssize_t n = pread(p->mem_fd, b, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		b += n;
		off += n;
		len -= n;
	}
	return 0;
}

static int qemu_read_vec(struct nfm_source *src, const struct nfm_backing_iov *iov, size_t n)
{
	struct qemu_priv *p = src->priv;
	struct iovec local[IOV_MAX], remote[IOV_MAX];
	size_t i = 0;
	int err = 0;

	while (i < n) {
		size_t k = 0, want = 0, j;
		ssize_t got;

		if (p->no_vec)
			break;
		for (; i + k < n && k < IOV_MAX; k++) {
			local[k].iov_base = iov[i + k].buf;
			local[k].iov_len = iov[i + k].len;
			remote[k].iov_base = (void *)(uintptr_t)iov[i + k].off;
			remote[k].iov_len = iov[i + k].len;
			want += iov[i + k].len;
		}
		got = process_vm_readv(p->pid, local, k, remote, k, 0);
		if (got < 0 && (errno == EPERM || errno == ENOSYS))
			p->no_vec = true;
		if (got != (ssize_t)want) {
			/* A partial read: redo this batch piece by piece through /proc/PID/mem. */
			for (j = 0; j < k; j++)
				if (qemu_read(src, iov[i + j].off, iov[i + j].buf, iov[i + j].len))
					err = -EIO;
		}
		i += k;
	}
	for (; i < n; i++)
		if (qemu_read(src, iov[i].off, iov[i].buf, iov[i].len))
			err = -EIO;
	return err;
}

static bool in_private_anon(const struct qemu_priv *p, uint64_t va)
{
	size_t lo = 0, hi = p->nr_anon;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (va < p->anon[mid].start)
			hi = mid;
		else if (va >= p->anon[mid].end)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/*
 * QEMU's private anonymous mappings of 1 MiB or more (guest RAM is one), in address order as
 * the maps list them; a mapping left out only costs reads of its untouched pages.
 */
static int keep_anon_spans(struct qemu_priv *p, const struct nfm_qemu_map *maps, size_t n)
{
	size_t i, k = 0;

	p->anon = calloc(n ? n : 1, sizeof(*p->anon));
	if (!p->anon)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (maps[i].perms[3] == 'p' && maps[i].end - maps[i].start >= (1u << 20) &&
		    (!maps[i].path[0] || !strncmp(maps[i].path, "[anon", 5)) &&
		    (!k || maps[i].start >= p->anon[k - 1].end))
			p->anon[k++] = (struct anon_span){ maps[i].start, maps[i].end };
	p->nr_anon = k;
	return 0;
}

/* Pages that may hold data (pagemap.h): never-written and zero-page-backed RAM is skipped. */
static int qemu_resident(struct nfm_source *src, uint64_t off, uint64_t npages, uint8_t *bitmap)
{
	struct qemu_priv *p = src->priv;
	const struct nfm_zero_pfns *z = nfm_zero_pfns();
	uint64_t entries[512], i = 0;
	char path[64];

	if (src->map) {
		if (p->map_fd < 0)
			return -EOPNOTSUPP;
		return nfm_file_data_pages(p->map_fd, p->map_file_off + off, npages, bitmap);
	}
	if (p->pagemap_fd < 0) {
		snprintf(path, sizeof(path), "/proc/%d/pagemap", p->pid);
		p->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (p->pagemap_fd < 0)
			return -EOPNOTSUPP;
	}
	while (i < npages) {
		uint64_t k = npages - i < 512 ? npages - i : 512, j;
		ssize_t n = pread(p->pagemap_fd, entries, k * 8, (off_t)((off / PAGE + i) * 8));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || n % 8)
			return -EIO;
		k = (uint64_t)n / 8;
		for (j = 0; j < k; j++)
			if (nfm_pagemap_may_hold_data(entries[j],
						      in_private_anon(p, off + (i + j) * PAGE), z))
				bitmap[(i + j) / 8] |= 1u << ((i + j) & 7);
		i += k;
	}
	return 0;
}

static void qemu_destroy(struct nfm_source *src)
{
	struct qemu_priv *p = src->priv;

	if (!p)
		return;
	if (p->job) {
		struct nfm_source_range *r = NULL;
		uint64_t cr3;

		nfm_qmp_layout_join(p->job, &r, &cr3);
		free(r);
	}
	if (p->mem_fd >= 0)
		close(p->mem_fd);
	if (p->pagemap_fd >= 0)
		close(p->pagemap_fd);
	if (p->map_fd >= 0)
		close(p->map_fd);
	if (p->map_base)
		munmap(p->map_base, p->map_len);
	free(p->anon);
	free(p);
	src->priv = NULL;
}

bool nfm_qemu_layout_refines(const struct nfm_source_range *guess, size_t ng, uint64_t base,
			     const struct nfm_source_range *q, size_t nq)
{
	for (size_t i = 0; i < nq; i++) {
		const struct nfm_source_range *g = NULL;

		for (size_t k = 0; k < ng && !g; k++)
			if (q[i].start >= guess[k].start && q[i].start - guess[k].start < guess[k].size)
				g = &guess[k];
		if (!g || q[i].size > g->size - (q[i].start - g->start) ||
		    g->backing + base + (q[i].start - g->start) != q[i].backing)
			return false;
	}
	return true;
}

/*
 * Take QMP's layout once its session (started at open) is done. It usually only refines the
 * guess from /proc/PID/maps (the legacy holes below 1 MiB taken out); when it places RAM
 * elsewhere, layout_changed tells discovery to read again.
 */
static int qemu_settle(struct nfm_source *src)
{
	struct qemu_priv *p = src->priv;
	struct nfm_source_range *q = NULL;
	uint64_t cr3 = 0;
	int n;

	if (!p || !p->job)
		return p && p->layout_changed;
	n = nfm_qmp_layout_join(p->job, &q, &cr3);
	p->job = NULL;
	p->cr3_at_open = cr3;
	if (n <= 0)
		return 0;	/* keep the maps' layout, as when QMP fails at open */
	p->layout_changed = !nfm_qemu_layout_refines(src->ranges, src->nr_ranges,
						      p->map_base ? p->map_start : 0, q, (size_t)n);
	if (p->map_base) {
		bool inside = true;

		for (int i = 0; i < n; i++)
			inside = inside && q[i].backing >= p->map_start &&
				 q[i].backing + q[i].size <= p->map_start + p->map_len;
		for (int i = 0; inside && i < n; i++)
			q[i].backing -= p->map_start;
		if (!inside) {	/* RAM outside the shared file: read through /proc/PID/mem */
			munmap(p->map_base, p->map_len);
			p->map_base = NULL;
			close(p->map_fd);
			p->map_fd = -1;
			src->map = NULL;
			src->map_size = 0;
		}
	}
	if (nfm_source_set_ranges(src, q, (size_t)n) < 0)
		p->layout_changed = true;	/* cannot happen with QMP's ranges; read again anyway */
	free(q);
	return p->layout_changed;
}

/*
 * CPU registers through QMP (HMP "info registers -a" is not needed: CPU 0 is enough for the
 * page-table root). -EOPNOTSUPP without a QMP socket; -ENOENT past CPU 0.
 */
static int qemu_cpu_state(struct nfm_source *src, unsigned int cpu, struct nfm_cpu_state *ret)
{
	struct qemu_priv *p = src->priv;
	char *out = NULL;
	int fd, err;

	if (!p->qmp[0])
		return -EOPNOTSUPP;
	if (cpu > 0)
		return -ENOENT;
	qemu_settle(src);
	memset(ret, 0, sizeof(*ret));
	/* Open asked already, in the same QMP session: good for the attach that follows, once. */
	if (p->cr3_at_open) {
		ret->cr3 = p->cr3_at_open;
		p->cr3_at_open = 0;
		return 0;
	}
	fd = nfm_qmp_connect(p->qmp);
	if (fd < 0)
		return fd;
	err = nfm_qmp_hmp(fd, "info registers", &out);
	close(fd);
	if (err < 0)
		return err;
	ret->cr3 = nfm_qmp_parse_cr3(out);
	free(out);
	return ret->cr3 ? 0 : -EBADMSG;
}

/* Every vCPU's registers, now: one QMP session, HMP "info registers -a", then "info status"
 * (registers that do not move mean nothing while the VM is paused). */
static int qemu_cpu_regs(struct nfm_source *src, struct nfm_cpu_state **ret, size_t *n)
{
	struct qemu_priv *p = src->priv;
	char *out = NULL, state[32];
	int fd, err;

	if (!p->qmp[0])
		return -EOPNOTSUPP;
	fd = nfm_qmp_connect(p->qmp);
	if (fd < 0)
		return fd;
	err = nfm_qmp_hmp(fd, "info registers -a", &out);
	if (err < 0) {
		close(fd);
		return err;
	}
	err = nfm_qmp_parse_regs(out, ret, n);
	free(out);
	out = NULL;
	if (err == 0 && nfm_qmp_hmp(fd, "info status", &out) == 0 &&
	    nfm_host_parse_run_state(out, state, sizeof(state)) == 0 && strcmp(state, "running"))
		for (size_t i = 0; i < *n; i++)
			(*ret)[i].stopped = true;
	free(out);
	close(fd);
	return err;
}

static const struct nfm_source_ops qemu_ops = {
	.kind = "qemu",
	.read_backing = qemu_read,
	.read_backing_vec = qemu_read_vec,
	.cpu_state = qemu_cpu_state,
	.cpu_regs = qemu_cpu_regs,
	.resident = qemu_resident,
	.settle = qemu_settle,
	.destroy = qemu_destroy,
};

/* Map shared RAM read-only when every range lies in one shared file mapping. */
static void try_mmap_shared(struct nfm_source *src, struct qemu_priv *p,
			    const struct nfm_qemu_map *maps, size_t nmaps,
			    struct nfm_source_range *r, size_t nr, const struct nfm_log *log)
{
	const struct nfm_qemu_map *m = NULL;
	char path[128];
	size_t i;
	void *base;
	int fd;

	for (i = 0; i < nmaps; i++)
		if (r[0].backing >= maps[i].start && r[0].backing < maps[i].end)
			m = &maps[i];
	if (!m || m->perms[3] != 's' || !m->path[0] || m->path[0] == '[')
		return;
	for (i = 0; i < nr; i++)
		if (r[i].backing < m->start || r[i].backing + r[i].size > m->end)
			return;
	/* map_files reaches memfds and unlinked files too; it is opened read-only. */
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", p->pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		nfm_dbg(log, "%s: %s; reading through /proc/%d/mem", path, strerror(errno), p->pid);
		return;
	}
	base = mmap(NULL, m->end - m->start, PROT_READ, MAP_SHARED, fd, (off_t)m->offset);
	if (base == MAP_FAILED) {
		close(fd);
		nfm_dbg(log, "mmap of %s: %s; reading through /proc/%d/mem", m->path,
			strerror(errno), p->pid);
		return;
	}
	p->map_base = base;
	p->map_len = m->end - m->start;
	p->map_start = m->start;
	p->map_fd = fd;
	p->map_file_off = m->offset;
	for (i = 0; i < nr; i++)
		r[i].backing -= m->start;
	src->map = base;
	src->map_size = p->map_len;
	nfm_dbg(log, "guest RAM is shared (%s): mapped read-only", m->path);
}

/*
 * Guest RAM from the QEMU command line and /proc/PID/maps: the one mapping of the RAM's size,
 * split around the PCI hole as the machine type does. The count, or -errno (said through log;
 * with log NULL, also -EEXIST when several mappings could be the RAM).
 */
static int ranges_from_maps(int pid, const struct nfm_qemu_cmdline *cl,
			    const struct nfm_qemu_map *maps, size_t nmaps, const struct nfm_log *log,
			    struct nfm_source_range **ret)
{
	struct nfm_source_range *r;
	uint64_t below, above;
	const struct nfm_qemu_map *m;
	size_t idx;
	int count;

	*ret = NULL;
	if (nfm_qemu_ram_split(cl, &below, &above)) {
		nfm_err(log, "QEMU pid %d: machine type %s has an unknown memory layout (give a QMP socket with qmp:PATH)",
			pid, cl->machine_type);
		return -EINVAL;
	}
	count = nfm_qemu_find_ram_map(maps, nmaps, cl->ram_size, ram_memdev(cl), &idx);
	if (count < 0) {
		nfm_err(log, "QEMU pid %d: cannot find its %llu MiB of guest RAM in /proc/%d/maps",
			pid, (unsigned long long)(cl->ram_size >> 20), pid);
		return -ENOENT;
	}
	if (count > 1 && !log)
		return -EEXIST;
	if (count > 1)
		nfm_dbg(log, "QEMU pid %d: %d mappings of the RAM size; using the first", pid, count);
	m = &maps[idx];
	r = calloc(2, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r[0] = (struct nfm_source_range){ .start = 0, .size = below, .backing = m->start };
	if (above)
		r[1] = (struct nfm_source_range){ .start = FOUR_GIB, .size = above,
						  .backing = m->start + below };
	*ret = r;
	return above ? 2 : 1;
}

int nfm_source_open_qemu(int pid, const char *qmp_path, const struct nfm_log *log,
			 struct nfm_source **ret)
{
	struct nfm_qemu_cmdline *cl = NULL;
	struct nfm_qemu_map *maps = NULL;
	struct nfm_source_range *r = NULL;
	struct nfm_source *src = NULL;
	struct qemu_priv *p = NULL;
	char path[64], exe[PATH_MAX], *text = NULL, *desc = NULL;
	size_t len, nr = 0;
	struct stat st;
	ssize_t el;
	int nmaps = 0, err;

	if (pid <= 0 || !ret)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d", pid);
	if (stat(path, &st) < 0) {
		nfm_err(log, "no process %d", pid);
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	el = readlink(path, exe, sizeof(exe) - 1);
	if (el < 0 && (errno == EACCES || errno == EPERM)) {
		nfm_err(log, "no permission to read QEMU pid %d%s", pid, nfm_perm_hint());
		return -EACCES;
	}
	exe[el > 0 ? el : 0] = '\0';
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	err = nfm_read_file(path, MAX_CMDLINE, &text, &len);
	if (err || !len) {
		nfm_err(log, err ? "no process %d" : "pid %d is not a QEMU process", pid);
		err = -ENOENT;
		goto out;
	}
	if (!nfm_qemu_is_qemu_path(exe) && !nfm_qemu_is_qemu_path(text)) {
		nfm_err(log, "pid %d is not a QEMU process", pid);
		err = -ENOENT;
		goto out;
	}
	err = nfm_qemu_cmdline_parse_buf(text, len, cl);
	free(text);
	text = NULL;
	if (err) {
		nfm_err(log, "QEMU pid %d: cannot understand its -m option", pid);
		goto out;
	}
	p = calloc(1, sizeof(*p));
	src = calloc(1, sizeof(*src));
	if (!p || !src) {
		err = -ENOMEM;
		goto out;
	}
	p->pid = pid;
	p->mem_fd = -1;
	p->pagemap_fd = -1;
	p->map_fd = -1;
	src->priv = p;
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	p->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (p->mem_fd < 0) {
		err = -errno;
		if (err == -EACCES || err == -EPERM)
			nfm_err(log, "no permission to read QEMU pid %d%s", pid, nfm_perm_hint());
		else
			nfm_err(log, "QEMU pid %d: cannot open its memory: %s", pid, strerror(-err));
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	err = nfm_read_file(path, 64u << 20, &text, &len);
	if (err) {
		nfm_err(log, "QEMU pid %d: cannot read its memory map: %s", pid, strerror(-err));
		goto out;
	}
	nmaps = nfm_qemu_parse_maps(text, &maps);
	if (nmaps < 0) {
		err = nmaps;
		goto out;
	}
	err = keep_anon_spans(p, maps, (size_t)nmaps);
	if (err)
		goto out;

	if (!qmp_path && cl->qmp[0])
		qmp_path = cl->qmp;
	if (qmp_path)
		snprintf(p->qmp, sizeof(p->qmp), "%s", qmp_path);
	if (qmp_path) {
		/*
		 * When the maps pin the layout down, discovery starts on it while the QMP session
		 * (some milliseconds of QEMU's main loop) runs on a second thread; else QMP first.
		 */
		int n = ranges_from_maps(pid, cl, maps, (size_t)nmaps, NULL, &r);

		if (n > 0 && (p->job = nfm_qmp_layout_start(qmp_path, cl)) != NULL) {
			nr = (size_t)n;
		} else {
			free(r);
			r = NULL;
			n = nfm_qmp_layout(qmp_path, cl, log, &r, &p->cr3_at_open);
			if (n > 0)
				nr = (size_t)n;
		}
	}
	if (!nr) {
		int n = ranges_from_maps(pid, cl, maps, (size_t)nmaps, log, &r);

		if (n < 0) {
			err = n;
			goto out;
		}
		nr = (size_t)n;
	}
	try_mmap_shared(src, p, maps, nmaps, r, nr, log);

	src->live = true;
	src->pid = pid;
	if (cl->name[0] && !(src->vm_name = strdup(cl->name))) {
		err = -ENOMEM;
		goto out;
	}
	/* Say when RAM is read through a read-only mapping of the shared RAM file. */
	err = asprintf(&desc, "qemu pid %d%s%s%s%s", pid, cl->name[0] ? " (" : "", cl->name,
		       cl->name[0] ? ")" : "", src->map ? ", shared RAM mapped read-only" : "");
	if (err < 0) {
		err = -ENOMEM;
		desc = NULL;
		goto out;
	}
	err = nfm_source_init(src, &qemu_ops, r, nr, desc);
	if (err) {
		nfm_err(log, "QEMU pid %d: inconsistent guest memory layout", pid);
		goto out;
	}
	*ret = src;
	src = NULL;
out:
	if (src) {
		qemu_destroy(src);
		free(src->vm_name);
		free(src);
	}
	free(desc);
	free(r);
	free(maps);
	free(text);
	free(cl);
	return err;
}
