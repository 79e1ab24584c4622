// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm ps's columns as procps-ng 4 defines them (src/ps/output.c's format table). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "guest_users.h"
#include "ps_fields.h"

enum {
	F_PCPU, F_PMEM, F_ARGS, F_COMM, F_C, F_EGID, F_EGROUP, F_ETIME, F_ETIMES, F_EUID, F_EUSER,
	F_FLAG, F_FSGID, F_FSUID, F_LSTART, F_LWP, F_NI, F_NLWP, F_PGID, F_PID, F_PPID, F_PRI,
	F_OPRI, F_PRIORITY, F_PSR, F_RGID, F_RGROUP, F_RSS, F_RUID, F_RUSER, F_S, F_STAT, F_SESS,
	F_START, F_STIME, F_BSDSTART, F_BSDTIME, F_TIME, F_SZ, F_TTY, F_TPGID, F_VSZ, F_WCHAN,
	F_CLASS, F_RTPRIO, F_ADDR, F_SIGPND, F_SIGBLK, F_SIGIGN, F_SIGCGT, F_MAJFLT, F_MINFLT,
	F_SUID, F_SGID, F_SUSER, F_SGROUP, F_TGID,
};

#define I PS_F_INFO
#define P PS_F_PIDMAX
static const struct ps_field fields[] = {
	{ "%cpu", "%CPU", 4, PS_RIGHT, F_PCPU, 0 },
	{ "%mem", "%MEM", 4, PS_RIGHT, F_PMEM, 0 },
	{ "addr", "ADDR", 4, PS_RIGHT, F_ADDR, 0 },
	{ "args", "COMMAND", 27, PS_UNLIMITED, F_ARGS, PS_F_CMD },
	{ "blocked", "BLOCKED", 9, PS_SIGNAL, F_SIGBLK, I },
	{ "bsdstart", "START", 6, PS_RIGHT, F_BSDSTART, 0 },
	{ "bsdtime", "TIME", 6, PS_RIGHT, F_BSDTIME, 0 },
	{ "c", "C", 2, PS_RIGHT, F_C, 0 },
	{ "caught", "CAUGHT", 9, PS_SIGNAL, F_SIGCGT, I },
	{ "class", "CLS", 3, PS_LEFT, F_CLASS, 0 },
	{ "cls", "CLS", 3, PS_RIGHT, F_CLASS, 0 },
	{ "cmd", "CMD", 27, PS_UNLIMITED, F_ARGS, PS_F_CMD },
	{ "comm", "COMMAND", 15, PS_UNLIMITED, F_COMM, 0 },
	{ "command", "COMMAND", 27, PS_UNLIMITED, F_ARGS, PS_F_CMD },
	{ "cputime", "TIME", 8, PS_RIGHT, F_TIME, 0 },
	{ "egid", "EGID", 5, PS_RIGHT, F_EGID, 0 },
	{ "egroup", "EGROUP", 8, PS_USER, F_EGROUP, 0 },
	{ "etime", "ELAPSED", 11, PS_RIGHT, F_ETIME, 0 },
	{ "etimes", "ELAPSED", 7, PS_RIGHT, F_ETIMES, 0 },
	{ "euid", "EUID", 5, PS_RIGHT, F_EUID, 0 },
	{ "euser", "EUSER", 8, PS_USER, F_EUSER, 0 },
	{ "f", "F", 1, PS_RIGHT, F_FLAG, 0 },
	{ "flag", "F", 1, PS_RIGHT, F_FLAG, 0 },
	{ "flags", "F", 1, PS_RIGHT, F_FLAG, 0 },
	{ "fsgid", "FSGID", 5, PS_RIGHT, F_FSGID, 0 },
	{ "fsuid", "FSUID", 5, PS_RIGHT, F_FSUID, 0 },
	{ "gid", "GID", 5, PS_RIGHT, F_EGID, 0 },
	{ "group", "GROUP", 8, PS_USER, F_EGROUP, 0 },
	{ "ignored", "IGNORED", 9, PS_SIGNAL, F_SIGIGN, I },
	{ "intpri", "PRI", 3, PS_RIGHT, F_OPRI, 0 },
	{ "lstart", "STARTED", 24, PS_RIGHT, F_LSTART, 0 },
	{ "lwp", "LWP", 5, PS_RIGHT, F_LWP, P },
	{ "maj_flt", "MAJFL", 6, PS_RIGHT, F_MAJFLT, I },
	{ "majflt", "MAJFLT", 6, PS_RIGHT, F_MAJFLT, I },
	{ "min_flt", "MINFL", 6, PS_RIGHT, F_MINFLT, I },
	{ "minflt", "MINFLT", 6, PS_RIGHT, F_MINFLT, I },
	{ "ni", "NI", 3, PS_RIGHT, F_NI, 0 },
	{ "nice", "NI", 3, PS_RIGHT, F_NI, 0 },
	{ "nlwp", "NLWP", 4, PS_RIGHT, F_NLWP, 0 },
	{ "opri", "PRI", 3, PS_RIGHT, F_OPRI, 0 },
	{ "pcpu", "%CPU", 4, PS_RIGHT, F_PCPU, 0 },
	{ "pending", "PENDING", 9, PS_SIGNAL, F_SIGPND, I },
	{ "pgid", "PGID", 5, PS_RIGHT, F_PGID, P | I },
	{ "pgrp", "PGRP", 5, PS_RIGHT, F_PGID, P | I },
	{ "pid", "PID", 5, PS_RIGHT, F_PID, P },
	{ "pmem", "%MEM", 4, PS_RIGHT, F_PMEM, 0 },
	{ "policy", "POL", 3, PS_LEFT, F_CLASS, 0 },
	{ "ppid", "PPID", 5, PS_RIGHT, F_PPID, P },
	{ "pri", "PRI", 3, PS_RIGHT, F_PRI, 0 },
	{ "priority", "PRI", 3, PS_RIGHT, F_PRIORITY, 0 },
	{ "psr", "PSR", 3, PS_RIGHT, F_PSR, I },
	{ "rgid", "RGID", 5, PS_RIGHT, F_RGID, 0 },
	{ "rgroup", "RGROUP", 8, PS_USER, F_RGROUP, 0 },
	{ "rss", "RSS", 5, PS_RIGHT, F_RSS, 0 },
	{ "rssize", "RSS", 5, PS_RIGHT, F_RSS, 0 },
	{ "rsz", "RSZ", 5, PS_RIGHT, F_RSS, 0 },
	{ "rtprio", "RTPRIO", 6, PS_RIGHT, F_RTPRIO, 0 },
	{ "ruid", "RUID", 5, PS_RIGHT, F_RUID, 0 },
	{ "ruser", "RUSER", 8, PS_USER, F_RUSER, 0 },
	{ "s", "S", 1, PS_LEFT, F_S, 0 },
	{ "sess", "SESS", 5, PS_RIGHT, F_SESS, P | I },
	{ "session", "SESS", 5, PS_RIGHT, F_SESS, P | I },
	{ "sgid", "SGID", 5, PS_RIGHT, F_SGID, 0 },
	{ "sgroup", "SGROUP", 8, PS_USER, F_SGROUP, 0 },
	{ "sid", "SID", 5, PS_RIGHT, F_SESS, P | I },
	{ "sig", "PENDING", 9, PS_SIGNAL, F_SIGPND, I },
	{ "sig_block", "BLOCKED", 9, PS_SIGNAL, F_SIGBLK, I },
	{ "sig_catch", "CATCHED", 9, PS_SIGNAL, F_SIGCGT, I },
	{ "sig_ignore", "IGNORED", 9, PS_SIGNAL, F_SIGIGN, I },
	{ "sig_pend", "SIGNAL", 9, PS_SIGNAL, F_SIGPND, I },
	{ "sigcatch", "CAUGHT", 9, PS_SIGNAL, F_SIGCGT, I },
	{ "sigignore", "IGNORED", 9, PS_SIGNAL, F_SIGIGN, I },
	{ "sigmask", "BLOCKED", 9, PS_SIGNAL, F_SIGBLK, I },
	{ "spid", "SPID", 5, PS_RIGHT, F_LWP, P },
	{ "start", "STARTED", 8, PS_RIGHT, F_START, 0 },
	{ "start_time", "START", 5, PS_RIGHT, F_STIME, 0 },
	{ "stat", "STAT", 4, PS_LEFT, F_STAT, I },
	{ "state", "S", 1, PS_LEFT, F_S, 0 },
	{ "stime", "STIME", 5, PS_RIGHT, F_STIME, 0 },
	{ "suid", "SUID", 5, PS_RIGHT, F_SUID, 0 },
	{ "suser", "SUSER", 8, PS_USER, F_SUSER, 0 },
	{ "svgid", "SVGID", 5, PS_RIGHT, F_SGID, 0 },
	{ "svuid", "SVUID", 5, PS_RIGHT, F_SUID, 0 },
	{ "sz", "SZ", 5, PS_RIGHT, F_SZ, 0 },
	{ "tgid", "TGID", 5, PS_RIGHT, F_TGID, P },
	{ "thcount", "THCNT", 5, PS_RIGHT, F_NLWP, 0 },
	{ "tid", "TID", 5, PS_RIGHT, F_LWP, P },
	{ "time", "TIME", 8, PS_RIGHT, F_TIME, 0 },
	{ "tname", "TTY", 8, PS_LEFT, F_TTY, I },
	{ "tpgid", "TPGID", 5, PS_RIGHT, F_TPGID, P | I },
	{ "tt", "TT", 8, PS_LEFT, F_TTY, I },
	{ "tty", "TT", 8, PS_LEFT, F_TTY, I },
	{ "ucmd", "CMD", 15, PS_UNLIMITED, F_COMM, 0 },
	{ "ucomm", "COMMAND", 15, PS_UNLIMITED, F_COMM, 0 },
	{ "uid", "UID", 5, PS_RIGHT, F_EUID, 0 },
	{ "uid_hack", "UID", 8, PS_USER, F_EUSER, 0 },
	{ "uname", "USER", 8, PS_USER, F_EUSER, 0 },
	{ "user", "USER", 8, PS_USER, F_EUSER, 0 },
	{ "vsize", "VSZ", 6, PS_RIGHT, F_VSZ, 0 },
	{ "vsz", "VSZ", 6, PS_RIGHT, F_VSZ, 0 },
	{ "wchan", "WCHAN", 6, PS_WCHAN, F_WCHAN, PS_F_WCHAN },
};
#undef I
#undef P

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

