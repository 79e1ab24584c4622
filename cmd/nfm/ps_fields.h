/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nfm ps's columns: procps-ng 4's format specifiers (pid, user, %cpu, stat, args...), each with
 * its header, width, alignment and the value procps computes, and procps's line layout (a
 * column wider than its width pushes the next ones right; the last one gets the rest of the
 * line). Values come from the walk (nfm_task) and nfm_task_info(); guest strings are escaped.
 */
#ifndef NFM_CMD_PS_FIELDS_H
#define NFM_CMD_PS_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <nfm/task.h>

struct nfm_ctx;

/*
 * The part of nfm_task_info() that ps's columns show (all of it /proc/PID/stat's, with VmLck
 * for STAT's L): a row keeps this, not the whole 1.3 KB (2,000 rows of it were 2.6 MB).
 */
struct ps_info {
	int32_t pgrp, session, tpgid, processor;
	uint32_t tty_nr, tty_major, tty_minor;
	char tty_name[64];
	uint64_t vm_lck, min_flt, maj_flt;
	uint64_t sig_pending, sig_blocked, sig_ignored, sig_caught;
};

void ps_info_from(struct ps_info *p, const struct nfm_task_info *i);

/* One process or thread as ps shows it. */
struct ps_row {
	struct nfm_task t;
	struct ps_info info;
	struct nfm_task_info *full;	/* -j: the whole of it, for the process object */
	bool have_info;
	char *cmd;			/* cmdline bytes (NULs kept), NULL for none */
	size_t cmd_len;
	struct nfm_umem_stat um;
	int cmd_err;
	const char *wchan;		/* nfm_task_wchan(), NULL: none ("-") */
	int32_t *tids;			/* -j: the group's thread ids */
	int nr_tids;
	char forest[64];		/* --forest: procps's prefix codes (' ' 'L' '+' '|') per level */
};

/* What every row's values are relative to. */
struct ps_env {
	struct nfm_ctx *ctx;
	int64_t boot_s;			/* btime (whole seconds, as /proc/stat) */
	bool have_boot;
	double uptime_ticks;		/* CLOCK_BOOTTIME in USER_HZ ticks */
	uint64_t mem_total_kb;
	bool vmrss_summed;		/* nfm_vmrss_summed(): RSS is rss_exact_pages */
	time_t now;
	int pid_width;			/* digits of the guest's pid_max (procps: PIDMAX columns) */
	bool unix_f;			/* -f: comm shows the command line, as procps */
	bool wide_signals;		/* 16 hex digits in signal columns (not a narrow terminal) */
	int cols;			/* the line's width: a terminal's, or unlimited (INT32_MAX) */
};

enum { PS_RIGHT, PS_LEFT, PS_USER, PS_UNLIMITED, PS_WCHAN, PS_SIGNAL };

struct ps_field {
	const char *spec;		/* procps's name: "pid", "%cpu", "args" */
	const char *head;		/* "PID" */
	int width;
	int align;			/* PS_RIGHT ... */
	int id;				/* what it shows (ps_fields.c) */
	unsigned int flags;		/* PS_F_* */
};

#define PS_F_PIDMAX 1u		/* width: the digits of pid_max */
#define PS_F_INFO 2u		/* needs nfm_task_info() */
#define PS_F_CMD 4u		/* needs the command line */
#define PS_F_WCHAN 8u		/* needs nfm_task_wchan() */

/* A column of a format: the field and its header (a "spec=HEADER" override, or the field's). */
struct ps_col {
	const struct ps_field *f;
	char head[64];
	int width;
};

/* The field named spec, or NULL. */
const struct ps_field *ps_field_find(const char *spec);
/* The names of every field, space-separated (for --help and errors). */
const char *ps_field_names(void);

/*
 * Parse a procps format list ("pid,user,%cpu" or "pid user", "pid=PROCESS") onto cols[*n..max).
 * 0, or -1 with the bad word in bad[size].
 */
int ps_format_parse(const char *list, const struct ps_env *e, struct ps_col *cols, size_t *n,
		    size_t max, char *bad, size_t size);

/* The cell of field f for row r into out[size] (escaped, never longer than size - 1 bytes). */
void ps_field_text(const struct ps_field *f, const struct ps_row *r, const struct ps_env *e,
		   char *out, size_t size);

/*
 * Sort order of two rows by field f: <0, 0, >0 (numbers as numbers, text as bytes), as procps
 * sorts by that field's value.
 */
int ps_field_cmp(const struct ps_field *f, const struct ps_row *a, const struct ps_row *b,
		 const struct ps_env *e);

/* One output line (the header when r is NULL) of cols[0..n) laid out as procps does, into a
 * malloc'd string the caller frees (no newline). */
char *ps_line(const struct ps_col *cols, size_t n, const struct ps_row *r, const struct ps_env *e);

#endif
