// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pages that cannot hold data, from the host kernel's bookkeeping (pagemap.h). The zero pages
 * are found the way they come to be: a read of never-written anonymous memory maps the shared
 * zero page (or, in a transparent-huge-page region, the huge zero page); pagemap then names its
 * frame, and /proc/kpageflags (KPF_ZERO_PAGE) confirms it before it is trusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "source/pagemap.h"

#define PAGE 4096ull
#define KPF_ZERO_PAGE (1ull << 24)

static struct nfm_zero_pfns zero;
static pthread_once_t zero_once = PTHREAD_ONCE_INIT;

static uint64_t read_u64(int fd, uint64_t index)
{
	uint64_t v = 0;

	if (fd < 0 || pread(fd, &v, sizeof(v), (off_t)(index * 8)) != sizeof(v))
		return 0;
	return v;
}

/* The frame behind our own address a after one read of it, if it is a zero page; else 0. */
static uint64_t zero_frame_of(volatile const uint8_t *a, int pm, int kpf)
{
	uint64_t e, pfn;

	(void)*a;
	e = read_u64(pm, (uintptr_t)a / PAGE);
	pfn = e & NFM_PM_PFN_MASK;
	if (!(e & NFM_PM_PRESENT) || !pfn || !(read_u64(kpf, pfn) & KPF_ZERO_PAGE))
		return 0;
	return pfn;
}

static uint64_t thp_size(void)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "re");
	unsigned long long v = 0;

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v >= 2 * PAGE && !(v & (v - 1)) && v <= (1ull << 30) ? v : 0;
}

static void find_zero_pfns(void)
{
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	int kpf = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	uint64_t hs = thp_size();
	uint8_t *m;

	if (pm < 0 || kpf < 0)
		goto out;
	m = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m != MAP_FAILED) {
		zero.small = zero_frame_of(m, pm, kpf);
		munmap(m, PAGE);
	}
	if (hs) {
		/* An aligned huge region read once: the huge zero page when THP may map it (our
		 * process then holds it until exit, so its frame stays the same). */
		m = mmap(NULL, 2 * hs, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m != MAP_FAILED) {
			uint8_t *a = (uint8_t *)(((uintptr_t)m + hs - 1) & ~(uintptr_t)(hs - 1));
			uint64_t pfn;

			madvise(a, hs, MADV_HUGEPAGE);
			pfn = zero_frame_of(a, pm, kpf);
			if (pfn && pfn != zero.small && !(pfn & (hs / PAGE - 1))) {
				zero.huge = pfn;
				zero.huge_pages = hs / PAGE;
			}
			munmap(m, 2 * hs);
		}
	}
out:
	if (pm >= 0)
		close(pm);
	if (kpf >= 0)
		close(kpf);
}

const struct nfm_zero_pfns *nfm_zero_pfns(void)
{
	pthread_once(&zero_once, find_zero_pfns);
	return &zero;
}

bool nfm_pagemap_may_hold_data(uint64_t e, bool private_anon, const struct nfm_zero_pfns *z)
{
	uint64_t pfn = e & NFM_PM_PFN_MASK;

	if (e & NFM_PM_PRESENT)
		return !pfn || !z ||
		       !((z->small && pfn == z->small) ||
			 (z->huge && pfn >= z->huge && pfn - z->huge < z->huge_pages));
	if (e & NFM_PM_SWAP)
		return true;
	return !private_anon;
}

static void set_bits(uint8_t *bitmap, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++)
		bitmap[i / 8] |= (uint8_t)(1u << (i & 7));
}

int nfm_file_data_pages(int fd, uint64_t off, uint64_t npages, uint8_t *bitmap)
{
	uint64_t end = off + npages * PAGE, pos = off;

	while (pos < end) {
		off_t d = lseek(fd, (off_t)pos, SEEK_DATA), h;

		if (d < 0 && errno == ENXIO)
			return 0;	/* no data from pos to the end of the file */
		if (d < 0) {
			int err = -errno;

			set_bits(bitmap, 0, npages);
			return err;
		}
		if ((uint64_t)d >= end)
			return 0;
		h = lseek(fd, d, SEEK_HOLE);
		if (h < 0 || (uint64_t)h <= (uint64_t)d)
			h = (off_t)((uint64_t)d + PAGE);	/* always forward */
		if ((uint64_t)h > end)
			h = (off_t)end;
		set_bits(bitmap, ((uint64_t)d - off) / PAGE, ((uint64_t)h - off + PAGE - 1) / PAGE);
		pos = (uint64_t)h;
	}
	return 0;
}
