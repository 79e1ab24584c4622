// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Processes and threads: walk init_task.tasks (thread-group leaders) and each group's
 * signal->thread_head, read each task_struct in one read, and compute what fs/proc/array.c
 * (do_task_stat, task_state) prints.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "task/task.h"
#include "task/task_off.h"

#define PF_KTHREAD 0x00200000u
#define NSEC_PER_TICK 10000000ull	/* USER_HZ = 100: nsec_to_clock_t() */

struct nfm_task_iter {
	struct nfm_ctx *ctx;
	const struct nfm_task_state *ts;
	unsigned int flags;
	struct nfm_list_iter procs;
	struct nfm_list_iter threads;
	int in_threads;			/* walking the threads of leader */
	uint8_t *tbuf, *sbuf, *mbuf;
	unsigned int skipped, yielded;
	/*
	 * task_structs visited by every ring of this walk (leaders, each group's threads, the CPU
	 * time sums): shared, so that fake threads under fake leaders cannot multiply.
	 */
	size_t visits;
	uint64_t threads_seen;		/* the threads the walk accounts for: leaders' nr_threads */
	int status;			/* nfm_task_iter_status() */
	int restarts;
	/* Tasks yielded so far (address and pid): a restarted walk does not yield them again. */
	struct seen { uint64_t addr; int32_t pid; } *seen;
	size_t nseen, seen_cap;		/* seen_cap: a power of two, at most half full */
	/* Per-walk caches (one crawl): many tasks share a cred (init_cred) and a parent. */
	struct { uint64_t addr; uint32_t ids[8]; } cred[64];
	struct { uint64_t addr; uint32_t tgid; } parent[64];
};

char nfm_task_state_letter(uint32_t state, uint32_t exit_state)
{
	/* fs/proc/array.c task_state_array[], indexed by __task_state_index() (sched.h). */
	static const char letters[] = "RSDTtXZPI";
	uint32_t s = (state | exit_state) & 0x7f;	/* TASK_REPORT */
	int idx = 0;

	if ((state & 0x402) == 0x402)			/* TASK_IDLE: UNINTERRUPTIBLE|NOLOAD */
		s = 0x80;				/* TASK_REPORT_IDLE */
	if (state & (0x1000 | 0x8000))			/* TASK_RTLOCK_WAIT, TASK_FROZEN */
		s = 0x2;				/* reported as uninterruptible */
	while (s) {					/* fls() */
		idx++;
		s >>= 1;
	}
	return letters[idx];
}

void nfm_cputime_adjust(uint64_t rtime, uint64_t utime, uint64_t stime, uint64_t prev_utime,
			uint64_t prev_stime, uint64_t *ut, uint64_t *st)
{
	/* kernel/sched/cputime.c cputime_adjust(); prev is what the last /proc reader left. */
	if (prev_stime + prev_utime >= rtime) {
		*ut = prev_utime;
		*st = prev_stime;
		return;
	}
	if (stime == 0) {
		utime = rtime;
	} else if (utime == 0) {
		stime = rtime;
	} else {
		/* mul_u64_u64_div_u64(): exact 128-bit product, as x86-64 does it. */
		stime = (uint64_t)((unsigned __int128)stime * rtime / ((unsigned __int128)stime + utime));
	}
	if (stime < prev_stime)
		stime = prev_stime;
	utime = rtime - stime;
	if (utime < prev_utime) {
		utime = prev_utime;
		stime = rtime - utime;
	}
	*ut = utime;
	*st = stime;
}

/* Per-CPU parts of a percpu_counter (6.2+ rss_stat): fbc->count + every possible CPU's s32. */
static int64_t percpu_sum(struct nfm_ctx *ctx, const struct nfm_task_state *ts, int64_t count,
			  uint64_t counters)
{
	unsigned int cpu;
	int64_t sum = count;

	if (!counters)
		return sum;
	for (cpu = 0; cpu < ts->nr_cpus; cpu++) {
		int32_t v;

		if (nfm_kread(ctx, counters + ts->cpu_off[cpu], &v, sizeof(v)) == 0)
			sum += v;
	}
	return sum;
}

