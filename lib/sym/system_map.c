// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kallsyms from a System.map file (the --system-map override for kernels whose tables cannot
 * be found in memory): "addr type name" lines, as nm writes them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym/kallsyms.h"
#include "sym/kallsyms_int.h"

#define SM_LINE_MAX 4096

static int sm_append(struct nfm_kallsyms *ks, const char *name, size_t nlen, char type,
		     uint64_t addr)
{
	int r;

	if (ks->count == ks->cap) {
		r = ks_syms_reserve(ks, ks->cap ? ks->cap * 2 : 4096);
		if (r < 0)
			return r;
	}
	r = ks_arena_reserve(ks, nlen + 2);
	if (r < 0)
		return r;
	ks->arena[ks->arena_len] = type;
	memcpy(ks->arena + ks->arena_len + 1, name, nlen);
	ks->arena[ks->arena_len + 1 + nlen] = '\0';
	ks->name_off[ks->count] = (uint32_t)(ks->arena_len + 1);
	ks->hashes[ks->count] = ks_name_hash_n(name, nlen);
	ks->addrs[ks->count] = addr;
	ks->arena_len += nlen + 2;
	ks->count++;
	return 0;
}

/* "<hex address> <type> <name>", the output of nm. */
static int sm_parse_line(struct nfm_kallsyms *ks, char *line, size_t len, uint64_t kaslr_offset)
{
	uint64_t addr = 0;
	size_t i = 0, digits = 0, nstart;
	char type;

	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (!len)
		return 0;
	for (; i < len && line[i] != ' '; i++) {
		char c = line[i];
		int d = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0 || ++digits > 16)
			return -EBADMSG;
		addr = addr << 4 | (uint64_t)d;
	}
	if (!digits || i + 3 > len || line[i] != ' ' || line[i + 1] <= ' ' || line[i + 2] != ' ')
		return -EBADMSG;
	type = line[i + 1];
	nstart = i + 3;
	if (nstart >= len || len - nstart > KS_NAME_MAX)
		return -EBADMSG;
	for (i = nstart; i < len; i++)
		if ((unsigned char)line[i] <= ' ')
			return -EBADMSG;
	/*
	 * KASLR moves the kernel image, not absolute symbols nor the zero-based per-CPU offsets
	 * (x86-64): only kernel-half addresses are shifted.
	 */
	if (type != 'A' && type != 'a' && (addr >> 63))
		addr += kaslr_offset;
	return sm_append(ks, line + nstart, len - nstart, type, addr);
}

int nfm_kallsyms_load_system_map(const char *path, uint64_t kaslr_offset, struct nfm_kallsyms **ret)
{
	struct nfm_kallsyms *ks;
	char line[SM_LINE_MAX + 2];
	FILE *f;
	int r = 0;

	if (!path || !ret)
		return -EINVAL;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ks = ks_new();
	if (!ks) {
		fclose(f);
		return -ENOMEM;
	}
	ks->enc = NFM_KALLSYMS_ABSOLUTE;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);

		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			r = -EBADMSG;
			break;
		}
		r = sm_parse_line(ks, line, len, kaslr_offset);
		if (r < 0)
			break;
	}
	if (!r && ferror(f))
		r = -EIO;
	fclose(f);
	if (!r && !ks->count)
		r = -EBADMSG;
	if (!r)
		r = ks_finish(ks);
	if (r < 0) {
		nfm_kallsyms_free(ks);
		return r;
	}
	*ret = ks;
	return 0;
}
