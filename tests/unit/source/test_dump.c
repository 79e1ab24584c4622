// SPDX-License-Identifier: GPL-2.0-or-later
/* Dump files: ELF (PT_LOADs, VMCOREINFO, QEMU CPU notes), LiME, raw, format detection, errors. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "source/dump.h"

static char last_err[512];

static void logfn(void *u, enum nfm_log_level l, const char *msg)
{
	if (l == NFM_LOG_ERR)
		snprintf(last_err, sizeof(last_err), "%s", msg);
}

static const struct nfm_log tlog = { logfn, NULL, NFM_LOG_DEBUG };

static char *write_tmp(const void *data, size_t len)
{
	char *path = strdup("/tmp/nfm-test-dump-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

static size_t put_note(uint8_t *p, const char *name, uint32_t type, const void *desc, uint32_t dsz)
{
	Elf64_Nhdr nh = { .n_namesz = strlen(name) + 1, .n_descsz = dsz, .n_type = type };
	size_t off = 0;

	memcpy(p, &nh, sizeof(nh));
	off += sizeof(nh);
	memcpy(p + off, name, nh.n_namesz);
	off += (nh.n_namesz + 3) & ~3u;
	memcpy(p + off, desc, dsz);
	off += (dsz + 3) & ~3u;
	return off;
}

#define VMCI "OSRELEASE=6.1.0-test\nPAGESIZE=4096\nKERNELOFFSET=1a000000\n"

/*
 * An ELF core: notes (CORE prstatus, VMCOREINFO, 2 QEMU CPU notes), PT_LOAD 0x0-0x2000, and
 * PT_LOAD 0x100000000 with filesz 0x1000 < memsz 0x2000. Returns its size.
 */
static size_t build_elf(uint8_t *img, size_t cap)
{
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph[3] = { { 0 } };
	uint8_t notes[2048], qcs[440] = { 0 };
	size_t nlen = 0, off, data0, data1;
	uint32_t v;
	uint64_t x;
	int cpu;

	memset(img, 0, cap);
	nlen += put_note(notes + nlen, "CORE", NT_PRSTATUS, qcs, 336);
	nlen += put_note(notes + nlen, "VMCOREINFO", 0, VMCI, sizeof(VMCI));
	for (cpu = 0; cpu < 2; cpu++) {
		memset(qcs, 0, sizeof(qcs));
		v = 1;
		memcpy(qcs, &v, 4);
		v = 440;
		memcpy(qcs + 4, &v, 4);
		x = 0xffffffff81000000ULL + cpu;	/* rip */
		memcpy(qcs + 136, &x, 8);
		x = 0xffffc90000003f00ULL;		/* rsp */
		memcpy(qcs + 8 + 6 * 8, &x, 8);
		x = 0xffff888007a00000ULL + cpu * 0x40000;	/* gs.base */
		memcpy(qcs + 152 + 4 * 24 + 16, &x, 8);
		x = 0xfffffe0000000000ULL;		/* idt.base */
		memcpy(qcs + 152 + 9 * 24 + 16, &x, 8);
		x = 0x80050033;				/* cr0 */
		memcpy(qcs + 392, &x, 8);
		x = 0x10a000 + cpu * 0x1000;		/* cr3 */
		memcpy(qcs + 392 + 24, &x, 8);
		x = 0x3606f0;				/* cr4 */
		memcpy(qcs + 392 + 32, &x, 8);
		x = 0x7f0000001000ULL;			/* kernel_gs_base */
		memcpy(qcs + 432, &x, 8);
		nlen += put_note(notes + nlen, "QEMU", 0, qcs, sizeof(qcs));
	}
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 3;
	off = sizeof(eh) + sizeof(ph);
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = off;
	ph[0].p_filesz = nlen;
	ph[0].p_memsz = nlen;
	off += nlen;
	data0 = (off + 4095) & ~4095UL;
	data1 = data0 + 0x2000;
	ph[1].p_type = PT_LOAD;
	ph[1].p_offset = data0;
	ph[1].p_paddr = 0;
	ph[1].p_filesz = ph[1].p_memsz = 0x2000;
	ph[2].p_type = PT_LOAD;
	ph[2].p_offset = data1;
	ph[2].p_paddr = 0x100000000ULL;
	ph[2].p_vaddr = 0xffff888100000000ULL;
	ph[2].p_filesz = 0x1000;
	ph[2].p_memsz = 0x2000;
	assert_true(data1 + 0x1000 <= cap);
	memcpy(img, &eh, sizeof(eh));
	memcpy(img + sizeof(eh), ph, sizeof(ph));
	memcpy(img + ph[0].p_offset, notes, nlen);
	for (off = 0; off < 0x3000; off++)
		img[data0 + off] = (uint8_t)(off ^ (off >> 8));
	return data1 + 0x1000;
}

