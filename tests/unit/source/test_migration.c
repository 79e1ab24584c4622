// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * QEMU migration streams built byte by byte as QEMU 7.2 writes them: the last copy of a page
 * wins, zero pages read as their fill byte, pages of other RAM blocks are skipped, RAM past the
 * i440fx low-memory limit lies above 4 GiB; cut, forged and compressed streams are refused with
 * one error line each.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "source/dump.h"

static char last_err[512];

static void logfn(void *u, enum nfm_log_level l, const char *msg)
{
	if (l == NFM_LOG_ERR)
		snprintf(last_err, sizeof(last_err), "%s", msg);
}

static const struct nfm_log tlog = { logfn, NULL, NFM_LOG_DEBUG };

struct w {
	uint8_t *b;
	size_t n, cap;
};

static void put(struct w *w, const void *p, size_t n)
{
	if (w->n + n > w->cap) {
		w->cap = (w->n + n) * 2;
		w->b = realloc(w->b, w->cap);
		assert_non_null(w->b);
	}
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void be(struct w *w, uint64_t v, int bytes)
{
	uint8_t x[8];
	int i;

	for (i = 0; i < bytes; i++)
		x[i] = v >> (8 * (bytes - 1 - i));
	put(w, x, bytes);
}

static void str(struct w *w, const char *s)
{
	be(w, strlen(s), 1);
	put(w, s, strlen(s));
}

static void header(struct w *w, const char *machine)
{
	put(w, "QEVM", 4);
	be(w, 3, 4);
	be(w, 0x07, 1);
	be(w, strlen(machine), 4);
	put(w, machine, strlen(machine));
}

/* START of "ram" (section 2) with its block list, EOS and footer. */
static void ram_start(struct w *w, uint64_t ram, uint64_t bios)
{
	be(w, 0x01, 1);
	be(w, 2, 4);
	str(w, "ram");
	be(w, 0, 4);
	be(w, 4, 4);
	be(w, (ram + bios) | 0x04, 8);
	str(w, "pc.ram");
	be(w, ram, 8);
	str(w, "pc.bios");
	be(w, bios, 8);
	be(w, 0x10, 8);
	be(w, 0x7e, 1);
	be(w, 2, 4);
}

static void part(struct w *w, int type)
{
	be(w, type, 1);
	be(w, 2, 4);
}

static void end_part(struct w *w)
{
	be(w, 0x10, 8);
	be(w, 0x7e, 1);
	be(w, 2, 4);
}

/* A page record: block NULL continues the last block. fill < 0: a full page of byte -fill. */
static void page(struct w *w, const char *block, uint64_t addr, int fill)
{
	uint8_t pg[4096];

	be(w, addr | (fill < 0 ? 0x08 : 0x02) | (block ? 0 : 0x20), 8);
	if (block)
		str(w, block);
	if (fill < 0) {
		memset(pg, -fill, sizeof(pg));
		put(w, pg, sizeof(pg));
	} else {
		be(w, fill, 1);
	}
}

/* A fresh stream up to the first part of type `type` after the block list (pc.bios: 1 page). */
static void begin(struct w *w, const char *machine, uint64_t ram, int type)
{
	free(w->b);
	memset(w, 0, sizeof(*w));
	header(w, machine);
	ram_start(w, ram, 0x1000);
	part(w, type);
}

/* Device state after the RAM: nfm stops before it. */
static void devices(struct w *w)
{
	be(w, 0x04, 1);
	be(w, 3, 4);
	str(w, "cpu");
	be(w, 0, 4);
	be(w, 1, 4);
	put(w, "\x99\x98\x97", 3);
}

/* The RAM parts: three pages of pc.ram and one of pc.bios; page 0 sent again in the last part. */
static void build_ram(struct w *w)
{
	header(w, "pc-i440fx-7.2");
	ram_start(w, 0x3000, 0x1000);
	part(w, 0x02);
	page(w, "pc.ram", 0x0000, -0x11);
	page(w, NULL, 0x1000, 0);
	page(w, "pc.bios", 0x0000, -0x44);
	page(w, "pc.ram", 0x2000, -0x22);
	end_part(w);
	part(w, 0x03);
	page(w, NULL, 0x0000, -0x33);	/* continues pc.ram across parts, as QEMU does */
	end_part(w);
}

/* A whole stream: the RAM parts, then the device state. */
static void build(struct w *w)
{
	build_ram(w);
	devices(w);
}

static void test_read(void **state)
{
	const struct nfm_phys_range *r;
	struct nfm_source *src;
	struct w w = { 0 };
	uint8_t b[8];

	build(&w);
	assert_int_equal(nfm_source_new_dump_mem(w.b, w.n, "m", &tlog, &src), 0);
	assert_string_equal(nfm_source_kind(src), "migration");
	assert_int_equal(nfm_source_ranges(src, &r), 1);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].size, 0x3000);
	assert_int_equal(nfm_source_read_phys(src, 0x0ffc, b, 8), 0);
	assert_memory_equal(b, "\x33\x33\x33\x33\x00\x00\x00\x00", 8);
	assert_int_equal(nfm_source_read_phys(src, 0x1ffc, b, 8), 0);
	assert_memory_equal(b, "\x00\x00\x00\x00\x22\x22\x22\x22", 8);
	assert_int_equal(nfm_source_read_phys(src, 0x2ffc, b, 8), -EFAULT);
	assert_non_null(strstr(nfm_source_describe(src), "pc-i440fx-7.2"));
	nfm_source_free(src);
	free(w.b);
}