/* vsize, rss and the argument/environment ranges from the mm. */
static int fill_mm(struct nfm_task_iter *it, uint64_t mm, struct nfm_task *t)
{
	const struct nfm_task_state *ts = it->ts;
	const struct nfm_mm_off *m = &ts->m;
	int64_t approx[4] = { 0 }, exact[4] = { 0 };
	int idx[3] = { ts->mm_filepages, ts->mm_anonpages, ts->mm_shmempages };
	int err, i;

	err = nfm_kread(it->ctx, mm, it->mbuf, (size_t)m->size);
	if (err < 0)
		return err;
	t->vsize = nfm_get_u64(it->mbuf, m->total_vm) << 12;
	for (i = 0; i < 3; i++) {
		int c = idx[i];

		if (c < 0)
			continue;
		if (!ts->rss_percpu) {
			/* 6.1: atomic_long_t rss_stat.count[]; get_mm_counter() clamps at 0. */
			approx[i] = (int64_t)nfm_get_u64(it->mbuf, m->rss_stat + c * 8);
			exact[i] = approx[i];
		} else {
			/* 6.2+: percpu_counter rss_stat[]; /proc/PID/stat reads only ->count. */
			int32_t base = m->rss_stat + c * ts->pcc_size;

			approx[i] = (int64_t)nfm_get_u64(it->mbuf, base + ts->pcc_count);
			exact[i] = percpu_sum(it->ctx, ts, approx[i],
					      nfm_get_u64(it->mbuf, base + ts->pcc_counters));
		}
		if (approx[i] < 0)
			approx[i] = 0;
		if (exact[i] < 0)
			exact[i] = 0;
	}
	t->rss_pages = (uint64_t)(approx[0] + approx[1] + approx[2]);
	t->rss_file = (uint64_t)exact[0];
	t->rss_anon = (uint64_t)exact[1];
	t->rss_shmem = (uint64_t)exact[2];
	t->rss_exact_pages = t->rss_file + t->rss_anon + t->rss_shmem;
	t->arg_start = nfm_get_u64(it->mbuf, m->arg_start);
	t->arg_end = nfm_get_u64(it->mbuf, m->arg_end);
	t->env_start = nfm_get_u64(it->mbuf, m->env_start);
	t->env_end = nfm_get_u64(it->mbuf, m->env_end);
	t->start_brk = nfm_get_u64(it->mbuf, m->start_brk);
	t->brk = nfm_get_u64(it->mbuf, m->brk);
	t->start_stack = nfm_get_u64(it->mbuf, m->start_stack);
	return 0;
}

/* One more task_struct visited: -ELOOP past three per task the guest's RAM can hold. */
static int visit(struct nfm_task_iter *it)
{
	if (++it->visits > 3 * it->ts->task_cap)
		return -ELOOP;
	return 0;
}

/*
 * Whole-process CPU time: signal's totals of dead threads plus every live thread
 * (thread_group_cputime()), adjusted with signal->prev_cputime.
 */