static uint8_t img[0x8000];

static void test_elf(void **state)
{
	size_t len = build_elf(img, sizeof(img));
	char *path = write_tmp(img, len), spec[64], *vmci;
	const struct nfm_phys_range *r;
	struct nfm_source *src;
	struct nfm_cpu_state c;
	uint8_t b[16];
	size_t vlen;

	snprintf(spec, sizeof(spec), "file:%s", path);
	assert_int_equal(nfm_source_open(spec, &tlog, &src), 0);
	assert_string_equal(nfm_source_kind(src), "elf");
	assert_false(nfm_source_is_live(src));
	assert_int_equal(nfm_source_ranges(src, &r), 2);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].size, 0x2000);
	assert_int_equal(r[1].start, 0x100000000ULL);
	assert_int_equal(r[1].size, 0x1000);	/* the p_memsz tail is not in the file */
	assert_int_equal(nfm_source_read_phys(src, 0x1ff8, b, 8), 0);
	assert_int_equal(b[0], (uint8_t)(0x1ff8 ^ 0x1f));
	assert_int_equal(nfm_source_read_phys(src, 0x100000000ULL, b, 4), 0);
	assert_int_equal(b[1], (uint8_t)(0x2001 ^ 0x20));
	assert_int_equal(nfm_source_read_phys(src, 0x100000ffcULL, b, 8), -EFAULT);
	assert_int_equal(nfm_source_read_phys(src, 0x100001000ULL, b, 1), -EFAULT);
	assert_int_equal(nfm_source_vmcoreinfo(src, &vmci, &vlen), 0);
	assert_string_equal(vmci, VMCI);
	assert_int_equal(vlen, strlen(VMCI));
	free(vmci);
	assert_int_equal(nfm_source_cpu_state(src, 1, &c), 0);
	assert_int_equal(c.rip, 0xffffffff81000001ULL);
	assert_int_equal(c.rsp, 0xffffc90000003f00ULL);
	assert_int_equal(c.gs_base, 0xffff888007a40000ULL);
	assert_int_equal(c.idt_base, 0xfffffe0000000000ULL);
	assert_int_equal(c.cr0, 0x80050033);
	assert_int_equal(c.cr3, 0x10b000);
	assert_int_equal(c.cr4, 0x3606f0);
	assert_int_equal(c.kernel_gs_base, 0x7f0000001000ULL);
	assert_int_equal(nfm_source_cpu_state(src, 2, &c), -ENOENT);
	nfm_source_free(src);
	unlink(path);
	free(path);
}