static void test_high_ram(void **state)
{
	/* 3.5 GiB on i440fx: 3 GiB below the PCI hole, 512 MiB from 4 GiB. */
	const uint64_t ram = 0xe0000000ull, low = 0xc0000000ull;
	const struct nfm_phys_range *r;
	struct nfm_source *src;
	struct w w = { 0 };
	uint64_t a;
	uint8_t b[2];

	begin(&w, "pc-i440fx-7.2", ram, 0x03);
	page(&w, "pc.ram", 0, 0);
	for (a = 0x1000; a < ram; a += 0x1000)
		page(&w, NULL, a, a == low ? -0x55 : 0);
	end_part(&w);
	assert_int_equal(nfm_source_new_dump_mem(w.b, w.n, "m", &tlog, &src), 0);
	assert_int_equal(nfm_source_ranges(src, &r), 2);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].size, low);
	assert_int_equal(r[1].start, 1ull << 32);
	assert_int_equal(r[1].size, ram - low);
	assert_int_equal(nfm_source_read_phys(src, (1ull << 32) - 1, b, 1), -EFAULT);
	assert_int_equal(nfm_source_read_phys(src, low - 1, b, 1), 0);
	assert_int_equal(b[0], 0);
	assert_int_equal(nfm_source_read_phys(src, 1ull << 32, b, 2), 0);
	assert_memory_equal(b, "\x55\x55", 2);
	nfm_source_free(src);

	/* The same block list with one page: a table the stream could never fill is refused
	 * before it is allocated. */
	begin(&w, "pc-i440fx-7.2", ram, 0x03);
	page(&w, "pc.ram", 0, 0);
	end_part(&w);
	assert_int_equal(nfm_source_new_dump_mem(w.b, w.n, "m", &tlog, &src), -EBADMSG);
	assert_non_null(strstr(last_err, "RAM larger than the stream could hold"));
	free(w.b);
}

