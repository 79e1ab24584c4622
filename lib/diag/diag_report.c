// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What every diagnosis check writes with: findings, their evidence lines and subjects (each a
 * separate allocation the report owns), the checks' outcomes, the kernel log's lines as
 * evidence, and the names of kinds and severities.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/diag.h>

#include "core/context.h"
#include "diag/diag_int.h"

static const char *const kind_names[NFM_DIAG_KIND_MAX] = {
	[NFM_DIAG_PANIC] = "panic",
	[NFM_DIAG_HALTED] = "halted",
	[NFM_DIAG_OOPS] = "oops",
	[NFM_DIAG_HUNG_TASK] = "hung_task",
	[NFM_DIAG_SOFT_LOCKUP] = "soft_lockup",
	[NFM_DIAG_HARD_LOCKUP] = "hard_lockup",
	[NFM_DIAG_RCU_STALL] = "rcu_stall",
	[NFM_DIAG_OOM_KILL] = "oom_kill",
	[NFM_DIAG_LOW_MEMORY] = "low_memory",
	[NFM_DIAG_IF_DOWN] = "interface_down",
	[NFM_DIAG_NO_CARRIER] = "no_carrier",
	[NFM_DIAG_NO_INTERFACE_UP] = "no_interface_up",
	[NFM_DIAG_NO_DEFAULT_ROUTE] = "no_default_route",
	[NFM_DIAG_GATEWAY_OFF_SUBNET] = "gateway_off_subnet",
	[NFM_DIAG_LOOPBACK_ONLY] = "loopback_only",
	[NFM_DIAG_RESOLV_CONF] = "resolv_conf",
	[NFM_DIAG_FS_READONLY] = "fs_readonly",
	[NFM_DIAG_FS_FULL] = "fs_full",
	[NFM_DIAG_ADDR_CONFLICT] = "address_conflict",
};

const char *nfm_diag_kind_name(enum nfm_diag_kind kind)
{
	return (unsigned int)kind < NFM_DIAG_KIND_MAX ? kind_names[kind] : "unknown";
}

const char *nfm_diag_severity_name(enum nfm_diag_severity s)
{
	static const char *const names[] = { "info", "warning", "error", "critical" };

	return (unsigned int)s < 4 ? names[s] : "unknown";
}

