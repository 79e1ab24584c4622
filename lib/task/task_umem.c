// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A process's own memory: /proc/PID/cmdline and /proc/PID/environ (fs/proc/base.c
 * get_mm_cmdline(), environ_read()), read through the process's page tables. Pages that are not
 * resident are not guessed: the bytes stop there and the caller is told how many were missing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "walk/list.h"
#include "task/task.h"
#include "task/task_off.h"

#define PAGE 4096u
#define UMEM_MAX (16u << 20)	/* far above ARG_MAX: a larger range is corruption */

int nfm_mm_pgd_pa(struct nfm_ctx *ctx, uint64_t mm, uint64_t *ret)
{
	const struct nfm_task_state *ts;
	uint64_t pgd;
	int err = nfm_task_state_get(ctx, &ts);

	if (err < 0)
		return err;
	if (!nfm_kptr_ok(ctx, mm))
		return -EBADMSG;
	err = nfm_kread_u64(ctx, mm + (uint64_t)ts->m.pgd, &pgd);
	if (err < 0)
		return err;
	/* A page, but for arm64 with LPA2: its 16-entry top table comes from pgd_cache, aligned
	 * to its 128 bytes (arch/arm64/mm/pgd.c). */
	if (!nfm_kptr_ok(ctx, pgd) || (pgd & (nfm_mmu_lpa2(ctx->mmu) ? 127 : PAGE - 1)))
		return -EBADMSG;
	return nfm_mmu_kva_to_pa(ctx->mmu, pgd, ret);
}

size_t nfm_read_user(struct nfm_ctx *ctx, uint64_t root, uint64_t va, void *buf, size_t len,
		     struct nfm_umem_stat *st)
{
	size_t done = 0;

	while (done < len) {
		uint64_t a = va + done;
		size_t n = PAGE - (a & (PAGE - 1));

		if (n > len - done)
			n = len - done;
		if (nfm_mmu_read_uva(ctx->mmu, root, a, (char *)buf + done, n) < 0) {
			if (st) {
				/* Every page from here to the end is unread: count them all. */
				uint64_t first = a / PAGE, last = (va + len - 1) / PAGE;

				st->pages_missing += (unsigned int)(last - first + 1);
				if (ctx->mmu->fault.swapped)
					st->pages_swapped++;
			}
			break;
		}
		done += n;
	}
	return done;
}

static int umem_read(struct nfm_ctx *ctx, const struct nfm_task *t, uint64_t start, uint64_t end,
		     void *buf, size_t size, struct nfm_umem_stat *st)
{
	uint64_t root;
	size_t want;
	int err;

	if (end <= start)
		return 0;
	if (end - start > UMEM_MAX || (end >> nfm_mmu_user_bits(ctx->mmu)))
		return -EBADMSG;
	err = nfm_mm_pgd_pa(ctx, t->mm, &root);
	if (err < 0)
		return err;
	want = (size_t)(end - start);
	if (st)
		st->want = want;
	if (want > size)
		want = size;
	return (int)nfm_read_user(ctx, root, start, buf, want, st);
}

int nfm_task_read(struct nfm_ctx *ctx, const struct nfm_task *t, uint64_t va, void *buf,
		  size_t len)
{
	uint64_t root;
	int err;

	if (!t->mm || (va >> nfm_mmu_user_bits(ctx->mmu)) || len > INT32_MAX ||
	    len > (1ull << nfm_mmu_user_bits(ctx->mmu)) - va)
		return -EBADMSG;
	err = nfm_mm_pgd_pa(ctx, t->mm, &root);
	if (err < 0)
		return err;
	return (int)nfm_read_user(ctx, root, va, buf, len, NULL);
}

int nfm_task_cmdline(struct nfm_ctx *ctx, const struct nfm_task *t, void *buf, size_t size,
		     struct nfm_umem_stat *st)
{
	uint64_t arg_start = t->arg_start, arg_end = t->arg_end;
	uint64_t env_start = t->env_start, env_end = t->env_end, root;
	struct nfm_umem_stat tmp = { 0 };
	char *page;
	unsigned char c;
	size_t got, n, len;
	int err;

	if (st)
		*st = tmp;
	if (!t->mm || arg_start >= arg_end)
		return 0;
	/* setproctitle() may run past arg_end, but only into the environment area. */
	if (env_start != arg_end || env_end < env_start)
		env_start = env_end = arg_end;
	if (env_end - arg_start > UMEM_MAX || (env_end >> nfm_mmu_user_bits(ctx->mmu)))
		return -EBADMSG;
	len = (size_t)(env_end - arg_start);
	err = nfm_mm_pgd_pa(ctx, t->mm, &root);
	if (err < 0)
		return err;
	/* A non-NUL last byte of argv[]: the title was rewritten; show up to its first NUL. */
	if (nfm_read_user(ctx, root, arg_end - 1, &c, 1, NULL) != 1 || c == 0)
		return umem_read(ctx, t, arg_start, arg_end, buf, size, st);

	page = malloc(PAGE);
	if (!page)
		return -ENOMEM;
	got = nfm_read_user(ctx, root, arg_start, page, PAGE, &tmp);
	n = strnlen(page, got);
	if (n < got)
		n++;
	if (n > len)
		n = len;
	tmp.want = n;
	if (got < PAGE && n == got)	/* the title may go on into the page we could not read */
		tmp.want = len < PAGE ? len : PAGE;
	else
		tmp.pages_missing = tmp.pages_swapped = 0;
	if (n > size)
		n = size;
	memcpy(buf, page, n);
	free(page);
	if (st)
		*st = tmp;
	return (int)n;
}

int nfm_task_environ(struct nfm_ctx *ctx, const struct nfm_task *t, void *buf, size_t size,
		     struct nfm_umem_stat *st)
{
	if (st)
		*st = (struct nfm_umem_stat){ 0 };
	if (!t->mm || !t->env_end)
		return 0;
	return umem_read(ctx, t, t->env_start, t->env_end, buf, size, st);
}

/* /proc/stat btime: tk_core.timekeeper offs_real - offs_boot (kernel/time/timekeeping.c). */
int nfm_task_boot_time(struct nfm_ctx *ctx, int64_t *ret)
{
	struct nfm_field real, boot;
	uint32_t seqsize;
	uint64_t tk_core, tk;
	int64_t r, b;
	int err;

	err = nfm_ksym(ctx, "tk_core", &tk_core);
	if (err < 0)
		return err;
	if (nfm_btf_type_size(ctx->btf, "seqcount_raw_spinlock_t", &seqsize) < 0 ||
	    nfm_btf_field(ctx->btf, "timekeeper", "offs_real", &real) < 0 ||
	    nfm_btf_field(ctx->btf, "timekeeper", "offs_boot", &boot) < 0)
		return -ENOENT;
	tk = tk_core + ((seqsize + 7) & ~7u);
	err = nfm_kread(ctx, tk + real.offset, &r, sizeof(r));
	if (err == 0)
		err = nfm_kread(ctx, tk + boot.offset, &b, sizeof(b));
	if (err < 0)
		return err;
	*ret = r - b;
	return 0;
}