static int group_cputime(struct nfm_task_iter *it, uint64_t leader, uint64_t signal,
			 uint64_t *ut, uint64_t *st)
{
	const struct nfm_task_state *ts = it->ts;
	const struct nfm_task_off *o = &ts->t;
	const struct nfm_sig_off *s = &ts->s;
	uint64_t u = nfm_get_u64(it->sbuf, s->utime), sy = nfm_get_u64(it->sbuf, s->stime);
	uint64_t r = nfm_get_u64(it->sbuf, s->sum_sched_runtime);
	struct nfm_list_iter li;
	uint64_t node, self = leader + (uint64_t)o->thread_node;
	int ret;

	/* The common single-threaded group: the ring is just the leader, no reads needed. */
	if (nfm_get_u64(it->sbuf, s->thread_head) == self &&
	    nfm_get_u64(it->sbuf, s->thread_head + 8) == self &&
	    nfm_get_u64(it->tbuf, o->thread_node) == signal + (uint64_t)s->thread_head) {
		u += nfm_get_u64(it->tbuf, o->utime);
		sy += nfm_get_u64(it->tbuf, o->stime);
		r += nfm_get_u64(it->tbuf, o->sum_exec_runtime);
		nfm_cputime_adjust(r, u, sy, nfm_get_u64(it->sbuf, s->prev_utime),
				   nfm_get_u64(it->sbuf, s->prev_stime), ut, st);
		return 0;
	}
	nfm_list_iter_init(&li, it->ctx, signal + (uint64_t)s->thread_head, ts->task_cap);
	while ((ret = nfm_list_iter_next(&li, &node)) > 0) {
		uint64_t th = nfm_container_of(node, o->thread_node), v[2], rt;

		if (visit(it) < 0)
			return -ELOOP;
		if (th == leader) {
			u += nfm_get_u64(it->tbuf, o->utime);
			sy += nfm_get_u64(it->tbuf, o->stime);
			r += nfm_get_u64(it->tbuf, o->sum_exec_runtime);
			continue;
		}
		if (nfm_kread(it->ctx, th + (uint64_t)o->utime, &v[0], 8) < 0 ||
		    nfm_kread(it->ctx, th + (uint64_t)o->stime, &v[1], 8) < 0 ||
		    nfm_kread_u64(it->ctx, th + (uint64_t)o->sum_exec_runtime, &rt) < 0)
			return -EAGAIN;
		u += v[0];
		sy += v[1];
		r += rt;
	}
	if (ret < 0)
		return ret;
	nfm_cputime_adjust(r, u, sy, nfm_get_u64(it->sbuf, s->prev_utime),
			   nfm_get_u64(it->sbuf, s->prev_stime), ut, st);
	return 0;
}

/* Read the windows of the task_struct at addr into it->tbuf (the rest of it stays zero). */
static int read_task(struct nfm_task_iter *it, uint64_t addr)
{
	const struct nfm_task_state *ts = it->ts;

	for (int i = 0; i < ts->nr_win; i++) {
		int err = nfm_kread(it->ctx, addr + (uint64_t)ts->win[i].off, it->tbuf + ts->win[i].off,
				    (size_t)ts->win[i].len);

		if (err < 0)
			return err;
	}
	return 0;
}

