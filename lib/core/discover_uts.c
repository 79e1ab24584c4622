// SPDX-License-Identifier: GPL-2.0-or-later
/* The test every architecture's discovery ends with: is this VMCOREINFO the memory's own? */
#include <errno.h>
#include <string.h>

#include "core/context.h"

int nfm_discover_check_uts(struct nfm_mmu *mmu, uint64_t uts, const char *release,
			   uint64_t lin_pa)
{
	char buf[512];
	size_t rlen, off;
	uint64_t walk_pa;

	if (!release || !*release || (rlen = strlen(release)) > 64)
		return -EBADMSG;
	if (nfm_mmu_read_kva(mmu, uts, buf, sizeof(buf)) < 0)
		return -EBADMSG;
	/* new_utsname is six 65-byte fields; it starts uts_namespace (after a kref before 5.11). */
	for (off = 0; off <= 64; off += 4) {
		if (!memcmp(buf + off, "Linux\0", 6) && !memcmp(buf + off + 130, release, rlen) &&
		    buf[off + 130 + rlen] == 0)
			break;
	}
	if (off > 64)
		return -EBADMSG;
	/* The page tables must agree with the linear kernel-image mapping. */
	if (nfm_mmu_walk(mmu, mmu->kernel_root, uts, &walk_pa) < 0 || walk_pa != lin_pa)
		return -EBADMSG;
	return 0;
}
