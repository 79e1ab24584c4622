// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Kernel text on the system call path. Since the branch-history-injection fix (6.1.176, 6.9)
 * x86-64 dispatches through x64_sys_call, a switch compiled into direct jumps to each
 * __x64_sys_* function: sys_call_table is no longer read, so a rootkit patches text. Scanned
 * here, instruction by instruction (x86dec.c): the entry code (entry_SYSCALL_64 up to its
 * return), do_syscall_64, x64_sys_call and what they call directly, every system call function
 * x64_sys_call reaches, and a list of functions rootkits like to patch. A finding is a direct
 * call/jmp/jcc whose target is outside the kernel's text (a module: an inline hook; nobody's
 * memory: hidden code), or an int3 at a function's start that no kprobe explains.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/context.h>

#include "check/hookset.h"
#include "check/x86dec.h"
#include "core/context.h"

#define MAX_FUNCS 4096		/* functions scanned */
#define MAX_FUNC_BYTES 65536	/* one function's text read at most */
#define MAX_SYSCALLS 1024

/* Functions rootkits patch to hide files, processes, sockets and modules. */
static const char *const hot[] = {
	"do_syscall_64", "x64_sys_call", "__x64_sys_getdents64", "__x64_sys_getdents",
	"__x64_sys_kill", "__x64_sys_read", "__x64_sys_openat", "__x64_sys_init_module",
	"__x64_sys_finit_module", "__x64_sys_delete_module", "filldir64", "filldir",
	"tcp4_seq_show", "tcp6_seq_show", "udp4_seq_show", "udp6_seq_show", "proc_pid_readdir",
	"iterate_dir", "vfs_read", "find_task_by_vpid", "kallsyms_lookup_name",
	"do_sys_openat2", "packet_rcv", "tpacket_rcv", "load_msg",
};