static void test_elf_truncated_and_corrupt(void **state)
{
	size_t len = build_elf(img, sizeof(img));
	struct nfm_source *src;
	Elf64_Phdr ph;

	/* Cut inside the last segment. */
	assert_int_equal(nfm_source_new_dump_mem(img, len - 1, "x.elf", &tlog, &src), -EBADMSG);
	assert_non_null(strstr(last_err, "x.elf: truncated ELF dump ("));
	/* Cut inside the ELF header. */
	assert_int_equal(nfm_source_new_dump_mem(img, 40, "x.elf", &tlog, &src), -EBADMSG);
	assert_non_null(strstr(last_err, "truncated ELF dump"));
	/* Cut inside the program headers. */
	assert_int_equal(nfm_source_new_dump_mem(img, 64 + 56 + 10, "x.elf", &tlog, &src), -EBADMSG);
	/* Overlapping PT_LOADs whose bytes disagree. */
	memcpy(&ph, img + 64 + 2 * 56, sizeof(ph));
	ph.p_paddr = 0x1000;
	memcpy(img + 64 + 2 * 56, &ph, sizeof(ph));
	assert_int_equal(nfm_source_new_dump_mem(img, len, "x.elf", &tlog, &src), -EBADMSG);
	assert_non_null(strstr(last_err, "overlap"));
	/* filesz > memsz. */
	len = build_elf(img, sizeof(img));
	memcpy(&ph, img + 64 + 2 * 56, sizeof(ph));
	ph.p_memsz = 0x10;
	memcpy(img + 64 + 2 * 56, &ph, sizeof(ph));
	assert_int_equal(nfm_source_new_dump_mem(img, len, "x.elf", &tlog, &src), -EBADMSG);
	/* A note whose size runs past its segment. */
	len = build_elf(img, sizeof(img));
	{
		Elf64_Nhdr nh;
		size_t noff = 64 + 3 * 56;

		memcpy(&nh, img + noff, sizeof(nh));
		nh.n_descsz = 0x7fffffff;
		memcpy(img + noff, &nh, sizeof(nh));
	}
	assert_int_equal(nfm_source_new_dump_mem(img, len, "x.elf", &tlog, &src), -EBADMSG);
	/* Absurd header count. */
	len = build_elf(img, sizeof(img));
	img[56] = 0xfe;
	img[57] = 0xff;
	assert_int_equal(nfm_source_new_dump_mem(img, len, "x.elf", &tlog, &src), -EBADMSG);
	/* Neither x86-64 nor arm64 (RISC-V). */
	len = build_elf(img, sizeof(img));
	img[18] = 243;
	assert_int_equal(nfm_source_new_dump_mem(img, len, "x.elf", &tlog, &src), -EOPNOTSUPP);
}

static void test_elf_consistent_overlap_merges(void **state)
{
	size_t len = build_elf(img, sizeof(img));
	struct nfm_source *src;
	const struct nfm_phys_range *r;
	Elf64_Phdr ph;

	/* Paging-mode dumps repeat physical ranges: same paddr→offset mapping merges. */
	memcpy(&ph, img + 64 + 56, sizeof(ph));
	ph.p_paddr += 0x1000;
	ph.p_offset += 0x1000;
	ph.p_filesz = ph.p_memsz = 0x800;
	memcpy(img + 64 + 2 * 56, &ph, sizeof(ph));
	assert_int_equal(nfm_source_new_dump_mem(img, len, "x.elf", &tlog, &src), 0);
	assert_int_equal(nfm_source_ranges(src, &r), 1);
	assert_int_equal(r[0].size, 0x2000);
	nfm_source_free(src);
}

static size_t put_lime(uint8_t *p, uint64_t s, uint64_t e, uint8_t fill)
{
	uint32_t magic = 0x4C694D45, ver = 1;

	memcpy(p, &magic, 4);
	memcpy(p + 4, &ver, 4);
	memcpy(p + 8, &s, 8);
	memcpy(p + 16, &e, 8);
	memset(p + 24, 0, 8);
	memset(p + 32, fill, e - s + 1);
	return 32 + e - s + 1;
}

static void test_lime(void **state)
{
	const struct nfm_phys_range *r;
	struct nfm_source *src;
	size_t len = 0;
	uint8_t b[4];
	char *path;

	len += put_lime(img + len, 0x100000, 0x100fff, 0x11);
	len += put_lime(img + len, 0x1000, 0x1fff, 0x22);
	len += put_lime(img + len, 0x101000, 0x1017ff, 0x33);
	path = write_tmp(img, len);
	assert_int_equal(nfm_source_open(path, &tlog, &src), 0);
	assert_string_equal(nfm_source_kind(src), "lime");
	assert_int_equal(nfm_source_ranges(src, &r), 3);
	assert_int_equal(r[0].start, 0x1000);
	assert_int_equal(r[1].start, 0x100000);
	assert_int_equal(r[2].start, 0x101000);
	assert_int_equal(r[2].size, 0x800);
	assert_int_equal(nfm_source_read_phys(src, 0x100ffe, b, 4), 0);
	assert_int_equal(b[1], 0x11);
	assert_int_equal(b[2], 0x33);
	assert_int_equal(nfm_source_read_phys(src, 0x1017fe, b, 4), -EFAULT);
	assert_int_equal(nfm_source_read_phys(src, 0x1fff, b, 1), 0);
	assert_int_equal(b[0], 0x22);
	nfm_source_free(src);
	unlink(path);
	free(path);
	/* Truncated, and overlapping. */
	assert_int_equal(nfm_source_new_dump_mem(img, len - 1, "l", &tlog, &src), -EBADMSG);
	assert_non_null(strstr(last_err, "truncated LiME dump"));
	len = put_lime(img, 0x0, 0xfff, 1);
	len += put_lime(img + len, 0x800, 0x17ff, 2);
	assert_int_equal(nfm_source_new_dump_mem(img, len, "l", &tlog, &src), -EBADMSG);
}