const struct ps_field *ps_field_find(const char *spec)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (!strcmp(fields[i].spec, spec))
			return &fields[i];
	return NULL;
}

const char *ps_field_names(void)
{
	static char buf[1024];

	if (!buf[0])
		for (size_t i = 0; i < NFIELDS; i++) {
			size_t o = strlen(buf);

			snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? " " : "", fields[i].spec);
		}
	return buf;
}

int ps_format_parse(const char *list, const struct ps_env *e, struct ps_col *cols, size_t *n,
		    size_t max, char *bad, size_t size)
{
	char *dup = strdup(list), *p, *save = NULL;
	int ret = 0;

	if (!dup)
		return -1;
	/* "pid,user" or "pid user"; a "spec=HEADER" takes the rest of the word as its header */
	for (p = strtok_r(dup, ", \t", &save); p; p = strtok_r(NULL, ", \t", &save)) {
		char *eq = strchr(p, '=');
		const struct ps_field *f;
		struct ps_col *c;

		if (eq)
			*eq = 0;
		f = ps_field_find(p);
		if (!f || *n >= max) {
			snprintf(bad, size, "%s", p);
			ret = -1;
			break;
		}
		c = &cols[(*n)++];
		c->f = f;
		snprintf(c->head, sizeof(c->head), "%s", eq ? eq + 1 : f->head);
		c->width = f->width;
		if (f->flags & PS_F_PIDMAX)
			c->width = e->pid_width;
		if (eq && (int)strlen(c->head) > c->width)
			c->width = (int)strlen(c->head);
		if ((f->flags & PS_F_PIDMAX) && (int)strlen(c->head) > c->width)
			c->width = (int)strlen(c->head);
	}
	free(dup);
	return ret;
}

