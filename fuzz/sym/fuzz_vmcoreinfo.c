// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: the VMCOREINFO page matcher and parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sym/vmcoreinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "init_uts_ns", "_stext", "phys_base", "mem_section",
					     "page.flags", "", "x" };
	struct nfm_vmcoreinfo *vi;
	size_t off, len;
	uint64_t u;
	int64_t s;

	if (!nfm_vmcoreinfo_match(data, size, &off, &len)) {
		if (off + len > size)
			__builtin_trap();
		if (!nfm_vmcoreinfo_parse((const char *)data + off, len, &vi))
			nfm_vmcoreinfo_free(vi);
	}
	if (nfm_vmcoreinfo_parse((const char *)data, size, &vi))
		return 0;
	for (size_t i = 0; i < nfm_vmcoreinfo_count(vi); i++)
		(void)nfm_vmcoreinfo_get(vi, "OSRELEASE");
	if (!nfm_vmcoreinfo_get(vi, "OSRELEASE"))
		__builtin_trap();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		(void)nfm_vmcoreinfo_symbol(vi, names[i], &u);
		(void)nfm_vmcoreinfo_number(vi, names[i], &s);
		(void)nfm_vmcoreinfo_offset(vi, names[i], &s);
		(void)nfm_vmcoreinfo_size(vi, names[i], &s);
		(void)nfm_vmcoreinfo_length(vi, names[i], &s);
	}
	(void)nfm_vmcoreinfo_kerneloffset(vi, &u);
	nfm_vmcoreinfo_free(vi);
	return 0;
}
