// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * An RCU stall under way, from rcu_state (kernel/rcu/tree.h): a grace period in progress (the
 * low two bits of gp_seq, rcu_seq_state()) that began at gp_start (jiffies) longer ago than
 * the stall timeout (rcu_cpu_stall_timeout seconds; HZ from nfm_kernel_hz()),
 * which is what check_cpu_stall() waits for before it warns. A snapshot sees it even when the
 * warning is suppressed or the console is gone; a stall that ended is the log's.
 */
#include <errno.h>
#include <stdint.h>

#include <nfm/diag.h>

#include "core/context.h"
#include "diag/diag_int.h"

/* 1 and the finding when a stall is under way, 0 when none, -errno when it cannot tell. */
int diag_rcu_stall_now(struct diag *d)
{
	struct nfm_field gp_seq, gp_start, js;
	struct nfm_diag_finding *f;
	uint64_t rs, seq = 0, start = 0, stall = 0, now = 0;
	int64_t timeout_s = 21, suppress = 0;
	uint64_t hz, waited;

	if (!d->ctx->btf || nfm_sym_lookup(d->ctx, "rcu_state", &rs, NULL) < 0 ||
	    nfm_btf_field(d->ctx->btf, "rcu_state", "gp_seq", &gp_seq) < 0 ||
	    nfm_btf_field(d->ctx->btf, "rcu_state", "gp_start", &gp_start) < 0 ||
	    nfm_btf_field(d->ctx->btf, "rcu_state", "jiffies_stall", &js) < 0 ||
	    diag_read_sym(d->ctx, "jiffies", 8, (int64_t *)&now) < 0 ||
	    nfm_kernel_hz(d->ctx, &hz) < 0)
		return -ENOENT;
	if (nfm_kread_u64(d->ctx, rs + gp_seq.offset, &seq) < 0 ||
	    nfm_kread_u64(d->ctx, rs + gp_start.offset, &start) < 0 ||
	    nfm_kread_u64(d->ctx, rs + js.offset, &stall) < 0)
		return -EFAULT;
	diag_read_sym(d->ctx, "rcu_cpu_stall_timeout", 4, &timeout_s);
	diag_read_sym(d->ctx, "rcu_cpu_stall_suppress", 4, &suppress);
	if (timeout_s <= 0 || timeout_s > 300)
		return -EBADMSG;
	/* rcu_seq_state(): 0 when no grace period runs; jiffies wrap, so compare differences */
	waited = now - start;
	if (!(seq & 3) || (int64_t)waited < 0 || waited < (uint64_t)timeout_s * hz)
		return 0;
	f = diag_add(d, NFM_DIAG_RCU_STALL, NFM_DIAG_ERROR,
		     "RCU stall under way: grace period g=%lld has waited %llu s",
		     (long long)seq, (unsigned long long)(waited / hz));
	if (!f)
		return 0;	/* no memory: the log's finding stands alone */
	/* g= as the kernel's own stall warning prints rcu_state.gp_seq */
	diag_evidence(d, f, "rcu_state.gp_seq g=%lld: a grace period in progress since "
		      "jiffies %llu (gp_start), now %llu: %llu jiffies at HZ %llu",
		      (long long)seq,
		      (unsigned long long)start, (unsigned long long)now,
		      (unsigned long long)waited, (unsigned long long)hz);
	diag_evidence(d, f, "rcu_cpu_stall_timeout = %lld s; rcu_state.jiffies_stall %llu (the next "
		      "stall warning %s)", (long long)timeout_s, (unsigned long long)stall,
		      (int64_t)(now - stall) >= 0 ? "is due" : "is due later: one was printed");
	if (suppress)
		diag_evidence(d, f, "rcu_cpu_stall_suppress = %lld: the guest itself prints no warning",
			      (long long)suppress);
	return 1;
}
