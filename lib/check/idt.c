// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The interrupt descriptor table (idt_table, 256 16-byte gates; the CPUs load a read-only alias
 * of the same page). Every present gate's handler must be one of the kernel's entry points:
 * asm_exc_* (exceptions), asm_sysvec_* (system vectors), the irq_entries_start and
 * spurious_entries_start stubs (device vectors), entry_INT80_compat / asm_int80_emulation (the
 * int $0x80 gate), in the kernel's text; reserved exception vectors keep early_idt_handler_array.
 * Anything else is a hooked gate.
 */
#include <errno.h>
#include <string.h>

#include <nfm/context.h>

#include "check/hookset.h"
#include "core/context.h"

#define IDT_ENTRIES 256

static bool entry_point(const char *name, uint64_t off)
{
	static const char *const stubs[] = { "irq_entries_start", "spurious_entries_start" };
	static const char *const prefixes[] = { "asm_exc_", "asm_sysvec_", "asm_common_interrupt",
						"asm_spurious_interrupt", "entry_INT80",
						"asm_int80_emulation", "asm_fred_" };

	for (size_t i = 0; i < sizeof(stubs) / sizeof(stubs[0]); i++)
		if (!strcmp(name, stubs[i]))
			return true;
	for (size_t i = 0; off == 0 && i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

int check_idt(struct hookset *h)
{
	uint8_t idt[IDT_ENTRIES * 16];
	uint64_t base;

	if (nfm_ksym(h->ctx, "idt_table", &base) < 0)
		return -ENOENT;
	if (nfm_kread(h->ctx, base, idt, sizeof(idt)) < 0)
		return -EFAULT;
	for (unsigned int v = 0; v < IDT_ENTRIES; v++) {
		const uint8_t *g = idt + 16 * v;
		uint16_t lo, bits, mid;
		uint32_t hi;
		uint64_t handler, off;
		const char *name;
		struct nfm_hook *e;

		memcpy(&lo, g, 2);
		memcpy(&bits, g + 4, 2);
		memcpy(&mid, g + 6, 2);
		memcpy(&hi, g + 8, 4);
		if (!(bits & 0x8000))
			continue;	/* not present */
		h->st.nr_idt_gates++;
		handler = lo | (uint64_t)mid << 16 | (uint64_t)hi << 32;
		if (handler >= h->om.text_lo && handler < h->om.text_hi &&
		    nfm_sym_symbolize(h->ctx, handler, &name, NULL, &off) == 0 &&
		    entry_point(name, off))
			continue;
		/* Reserved exception vectors (and MCE without CONFIG_X86_MCE) keep the early
		 * handlers idt_setup_early_handler() set, in the image's (freed) init text. */
		if (v < 32 && handler >= h->om.image_lo && handler < h->om.image_hi &&
		    nfm_sym_symbolize(h->ctx, handler, &name, NULL, &off) == 0 &&
		    !strcmp(name, "early_idt_handler_array"))
			continue;
		e = hook_add(h, NFM_HOOK_IDT, handler >= h->om.text_lo && handler < h->om.text_hi ?
			     "gate handler not a kernel entry point" : "gate handler out of kernel text",
			     base + 16 * v, 0, handler);
		if (!e)
			return -ENOMEM;
		e->ok = false;
		e->vector = v;
	}
	return 0;
}
