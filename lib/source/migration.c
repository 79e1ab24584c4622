// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * QEMU migration streams ("QEVM", version 3: `migrate "exec:cat > FILE"`, a savevm state): the
 * guest's RAM pages are read in place in the stream, the last copy of each page winning (a live
 * migration sends dirtied pages again; the copies of the final pass hold the stopped guest).
 *
 * Layout (QEMU's migration/savevm.c and ram.c): be32 magic, be32 version 3; an optional
 * configuration record (0x07: be32 length + machine type name, then its subsections); then
 * sections. START (0x01) and FULL (0x04): be32 section id, byte length + id string, be32
 * instance, be32 version; PART (0x02) and END (0x03): be32 section id; each may end in a footer
 * (0x7e, be32 section id). The "ram" section's data are records of be64 (offset | flags):
 *   MEM_SIZE 0x04  total bytes; per RAM block: byte length + id string, be64 used length
 *   ZERO     0x02  a page filled with the one byte that follows
 *   PAGE     0x08  the page's 4096 bytes follow
 *   EOS      0x10  end of this section's part
 * a record without CONTINUE (0x20) names its block (byte length + id string) after the header.
 * Device state (FULL sections) follows the RAM's END section and is not read: its length is
 * known only to the device's own description. Pages compressed or delta-encoded (compress,
 * xbzrle, multifd, mapped-ram) are refused by name.
 *
 * Guest-physical layout: the largest RAM block is the guest's RAM (the others are ROMs and video
 * memory); the machine type says where it lies (x86 pc/q35: below 4 GiB up to the machine's
 * low-memory limit, the rest from 4 GiB; arm "virt": from 1 GiB).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "source/dump.h"
#include "util/log.h"

#define QEVM_VERSION 3
#define PAGE_SHIFT 12
#define PAGE_SIZE (1u << PAGE_SHIFT)

enum { SEC_EOF = 0x00, SEC_START = 0x01, SEC_PART = 0x02, SEC_END = 0x03, SEC_FULL = 0x04,
       SUBSECTION = 0x05, CONFIGURATION = 0x07, COMMAND = 0x08, SEC_FOOTER = 0x7e };

enum { F_ZERO = 0x02, F_MEM_SIZE = 0x04, F_PAGE = 0x08, F_EOS = 0x10, F_CONTINUE = 0x20,
       F_XBZRLE = 0x40, F_HOOK = 0x80, F_COMPRESS = 0x100, F_MULTIFD_FLUSH = 0x200 };

#define MAX_BLOCKS 256
/* A page's entry: 0 = never sent, ZERO_BIT | fill byte, or the file offset of its bytes (never
 * 0: the magic is there). */
#define ZERO_BIT (1ull << 63)

struct block {
	char id[257];
	uint64_t size;
};

struct mig_priv {
	const uint8_t *data;
	size_t size;
	void *mmap_base;
	uint64_t *page;		/* the guest RAM block's pages */
	uint64_t npages;
};

struct parser {
	const uint8_t *d;
	size_t size, off;
	const char *name;
	const struct nfm_log *log;
	char machine[257];
	struct block blocks[MAX_BLOCKS];
	unsigned int nblocks, ram;	/* ram: index of the guest RAM block */
	uint32_t ram_section;
	bool have_ram, ram_done;
	uint64_t *page, npages;
	struct block *cur;		/* the block the last page record named */
};

static bool take(struct parser *p, size_t n)
{
	return p->size - p->off >= n;
}

static int get8(struct parser *p, uint8_t *v)
{
	if (!take(p, 1))
		return -EBADMSG;
	*v = p->d[p->off++];
	return 0;
}

static int get_be(struct parser *p, unsigned int bytes, uint64_t *v)
{
	unsigned int i;

	if (!take(p, bytes))
		return -EBADMSG;
	*v = 0;
	for (i = 0; i < bytes; i++)
		*v = *v << 8 | p->d[p->off++];
	return 0;
}

static int get32(struct parser *p, uint32_t *v)
{
	uint64_t x = 0;
	int err = get_be(p, 4, &x);

	*v = (uint32_t)x;
	return err;
}

/*
 * len bytes of a name QEMU writes (machine type, RAM block, section, capability): printable
 * ASCII only, as QEMU's are; anything else is refused, since these names reach error messages and
 * the source's description on a terminal.
 */
