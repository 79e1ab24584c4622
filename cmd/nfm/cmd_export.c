// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm export -o FILE: a memory source (a recorded snapshot with --at, or any other) written as
 * an ELF core as kdump and QEMU's dump-guest-memory write one: one PT_LOAD per guest RAM range
 * (p_paddr the guest-physical address, p_vaddr its direct-map address), a PT_NOTE with the
 * guest's VMCOREINFO, zero pages left as holes (a sparse file). nfm, crash and drgn open it.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nfm/nfm.h>
#include <nfm/context.h>
#include <nfm/history.h>
#include <nfm/source.h>

#include "cli.h"
#include "jout.h"

#define MAX_RANGES 64
#define CHUNK (1u << 20)
#define VMCI_MAX 4096

/* The VMCOREINFO text at pa (as discovery found it): up to its NUL, at most 4 KiB. */
static size_t vmcoreinfo_text(struct nfm_source *src, uint64_t pa, char *buf)
{
	char *p;

	if (!pa || nfm_source_read_phys(src, pa, buf, VMCI_MAX) < 0)
		return 0;
	p = memmem(buf, 64, "OSRELEASE=", 10);
	if (!p)
		return 0;
	memmove(buf, p, VMCI_MAX - (size_t)(p - buf));
	p = memchr(buf, 0, VMCI_MAX - (size_t)(p - buf));
	return p ? (size_t)(p - buf) : 0;
}

/* A snapshot's source found VMCOREINFO through the store (attach hint), not by a scan: the
 * catalog row says where it is. spec: snap:DIR@WHEN. 0 when unknown. */
static uint64_t snapshot_vmcoreinfo_pa(struct cli *cli, const char *spec)
{
	struct nfm_snapshot_info info;
	struct nfm_store *st;
	char dir[4096];
	const char *at;
	uint64_t pa = 0;

	if (!spec || strncmp(spec, "snap:", 5))
		return 0;
	at = strrchr(spec, '@');
	snprintf(dir, sizeof(dir), "%.*s", at ? (int)(at - spec - 5) : (int)strlen(spec + 5),
		 spec + 5);
	if (nfm_store_open(dir, 0, &cli->log, &st))
		return 0;
	if (!nfm_store_resolve(st, at ? at + 1 : "latest", 0, &info))
		pa = info.vmcoreinfo_pa;
	nfm_store_close(st);
	return pa;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8)
		if (*(const uint64_t *)(p + i))
			return false;
	return true;
}

