// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The task list and threads (lib/task): nfm_task_iter over init_task.tasks, with and without
 * NFM_TASK_THREADS (signal->thread_head under each leader, one budget for the nested walks),
 * and nfm_task_tids for each process.
 */
#include <nfm/task.h>

#include "../common/seedtask.h"

static void seed(struct fz_seed *s)
{
	uint32_t t[3] = { FZ_OBJ, FZ_OBJ + 0x3000, FZ_OBJ + 0x6000 }, th = FZ_OBJ + 0x9000;
	uint32_t sig[2] = { FZ_OBJ + 0xc000, FZ_OBJ + 0xc400 }, thr[2] = { t[1], th };

	fz_seed_tasks(s, t, 2);
	fz_seed_task(s, t[0], 1, 1, "init", sig[0], 1);
	fz_seed_task(s, t[1], 42, 42, "\033[31mevil", sig[1], 2);
	fz_seed_task(s, th, 43, 42, "worker", sig[1], 2);
	fz_seed_threads(s, sig[0], t, 1);
	fz_seed_threads(s, sig[1], thr, 2);
	fz_put32(s, FZ_CRED + fz_off("cred", "uid"), 1000);
}

FZ_SEED_INIT(seed)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_guest *g = fz_guest_new(data, size);
	unsigned int flags;
	int n, r;

	for (flags = 0; flags <= NFM_TASK_THREADS; flags++) {
		struct nfm_task_iter *it;
		struct nfm_task t;
		int32_t tids[64];

		if (nfm_task_iter_new(g->ctx, flags, &it) < 0)
			break;
		n = 0;
		while ((r = nfm_task_iter_next(it, &t)) > 0) {
			n++;
			if (!flags)
				nfm_task_tids(g->ctx, &t, tids, 64);
		}
		fz_report(flags ? "threads" : "tasks", n, r);
		nfm_task_iter_free(it);
	}
	fz_guest_free(g);
	return 0;
}