static void test_refusals(void **state)
{
	struct nfm_source *src;
	struct w w = { 0 };
	size_t cut;

	/* cut inside the block list; and after a whole part, before the RAM's last */
	build(&w);
	assert_int_equal(nfm_source_new_dump_mem(w.b, 60, "m", &tlog, &src), -EBADMSG);
	assert_non_null(strstr(last_err, "m: corrupt QEMU migration stream (RAM block list"));
	begin(&w, "pc-i440fx-7.2", 0x3000, 0x02);
	page(&w, "pc.ram", 0x0000, 0);
	end_part(&w);
	assert_int_equal(nfm_source_new_dump_mem(w.b, w.n, "m", &tlog, &src), -EBADMSG);
	assert_non_null(strstr(last_err, "m: incomplete QEMU migration stream (ends before the RAM's last part)"));

	/* a page never sent */
	begin(&w, "pc-i440fx-7.2", 0x3000, 0x03);
	page(&w, "pc.ram", 0x0000, 0);
	page(&w, NULL, 0x2000, 0);
	end_part(&w);
	assert_int_equal(nfm_source_new_dump_mem(w.b, w.n, "m", &tlog, &src), -EBADMSG);
	assert_non_null(strstr(last_err, "1 of 3 pages of RAM block \"pc.ram\" never sent"));

	/* a page past its block, and of a block never listed */
	begin(&w, "pc-i440fx-7.2", 0x3000, 0x03);
	page(&w, "pc.bios", 0x1000, 0);
	assert_int_equal(nfm_source_new_dump_mem(w.b, w.n, "m", &tlog, &src), -EBADMSG);
	assert_non_null(strstr(last_err, "page beyond its RAM block"));
	w.n -= 8 + 8 + 1;
	page(&w, "vga.vram", 0, 0);
	assert_int_equal(nfm_source_new_dump_mem(w.b, w.n, "m", &tlog, &src), -EBADMSG);
	assert_non_null(strstr(last_err, "page of an unknown RAM block"));

	/* an XBZRLE page and a compressed one */
	begin(&w, "pc-i440fx-7.2", 0x3000, 0x03);
	cut = w.n;
	be(&w, 0x40, 8);
	assert_int_equal(nfm_source_new_dump_mem(w.b, w.n, "m", &tlog, &src), -EOPNOTSUPP);
	assert_non_null(strstr(last_err, "XBZRLE-encoded pages, which nfm cannot read"));
	w.n = cut;
	be(&w, 0x100, 8);
	assert_int_equal(nfm_source_new_dump_mem(w.b, w.n, "m", &tlog, &src), -EOPNOTSUPP);
	assert_non_null(strstr(last_err, "compressed pages"));
	free(w.b);

	/* another version; a device section before the RAM is done */
	memset(&w, 0, sizeof(w));
	put(&w, "QEVM\0\0\0\2", 8);
	assert_int_equal(nfm_source_new_dump_mem(w.b, w.n, "m", &tlog, &src), -EOPNOTSUPP);
	assert_non_null(strstr(last_err, "version 2, nfm reads version 3"));
	free(w.b);
	memset(&w, 0, sizeof(w));
	header(&w, "pc-i440fx-7.2");
	devices(&w);
	assert_int_equal(nfm_source_new_dump_mem(w.b, w.n, "m", &tlog, &src), -EOPNOTSUPP);
	assert_non_null(strstr(last_err, "section \"cpu\" before the RAM's last part"));

	/* names are printable ASCII: an escape sequence in a block name is refused, not printed */
	begin(&w, "pc-i440fx-7.2", 0x3000, 0x03);
	page(&w, "pc.ram\x1b[2J", 0, 0);
	assert_int_equal(nfm_source_new_dump_mem(w.b, w.n, "m", &tlog, &src), -EBADMSG);
	assert_non_null(strstr(last_err, "corrupt QEMU migration stream (block name"));
	assert_null(strchr(last_err, '\x1b'));

	/* a machine whose layout nfm does not know: RAM below 2 GiB lies from 0 on every x86
	 * machine; more would need the machine's own layout */
	begin(&w, "microvm", 0x3000, 0x03);
	page(&w, "pc.ram", 0x0000, 0);
	page(&w, NULL, 0x1000, 0);
	page(&w, NULL, 0x2000, 0);
	end_part(&w);
	assert_int_equal(nfm_source_new_dump_mem(w.b, w.n, "m", &tlog, &src), 0);
	nfm_source_free(src);
	free(w.b);
}

/*
 * Every prefix of a good stream (ASan runs this too): shorter than the magic, not a migration
 * stream (read as raw memory, as any small file); cut inside the RAM parts, refused with a
 * reason; cut just after the last part's EOS (no section footer: streams of QEMU machine types
 * without footers end so) or in the device state after it, read, its RAM whole.
 */
