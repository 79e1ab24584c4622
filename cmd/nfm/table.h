/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one table writer of nfm, over libsmartcols (util-linux's table library): column widths
 * from the data, the last column (or one marked TBL_TRUNC) truncated to a terminal's width,
 * --noheadings and --raw. Cells from the guest go through table_cell_guest(), which escapes
 * them; table_cell() is for text nfm made itself.
 */
#ifndef NFM_CMD_TABLE_H
#define NFM_CMD_TABLE_H

#include <stddef.h>

struct cli;
struct table;

enum {
	TBL_RIGHT = 1u << 0,	/* right-aligned (numbers) */
	TBL_TRUNC = 1u << 1,	/* may be cut to fit a terminal */
	TBL_WRAP = 1u << 2,	/* may wrap onto more lines on a terminal */
	TBL_NOEXTREMES = 1u << 3, /* rare long values do not widen the column */
	TBL_TREE = 1u << 4,	/* the column draws the rows' tree (table_row_under) */
};

/* A table for this command's output (honours --noheadings, --raw). NULL on out of memory. */
struct table *table_new(struct cli *cli);
/* Add a column; returns its index or -1. Widths come from the data; hint 0 = none. */
int table_column(struct table *t, const char *name, unsigned int flags);
/* Start a row. Cells are filled left to right. Returns the row's index, or -1. */
int table_row(struct table *t);
/* Start a row drawn under row parent (an index table_row gave) in the TBL_TREE column. */
int table_row_under(struct table *t, int parent);
/* The next cell: text nfm made (not from the guest). */
__attribute__((format(printf, 2, 3))) int table_cell(struct table *t, const char *fmt, ...);
/* The next cell: guest bytes, escaped (see cli_escape). */
int table_cell_guest(struct table *t, const void *bytes, size_t len);
int table_cell_gstr(struct table *t, const char *s);
/* A line of text nfm made, printed under the current row after a tab (ss -i's TCP info). */
int table_note(struct table *t, const char *text);
/* Print to stdout and free; 0, or 1 on a write error. */
int table_print(struct table *t);
/* Free without printing (error paths). */
void table_free(struct table *t);

#endif