/* ---- values ---- */

static unsigned long long ticks_all(const struct nfm_task *t)
{
	return t->utime_ticks + t->stime_ticks;
}

/* Seconds since start as procps's TIME_ELAPSED, and utilization in percent. */
static double elapsed_ticks(const struct nfm_task *t, const struct ps_env *e)
{
	double d = e->uptime_ticks - (double)t->start_ticks;

	return d > 0 ? d : 0;
}

static double utilization(const struct nfm_task *t, const struct ps_env *e)
{
	double d = elapsed_ticks(t, e);

	return d > 0 ? (double)ticks_all(t) * 100.0 / d : 0;
}

static uint64_t rss_kb(const struct nfm_task *t, const struct ps_env *e)
{
	return nfm_task_vmrss_pages(t, e->vmrss_summed) * 4;	/* status VmRSS (procps 4 reads it) */
}

static void fmt_dhms(unsigned long t, char *out, size_t size, bool etime)
{
	unsigned ss = (unsigned)(t % 60), mm = (unsigned)(t / 60 % 60), hh = (unsigned)(t / 3600 % 24);
	unsigned long dd = t / 86400;
	int c = 0;

	if (dd)
		c = snprintf(out, size, "%lu-", dd);
	if (!etime || dd || hh)
		c += snprintf(out + c, size - (size_t)c, "%02u:", hh);
	snprintf(out + c, size - (size_t)c, "%02u:%02u", mm, ss);
}