static bool printable(const uint8_t *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/* A byte-counted name (at most 255 bytes), NUL-terminated into out[256+]. */
static int get_str(struct parser *p, char *out)
{
	uint8_t len;

	if (get8(p, &len) || !take(p, len) || !printable(p->d + p->off, len))
		return -EBADMSG;
	memcpy(out, p->d + p->off, len);
	out[len] = 0;
	p->off += len;
	return 0;
}

static int corrupt(struct parser *p, const char *what)
{
	nfm_err(p->log, "%s: corrupt QEMU migration stream (%s at offset %zu)", p->name, what, p->off);
	return -EBADMSG;
}

static int refuse(struct parser *p, const char *what)
{
	nfm_err(p->log, "%s: a QEMU migration stream with %s, which nfm cannot read", p->name, what);
	return -EOPNOTSUPP;
}

/* The configuration record: the machine type, then the subsections QEMU 7-9 may add. */
static int parse_configuration(struct parser *p)
{
	uint32_t len, ver, n, i;
	char sub[257];

	if (get32(p, &len) || len > 256 || !take(p, len) || !printable(p->d + p->off, len))
		return corrupt(p, "configuration record");
	memcpy(p->machine, p->d + p->off, len);
	p->machine[len] = 0;
	p->off += len;
	while (take(p, 1) && p->d[p->off] == SUBSECTION) {
		p->off++;
		if (get_str(p, sub) || get32(p, &ver))
			return corrupt(p, "configuration subsection");
		if (!strcmp(sub, "configuration/target-page-bits")) {
			if (get32(p, &n))
				return corrupt(p, "target page bits");
			if (n != PAGE_SHIFT)
				return refuse(p, "pages that are not 4 KiB");
		} else if (!strcmp(sub, "configuration/capabilities")) {
			if (get32(p, &n) || n > 64)
				return corrupt(p, "capability list");
			for (i = 0; i < n; i++)
				if (get_str(p, sub))
					return corrupt(p, "capability name");
		} else if (!strcmp(sub, "configuration/uuid")) {
			if (!take(p, 16))
				return corrupt(p, "uuid");
			p->off += 16;
		} else {
			return refuse(p, "a configuration subsection nfm does not know");
		}
	}
	return 0;
}

static int parse_mem_size(struct parser *p, uint64_t total)
{
	uint64_t sum = 0, size;
	unsigned int i;

	while (sum < total) {
		struct block *b;

		if (p->nblocks == MAX_BLOCKS)
			return corrupt(p, "more than 256 RAM blocks");
		b = &p->blocks[p->nblocks];
		if (get_str(p, b->id) || get_be(p, 8, &size))
			return corrupt(p, "RAM block list");
		if (!size || size & (PAGE_SIZE - 1) || size > total - sum)
			return corrupt(p, "RAM block size");
		b->size = size;
		sum += size;
		p->nblocks++;
	}
	if (!p->nblocks)
		return corrupt(p, "no RAM blocks");
	for (i = 1, p->ram = 0; i < p->nblocks; i++)
		if (p->blocks[i].size > p->blocks[p->ram].size)
			p->ram = i;
	p->npages = p->blocks[p->ram].size >> PAGE_SHIFT;
	/* Every page costs at least 9 bytes of stream (header, fill byte): a table larger than
	 * the stream could fill is a forged size. */
	if (p->npages > p->size / 9 + 1)
		return corrupt(p, "RAM larger than the stream could hold");
	p->page = calloc(p->npages, sizeof(*p->page));
	return p->page ? 0 : -ENOMEM;
}

/* One part of the "ram" section, up to its EOS record. */
static int parse_ram(struct parser *p)
{
	struct block *cur = p->cur;
	char id[257];
	int err;

	for (;;) {
		uint64_t hdr, addr;
		unsigned int flags;
		uint8_t fill = 0;

		if (get_be(p, 8, &hdr))
			return corrupt(p, "RAM record cut short");
		addr = hdr & ~(uint64_t)(PAGE_SIZE - 1);
		flags = hdr & (PAGE_SIZE - 1);
		if (flags & F_MEM_SIZE) {
			if (p->page)
				return corrupt(p, "second RAM block list");
			if ((err = parse_mem_size(p, addr)))
				return err;
			continue;
		}
		if (flags & F_EOS) {
			p->cur = cur;	/* a later part may continue the block (QEMU's last_sent_block) */
			return 0;
		}
		if (flags & F_MULTIFD_FLUSH)
			return refuse(p, "multifd channels");
		if (flags & (F_XBZRLE | F_COMPRESS))
			return refuse(p, flags & F_XBZRLE ? "XBZRLE-encoded pages" : "compressed pages");
		if (flags & F_HOOK)
			return refuse(p, "RDMA records");
		if (!(flags & (F_ZERO | F_PAGE)) || (flags & ~(F_ZERO | F_PAGE | F_CONTINUE)) ||
		    (flags & F_ZERO && flags & F_PAGE))
			return corrupt(p, "unknown RAM record");
		if (!p->page)
			return corrupt(p, "page before the RAM block list");
		if (!(flags & F_CONTINUE)) {
			unsigned int i;

			if (get_str(p, id))
				return corrupt(p, "block name");
			for (i = 0, cur = NULL; i < p->nblocks && !cur; i++)
				if (!strcmp(p->blocks[i].id, id))
					cur = &p->blocks[i];
			if (!cur)
				return corrupt(p, "page of an unknown RAM block");
		} else if (!cur) {
			return corrupt(p, "page continuing no block");
		}
		if (addr >= cur->size)
			return corrupt(p, "page beyond its RAM block");
		if (flags & F_ZERO) {
			if (get8(p, &fill))
				return corrupt(p, "zero page cut short");
		} else if (!take(p, PAGE_SIZE)) {
			return corrupt(p, "page cut short");
		}
		if (cur == &p->blocks[p->ram]) {
			uint64_t *e = &p->page[addr >> PAGE_SHIFT];

			*e = flags & F_ZERO ? ZERO_BIT | fill : p->off;
		}
		if (flags & F_PAGE)
			p->off += PAGE_SIZE;
	}
}

static int parse_footer(struct parser *p, uint32_t id)
{
	uint32_t fid;

	if (!take(p, 1) || p->d[p->off] != SEC_FOOTER)
		return 0;
	p->off++;
	if (get32(p, &fid) || fid != id)
		return corrupt(p, "section footer");
	return 0;
}

static int parse_stream(struct parser *p)
{
	uint32_t magic, ver, id, inst, sver;
	char idstr[257];
	uint8_t type;
	int err;

	if (get32(p, &magic) || magic != 0x5145564du || get32(p, &ver))
		return corrupt(p, "header");
	if (ver != QEVM_VERSION) {
		nfm_err(p->log, "%s: QEMU migration stream version %u, nfm reads version %u", p->name,
			ver, QEVM_VERSION);
		return -EOPNOTSUPP;
	}
	if (take(p, 1) && p->d[p->off] == CONFIGURATION) {
		p->off++;
		if ((err = parse_configuration(p)))
			return err;
	}
	while (!p->ram_done) {
		if (get8(p, &type)) {
			nfm_err(p->log, "%s: incomplete QEMU migration stream (ends before the RAM's last part)",
				p->name);
			return -EBADMSG;
		}
		switch (type) {
		case SEC_START:
		case SEC_FULL:
			if (get32(p, &id) || get_str(p, idstr) || get32(p, &inst) || get32(p, &sver))
				return corrupt(p, "section header");
			if (strcmp(idstr, "ram") || type == SEC_FULL) {
				/* Device state: its length only its description knows. */
				nfm_err(p->log, "%s: a QEMU migration stream with section \"%s\" before the RAM's last part, which nfm cannot read",
					p->name, idstr);
				return -EOPNOTSUPP;
			}
			if (p->have_ram)
				return corrupt(p, "second RAM section");
			p->have_ram = true;
			p->ram_section = id;
			break;
		case SEC_PART:
		case SEC_END:
			if (get32(p, &id))
				return corrupt(p, "section header");
			if (!p->have_ram || id != p->ram_section)
				return refuse(p, "an iterative section other than RAM");
			break;
		case COMMAND:
			return refuse(p, "postcopy or return-path commands");
		case SEC_EOF:
			nfm_err(p->log, "%s: incomplete QEMU migration stream (ends before the RAM's last part)",
				p->name);
			return -EBADMSG;
		default:
			return corrupt(p, "unknown section type");
		}
		if ((err = parse_ram(p)) || (err = parse_footer(p, id)))
			return err;
		p->ram_done = type == SEC_END;
	}
	return 0;
}

/*
 * Where the RAM block lies in guest-physical memory. QEMU 7.2's pc_piix.c and pc_q35.c: RAM below
 * 4 GiB up to 3 GiB (i440fx, RAM >= 3.5 GiB) or 2 GiB (q35, RAM >= 2.75 GiB), the rest from 4 GiB;
 * arm virt: from 1 GiB. Other machines: refused, unless all of RAM fits below 2 GiB on x86.
 */
static int ram_layout(struct parser *p, struct nfm_source_range *r, size_t *n)
{
	uint64_t size = p->blocks[p->ram].size, low;
	const char *m = p->machine;

	if (!strncmp(m, "virt", 4)) {
		r[0] = (struct nfm_source_range){ 0x40000000ull, size, 0 };
		*n = 1;
		return 0;
	}
	if (!strncmp(m, "pc-q35", 6) || !strcmp(m, "q35"))
		low = size >= 0xb0000000ull ? 0x80000000ull : size;
	else if (!strncmp(m, "pc-i440fx", 9) || !strcmp(m, "pc") || !strncmp(m, "pc-", 3))
		low = size >= 0xe0000000ull ? 0xc0000000ull : size;
	else if (size <= 0x80000000ull)
		low = size;
	else
		return refuse(p, "a machine type whose memory layout nfm does not know");
	r[0] = (struct nfm_source_range){ 0, low, 0 };
	*n = 1;
	if (size > low)
		r[(*n)++] = (struct nfm_source_range){ 1ull << 32, size - low, low };
	return 0;
}

static int mig_read(struct nfm_source *src, uint64_t off, void *buf, size_t len)
{
	struct mig_priv *m = src->priv;
	uint8_t *out = buf;

	while (len) {
		uint64_t pg = off >> PAGE_SHIFT, in = off & (PAGE_SIZE - 1), e;
		size_t n = PAGE_SIZE - in < len ? PAGE_SIZE - in : len;

		if (pg >= m->npages || !(e = m->page[pg]))
			return -EIO;
		if (e & ZERO_BIT)
			memset(out, (int)(e & 0xff), n);
		else
			memcpy(out, m->data + e + in, n);
		out += n;
		off += n;
		len -= n;
	}
	return 0;
}

static int mig_resident(struct nfm_source *src, uint64_t off, uint64_t npages, uint8_t *bitmap)
{
	struct mig_priv *m = src->priv;
	uint64_t i, pg = off >> PAGE_SHIFT;

	/* A zero page holds nothing to find: discovery may skip it. */
	for (i = 0; i < npages && pg + i < m->npages; i++)
		if (m->page[pg + i] && !(m->page[pg + i] & ZERO_BIT))
			bitmap[i / 8] |= 1u << (i & 7);
	return 0;
}

static void mig_destroy(struct nfm_source *src)
{
	struct mig_priv *m = src->priv;

	if (!m)
		return;
	/* the mapping may begin before the stream (a libvirt save image's header) */
	if (m->mmap_base)
		munmap(m->mmap_base, (size_t)(m->data - (const uint8_t *)m->mmap_base) + m->size);
	free(m->page);
	free(m);
	src->priv = NULL;
}

static const struct nfm_source_ops migration_ops = {
	.kind = "migration",
	.read_backing = mig_read,
	.resident = mig_resident,
	.destroy = mig_destroy,
};

int nfm_source_new_migration(const uint8_t *data, size_t size, const char *name,
			     const struct nfm_log *log, void *mmap_base, struct nfm_source **ret)
{
	struct parser *p = calloc(1, sizeof(*p));
	struct nfm_source_range r[2];
	struct nfm_source *src = NULL;
	struct mig_priv *m = NULL;
	uint64_t pg, missing = 0, ram;
	char *desc = NULL;
	size_t n;
	int err;

	if (!p)
		return -ENOMEM;
	*p = (struct parser){ .d = data, .size = size, .name = name, .log = log };
	if ((err = parse_stream(p)) || (err = ram_layout(p, r, &n)))
		goto out;
	for (pg = 0; pg < p->npages; pg++)
		missing += !p->page[pg];
	if (missing) {
		/* A complete migration sends every page at least once. */
		nfm_err(p->log, "%s: incomplete QEMU migration stream (%llu of %llu pages of RAM block \"%s\" never sent)",
			name, (unsigned long long)missing, (unsigned long long)p->npages,
			p->blocks[p->ram].id);
		err = -EBADMSG;
		goto out;
	}
	m = calloc(1, sizeof(*m));
	src = calloc(1, sizeof(*src));
	ram = p->blocks[p->ram].size;
	if (!m || !src || asprintf(&desc, "QEMU migration stream %s (%s%s%llu %s of RAM)", name,
				   p->machine, *p->machine ? ", " : "",
				   (unsigned long long)(ram & 0xfffff ? ram >> 10 : ram >> 20),
				   ram & 0xfffff ? "KiB" : "MiB") < 0) {
		desc = NULL;
		err = -ENOMEM;
		goto out;
	}
	*m = (struct mig_priv){ .data = data, .size = size, .page = p->page, .npages = p->npages };
	p->page = NULL;
	src->priv = m;
	err = nfm_source_init(src, &migration_ops, r, n, desc);
	if (err) {
		src->priv = NULL;
		p->page = m->page;
		goto out;
	}
	m->mmap_base = mmap_base;	/* owned from here on */
	*ret = src;
	src = NULL;
	m = NULL;
out:
	free(desc);
	free(src);
	free(m);
	free(p->page);
	free(p);
	return err;
}
