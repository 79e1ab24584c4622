// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ELF64 x86-64 and arm64 core dumps as written by QEMU dump-guest-memory (with or without paging)
 * and `virsh dump --memory-only` (arm64: memory and VMCOREINFO; its CPU notes are not read).
 * Guest-physical address = p_paddr. Only the bytes a PT_LOAD holds in the file ([p_paddr,
 * p_paddr + p_filesz)) count as RAM: the p_memsz tail past p_filesz reads as
 * -EFAULT, because the dump does not contain those bytes and nfm does not make data up (QEMU
 * writes p_filesz == p_memsz for RAM, and p_filesz 0 for paging-mode segments that are not RAM).
 *
 * Notes: "VMCOREINFO" (the kernel's VMCOREINFO text) and one "QEMU" note per CPU holding a
 * QEMUCPUState (QEMU target/i386/arch_dump.c, version 1).
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "source/dump_parse.h"
#include "util/log.h"

#define MAX_PHDRS (1u << 20)
#define MAX_CPUS 8192
#define MAX_VMCOREINFO (1u << 20)

/*
 * QEMUCPUState, all little-endian: u32 version, u32 size, 16 GPRs rax..r15 (at 8), rip (136),
 * rflags (144), 10 QEMUCPUSegment {u32 selector, limit, flags, pad; u64 base} of 24 bytes for
 * cs ds es fs gs ss ldt tr gdt idt (from 152), cr[5] (392), then optional kernel_gs_base (432;
 * present when size >= 440).
 */
#define QCS_GPR(i)	(8 + (i) * 8)	/* rax rbx rcx rdx rsi rdi rsp rbp r8..r15 */
#define QCS_RSP		QCS_GPR(6)
#define QCS_RIP		136
#define QCS_RFLAGS	144
#define QCS_CS		0
#define QCS_SEG(i)	(152 + (i) * 24)
#define QCS_SEG_BASE	16
#define QCS_GS		4
#define QCS_IDT		9
#define QCS_CR(i)	(392 + (i) * 8)
#define QCS_KGS		432
#define QCS_MIN_SIZE	QCS_KGS
#define QCS_FULL_SIZE	440

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int parse_qemu_note(const uint8_t *d, uint32_t dsz, struct nfm_dump_info *info)
{
	struct nfm_cpu_state *c, *tmp;
	uint32_t size;

	if (dsz < QCS_MIN_SIZE || get32(d) != 1)
		return -EBADMSG;
	size = get32(d + 4);
	if (size < QCS_MIN_SIZE || size > dsz)
		return -EBADMSG;
	if (info->nr_cpus >= MAX_CPUS)
		return -EBADMSG;
	tmp = realloc(info->cpus, (info->nr_cpus + 1) * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	info->cpus = tmp;
	c = &info->cpus[info->nr_cpus++];
	memset(c, 0, sizeof(*c));
	c->rsp = get64(d + QCS_RSP);
	c->rip = get64(d + QCS_RIP);
	for (int i = 0; i < 16; i++)
		c->gpr[i] = get64(d + QCS_GPR(i));
	c->rflags = get64(d + QCS_RFLAGS);
	c->cs = get32(d + QCS_SEG(QCS_CS));
	c->has_gprs = true;
	c->gs_base = get64(d + QCS_SEG(QCS_GS) + QCS_SEG_BASE);
	c->idt_base = get64(d + QCS_SEG(QCS_IDT) + QCS_SEG_BASE);
	c->cr0 = get64(d + QCS_CR(0));
	c->cr3 = get64(d + QCS_CR(3));
	c->cr4 = get64(d + QCS_CR(4));
	if (size >= QCS_FULL_SIZE)
		c->kernel_gs_base = get64(d + QCS_KGS);
	return 0;
}

/* Walk the notes in [off, off + len); the caller checked that they lie within the file. */
static int parse_notes(const uint8_t *p, uint64_t len, const char *name, const struct nfm_log *log,
		       bool x86, struct nfm_dump_info *info)
{
	uint64_t pos = 0;
	int err;

	while (len - pos >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		uint64_t nameoff, descoff, end;

		memcpy(&nh, p + pos, sizeof(nh));
		nameoff = pos + sizeof(nh);
		descoff = nameoff + (((uint64_t)nh.n_namesz + 3) & ~3ULL);
		end = descoff + (((uint64_t)nh.n_descsz + 3) & ~3ULL);
		/* The last note's padding may be missing. */
		if (descoff > len || nh.n_descsz > len - descoff) {
			nfm_err(log, "%s: corrupt ELF dump (note runs past its segment)", name);
			return -EBADMSG;
		}
		const char *nm = (const char *)p + nameoff;
		const uint8_t *desc = p + descoff;

		if (nh.n_namesz == sizeof("VMCOREINFO") && !memcmp(nm, "VMCOREINFO", nh.n_namesz)) {
			if (!info->vmcoreinfo && nh.n_descsz <= MAX_VMCOREINFO) {
				size_t n = strnlen((const char *)desc, nh.n_descsz);

				info->vmcoreinfo = malloc(n + 1);
				if (!info->vmcoreinfo)
					return -ENOMEM;
				memcpy(info->vmcoreinfo, desc, n);
				info->vmcoreinfo[n] = '\0';
				info->vmcoreinfo_len = n;
			}
		} else if (x86 && nh.n_namesz == sizeof("QEMU") && !memcmp(nm, "QEMU", nh.n_namesz)) {
			/* QEMU's x86 CPU state (an arm64 dump has only the CORE notes: not read) */
			err = parse_qemu_note(desc, nh.n_descsz, info);
			if (err == -ENOMEM)
				return err;
			if (err) {
				nfm_err(log, "%s: corrupt ELF dump (bad QEMU CPU note)", name);
				return err;
			}
		}
		pos = end < len ? end : len;
	}
	return 0;
}

int nfm_dump_parse_elf(const uint8_t *data, size_t size, const char *name,
		       const struct nfm_log *log, struct nfm_dump_info *ret)
{
	struct nfm_dump_info info = { 0 };
	Elf64_Ehdr eh;
	uint64_t phnum, i;
	size_t n = 0;
	int err;

	if (size < EI_NIDENT || memcmp(data, ELFMAG, SELFMAG)) {
		nfm_err(log, "%s: not an ELF file", name);
		return -EBADMSG;
	}
	if (data[EI_CLASS] != ELFCLASS64 || data[EI_DATA] != ELFDATA2LSB) {
		nfm_err(log, "%s: is a 32-bit or big-endian ELF file, not an x86-64 memory dump", name);
		return -EOPNOTSUPP;
	}
	if (size < sizeof(eh)) {
		nfm_err(log, "%s: truncated ELF dump (%zu bytes, the ELF header alone needs %zu)",
			name, size, sizeof(eh));
		return -EBADMSG;
	}
	memcpy(&eh, data, sizeof(eh));
	if (eh.e_type != ET_CORE || (eh.e_machine != EM_X86_64 && eh.e_machine != EM_AARCH64)) {
		nfm_err(log, "%s: is an ELF file but not an x86-64 or arm64 core dump "
			"(type %u, machine %u)", name, eh.e_type, eh.e_machine);
		return -EOPNOTSUPP;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr)) {
		nfm_err(log, "%s: corrupt ELF dump (program header size %u)", name, eh.e_phentsize);
		return -EBADMSG;
	}
	phnum = eh.e_phnum;
	if (phnum == PN_XNUM) {
		/* More than 65534 headers: the real count is in section header 0's sh_info. */
		Elf64_Shdr sh;

		if (eh.e_shoff > size || size - eh.e_shoff < sizeof(sh)) {
			nfm_err(log, "%s: truncated ELF dump (section header 0 past end of file)", name);
			return -EBADMSG;
		}
		memcpy(&sh, data + eh.e_shoff, sizeof(sh));
		phnum = sh.sh_info;
	}
	if (!phnum || phnum > MAX_PHDRS) {
		nfm_err(log, "%s: corrupt ELF dump (%llu program headers)", name,
			(unsigned long long)phnum);
		return -EBADMSG;
	}
	if (eh.e_phoff > size || (size - eh.e_phoff) / sizeof(Elf64_Phdr) < phnum) {
		nfm_err(log, "%s: truncated ELF dump (program headers end past the file's %zu bytes)",
			name, size);
		return -EBADMSG;
	}
	info.ranges = calloc(phnum, sizeof(*info.ranges));
	if (!info.ranges)
		return -ENOMEM;
	for (i = 0; i < phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, data + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE)
			continue;
		if (ph.p_offset > size || ph.p_filesz > size - ph.p_offset) {
			nfm_err(log, "%s: truncated ELF dump (segment %llu ends at offset %llu, the file has %zu bytes)",
				name, (unsigned long long)i,
				(unsigned long long)(ph.p_offset + ph.p_filesz), size);
			err = -EBADMSG;
			goto fail;
		}
		if (ph.p_type == PT_NOTE) {
			err = parse_notes(data + ph.p_offset, ph.p_filesz, name, log,
					  eh.e_machine == EM_X86_64, &info);
			if (err)
				goto fail;
			continue;
		}
		if (ph.p_filesz > ph.p_memsz || ph.p_paddr + ph.p_filesz < ph.p_paddr) {
			nfm_err(log, "%s: corrupt ELF dump (segment %llu: paddr 0x%llx filesz 0x%llx memsz 0x%llx)",
				name, (unsigned long long)i, (unsigned long long)ph.p_paddr,
				(unsigned long long)ph.p_filesz, (unsigned long long)ph.p_memsz);
			err = -EBADMSG;
			goto fail;
		}
		if (!ph.p_filesz)
			continue;
		info.ranges[n].start = ph.p_paddr;
		info.ranges[n].size = ph.p_filesz;
		info.ranges[n].backing = ph.p_offset;
		n++;
	}
	if (!n) {
		nfm_err(log, "%s: ELF dump holds no memory (no PT_LOAD segment with data)", name);
		err = -EBADMSG;
		goto fail;
	}
	err = nfm_dump_sort_ranges(info.ranges, &n);
	if (err) {
		nfm_err(log, "%s: corrupt ELF dump (PT_LOAD segments overlap with different contents)",
			name);
		goto fail;
	}
	info.nr_ranges = n;
	*ret = info;
	return 0;
fail:
	nfm_dump_info_release(&info);
	return err;
}