static time_t start_wall(const struct nfm_task *t, const struct ps_env *e)
{
	return (time_t)(e->boot_s + (int64_t)(t->start_ticks / 100));
}

static void fmt_stime(const struct nfm_task *t, const struct ps_env *e, char *out, size_t size)
{
	struct tm now, st;
	time_t w = start_wall(t, e);
	size_t n;

	localtime_r(&e->now, &now);
	localtime_r(&w, &st);
	if (now.tm_year != st.tm_year)
		n = strftime(out, size, "%Y", &st);
	else if (now.tm_yday != st.tm_yday)
		n = strftime(out, size, "%b%d", &st);
	else
		n = strftime(out, size, "%H:%M", &st);
	if (!n)
		out[0] = 0;
}

static void fmt_start(const struct nfm_task *t, const struct ps_env *e, char *out, size_t size)
{
	time_t w = start_wall(t, e);
	char b[32];

	ctime_r(&w, b);
	if (b[8] == ' ')
		b[8] = '0';
	if (b[11] == ' ')
		b[11] = '0';
	if ((unsigned long)w + 86400 > (unsigned long)e->now)
		snprintf(out, size, "%8.8s", b + 11);
	else
		snprintf(out, size, "  %6.6s", b + 4);
}

static void fmt_bsdstart(const struct nfm_task *t, const struct ps_env *e, char *out, size_t size)
{
	time_t w = start_wall(t, e);
	char b[32];

	ctime_r(&w, b);
	snprintf(out, size, "%.6s", e->now - w > 86400 ? b + 4 : b + 10);
}

void ps_info_from(struct ps_info *p, const struct nfm_task_info *i)
{
	p->pgrp = i->pgrp;
	p->session = i->session;
	p->tpgid = i->tpgid;
	p->processor = i->processor;
	p->tty_nr = i->tty_nr;
	p->tty_major = i->tty_major;
	p->tty_minor = i->tty_minor;
	memcpy(p->tty_name, i->tty_name, sizeof(p->tty_name));
	p->vm_lck = i->vm_lck;
	p->min_flt = i->min_flt;
	p->maj_flt = i->maj_flt;
	p->sig_pending = i->sig_pending;
	p->sig_blocked = i->sig_blocked;
	p->sig_ignored = i->sig_ignored;
	p->sig_caught = i->sig_caught;
}