__attribute__((format(printf, 1, 0))) static char *vfmt(const char *fmt, va_list ap)
{
	char *s;

	return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

struct nfm_diag_finding *diag_add(struct diag *d, enum nfm_diag_kind kind,
				  enum nfm_diag_severity sev, const char *fmt, ...)
{
	struct nfm_diag_report *r = d->r;
	struct nfm_diag_finding *f;
	va_list ap;

	if (r->nr_findings >= DIAG_MAX_FINDINGS)
		return NULL;
	if (r->nr_findings == d->cap) {
		unsigned int cap = d->cap ? d->cap * 2 : 16;
		void *p = realloc(r->findings, cap * sizeof(*f));

		if (!p) {
			d->nomem = true;
			return NULL;
		}
		r->findings = p;
		d->cap = cap;
	}
	f = &r->findings[r->nr_findings];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->severity = sev;
	f->pid = -1;
	f->cpu = -1;
	va_start(ap, fmt);
	f->summary = vfmt(fmt, ap);
	va_end(ap);
	if (!f->summary) {
		d->nomem = true;
		return NULL;
	}
	r->nr_findings++;
	return f;
}

void diag_evidence(struct diag *d, struct nfm_diag_finding *f, const char *fmt, ...)
{
	const char **ev;
	char *s;
	va_list ap;

	if (!f || f->nr_evidence > DIAG_MAX_EVIDENCE)
		return;
	if (f->nr_evidence == DIAG_MAX_EVIDENCE) {
		s = strdup("(more evidence left out)");
	} else {
		va_start(ap, fmt);
		s = vfmt(fmt, ap);
		va_end(ap);
	}
	ev = s ? realloc((void *)f->evidence, (f->nr_evidence + 1) * sizeof(*ev)) : NULL;
	if (!ev) {
		free(s);
		d->nomem = true;
		return;
	}
	ev[f->nr_evidence++] = s;
	f->evidence = ev;
}

void diag_subject(struct diag *d, struct nfm_diag_finding *f, const char *s)
{
	if (!f)
		return;
	free((void *)f->subject);
	f->subject = strdup(s);
	if (!f->subject)
		d->nomem = true;
}

void diag_check(struct diag *d, const char *name, int err, const char *what)
{
	struct nfm_diag_report *r = d->r;

	for (unsigned int i = 0; i < r->nr_checks; i++) {
		if (strcmp(r->checks[i].name, name))
			continue;
		if (err && !r->checks[i].err) {	/* the first failure of a check is kept */
			r->checks[i].err = err;
			r->checks[i].what = what;
		}
		return;
	}
	if (r->nr_checks < NFM_DIAG_NR_CHECKS)
		r->checks[r->nr_checks++] = (struct nfm_diag_check){ name, err, err ? what : NULL };
}

int diag_read_sym(struct nfm_ctx *ctx, const char *name, unsigned int n, int64_t *v)
{
	uint64_t addr, raw = 0;
	int err;

	if (n == 0 || n > 8)
		return -EINVAL;
	if ((err = nfm_sym_lookup(ctx, name, &addr, NULL)) < 0)
		return err;
	if ((err = nfm_kread(ctx, addr, &raw, n)) < 0)
		return err;
	/* sign-extend ints (panic_cpu is -1 when no CPU panicked) */
	if (n == 4)
		*v = (int32_t)raw;
	else
		*v = (int64_t)raw;
	return 0;
}

const char *diag_log_at(const struct diag *d, int i, const char *needle)
{
	if (i < 0 || i >= d->nr_log || !d->log[i].text)
		return NULL;
	return memmem(d->log[i].text, d->log[i].text_len, needle, strlen(needle));
}

int diag_log_find(const struct diag *d, int from, const char *needle)
{
	for (int i = from < 0 ? 0 : from; i < d->nr_log; i++)
		if (diag_log_at(d, i, needle))
			return i;
	return -1;
}

/* The record's text up to its first newline, with its time stamp as dmesg prints it. */
static void log_line(struct diag *d, struct nfm_diag_finding *f, const struct nfm_log_record *l)
{
	size_t n = l->text_len;
	const char *nl = memchr(l->text, '\n', n);

	if (nl)
		n = (size_t)(nl - l->text);
	if (n > 400)
		n = 400;
	diag_evidence(d, f, "log [%5llu.%06llu] %.*s", (unsigned long long)(l->ts_nsec / 1000000000),
		      (unsigned long long)(l->ts_nsec % 1000000000 / 1000), (int)n, l->text);
}

/* Register dumps and code bytes of an oops: noise in a report (the stack and RIP stay). */
static bool noise(const char *t)
{
	static const char *const skip[] = { "Code: ", "RSP: ", "RAX: ", "RDX: ", "RBP: ", "R10: ",
					     "R13: ", "FS: ", "CS: ", "CR2: ", "PKRU: ", "DR0: ",
					     "DR3: ", "DR6: ", "Hardware name: ", "Modules linked in: " };

	for (size_t k = 0; k < sizeof(skip) / sizeof(skip[0]); k++)
		if (!strncmp(t, skip[k], strlen(skip[k])))
			return true;
	return false;
}

void diag_log_evidence(struct diag *d, struct nfm_diag_finding *f, int i, int max)
{
	int end = i + max, last = i;

	if (i < 0 || !f)
		return;
	if (end > d->nr_log)
		end = d->nr_log;
	/* the message, then what belongs to it: the CPU/PID line, registers and Call Trace lines,
	 * up to the trace's end or the next unrelated message */
	for (int k = i; k < end; k++) {
		const char *t = d->log[k].text;

		if (!t)
			continue;
		if (k > i && (strstr(t, "</TASK>") || strstr(t, "---[ end"))) {
			last = k;
			break;
		}
		last = k;
	}
	for (int k = i; k <= last; k++)
		if (d->log[k].text && (k == i || !noise(d->log[k].text)))
			log_line(d, f, &d->log[k]);
}