/* Fill t from the task_struct at addr (already read into it->tbuf). */
static int fill_task(struct nfm_task_iter *it, uint64_t addr, int whole, struct nfm_task *t)
{
	const struct nfm_task_state *ts = it->ts;
	const struct nfm_task_off *o = &ts->t;
	const uint8_t *b = it->tbuf;
	uint64_t parent, cred, signal, mm, ut, st;
	uint32_t cr[8];
	typeof(&it->cred[0]) cc;
	typeof(&it->parent[0]) pc;
	int err;

	memset(t, 0, sizeof(*t));
	t->addr = addr;
	t->pid = (int32_t)nfm_get_u32(b, o->pid);
	t->tgid = (int32_t)nfm_get_u32(b, o->tgid);
	if (t->pid <= 0 || t->tgid <= 0 || (uint32_t)t->pid > NFM_TASK_MAX ||
	    (uint32_t)t->tgid > NFM_TASK_MAX)
		return -EBADMSG;
	t->state = nfm_task_state_letter(nfm_get_u32(b, o->state), nfm_get_u32(b, o->exit_state));
	memcpy(t->comm, b + o->comm, NFM_TASK_COMM_LEN - 1);
	t->flags = nfm_get_u32(b, o->flags);
	t->kthread = (t->flags & PF_KTHREAD) != 0;
	if (it->flags & NFM_TASK_BRIEF_) {
		/* nr_threads still: the walk's end checks the threads it saw against the kernel's */
		signal = nfm_get_u64(b, o->signal);
		if (!nfm_kptr_ok(it->ctx, signal))
			return -EBADMSG;
		err = nfm_kread(it->ctx, signal + (uint64_t)ts->s.nr_threads, &cr[0], 4);
		if (err < 0)
			return err;
		t->nr_threads = (int32_t)cr[0];
		return t->nr_threads < 0 || (uint32_t)t->nr_threads > NFM_THREAD_MAX ? -EBADMSG : 0;
	}
	nfm_task_proc_name(it->ctx, addr, t->flags, t->comm, t->name);
	t->nice = (int32_t)nfm_get_u32(b, o->static_prio) - 120;
	t->priority = (int32_t)nfm_get_u32(b, o->prio) - 100;
	t->policy = nfm_get_u32(b, o->policy);
	t->rt_priority = nfm_get_u32(b, o->rt_priority);
	t->start_ns = nfm_get_u64(b, o->start_boottime);
	t->start_ticks = t->start_ns / NSEC_PER_TICK;

	parent = nfm_get_u64(b, o->real_parent);
	cred = nfm_get_u64(b, o->real_cred);
	signal = nfm_get_u64(b, o->signal);
	/* A kernel thread that borrowed an mm (kthread_use_mm()) has none for /proc: get_task_mm()
	 * answers NULL for PF_KTHREAD, so its stat, status, maps and cmdline show no memory. */
	mm = t->kthread ? 0 : nfm_get_u64(b, o->mm);
	if (!nfm_kptr_ok(it->ctx, parent) || !nfm_kptr_ok(it->ctx, cred) ||
	    !nfm_kptr_ok(it->ctx, signal) || (mm && !nfm_kptr_ok(it->ctx, mm)))
		return -EBADMSG;
	pc = &it->parent[(parent >> 6) & 63];
	if (pc->addr != parent) {
		err = nfm_kread_u32(it->ctx, parent + (uint64_t)o->tgid, &pc->tgid);
		if (err < 0) {
			pc->addr = 0;
			return err;
		}
		pc->addr = parent;
	}
	t->ppid = (int32_t)pc->tgid;
	/* cred: uid gid suid sgid euid egid fsuid fsgid, consecutive kuid_t/kgid_t. */
	cc = &it->cred[(cred >> 6) & 63];
	if (cc->addr != cred) {
		err = nfm_kread(it->ctx, cred + (uint64_t)ts->c.uid, cc->ids, sizeof(cc->ids));
		if (err < 0) {
			cc->addr = 0;
			return err;
		}
		cc->addr = cred;
	}
	memcpy(cr, cc->ids, sizeof(cr));
	t->uid = cr[0], t->gid = cr[1], t->suid = cr[2], t->sgid = cr[3];
	t->euid = cr[4], t->egid = cr[5], t->fsuid = cr[6], t->fsgid = cr[7];

	err = nfm_kread(it->ctx, signal, it->sbuf, (size_t)ts->s.size);
	if (err < 0)
		return err;
	t->nr_threads = (int32_t)nfm_get_u32(it->sbuf, ts->s.nr_threads);
	if (t->nr_threads < 0 || (uint32_t)t->nr_threads > NFM_THREAD_MAX)
		return -EBADMSG;
	if (whole) {
		err = group_cputime(it, addr, signal, &ut, &st);
		if (err < 0)
			return err;
	} else {
		nfm_cputime_adjust(nfm_get_u64(b, o->sum_exec_runtime), nfm_get_u64(b, o->utime),
				   nfm_get_u64(b, o->stime), nfm_get_u64(b, o->prev_utime),
				   nfm_get_u64(b, o->prev_stime), &ut, &st);
	}
	t->utime_ns = ut;
	t->stime_ns = st;
	t->utime_ticks = ut / NSEC_PER_TICK;
	t->stime_ticks = st / NSEC_PER_TICK;
	if (mm) {
		err = fill_mm(it, mm, t);
		if (err < 0)
			return err;
		t->mm = mm;
	}
	return 0;
}

int nfm_task_iter_new(struct nfm_ctx *ctx, unsigned int flags, struct nfm_task_iter **ret)
{
	const struct nfm_task_state *ts;
	struct nfm_task_iter *it;
	int err = nfm_task_state_get(ctx, &ts);

	if (err < 0)
		return err;
	it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->ctx = ctx;
	it->ts = ts;
	it->flags = flags;
	it->tbuf = calloc(1, (size_t)ts->t.size);
	it->sbuf = malloc((size_t)ts->s.size);
	it->mbuf = malloc((size_t)ts->m.size);
	if (!it->tbuf || !it->sbuf || !it->mbuf) {
		nfm_task_iter_free(it);
		return -ENOMEM;
	}
	nfm_list_iter_init(&it->procs, ctx, ts->init_task + (uint64_t)ts->t.tasks, ts->task_cap);
	*ret = it;
	return 0;
}