static void fmt_tty(const struct ps_row *r, char *out, size_t size)
{
	const struct ps_info *i = &r->info;

	if (!r->have_info || !i->tty_nr) {
		snprintf(out, size, "?");
		return;
	}
	if (i->tty_major >= 136 && i->tty_major <= 143) {	/* UNIX98_PTY_SLAVE_MAJOR */
		snprintf(out, size, "pts/%u", (i->tty_major - 136) * 256 + i->tty_minor);
		return;
	}
	if (!i->tty_name[0]) {
		snprintf(out, size, "%u,%u", i->tty_major, i->tty_minor);
		return;
	}
	cli_escape(i->tty_name, strlen(i->tty_name), out, size);
}

static void fmt_stat(const struct ps_row *r, char *out)
{
	const struct nfm_task *t = &r->t;
	const struct ps_info *i = &r->info;
	int n = 0;

	out[n++] = t->state;
	if (t->nice < 0)
		out[n++] = '<';
	else if (t->nice > 0)
		out[n++] = 'N';
	if (r->have_info && i->vm_lck)
		out[n++] = 'L';
	if (r->have_info && i->session == t->tgid)
		out[n++] = 's';
	if (t->nr_threads > 1)
		out[n++] = 'l';
	if (r->have_info && i->pgrp == i->tpgid)
		out[n++] = '+';
	out[n] = 0;
}

static const char *class_name(uint32_t policy)
{
	static const char *const names[] = { "TS", "FF", "RR", "B", "ISO", "IDL", "DLN" };

	return policy < sizeof(names) / sizeof(names[0]) ? names[policy] : "?";
}

static void fmt_sig(uint64_t set, const struct ps_env *e, char *out, size_t size)
{
	if (e->wide_signals)
		snprintf(out, size, "%016" PRIx64, set);
	else if (set >> 32)
		snprintf(out, size, "<%08" PRIx64, set & 0xffffffffu);
	else
		snprintf(out, size, "%08" PRIx64, set);
}

/* A user or group column: the name (escaped), or the id when there is none or it is longer
 * than max cells (procps shows the number then). */
static void fmt_name(const struct ps_env *e, bool group, uint32_t id, int max, char *out,
		     size_t size)
{
	char name[GUEST_NAME_MAX];
	const char *n = group ? guest_group_name(e->ctx, id, name) : guest_user_name(e->ctx, id, name);

	if (n) {
		cli_escape(n, strlen(n), out, size);
		if ((int)strlen(out) <= max)
			return;
	}
	snprintf(out, size, "%u", id);
}

/* The COMMAND text: the forest prefix, then the arguments or [comm] or comm. */
static void fmt_command(const struct ps_row *r, const struct ps_env *e, bool args, char *out,
			size_t size)
{
	size_t o = 0, len = r->cmd ? r->cmd_len : 0, i;
	char *tmp;

	out[0] = 0;
	for (i = 0; r->forest[i] && o + 5 < size; i++) {
		static const char *const pre[] = { "    ", " \\_ ", " |  " };
		char c = r->forest[i];

		memcpy(out + o, pre[c == ' ' ? 0 : c == '|' ? 2 : 1], 4);
		o += 4;
	}
	out[o] = 0;
	while (len && r->cmd[len - 1] == 0)
		len--;
	if (!args || !len) {
		const char *name = r->t.name;

		if (args)	/* no command line (a kernel thread): [comm], as procps */
			snprintf(out + o, size - o, "[%s]", cli_esc(name));
		else
			cli_escape(name, strlen(name), out + o, size - o);
		if (r->t.state == 'Z') {
			size_t l = strlen(out);

			snprintf(out + l, size - l, " <defunct>");
		}
		return;
	}
	tmp = malloc(len);
	if (!tmp) {
		snprintf(out + o, size - o, "?");
		return;
	}
	memcpy(tmp, r->cmd, len);
	for (i = 0; i < len; i++)
		if (tmp[i] == 0)
			tmp[i] = ' ';
	cli_escape(tmp, len, out + o, size - o);
	free(tmp);
}

/* The cell with max_right cells of room (procps's max_rightward: the width, or the rest of the
 * line for the last column). */