static void test_prefixes(void **state)
{
	struct nfm_source *src;
	struct w w = { 0 };
	size_t n, ram_end, refused = 0;
	uint8_t b[8];

	build_ram(&w);
	ram_end = w.n;
	devices(&w);
	for (n = 1; n < w.n; n++) {
		uint8_t *copy = malloc(n);
		int rc;

		memcpy(copy, w.b, n);
		last_err[0] = 0;
		rc = nfm_source_new_dump_mem(copy, n, "m", &tlog, &src);
		if (n < 4) {
			assert_int_equal(rc, 0);
			assert_string_not_equal(nfm_source_kind(src), "migration");
		} else if (n < ram_end && n != ram_end - 5) {	/* the footer: 0x7e, 4-byte id */
			assert_int_equal(rc, -EBADMSG);
			assert_non_null(strstr(last_err, " QEMU migration stream ("));
			refused++;
		} else {
			assert_int_equal(rc, 0);
			assert_string_equal(nfm_source_kind(src), "migration");
			assert_int_equal(nfm_source_read_phys(src, 0x0ffc, b, 8), 0);
			assert_memory_equal(b, "\x33\x33\x33\x33\x00\x00\x00\x00", 8);
		}
		if (rc == 0)
			nfm_source_free(src);
		free(copy);
	}
	assert_int_equal(refused, ram_end - 4 - 1);
	free(w.b);
}

static void le32w(struct w *w, uint32_t v)
{
	uint8_t x[4] = { v, v >> 8, v >> 16, v >> 24 };

	put(w, x, 4);
}

/* A `virsh save` image around the stream: libvirt's header, data_len bytes of XML, the stream. */
static void save_image(struct w *out, const struct w *stream, const char *magic, uint32_t format,
		       uint32_t data_len)
{
	static const char xml[] = "<domain type='kvm'><name>m</name></domain>";
	uint8_t pad[256] = { 0 };
	int i;

	put(out, magic, 16);
	le32w(out, 2);
	le32w(out, data_len);
	le32w(out, 1);
	le32w(out, format);
	le32w(out, 0);
	for (i = 0; i < 14; i++)
		le32w(out, 0);
	put(out, xml, sizeof(xml));
	put(out, pad, sizeof(pad) - sizeof(xml));
	put(out, stream->b, stream->n);
}

static void test_libvirt_save(void **state)
{
	struct nfm_source *src;
	struct w s = { 0 }, img = { 0 }, gz = { 0 }, part = { 0 }, big = { 0 };
	uint8_t b[8];
	size_t n;

	build(&s);
	save_image(&img, &s, "LibvirtQemudSave", 0, 256);
	assert_int_equal(nfm_source_new_dump_mem(img.b, img.n, "s", &tlog, &src), 0);
	assert_string_equal(nfm_source_kind(src), "migration");
	assert_int_equal(nfm_source_read_phys(src, 0x1ffc, b, 8), 0);
	assert_memory_equal(b, "\x00\x00\x00\x00\x22\x22\x22\x22", 8);
	nfm_source_free(src);
	/* every prefix: refused or read, never past the bytes (ASan) */
	for (n = 1; n < img.n; n += n < 200 ? 1 : 37) {
		uint8_t *copy = malloc(n);

		memcpy(copy, img.b, n);
		if (nfm_source_new_dump_mem(copy, n, "s", &tlog, &src) == 0)
			nfm_source_free(src);
		free(copy);
	}
	save_image(&gz, &s, "LibvirtQemudSave", 1, 256);
	assert_int_equal(nfm_source_new_dump_mem(gz.b, gz.n, "s", &tlog, &src), -EOPNOTSUPP);
	assert_non_null(strstr(last_err, "compressed with gzip"));
	save_image(&part, &s, "LibvirtQemudPart", 0, 256);
	assert_int_not_equal(nfm_source_new_dump_mem(part.b, part.n, "s", &tlog, &src), 0);
	assert_non_null(strstr(last_err, "did not finish"));
	save_image(&big, &s, "LibvirtQemudSave", 0, 0xfffffff0u);
	assert_int_equal(nfm_source_new_dump_mem(big.b, big.n, "s", &tlog, &src), -EBADMSG);
	assert_non_null(strstr(last_err, "corrupt libvirt save image"));
	free(s.b);
	free(img.b);
	free(gz.b);
	free(part.b);
	free(big.b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_high_ram),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_libvirt_save),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