/* The next thread of the current leader's group (thread mode): 1, 0 at its end. */
static int next_thread(struct nfm_task_iter *it, struct nfm_task *ret)
{
	const struct nfm_task_off *o = &it->ts->t;
	uint64_t node;
	int r;

	while ((r = nfm_list_iter_next(&it->threads, &node)) > 0) {
		uint64_t th = nfm_container_of(node, o->thread_node);

		if (visit(it) < 0) {
			r = -ELOOP;
			break;
		}
		if (read_task(it, th) < 0 || fill_task(it, th, 0, ret) < 0) {
			it->skipped++;
			continue;
		}
		return 1;
	}
	if (r == -ELOOP && it->visits > 3 * it->ts->task_cap) {
		it->in_threads = 0;
		return r;	/* the whole walk's bound: no more groups either */
	}
	if (r < 0)	/* a broken thread ring loses this group's remaining threads only */
		it->skipped++;
	it->in_threads = 0;
	return 0;
}

/* Restarts of a live guest's walk that ran into a loop or a bad pointer. */
#define MAX_RESTARTS 3

/*
 * A walk of a live guest reads each page when it first needs it, so it can follow a pointer
 * into a task_struct freed and reused since (fork/exit churn) and see a loop or a bad pointer
 * the kernel never had. Such a walk starts again from init_task with fresh memory, skipping
 * what it already yielded; a dump's list is what it is, and its errors stand.
 */
static bool restart(struct nfm_task_iter *it)
{
	struct nfm_budget b = it->ctx->budget;

	if (!nfm_source_is_live(it->ctx->src) || it->restarts >= MAX_RESTARTS)
		return false;
	if (b.exhausted)
		return false;	/* the command's budget is spent: no second try */
	it->restarts++;
	nfm_ctx_refresh(it->ctx);
	it->ctx->budget = b;	/* the same command: its walk budget is not refilled */
	memset(it->cred, 0, sizeof(it->cred));
	memset(it->parent, 0, sizeof(it->parent));
	it->in_threads = 0;
	nfm_list_iter_init(&it->procs, it->ctx, it->ts->init_task + (uint64_t)it->ts->t.tasks,
			   it->ts->task_cap);
	it->threads_seen = 0;
	return true;
}

static void check_nr_threads(struct nfm_task_iter *it);

static size_t seen_slot(const struct nfm_task_iter *it, uint64_t addr, int32_t pid)
{
	size_t mask = it->seen_cap - 1;
	size_t i = (size_t)(((addr ^ (uint64_t)pid) * 0x9e3779b97f4a7c15ull) >> 32) & mask;

	while (it->seen[i].addr && (it->seen[i].addr != addr || it->seen[i].pid != pid))
		i = (i + 1) & mask;
	return i;
}

/* Remember a yielded task: 1 if new, 0 if yielded before, -ENOMEM. */
static int seen_add(struct nfm_task_iter *it, uint64_t addr, int32_t pid)
{
	size_t i;

	if ((it->nseen + 1) * 2 > it->seen_cap) {
		struct seen *old = it->seen;
		size_t old_cap = it->seen_cap, cap = old_cap ? old_cap * 2 : 1024;

		it->seen = calloc(cap, sizeof(*it->seen));
		if (!it->seen) {
			it->seen = old;
			return -ENOMEM;
		}
		it->seen_cap = cap;
		for (i = 0; i < old_cap; i++)
			if (old[i].addr)
				it->seen[seen_slot(it, old[i].addr, old[i].pid)] = old[i];
		free(old);
	}
	i = seen_slot(it, addr, pid);
	if (it->seen[i].addr)
		return 0;
	it->seen[i].addr = addr;
	it->seen[i].pid = pid;
	it->nseen++;
	return 1;
}