static void field_text(const struct ps_field *f, const struct ps_row *r, const struct ps_env *e,
		       int max_right, char *out, size_t size)
{
	const struct nfm_task *t = &r->t;
	const struct ps_info *in = &r->info;
	bool info = r->have_info;
	unsigned u;

	if ((f->flags & PS_F_INFO) && !info) {
		snprintf(out, size, "-");	/* not readable: the task changed while read */
		return;
	}
	switch (f->id) {
	case F_PCPU:
		u = (unsigned)(utilization(t, e) * 10);
		if (u > 999)
			snprintf(out, size, "%u", u / 10);
		else
			snprintf(out, size, "%u.%u", u / 10, u % 10);
		break;
	case F_C:
		u = (unsigned)utilization(t, e);
		snprintf(out, size, "%2u", u > 99 ? 99 : u);
		break;
	case F_PMEM:
		u = e->mem_total_kb ? (unsigned)(rss_kb(t, e) * 1000 / e->mem_total_kb) : 0;
		if (u > 999)
			u = 999;
		snprintf(out, size, "%2u.%u", u / 10, u % 10);
		break;
	case F_ARGS:
		fmt_command(r, e, true, out, size);
		break;
	case F_COMM:
		fmt_command(r, e, e->unix_f, out, size);
		break;
	case F_EGID: snprintf(out, size, "%u", t->egid); break;
	case F_RGID: snprintf(out, size, "%u", t->gid); break;
	case F_SGID: snprintf(out, size, "%u", t->sgid); break;
	case F_FSGID: snprintf(out, size, "%u", t->fsgid); break;
	case F_EUID: snprintf(out, size, "%u", t->euid); break;
	case F_RUID: snprintf(out, size, "%u", t->uid); break;
	case F_SUID: snprintf(out, size, "%u", t->suid); break;
	case F_FSUID: snprintf(out, size, "%u", t->fsuid); break;
	case F_EUSER: fmt_name(e, false, t->euid, max_right, out, size); break;
	case F_RUSER: fmt_name(e, false, t->uid, max_right, out, size); break;
	case F_SUSER: fmt_name(e, false, t->suid, max_right, out, size); break;
	case F_EGROUP: fmt_name(e, true, t->egid, max_right, out, size); break;
	case F_RGROUP: fmt_name(e, true, t->gid, max_right, out, size); break;
	case F_SGROUP: fmt_name(e, true, t->sgid, max_right, out, size); break;
	case F_ETIME:
		fmt_dhms((unsigned long)(elapsed_ticks(t, e) / 100), out, size, true);
		break;
	case F_ETIMES: snprintf(out, size, "%u", (unsigned)(elapsed_ticks(t, e) / 100)); break;
	case F_TIME: fmt_dhms((unsigned long)(ticks_all(t) / 100), out, size, false); break;
	case F_BSDTIME:
		u = (unsigned)(ticks_all(t) / 100);
		snprintf(out, size, "%3u:%02u", u / 60, u % 60);
		break;
	case F_FLAG: snprintf(out, size, "%o", (t->flags >> 6) & 7); break;
	case F_LSTART: {
		time_t w = start_wall(t, e);
		struct tm tm;

		localtime_r(&w, &tm);
		if (!strftime(out, size, "%a %b %e %H:%M:%S %Y", &tm))
			out[0] = 0;
		break;
	}
	case F_START: fmt_start(t, e, out, size); break;
	case F_STIME: fmt_stime(t, e, out, size); break;
	case F_BSDSTART: fmt_bsdstart(t, e, out, size); break;
	case F_LWP: snprintf(out, size, "%d", t->pid); break;
	case F_PID: case F_TGID: snprintf(out, size, "%d", t->tgid); break;
	case F_PPID: snprintf(out, size, "%d", t->ppid); break;
	case F_PGID: snprintf(out, size, "%d", in->pgrp); break;
	case F_SESS: snprintf(out, size, "%d", in->session); break;
	case F_TPGID: snprintf(out, size, "%d", in->tpgid); break;
	case F_NI:
		if (t->policy != 0 && t->policy != 3)	/* SCHED_OTHER, SCHED_BATCH */
			snprintf(out, size, "-");
		else
			snprintf(out, size, "%d", t->nice);
		break;
	case F_NLWP: snprintf(out, size, "%d", t->nr_threads); break;
	case F_PRI: snprintf(out, size, "%d", 39 - t->priority); break;
	case F_OPRI: snprintf(out, size, "%d", 60 + t->priority); break;
	case F_PRIORITY: snprintf(out, size, "%d", t->priority); break;
	case F_PSR: snprintf(out, size, "%d", in->processor); break;
	case F_RSS: snprintf(out, size, "%" PRIu64, rss_kb(t, e)); break;
	case F_VSZ: snprintf(out, size, "%" PRIu64, t->vsize >> 10); break;
	case F_SZ: snprintf(out, size, "%" PRIu64, (t->vsize >> 10) / 4); break;
	case F_S: snprintf(out, size, "%c", t->state); break;
	case F_STAT: fmt_stat(r, out); break;
	case F_TTY: fmt_tty(r, out, size); break;
	case F_WCHAN: {
		const char *w = r->wchan ? r->wchan : "-";

		cli_escape(w, strlen(w), out, size);
		if (max_right >= 0 && (int)strlen(out) > max_right)
			out[max_right] = 0;	/* procps cuts wchan to its column */
		break;
	}
	case F_CLASS: snprintf(out, size, "%s", class_name(t->policy)); break;
	case F_RTPRIO:
		if (t->policy == 0)
			snprintf(out, size, "-");
		else
			snprintf(out, size, "%u", t->rt_priority);
		break;
	case F_ADDR: snprintf(out, size, "-"); break;
	case F_SIGPND: fmt_sig(in->sig_pending, e, out, size); break;
	case F_SIGBLK: fmt_sig(in->sig_blocked, e, out, size); break;
	case F_SIGIGN: fmt_sig(in->sig_ignored, e, out, size); break;
	case F_SIGCGT: fmt_sig(in->sig_caught, e, out, size); break;
	case F_MAJFLT: snprintf(out, size, "%" PRIu64, in->maj_flt); break;
	case F_MINFLT: snprintf(out, size, "%" PRIu64, in->min_flt); break;
	default: snprintf(out, size, "?"); break;
	}
}

