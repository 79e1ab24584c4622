// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The name /proc/PID/comm and /proc/PID/stat show (fs/proc/array.c proc_task_name()): comm for
 * user tasks; a kernel thread's kthread->full_name when comm was truncated (get_kthread_comm());
 * for workqueue workers, comm (6.10+: "kworker/R-" + the workqueue's name for rescuers) plus
 * "+desc" while running a work item or "-desc" after one (wq_worker_comm()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "task/task.h"
#include "task/task_off.h"

#define PF_WQ_WORKER 0x20u
#define PF_KTHREAD 0x00200000u
#define KTHREAD_BUF 256
#define WORKER_BUF 512

struct name_off {
	int32_t worker_private, kthread_size, full_name, data;
	int32_t worker_size, current_work, pool, desc, desc_size, rescue_wq, wq_name;
};

#define S struct name_off
static const struct nfm_field_spec name_specs[] = {
	/* worker_private since 5.17 (e32cf5dfbe22); set_child_tid held the kthread before. */
	NFM_FIELD(S, worker_private, "task_struct", "worker_private", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, kthread_size, "kthread", NULL, NFM_FIELD_SIZE | NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, full_name, "kthread", "full_name", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, data, "kthread", "data", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, worker_size, "worker", NULL, NFM_FIELD_SIZE | NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, current_work, "worker", "current_work", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, pool, "worker", "pool", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, desc, "worker", "desc", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, rescue_wq, "worker", "rescue_wq", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, wq_name, "workqueue_struct", "name", NFM_FIELD_OPTIONAL),
};
#undef S

static int make_name_off(struct nfm_ctx *ctx, void *block)
{
	struct name_off *o = block;
	struct nfm_field f;

	if (nfm_resolve_fields(ctx, name_specs, sizeof(name_specs) / sizeof(name_specs[0]), o) < 0)
		return -ENOENT;
	if (o->worker_private < 0) {
		if (nfm_btf_field(ctx->btf, "task_struct", "set_child_tid", &f) < 0)
			return -ENOENT;
		o->worker_private = (int32_t)f.offset;
	}
	o->desc_size = 0;
	if (o->desc >= 0 && nfm_btf_field(ctx->btf, "worker", "desc", &f) == 0)
		o->desc_size = (int32_t)f.size;
	/* Members used from a read buffer must fit in it. */
	if (o->kthread_size > KTHREAD_BUF || o->full_name + 8 > o->kthread_size ||
	    o->data + 8 > o->kthread_size)
		o->full_name = o->data = -1;
	if (o->data < 0)
		o->desc = -1;
	if (o->worker_size > WORKER_BUF || o->desc < 0 || o->desc + o->desc_size > o->worker_size ||
	    o->pool + 8 > o->worker_size || o->current_work + 8 > o->worker_size ||
	    o->rescue_wq + 8 > o->worker_size || o->desc_size <= 0 || o->desc_size > 64)
		o->desc = -1;
	return 0;
}

/* NULL when this kernel keeps no more of a name than comm (the name stays comm). */
static const struct name_off *name_off(struct nfm_ctx *ctx)
{
	int err;

	return nfm_kernel_layout(ctx, NFM_SLOT_TASK_NAME, sizeof(struct name_off), make_name_off,
				 &err);
}

/* out: 64 bytes, as the kernel's tcomm[64]. */
void nfm_task_proc_name(struct nfm_ctx *ctx, uint64_t task, uint32_t flags, const char *comm,
			char *out)
{
	const struct name_off *o;
	uint8_t kt[KTHREAD_BUF], wk[WORKER_BUF];
	uint64_t kthread, p;
	char s[64];
	size_t n;

	snprintf(out, 64, "%s", comm);
	if (!(flags & (PF_KTHREAD | PF_WQ_WORKER)))
		return;
	/* kthread->full_name is only set when the name did not fit in comm (kthread_create()). */
	if (!(flags & PF_WQ_WORKER) && strlen(comm) < NFM_TASK_COMM_LEN - 1)
		return;
	o = name_off(ctx);
	/* No kthread.full_name before 6.1 (d6986ce24fc0): only workers get more than comm. */
	if (!o || (o->full_name < 0 && !(flags & PF_WQ_WORKER)) || o->kthread_size <= 0 ||
	    o->worker_private + 8 > nfm_task_struct_size(ctx))
		return;
	if (nfm_kread_u64(ctx, task + (uint64_t)o->worker_private, &kthread) < 0 ||
	    !nfm_kptr_ok(ctx, kthread) || nfm_kread(ctx, kthread, kt, (size_t)o->kthread_size) < 0)
		return;
	if (!(flags & PF_WQ_WORKER)) {
		p = nfm_get_u64(kt, o->full_name);
		if (p && nfm_kptr_ok(ctx, p & ~7ull) && nfm_kread_str(ctx, p, s, sizeof(s)) == 0)
			memcpy(out, s, 64);
		return;
	}
	p = nfm_get_u64(kt, o->data);	/* kthread_data(): the struct worker */
	if (o->desc < 0 || !nfm_kptr_ok(ctx, p) || nfm_kread(ctx, p, wk, (size_t)o->worker_size) < 0)
		return;
	if (strncmp(comm, "kworker/R-", 10) == 0 && o->wq_name >= 0) {
		/* 6.10+ format_worker_id(): rescuers show their workqueue's full name. */
		uint64_t wq = nfm_get_u64(wk, o->rescue_wq);

		if (nfm_kptr_ok(ctx, wq) && nfm_kread_str(ctx, wq + (uint64_t)o->wq_name, s, 25) == 0)
			snprintf(out, 64, "kworker/R-%.24s", s);
	}
	if (!nfm_get_u64(wk, o->pool) || !wk[o->desc])
		return;
	memcpy(s, wk + o->desc, (size_t)o->desc_size);
	s[o->desc_size - 1] = 0;
	n = strlen(out);
	if (n < 63)
		snprintf(out + n, 64 - n, "%c%.*s", nfm_get_u64(wk, o->current_work) ? '+' : '-',
			 (int)(62 - n), s);
}
