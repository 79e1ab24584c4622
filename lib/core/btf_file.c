// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Types from a file, for a kernel built without BTF (RHEL-like and custom kernels): the file
 * --btf names, or one found by the guest's release the way crash and drgn find debug info — in
 * each directory of $NFM_BTF_PATH, then /usr/lib/debug/boot, /boot and
 * /usr/lib/debug/lib/modules/RELEASE: RELEASE.btf, vmlinux-RELEASE.btf, vmlinux-RELEASE (a
 * vmlinux with a .BTF section, e.g. after pahole -J) and vmlinux. A raw BTF blob or an ELF with
 * .BTF is accepted (pahole --btf_encode_detached makes the first from a DWARF vmlinux).
 *
 * A types file is a claim about another build: it must agree with this kernel's own VMCOREINFO,
 * whose OFFSET(struct.member) and SIZE(type) lines the running kernel wrote. A file that
 * disagrees on any of them is refused (explicit) or passed over (searched), never used.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "btf/btf.h"
#include "core/context.h"
#include "sym/vmcoreinfo.h"

/* "OFFSET(a.b)" -> a, b; "SIZE(a)" -> a. */
static bool vi_name(const char *key, const char *kind, char *type, size_t tsize, char *member,
		    size_t msize)
{
	size_t k = strlen(kind), n = strlen(key);
	const char *in, *dot;

	if (strncmp(key, kind, k) || key[k] != '(' || n < k + 3 || key[n - 1] != ')')
		return false;
	in = key + k + 1;
	n -= k + 2;
	dot = member ? memchr(in, '.', n) : NULL;
	if (member && !dot)
		return false;
	if ((size_t)((dot ? dot : in + n) - in) >= tsize)
		return false;
	snprintf(type, tsize, "%.*s", (int)((dot ? dot : in + n) - in), in);
	if (member) {
		if ((size_t)(in + n - dot - 1) >= msize)
			return false;
		snprintf(member, msize, "%.*s", (int)(in + n - dot - 1), dot + 1);
	}
	return true;
}

int nfm_btf_check_vmcoreinfo(const struct nfm_btf *btf, const struct nfm_vmcoreinfo *vi,
			     char *why, size_t size)
{
	const char *key, *value;
	int checked = 0;

	for (size_t i = 0; nfm_vmcoreinfo_entry(vi, i, &key, &value) == 0; i++) {
		char type[96], member[96], *end;
		unsigned long long want = strtoull(value, &end, 10);
		struct nfm_field f;
		uint32_t got;

		if (*end || end == value)
			continue;
		if (vi_name(key, "OFFSET", type, sizeof(type), member, sizeof(member))) {
			if (nfm_btf_field(btf, type, member, &f) < 0)
				continue;	/* a member by another name in these types: not checked */
			got = f.offset;
		} else if (vi_name(key, "SIZE", type, sizeof(type), NULL, 0)) {
			if (nfm_btf_type_size(btf, type, &got) < 0)
				continue;
		} else {
			continue;
		}
		if (got != want) {
			snprintf(why, size, "%s is %llu in this kernel's VMCOREINFO, %u in the file", key,
				 want, got);
			return -EBADMSG;
		}
		checked++;
	}
	return checked;
}

void nfm_btf_file_why(const char *path, int err, char *why, size_t size)
{
	/* libbpf says ENOENT for an ELF without .BTF too: a DWARF-only vmlinux */
	if (err == -ENOENT && access(path, R_OK) == 0)
		snprintf(why, size, "no BTF in it (a vmlinux with DWARF only? pahole "
			 "--btf_encode_detached FILE vmlinux makes the types from it)");
	else
		snprintf(why, size, "cannot read BTF: %s", strerror(-err));
}

/* Load path and check it against VMCOREINFO: 0 and *ret, or -errno with why. */
static int load_checked(struct nfm_ctx *ctx, const char *path, struct nfm_btf **ret, char *why,
			size_t size)
{
	struct nfm_btf *b;
	int err = nfm_btf_new_file(path, &b), n;

	if (err < 0) {
		nfm_btf_file_why(path, err, why, size);
		return err;
	}
	if (ctx->vmci) {
		n = nfm_btf_check_vmcoreinfo(b, ctx->vmci, why, size);
		if (n < 0) {
			nfm_btf_free(b);
			return n;
		}
		nfm_dbg(&ctx->log, "%s: %d VMCOREINFO offsets and sizes agree", path, n);
	}
	*ret = b;
	return 0;
}

int nfm_btf_from_file(struct nfm_ctx *ctx, const char *path)
{
	char why[256];
	int err = load_checked(ctx, path, &ctx->btf, why, sizeof(why));

	if (err < 0) {
		nfm_err(&ctx->log, "%s: %s", path, why);
		return err;
	}
	snprintf(ctx->btf_how, sizeof(ctx->btf_how), "file");
	return 0;
}

int nfm_btf_find_file(struct nfm_ctx *ctx, char *tried, size_t size)
{
	const char *rel = ctx->vmci ? nfm_vmcoreinfo_get(ctx->vmci, "OSRELEASE") : NULL;
	const char *env = getenv("NFM_BTF_PATH");
	char dirs[2048], path[4096], moddir[512], why[256];
	/* file name = prefix RELEASE suffix; a bare vmlinux (no release) in the release's own dir */
	static const struct { const char *prefix, *suffix; bool release; } names[] = {
		{ "", ".btf", true }, { "vmlinux-", ".btf", true }, { "vmlinux-", "", true },
		{ "vmlinux", "", false },
	};

	tried[0] = 0;
	if (!rel || !rel[0] || strchr(rel, '/'))
		return -ENOENT;
	snprintf(moddir, sizeof(moddir), "/usr/lib/debug/lib/modules/%s", rel);
	snprintf(dirs, sizeof(dirs), "%s%s/usr/lib/debug/boot:/boot:%s", env ? env : "",
		 env && env[0] ? ":" : "", moddir);
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			if (!names[k].release && strcmp(d, moddir))
				continue;
			snprintf(path, sizeof(path), "%s/%s%s%s", d, names[k].prefix,
				 names[k].release ? rel : "", names[k].suffix);
			if (access(path, R_OK) != 0)
				continue;
			if (load_checked(ctx, path, &ctx->btf, why, sizeof(why)) == 0) {
				nfm_info(&ctx->log, "types from %s (found by the release %s)", path, rel);
				snprintf(ctx->btf_how, sizeof(ctx->btf_how), "file found by release");
				return 0;
			}
			nfm_dbg(&ctx->log, "%s: %s", path, why);
			snprintf(tried + strlen(tried), size - strlen(tried), "%s%s (%s)",
				 tried[0] ? "; " : "", path, why);
		}
	}
	return -ENOENT;
}
