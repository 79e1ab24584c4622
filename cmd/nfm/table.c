// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <libsmartcols.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "table.h"

struct table {
	struct libscols_table *tb;
	struct libscols_line *ln;
	size_t ncols, next;
	bool failed;
	char **notes;		/* table_note(): a line under each row (ss -i), NULL for none */
	struct libscols_line **lines;	/* each row's line (table_row_under's parents) */
	size_t rows, cap;
	bool any_note;
};

struct table *table_new(struct cli *cli)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->tb = scols_new_table();
	if (!t->tb) {
		free(t);
		return NULL;
	}
	scols_table_enable_noheadings(t->tb, cli->noheadings);
	scols_table_enable_raw(t->tb, cli->raw);
	/* Pipes and files get whole lines, as procps does; only a terminal truncates. */
	scols_table_set_termforce(t->tb, SCOLS_TERMFORCE_AUTO);
	return t;
}

int table_column(struct table *t, const char *name, unsigned int flags)
{
	struct libscols_column *cl;
	int fl = 0;

	if (flags & TBL_RIGHT)
		fl |= SCOLS_FL_RIGHT;
	if (flags & TBL_TRUNC)
		fl |= SCOLS_FL_TRUNC;
	if (flags & TBL_WRAP)
		fl |= SCOLS_FL_WRAP;
	if (flags & TBL_NOEXTREMES)
		fl |= SCOLS_FL_NOEXTREMES;
	if (flags & TBL_TREE)
		fl |= SCOLS_FL_TREE;
	cl = scols_table_new_column(t->tb, name, 0, fl);
	if (!cl) {
		t->failed = true;
		return -1;
	}
	/*
	 * Cells are escaped already (guest_escape: \\ for a backslash, \xNN for the rest); left
	 * to itself libsmartcols would encode the backslash of "\x" once more.
	 */
	scols_column_set_safechars(cl, "\\");
	return (int)t->ncols++;
}

static int new_row(struct table *t, struct libscols_line *parent)
{
	t->ln = scols_table_new_line(t->tb, parent);
	t->next = 0;
	if (!t->ln) {
		t->failed = true;
		return -1;
	}
	if (t->rows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **n = realloc(t->notes, cap * sizeof(*n));
		struct libscols_line **l = n ? realloc(t->lines, cap * sizeof(*l)) : NULL;

		if (n)
			t->notes = n;
		if (!l) {
			t->failed = true;
			return -1;
		}
		t->lines = l;
		t->cap = cap;
	}
	t->lines[t->rows] = t->ln;
	t->notes[t->rows] = NULL;
	return (int)t->rows++;
}

int table_row(struct table *t)
{
	return new_row(t, NULL);
}

int table_row_under(struct table *t, int parent)
{
	if (parent < 0 || (size_t)parent >= t->rows) {
		t->failed = true;
		return -1;
	}
	return new_row(t, t->lines[parent]);
}

int table_note(struct table *t, const char *text)
{
	if (!t->rows || !(t->notes[t->rows - 1] = strdup(text))) {
		t->failed = true;
		return -1;
	}
	t->any_note = true;
	return 0;
}

/* The table with each row's note on the line under it (rows are one line each: no TBL_WRAP). */
static int print_with_notes(struct table *t)
{
	char *all = NULL, *line, *save = NULL;
	size_t row = 0;
	bool header = !scols_table_is_noheadings(t->tb);

	if (scols_print_table_to_string(t->tb, &all) != 0 || !all)
		return 1;
	for (line = strtok_r(all, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		printf("%s\n", line);
		if (header) {
			header = false;
			continue;
		}
		if (row < t->rows && t->notes[row])
			printf("\t%s\n", t->notes[row]);
		row++;
	}
	free(all);
	return fflush(stdout) != 0 || ferror(stdout);
}

static int put(struct table *t, const char *s)
{
	if (!t->ln || t->next >= t->ncols || scols_line_set_data(t->ln, t->next, s)) {
		t->failed = true;
		return -1;
	}
	t->next++;
	return 0;
}

int table_cell(struct table *t, const char *fmt, ...)
{
	char buf[512], *big = NULL;
	va_list ap;
	int n, ret;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return put(t, "");
	if ((size_t)n >= sizeof(buf)) {
		va_start(ap, fmt);
		n = vasprintf(&big, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
			return -1;
		}
	}
	ret = put(t, big ? big : buf);
	free(big);
	return ret;
}

int table_cell_guest(struct table *t, const void *bytes, size_t len)
{
	/* Escaping quadruples a byte at most (\xNN). */
	size_t size = len * 4 + 1;
	char stack[1024], *out = size <= sizeof(stack) ? stack : malloc(size);
	int ret;

	if (!out) {
		t->failed = true;
		return -1;
	}
	ret = put(t, cli_escape(bytes, len, out, size));
	if (out != stack)
		free(out);
	return ret;
}

int table_cell_gstr(struct table *t, const char *s)
{
	return table_cell_guest(t, s, strlen(s));
}

void table_free(struct table *t)
{
	if (!t)
		return;
	scols_unref_table(t->tb);
	for (size_t i = 0; i < t->rows; i++)
		free(t->notes[i]);
	free(t->notes);
	free(t->lines);
	free(t);
}

int table_print(struct table *t)
{
	int ret = 1;

	if (!t)
		return 1;
	if (!t->failed)
		ret = t->any_note ? print_with_notes(t) : scols_print_table(t->tb) != 0;
	else
		cli_fail("out of memory while building a table");
	table_free(t);
	return ret;
}