static void test_raw_and_detect(void **state)
{
	struct nfm_source *src;
	const char *what = NULL;
	char *path;
	uint8_t b[2];

	memset(img, 0x5a, 0x3000);
	img[0] = 1;
	path = write_tmp(img, 0x3000);
	assert_int_equal(nfm_source_open(path, &tlog, &src), 0);
	assert_string_equal(nfm_source_kind(src), "raw");
	assert_int_equal(nfm_source_ram_size(src), 0x3000);
	assert_int_equal(nfm_source_read_phys(src, 0x2fff, b, 1), 0);
	assert_int_equal(b[0], 0x5a);
	assert_int_equal(nfm_source_read_phys(src, 0x2fff, b, 2), -EFAULT);
	assert_int_equal(nfm_source_cpu_state(src, 0, &(struct nfm_cpu_state){ 0 }), -EOPNOTSUPP);
	nfm_source_free(src);
	unlink(path);
	free(path);

	assert_int_equal(nfm_dump_detect((const uint8_t *)"\x7f" "ELF", 4, NULL), NFM_DUMP_ELF);
	assert_int_equal(nfm_dump_detect((const uint8_t *)"EMiL", 4, NULL), NFM_DUMP_LIME);
	assert_int_equal(nfm_dump_detect((const uint8_t *)"KDUMP   \x06", 9, NULL), NFM_DUMP_KDUMP);
	assert_int_equal(nfm_dump_detect((const uint8_t *)"DISKDUMP", 8, NULL), NFM_DUMP_KDUMP);
	assert_int_equal(nfm_dump_detect((const uint8_t *)"makedumpfile", 12, NULL),
			 NFM_DUMP_KDUMP_FLAT);
	assert_int_equal(nfm_dump_detect((const uint8_t *)"QEVM\0\0\0\3", 8, NULL),
			 NFM_DUMP_MIGRATION);
	assert_int_equal(nfm_dump_detect((const uint8_t *)"BZh9", 4, &what), NFM_DUMP_UNSUPPORTED);
	assert_string_equal(what, "a bzip2-compressed file");
	assert_int_equal(nfm_dump_detect((const uint8_t *)"\x00\x00", 2, NULL), NFM_DUMP_RAW);

	memcpy(img, "KDUMP   ", 8);
	path = write_tmp(img, 0x1000);
	/* A kdump header with nothing behind it: libkdumpfile refuses it, one error line. */
	assert_int_equal(nfm_source_open(path, &tlog, &src), -EBADMSG);
	assert_non_null(strstr(last_err, ": corrupt kdump-compressed dump"));
	unlink(path);
	free(path);

	/* A flattened stream cut inside its first record. */
	memcpy(img, "makedumpfile", 12);
	path = write_tmp(img, 0x1000);
	assert_int_equal(nfm_source_open(path, &tlog, &src), -EBADMSG);
	assert_non_null(strstr(last_err, ": corrupt flattened kdump dump"));
	unlink(path);
	free(path);

	/* A migration stream of nothing but its header (test_migration.c reads real ones). */
	memcpy(img, "QEVM\0\0\0\3", 8);
	memset(img + 8, 0x5a, 8);
	path = write_tmp(img, 0x1000);
	assert_int_equal(nfm_source_open(path, &tlog, &src), -EBADMSG);
	assert_non_null(strstr(last_err, ": corrupt QEMU migration stream (unknown section type"));
	unlink(path);
	free(path);

	path = write_tmp(img, 0);
	assert_int_equal(nfm_source_open(path, &tlog, &src), -EBADMSG);
	assert_non_null(strstr(last_err, ": empty file"));
	unlink(path);
	free(path);

	assert_int_equal(nfm_source_open("/nonexistent/dir/x.elf", &tlog, &src), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf),
		cmocka_unit_test(test_elf_truncated_and_corrupt),
		cmocka_unit_test(test_elf_consistent_overlap_merges),
		cmocka_unit_test(test_lime),
		cmocka_unit_test(test_raw_and_detect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