static bool sym_text(char t)
{
	return t == 't' || t == 'T' || t == 'w' || t == 'W';
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int text_scan(const struct owner_map *m, const struct hook_known *k, const uint8_t *code,
	      size_t len, uint64_t start,
	      void (*found)(void *arg, const struct text_finding *f),
	      void (*branch)(void *arg, uint64_t target, int kind), void *arg)
{
	size_t pos = x86_is_endbr64(code, len) ? 4 : 0, first = pos;

	while (pos < len) {
		struct x86_insn in;
		uint64_t ip = start + pos;
		struct text_finding f = { .site = ip };
		bool probed = false;

		if (x86_decode(code + pos, len - pos, ip, &in) < 0)
			return -EBADMSG;
		for (size_t i = 0; i < k->nprobes; i++)
			probed = probed || k->probes[i] == ip;
		if (pos == first && in.kind == X86_INT3 && !probed) {
			f.target = ip;
			f.what = "int3 at function start";
			f.owner = owner_of(m, ip, NULL);
			found(arg, &f);
		}
		if (in.has_target && (in.target < start || in.target >= start + len) && branch)
			branch(arg, in.target, in.kind);
		if (in.has_target && !probed &&
		    (f.owner = owner_of(m, in.target, NULL)) != NFM_OWNER_KERNEL) {
			bool tramp = false;

			/* The fentry call into the trampoline ftrace made for an ops. */
			for (size_t i = 0; pos == first && in.kind == X86_CALL && i < k->ntramp; i++)
				tramp = tramp || (in.target >= k->tramp[i][0] &&
						  in.target < k->tramp[i][1]);
			if (!tramp) {
				f.target = in.target;
				f.what = in.kind == X86_CALL ? "call out of kernel text" :
					 in.kind == X86_JMP ? "jmp out of kernel text" :
					 "conditional jump out of kernel text";
				found(arg, &f);
			}
		}
		pos += in.len;
	}
	return 0;
}

struct textscan {
	struct hookset *h;
	uint64_t *fn;		/* sorted starts of the kernel's text symbols */
	size_t nfn;
	uint64_t queue[MAX_FUNCS];
	size_t nq;
	bool dispatch;		/* scanning x64_sys_call: its targets are the system calls */
	bool follow;		/* scanning a dispatch function: queue its direct call targets */
	uint64_t self_lo, self_hi;
};

static bool queued(const struct textscan *t, uint64_t a)
{
	for (size_t i = 0; i < t->nq; i++)
		if (t->queue[i] == a)
			return true;
	return false;
}

static void enqueue(struct textscan *t, uint64_t a)
{
	if (a >= t->h->om.text_lo && a < t->h->om.text_hi && t->nq < MAX_FUNCS && !queued(t, a))
		t->queue[t->nq++] = a;
}

/* End of the function at a: where the next text symbol starts. */
static uint64_t func_end(const struct textscan *t, uint64_t a)
{
	size_t lo = 0, hi = t->nfn;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->fn[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->nfn ? t->fn[lo] : t->h->om.text_hi;
}

static void on_found(void *arg, const struct text_finding *f)
{
	struct textscan *t = arg;
	struct nfm_hook *e = hook_add(t->h, NFM_HOOK_TEXT, f->what, 0, f->site, f->target);

	if (e && f->target == f->site)
		e->ok = false;	/* int3: the target is the site itself, in the kernel's text */
}

static void on_branch(void *arg, uint64_t target, int kind)
{
	struct textscan *t = arg;

	if (t->dispatch && (kind == X86_JMP || kind == X86_CALL || kind == X86_JCC)) {
		if (!queued(t, target) && target >= t->h->om.text_lo && target < t->h->om.text_hi)
			t->h->st.nr_dispatch_targets++;
		enqueue(t, target);
	} else if (t->follow && kind == X86_CALL) {
		enqueue(t, target);
	}
}

static int scan_one(struct textscan *t, uint64_t a, uint64_t end)
{
	uint8_t *buf;
	size_t len = end - a;
	int r;

	if (end <= a)
		return 0;
	if (len > MAX_FUNC_BYTES)
		len = MAX_FUNC_BYTES;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	if (nfm_kread(t->h->ctx, a, buf, len) < 0) {
		free(buf);
		t->h->st.nr_undecoded++;
		return 0;
	}
	t->h->st.nr_functions++;
	r = text_scan(&t->h->om, &t->h->known, buf, len, a, on_found, on_branch, t);
	if (r < 0)
		t->h->st.nr_undecoded++;
	free(buf);
	return 0;
}

static int load_functions(struct textscan *t)
{
	size_t n = nfm_sym_count(t->h->ctx), k = 0;

	t->fn = malloc((n ? n : 1) * sizeof(*t->fn));
	if (!t->fn)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *name;
		char type;
		uint64_t a;

		if (nfm_sym_get(t->h->ctx, i, &name, &type, &a) == 0 && sym_text(type) &&
		    a >= t->h->om.text_lo && a < t->h->om.text_hi)
			t->fn[k++] = a;
	}
	qsort(t->fn, k, sizeof(*t->fn), cmp_u64);
	t->nfn = k;
	return 0;
}

/* entry_SYSCALL_64 has global labels inside (entry_SYSCALL_64_after_hwframe, ...): scan to
 * the end of the last symbol of the entry code's syscall path. */
static uint64_t entry_end(struct textscan *t, uint64_t a)
{
	uint64_t end = func_end(t, a);

	for (int i = 0; i < 16 && end < t->h->om.text_hi; i++) {
		const char *name;
		uint64_t off;

		if (nfm_sym_symbolize(t->h->ctx, end, &name, NULL, &off) < 0 || off ||
		    !(strncmp(name, "entry_SYSCALL_64", 16) == 0 ||
		      strncmp(name, "entry_SYSRETQ", 13) == 0 ||
		      strcmp(name, "syscall_return_via_sysret") == 0))
			break;
		end = func_end(t, end);
	}
	return end;
}

int check_text(struct hookset *h)
{
	struct textscan *t = calloc(1, sizeof(*t));
	uint64_t a, done[3] = { 0, 0, 0 };	/* the dispatch functions, scanned first */
	int err;

	if (!t)
		return -ENOMEM;
	t->h = h;
	err = load_functions(t);
	/* The dispatch: the entry code and do_syscall_64 (their callees), x64_sys_call (the
	 * system calls). */
	if (err == 0 && nfm_ksym(h->ctx, "entry_SYSCALL_64", &a) == 0) {
		t->follow = true;
		t->queue[t->nq++] = done[0] = a;
		err = scan_one(t, a, entry_end(t, a));
	}
	if (err == 0 && nfm_ksym(h->ctx, "do_syscall_64", &a) == 0 && !queued(t, a)) {
		t->follow = true;
		t->queue[t->nq++] = done[1] = a;
		err = scan_one(t, a, func_end(t, a));
	}
	t->follow = false;
	if (err == 0 && nfm_ksym(h->ctx, "x64_sys_call", &a) == 0) {
		t->dispatch = true;
		if (!queued(t, a))
			t->queue[t->nq++] = a;
		done[2] = a;
		err = scan_one(t, a, func_end(t, a));
		t->dispatch = false;
	} else if (err == 0 && nfm_ksym(h->ctx, "sys_call_table", &a) == 0) {
		/* Before x64_sys_call: the table's entries are the system calls. */
		uint64_t tab[MAX_SYSCALLS];
		size_t n = nfm_read_kernel_some(h->ctx, a, tab, sizeof(tab)) / 8;

		for (size_t i = 0; i < n && tab[i]; i++) {
			if (tab[i] >= h->om.text_lo && tab[i] < h->om.text_hi && !queued(t, tab[i]))
				h->st.nr_dispatch_targets++;
			enqueue(t, tab[i]);
		}
	}
	for (size_t i = 0; err == 0 && i < sizeof(hot) / sizeof(hot[0]); i++)
		if (nfm_ksym(h->ctx, hot[i], &a) == 0)
			enqueue(t, a);
	/* Everything queued that was not scanned yet: callees, system calls, hot functions. */
	for (size_t i = 0; err == 0 && i < t->nq; i++) {
		uint64_t f = t->queue[i];
		const char *name;
		uint64_t off;

		if (f == done[0] || f == done[1] || f == done[2])
			continue;
		/* A branch into the middle of a function (a jump to a shared tail): scan the whole. */
		if (nfm_sym_symbolize(h->ctx, f, &name, NULL, &off) == 0 && off && off < f)
			f -= off;
		err = scan_one(t, f, func_end(t, f));
	}
	free(t->fn);
	free(t);
	return err;
}