int nfm_task_iter_next(struct nfm_task_iter *it, struct nfm_task *ret)
{
	const struct nfm_task_off *o = &it->ts->t;
	uint64_t node;
	int r;

	for (;;) {
		uint64_t task, signal;

		if (it->in_threads) {
			r = next_thread(it, ret);
			if (r > 0)
				goto yield;
			if (r < 0)
				return r;
		}
		r = nfm_list_iter_next(&it->procs, &node);
		if (r < 0 && restart(it))
			continue;
		if (r == 0)
			check_nr_threads(it);
		if (r <= 0)
			return r;
		task = nfm_container_of(node, o->tasks);
		if (visit(it) < 0)
			return -ELOOP;
		if (read_task(it, task) < 0) {
			it->skipped++;
			continue;
		}
		if (it->flags & NFM_TASK_THREADS) {
			signal = nfm_get_u64(it->tbuf, o->signal);
			if (!nfm_kptr_ok(it->ctx, signal)) {
				it->skipped++;
				continue;
			}
			nfm_list_iter_init(&it->threads, it->ctx,
					   signal + (uint64_t)it->ts->s.thread_head, NFM_THREAD_MAX);
			it->in_threads = 1;
			continue;
		}
		if (fill_task(it, task, 1, ret) < 0) {
			it->skipped++;
			continue;
		}
yield:
		/* Once each, even around a loop (before it is detected) or after a restart. */
		r = seen_add(it, ret->addr, ret->pid);
		if (r < 0)
			return r;
		if (r > 0)
			break;
	}
	if (++it->yielded > NFM_TASK_MAX)
		return -ELOOP;
	it->threads_seen += it->flags & NFM_TASK_THREADS ? 1 : (uint64_t)ret->nr_threads;
	return 1;
}

/*
 * At the end of the walk: the threads it accounts for against the kernel's nr_threads (forked
 * tasks; the idle tasks and init_task are not counted in either). A dump is one instant, but a
 * CPU may have been between the two updates: a small slack; a live guest forks and exits between
 * our reads: more.
 */
static void check_nr_threads(struct nfm_task_iter *it)
{
	uint64_t have = it->threads_seen, slack;
	uint32_t nr;

	if (!it->ts->nr_threads || it->skipped || nfm_kread_u32(it->ctx, it->ts->nr_threads, &nr) < 0)
		return;
	slack = nfm_source_is_live(it->ctx->src) ? 16 + have / 8 : 2;
	if ((int32_t)nr < 0 || (have > nr ? have - nr : nr - have) > slack) {
		nfm_dbg(&it->ctx->log, "task walk: %llu threads, the kernel's nr_threads is %u",
			(unsigned long long)have, nr);
		it->status = -EBADMSG;
	}
}

int nfm_task_iter_status(const struct nfm_task_iter *it)
{
	return it->status;
}

unsigned int nfm_task_iter_skipped(const struct nfm_task_iter *it)
{
	return it->skipped;
}

void nfm_task_iter_free(struct nfm_task_iter *it)
{
	if (!it)
		return;
	free(it->tbuf);
	free(it->sbuf);
	free(it->mbuf);
	free(it->seen);
	free(it);
}

int nfm_task_get(struct nfm_ctx *ctx, int32_t pid, unsigned int flags, struct nfm_task *ret)
{
	struct nfm_task_iter *it;
	struct nfm_task t;
	int r;

	r = nfm_task_iter_new(ctx, flags & NFM_TASK_THREADS, &it);
	if (r < 0)
		return r;
	while ((r = nfm_task_iter_next(it, &t)) > 0)
		if (t.pid == pid)
			break;
	nfm_task_iter_free(it);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	*ret = t;
	return 0;
}

int nfm_task_tids(struct nfm_ctx *ctx, const struct nfm_task *t, int32_t *tids, size_t max)
{
	const struct nfm_task_state *ts;
	struct nfm_list_iter li;
	uint64_t signal, node;
	size_t n = 0;
	int r = nfm_task_state_get(ctx, &ts);

	if (r < 0)
		return r;
	r = nfm_kread_u64(ctx, t->addr + (uint64_t)ts->t.signal, &signal);
	if (r < 0)
		return r;
	if (!nfm_kptr_ok(ctx, signal))
		return -EBADMSG;
	nfm_list_iter_init(&li, ctx, signal + (uint64_t)ts->s.thread_head, ts->task_cap);
	while ((r = nfm_list_iter_next(&li, &node)) > 0) {
		uint32_t pid;

		r = nfm_kread_u32(ctx, nfm_container_of(node, ts->t.thread_node) + (uint64_t)ts->t.pid,
				  &pid);
		if (r < 0)
			return r;
		if (n < max)
			tids[n] = (int32_t)pid;
		n++;
	}
	return r < 0 ? r : (int)n;
}