void ps_field_text(const struct ps_field *f, const struct ps_row *r, const struct ps_env *e,
		   char *out, size_t size)
{
	field_text(f, r, e, INT_MAX, out, size);
}

/* A number to sort by, or false for a field sorted as text. */
static bool sort_number(const struct ps_field *f, const struct ps_row *r, const struct ps_env *e,
			double *v)
{
	const struct nfm_task *t = &r->t;
	const struct ps_info *in = &r->info;

	switch (f->id) {
	case F_PCPU: case F_C: *v = utilization(t, e); return true;
	case F_PMEM: case F_RSS: *v = (double)rss_kb(t, e); return true;
	case F_VSZ: case F_SZ: *v = (double)t->vsize; return true;
	case F_EGID: *v = t->egid; return true;
	case F_RGID: *v = t->gid; return true;
	case F_SGID: *v = t->sgid; return true;
	case F_FSGID: *v = t->fsgid; return true;
	case F_EUID: *v = t->euid; return true;
	case F_RUID: *v = t->uid; return true;
	case F_SUID: *v = t->suid; return true;
	case F_FSUID: *v = t->fsuid; return true;
	case F_ETIME: case F_ETIMES: *v = -(double)t->start_ticks; return true;
	case F_TIME: case F_BSDTIME: *v = (double)ticks_all(t); return true;
	case F_START: case F_STIME: case F_BSDSTART: case F_LSTART:
		*v = (double)t->start_ns;
		return true;
	case F_FLAG: *v = t->flags; return true;
	case F_LWP: *v = t->pid; return true;
	case F_PID: case F_TGID: *v = t->tgid; return true;
	case F_PPID: *v = t->ppid; return true;
	case F_PGID: *v = in->pgrp; return true;
	case F_SESS: *v = in->session; return true;
	case F_TPGID: *v = in->tpgid; return true;
	case F_NI: *v = t->nice; return true;
	case F_NLWP: *v = t->nr_threads; return true;
	case F_PRI: case F_OPRI: case F_PRIORITY: *v = t->priority; return true;
	case F_PSR: *v = in->processor; return true;
	case F_RTPRIO: *v = t->rt_priority; return true;
	case F_MAJFLT: *v = (double)in->maj_flt; return true;
	case F_MINFLT: *v = (double)in->min_flt; return true;
	default: return false;
	}
}