static int write_all(int fd, const void *buf, size_t len, off_t off)
{
	while (len) {
		ssize_t w = pwrite(fd, buf, len, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		buf = (const char *)buf + w;
		len -= (size_t)w;
		off += w;
	}
	return 0;
}

static int cmd_export(struct cli *cli, int argc, char **argv)
{
	enum { OPT_AT = 0x100 };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "at", required_argument, NULL, OPT_AT },
		{ 0 }
	};
	const struct nfm_phys_range *r;
	struct nfm_kernel_info ki;
	const char *out = NULL;
	char *tmp = NULL, vmci[VMCI_MAX];
	unsigned char *buf = NULL;
	uint64_t pages = 0, zero = 0, data_off, off;
	size_t vlen, note_len;
	int c, n, fd = -1, err = 0;

	while ((c = cli_getopt(cli, argc, argv, "o:", longopts)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case OPT_AT: cli->vm = cli_at_spec(cli->vm, optarg); break;
		default: return cli_opt_status(cli);
		}
	}
	if (optind < argc)
		cli->vm = argv[optind++];
	if (optind < argc)
		return cli_usage_error(cli, "one source expected");
	if (!out)
		return cli_usage_error(cli, "-o FILE is required");
	if (cli_attach(cli))
		return 1;
	if (nfm_ctx_kernel_info(cli->ctx, &ki))
		return cli_fail("cannot read what attach found");
	n = nfm_source_ranges(cli->src, &r);
	if (n <= 0 || n > MAX_RANGES)
		return cli_fail("%s: %d RAM ranges", nfm_source_describe(cli->src), n);
	if (nfm_source_is_live(cli->src))
		cli_warn("a live VM is copied while it runs: the file is not one instant (record a "
			 "snapshot with --consistent and export that)");
	if (!ki.vmcoreinfo_pa)
		ki.vmcoreinfo_pa = snapshot_vmcoreinfo_pa(cli, cli->vm);
	vlen = vmcoreinfo_text(cli->src, ki.vmcoreinfo_pa, vmci);
	if (!vlen)
		cli_warn("no VMCOREINFO text found at %#" PRIx64 ": the file has no VMCOREINFO note",
			 ki.vmcoreinfo_pa);
	note_len = vlen ? sizeof(Elf64_Nhdr) + 12 + ((vlen + 3) & ~(size_t)3) : 0;
	if (asprintf(&tmp, "%s.tmp-%d", out, (int)getpid()) < 0)
		return cli_fail("out of memory");
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	buf = malloc(CHUNK);
	if (fd < 0 || !buf) {
		err = fd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	{
		size_t phnum = (size_t)n + (vlen ? 1 : 0), hdrs = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
		Elf64_Ehdr eh = { .e_type = ET_CORE, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
				  .e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
				  .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = (Elf64_Half)phnum };
		Elf64_Phdr ph[MAX_RANGES + 1];
		unsigned char note[sizeof(Elf64_Nhdr) + 12 + VMCI_MAX + 4] = { 0 };
		size_t k = 0;

		memcpy(eh.e_ident, ELFMAG, SELFMAG);
		eh.e_ident[EI_CLASS] = ELFCLASS64;
		eh.e_ident[EI_DATA] = ELFDATA2LSB;
		eh.e_ident[EI_VERSION] = EV_CURRENT;
		eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
		data_off = (hdrs + note_len + 4095) & ~4095ull;
		if (vlen) {
			Elf64_Nhdr nh = { .n_namesz = 11, .n_descsz = (Elf64_Word)vlen, .n_type = 0 };

			memcpy(note, &nh, sizeof(nh));
			memcpy(note + sizeof(nh), "VMCOREINFO", 11);
			memcpy(note + sizeof(nh) + 12, vmci, vlen);
			ph[k++] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = hdrs,
						.p_filesz = note_len, .p_memsz = note_len };
		}
		off = data_off;
		for (int i = 0; i < n; i++) {
			ph[k++] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X,
						.p_offset = off, .p_paddr = r[i].start,
						.p_vaddr = ki.page_offset + r[i].start,
						.p_filesz = r[i].size, .p_memsz = r[i].size,
						.p_align = 4096 };
			off += r[i].size;
		}
		if ((err = write_all(fd, &eh, sizeof(eh), 0)) ||
		    (err = write_all(fd, ph, k * sizeof(ph[0]), sizeof(eh))) ||
		    (vlen && (err = write_all(fd, note, note_len, (off_t)hdrs))))
			goto fail;
	}
	off = data_off;
	for (int i = 0; i < n; i++) {
		for (uint64_t done = 0; done < r[i].size;) {
			size_t len = r[i].size - done < CHUNK ? (size_t)(r[i].size - done) : CHUNK;
			int ret = nfm_source_read_phys(cli->src, r[i].start + done, buf, len);

			if (ret < 0) {
				err = ret;
				goto fail;
			}
			for (size_t p = 0; p < len; p += 4096) {
				size_t pl = len - p < 4096 ? len - p : 4096;

				if (pl == 4096 && all_zero(buf + p, pl)) {
					zero++;	/* a hole */
					continue;
				}
				pages++;
				err = write_all(fd, buf + p, pl, (off_t)(off + done + p));
				if (err)
					goto fail;
			}
			done += len;
		}
		off += r[i].size;
	}
	if (ftruncate(fd, (off_t)off) || fsync(fd) || close(fd)) {
		err = -errno;
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, out)) {
		err = -errno;
		goto fail;
	}
	free(tmp);
	free(buf);
	if (cli->json) {
		struct json_object *doc = jdoc_new("export");

		j_add(doc, "file", j_str(out));
		j_add(doc, "source", j_str(nfm_source_describe(cli->src)));
		j_add(doc, "size_bytes", j_u64(off));
		j_add(doc, "ranges", j_int(n));
		j_add(doc, "data_pages", j_u64(pages));
		j_add(doc, "zero_pages", j_u64(zero));
		j_add(doc, "vmcoreinfo_note", j_bool(vlen > 0));
		return cli_print_json(cli, doc);
	}
	printf("%s: %d RAM ranges, %" PRIu64 " pages written, %" PRIu64 " zero pages as holes%s\n",
	       cli_esc(out), n, pages, zero, vlen ? ", VMCOREINFO note" : "");
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(buf);
	return cli_fail("%s: %s", cli_esc(out), err == -ENOSPC ? "the disk is full" : strerror(-err));
}

const struct command command_export = {
	.name = "export",
	.summary = "write a snapshot (or any source) as an ELF core that nfm, crash and drgn open",
	.usage = "[--at WHEN] -o FILE [SOURCE]",
	.help = "  -o, --output FILE   the ELF core to write (replaced atomically when complete)\n"
		"      --at WHEN       the snapshot to export (as nfm --at: DIR@ID, ID with --vm DIR)\n"
		"  SOURCE              any --vm spec instead; a live VM is copied while it runs\n",
	.run = cmd_export,
};