int ps_field_cmp(const struct ps_field *f, const struct ps_row *a, const struct ps_row *b,
		 const struct ps_env *e)
{
	double x, y;
	char ta[512], tb[512];
	struct ps_row ca, cb;

	if (sort_number(f, a, e, &x) && sort_number(f, b, e, &y))
		return x < y ? -1 : x > y;
	if (f->id == F_ARGS || f->id == F_COMM) {	/* without the forest prefix */
		ca = *a;
		cb = *b;
		ca.forest[0] = cb.forest[0] = 0;
		a = &ca;
		b = &cb;
	}
	field_text(f, a, e, INT_MAX, ta, sizeof(ta));
	field_text(f, b, e, INT_MAX, tb, sizeof(tb));
	return strcmp(ta, tb);
}

/* Display cells of escaped text (printable ASCII and valid UTF-8): one per character. */
static int cells(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Cut s to at most max cells. */
static void cut_cells(char *s, int max)
{
	int n = 0;

	for (char *p = s; *p; p++) {
		if (((unsigned char)*p & 0xc0) != 0x80 && n++ == max) {
			*p = 0;
			return;
		}
	}
}

#define CELL_MAX 65536

char *ps_line(const struct ps_col *cols, size_t n, const struct ps_row *r, const struct ps_env *e)
{
	int correct = 0, actual = 0, dospace = 0;
	size_t cap = 256, len = 0;
	char *line = malloc(cap), *cell = malloc(CELL_MAX);

	if (!line || !cell) {
		free(line);
		free(cell);
		return NULL;
	}
	line[0] = 0;
	/* procps's show_one_proc(): each column starts where it should (correct) unless the ones
	 * before it overflowed (actual); at least one space between columns. */
	for (size_t i = 0; i < n; i++) {
		const struct ps_col *c = &cols[i];
		bool last = i + 1 == n;
		int max_right, leftpad = 0, legit = 0, amount, space;
		size_t need;

		if (!last) {
			max_right = c->width;
		} else {
			int tmpspace = correct - actual;

			if (tmpspace < 1)
				max_right = e->cols - actual - dospace;
			else
				max_right = e->cols - (correct > actual ? correct : actual);
		}
		if (max_right < 0)
			max_right = 0;
		if (r)
			field_text(c->f, r, e, max_right, cell, CELL_MAX);
		else
			snprintf(cell, CELL_MAX, "%s", c->head);
		if (last && e->cols != INT32_MAX)
			cut_cells(cell, max_right);
		amount = cells(cell);
		switch (c->f->align) {
		case PS_RIGHT:
			leftpad = c->width - amount;
			break;
		case PS_SIGNAL:
			leftpad = (e->wide_signals ? 16 : 9) - amount;
			legit = e->wide_signals ? 7 : 0;
			break;
		default:
			leftpad = 0;
		}
		if (leftpad < 0)
			leftpad = 0;
		space = correct - actual + leftpad;
		if (space < 1)
			space = dospace;
		need = len + (size_t)space + strlen(cell) + 1;
		if (need > cap) {
			char *nl = realloc(line, cap = need * 2);

			if (!nl) {
				free(line);
				free(cell);
				return NULL;
			}
			line = nl;
		}
		memset(line + len, ' ', (size_t)space);
		len += (size_t)space;
		memcpy(line + len, cell, strlen(cell) + 1);
		len += strlen(cell);
		actual += space + amount;
		correct += c->width + legit + 1;
		dospace = 1;
	}
	free(cell);
	/* procps keeps trailing spaces only from padding a last column it printed empty */
	return line;
}
