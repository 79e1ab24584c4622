// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm top's ncurses screen: a header per VM, then the processes of all VMs together. Columns
 * that do not fit are left out (VIRT, PR, NI first); COMMAND gets the width that is left; a
 * VM or user name cut to its column ends in '+', as procps top marks a cut field.
 */
#include <curses.h>
#include <inttypes.h>
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "cli.h"
#include "top.h"

static const char *const help_text[] = {
	"nfm top - processes of every VM on this host, read from outside the guests",
	"",
	"  P  sort by %CPU        M  sort by resident memory   N  sort by PID",
	"  T  sort by CPU time    R  reverse the order         V  tree view (forest)",
	"  /  show only commands containing TEXT",
	"  o  add a filter as top's: COMMAND=sshd  USER=root  VM=web  S=R  %CPU>1  !USER=root",
	"  =  clear the filters   v  show one VM / all VMs (cycles)",
	"  w  a WCHAN column: the kernel function each sleeping task waits in",
	"  c  COMMAND shows the command line / the program name",
	"  1-9  collapse / expand the processes of VM n (the header's order)",
	"  Up Down PgUp PgDn Home End  scroll the processes",
	"  +  slower refresh      -  faster refresh (down to 0.01 s)",
	"  d  type a refresh interval in seconds",
	"  h or ?  this help      q  quit",
	"",
	"A VM marked PAUSED: its clock stood still and QEMU says it is not running (QMP). A",
	"remote nfmd that does not answer shows as one line marked '!'.",
	"%CPU is (utime+stime) over the interval as top computes it; the header's %Cpu(s) is",
	"the change of the guest's /proc/stat counters. %HOST is the host CPU the process really",
	"got (the QEMU process's, split by guest CPU time; doc/ctop.md). Any key goes back.",
};

struct tui {
	struct top_state *st;
	bool tree;
	size_t first;		/* the first process row shown (scrolling) */
	size_t page;		/* process rows on the screen */
	char msg[128];		/* a one-frame message (a refused filter) */
};

/*
 * s (escaped, UTF-8) in exactly width terminal cells into buf: cut with a '+' in the last cell
 * when it does not fit, padded with spaces (on the left when right).
 */
/* The display width of s's first n bytes; *bytes gets how many of them fit in max cells. */
static int cells_of(const char *s, size_t n, int max, size_t *bytes)
{
	mbstate_t mb = { 0 };
	size_t i = 0;
	int cells = 0;

	*bytes = 0;
	while (i < n) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s + i, n - i, &mb);
		int w;

		if (k == (size_t)-1 || k == (size_t)-2 || k == 0)
			k = 1, w = 1;	/* cli_esc() gives valid UTF-8: not reached */
		else if ((w = wcwidth(wc)) < 0)
			w = 1;
		i += k;
		cells += w;
		if (cells <= max)
			*bytes = i;
	}
	return cells;
}

static const char *fit(const char *s, int width, bool right, char *buf, size_t size)
{
	size_t len = strlen(s), keep, used = 0;
	int cells = cells_of(s, len, width, &keep), pad;

	if (width <= 0) {
		buf[0] = 0;
		return buf;
	}
	if (cells > width) {	/* cut, and '+' in the last cell */
		cells_of(s, len, width - 1, &keep);
		cells = cells_of(s, keep, width, &keep) + 1;
	}
	pad = width - cells;
	if (keep + (size_t)width + 2 > size)
		keep = 0, pad = 0;	/* not reached: buffers hold a screen line */
	if (right)
		for (; pad > 0; pad--)
			buf[used++] = ' ';
	memcpy(buf + used, s, keep);
	used += keep;
	if (keep < len)
		buf[used++] = '+';
	for (; pad > 0; pad--)
		buf[used++] = ' ';
	buf[used] = 0;
	return buf;
}

/* The process columns, in order; a column with min_cols shows only on a screen that wide. */
enum { C_VM, C_PID, C_USER, C_PR, C_NI, C_VIRT, C_RES, C_S, C_CPU, C_HOST, C_MEM, C_TIME, C_WCHAN,
       C_NR };
static const struct { const char *name; int width; bool right; int min_cols; } cols[C_NR] = {
	[C_VM] = { "VM", 0, false, 0 },		[C_PID] = { "PID", 7, true, 0 },
	[C_USER] = { "USER", 8, false, 0 },	[C_PR] = { "PR", 3, true, 100 },
	[C_NI] = { "NI", 3, true, 100 },	[C_VIRT] = { "VIRT", 8, true, 110 },
	[C_RES] = { "RES", 7, true, 0 },	[C_S] = { "S", 1, false, 0 },
	[C_CPU] = { "%CPU", 5, true, 0 },	[C_HOST] = { "%HOST", 5, true, 0 },
	[C_MEM] = { "%MEM", 4, true, 0 },	[C_TIME] = { "TIME+", 9, true, 0 },
	[C_WCHAN] = { "WCHAN", 14, false, 0 },	/* only with --wchan or w */
};

/* The VM column: as wide as the longest name, within 8..20 cells (12 from 120 columns up). */
static int vm_width(const struct top_state *st)
{
	int w = 2, max = COLS >= 120 ? 20 : 8;
	size_t v;

	for (v = 0; v < st->nvms; v++) {
		const char *e = cli_esc(st->vms[v].name);
		size_t bytes;
		int l = cells_of(e, strlen(e), max, &bytes);	/* cells, not bytes */

		if (l > w)
			w = l;
	}
	return w > max ? max : w;
}

static int shown(int c, bool wchan)
{
	return COLS >= cols[c].min_cols && (c != C_WCHAN || wchan);
}

/* One line: the cells of row p (or the titles when p is NULL), COMMAND in what is left. */
static void draw_row(int row, const struct top_state *st, const struct top_proc *p, int depth,
		     int vmw)
{
	char line[8192], cell[4096], v[64];
	bool wchan = st->wchan;
	size_t len = 0;
	int c, width = 0;

	for (c = 0; c < C_NR; c++) {
		int w = c == C_VM ? vmw : cols[c].width;
		const char *s = cols[c].name;

		if (!shown(c, wchan))
			continue;
		if (p) {
			switch (c) {
			case C_VM: s = cli_esc(p->vm); break;
			case C_PID: snprintf(v, sizeof(v), "%d", p->pid); s = v; break;
			case C_USER: s = cli_esc(p->user); break;
			case C_PR: snprintf(v, sizeof(v), "%d", p->priority); s = v; break;
			case C_NI: snprintf(v, sizeof(v), "%d", p->nice); s = v; break;
			case C_VIRT: snprintf(v, sizeof(v), "%" PRIu64, p->vsize / 1024); s = v; break;
			case C_RES: snprintf(v, sizeof(v), "%" PRIu64, p->rss_kb); s = v; break;
			case C_S: snprintf(v, sizeof(v), "%c", p->state); s = v; break;
			case C_CPU: snprintf(v, sizeof(v), "%.1f", p->cpu_pct); s = v; break;
			case C_HOST:
				if (p->vm_hv && p->vm_hv->ok)
					snprintf(v, sizeof(v), "%.1f", p->host_pct);
				else
					snprintf(v, sizeof(v), "-");
				s = v;
				break;
			case C_MEM: snprintf(v, sizeof(v), "%.1f", p->mem_pct); s = v; break;
			case C_TIME: top_format_time(p->cpu_ns, v, sizeof(v)); s = v; break;
			case C_WCHAN: s = cli_esc(top_proc_wchan(p)); break;
			}
		}
		fit(s, w, cols[c].right, cell, sizeof(cell));
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s ", cell);
		width += w + 1;
		if (len >= sizeof(line))
			len = sizeof(line) - 1;
	}
	if (p) {
		char cmd[4096], shown[80];
		int d;

		cmd[0] = 0;
		for (d = 0; d < depth && d < 32 && strlen(cmd) + 5 < sizeof(cmd); d++)
			strcat(cmd, d + 1 == depth ? " `- " : "    ");
		/* cli_esc() keeps 2 KiB of escaped text: more than a screen line shows */
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s",
			 cli_esc(top_proc_command(st, p, shown, sizeof(shown))));
		fit(cmd, COLS - width > 0 ? COLS - width : 0, false, cell, sizeof(cell));
	} else {
		fit("COMMAND", COLS - width > 0 ? COLS - width : 0, false, cell, sizeof(cell));
	}
	snprintf(line + len, sizeof(line) - len, "%s", cell);
	mvaddstr(row, 0, line);
}

/* A VM's header line(s): every line fitted to the screen. */
static int vm_line(int row, int n, const struct top_vm *vm, bool full)
{
	char buf[512], out[1024], up[32];
	size_t l;

	l = (size_t)snprintf(buf, sizeof(buf), "%d %s%s", n, cli_esc(vm->name),
			     vm->collapsed ? " [collapsed]" : "");
	if (vm->error[0] || (!vm->ctx && !vm->remote)) {
		snprintf(buf + l, sizeof(buf) - l, "  %s %s", vm->error[0] ? "!" : "",
			 cli_esc(vm->error[0] ? vm->error : "attaching..."));
		attron(vm->error[0] ? A_BOLD : 0);
		mvaddstr(row++, 0, fit(buf, COLS, false, out, sizeof(out)));
		attroff(A_BOLD);
		return row;
	}
	top_format_uptime(vm->uptime_ns, up, sizeof(up));
	snprintf(buf + l, sizeof(buf) - l, "%s  %s  up %s, load %.2f %.2f %.2f, %u tasks, %.1f us %.1f sy, "
		 "%.0f/%.0f MiB avail", vm->paused ? "  PAUSED" : "", cli_esc(vm->ki.release), up,
		 vm->load.load[0], vm->load.load[1], vm->load.load[2], vm->tasks, vm->split.us,
		 vm->split.sy, vm->mem.mem_available / 1024.0, vm->mem.mem_total / 1024.0);
	if (vm->paused)
		attron(A_BOLD);
	mvaddstr(row++, 0, fit(buf, COLS, false, out, sizeof(out)));
	attroff(A_BOLD);
	if (!full)
		return row;
	snprintf(buf, sizeof(buf), "  Tasks: %u total, %u running, %u sleeping, %u stopped, %u zombie",
		 vm->tasks, vm->running, vm->sleeping, vm->stopped, vm->zombie);
	mvaddstr(row++, 0, fit(buf, COLS, false, out, sizeof(out)));
	snprintf(buf, sizeof(buf), "  %%Cpu(s): %4.1f us, %4.1f sy, %4.1f ni, %4.1f id, %4.1f wa, "
		 "%4.1f hi, %4.1f si, %4.1f st", vm->split.us, vm->split.sy, vm->split.ni,
		 vm->split.id, vm->split.wa, vm->split.hi, vm->split.si, vm->split.st);
	mvaddstr(row++, 0, fit(buf, COLS, false, out, sizeof(out)));
	if (vm->hv.ok) {
		snprintf(buf, sizeof(buf), "  %%Host: %4.1f cpu, %4.1f vcpu, %4.1f wait, throttled %.0f%% "
			 "of periods, steal %.1f", vm->hv.cpu_pct, vm->hv.vcpu_pct, vm->hv.wait_pct,
			 vm->hv.throttled_pct, vm->split.st);
		mvaddstr(row++, 0, fit(buf, COLS, false, out, sizeof(out)));
	}
	snprintf(buf, sizeof(buf), "  MiB Mem: %.1f total, %.1f free, %.1f avail; Swap: %.1f total, "
		 "%.1f free", vm->mem.mem_total / 1024.0, vm->mem.mem_free / 1024.0,
		 vm->mem.mem_available / 1024.0, vm->mem.swap_total / 1024.0, vm->mem.swap_free / 1024.0);
	mvaddstr(row++, 0, fit(buf, COLS, false, out, sizeof(out)));
	return row;
}

/* The VMs' headers: several lines for one VM, one line each for several (at most a third). */
static int header(struct top_state *st, int row)
{
	size_t v, n = 0, lines = 0, max = LINES / 3 > 1 ? (size_t)LINES / 3 : 1;
	char buf[128], out[256];

	for (v = 0; v < st->nvms; v++)
		n += !st->filter || st->filter == &st->vms[v];
	for (v = 0; v < st->nvms; v++) {
		if (st->filter && st->filter != &st->vms[v])
			continue;
		if (lines + 1 >= max && lines + 1 < n) {
			snprintf(buf, sizeof(buf), "... %zu more VMs (v: one VM at a time)", n - lines);
			mvaddstr(row++, 0, fit(buf, COLS, false, out, sizeof(out)));
			break;
		}
		row = vm_line(row, (int)v + 1, &st->vms[v], n == 1);
		lines++;
	}
	return row;
}

static void draw(struct tui *ui)
{
	static const char *const sort_names[] = { "%CPU", "RES", "PID", "TIME+", "VIRT" };
	struct top_state *st = ui->st;
	struct top_proc **rows = NULL;
	int *depth = NULL, row, vmw = vm_width(st);
	char buf[512], out[1024];
	size_t n, i, l;

	erase();
	l = (size_t)snprintf(buf, sizeof(buf), "nfm top - %zu VM%s, every %.2f s, by %s%s%s%s%s",
			     st->nvms, st->nvms == 1 ? "" : "s", st->delay, sort_names[st->sort],
			     st->sort_reverse ? " (reversed)" : "", ui->tree ? ", tree" : "",
			     st->filter ? ", only " : "", st->filter ? cli_esc(st->filter->name) : "");
	for (i = 0; i < st->nfilters && l < sizeof(buf); i++)
		l += (size_t)snprintf(buf + l, sizeof(buf) - l, "%s %s%s%c%s", i ? "," : ", filter",
				      st->filters[i].negate ? "!" : "",
				      (const char *[]){ "COMMAND", "USER", "VM", "S", "PID", "%CPU",
						       "%MEM", "RES" }[st->filters[i].field],
				      st->filters[i].op, cli_esc(st->filters[i].text));
	if (l < sizeof(buf))
		snprintf(buf + l, sizeof(buf) - l, "  (h: help)");
	mvaddstr(0, 0, fit(buf, COLS, false, out, sizeof(out)));
	row = header(st, 1);
	mvaddstr(row++, 0, fit(ui->msg, COLS, false, out, sizeof(out)));
	ui->msg[0] = 0;
	attron(A_REVERSE);
	draw_row(row++, st, NULL, 0, vmw);
	attroff(A_REVERSE);
	n = top_rows_tree(st, &rows, ui->tree ? &depth : NULL);
	ui->page = row < LINES ? (size_t)(LINES - row) : 1;
	if (ui->first + ui->page > n)
		ui->first = n > ui->page ? n - ui->page : 0;
	for (i = ui->first; i < n && row < LINES; i++, row++)
		draw_row(row, st, rows[i], depth ? depth[i] : 0, vmw);
	free(rows);
	free(depth);
	refresh();
}

static void show_help(void)
{
	size_t i;

	erase();
	for (i = 0; i < sizeof(help_text) / sizeof(help_text[0]) && (int)i + 1 < LINES; i++)
		mvaddnstr((int)i + 1, 1, help_text[i], COLS > 1 ? COLS - 1 : 0);
	refresh();
	timeout(-1);
	getch();
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A line typed at the bottom of the screen into buf. */
static void ask(const char *prompt, char *buf, int size)
{
	echo();
	nocbreak();
	curs_set(1);
	timeout(-1);
	mvaddnstr(LINES - 1, 0, prompt, COLS);
	clrtoeol();
	buf[0] = 0;
	getnstr(buf, size - 1);
	curs_set(0);
	noecho();
	cbreak();
}

static void key(struct tui *ui, int ch, bool *quit)
{
	struct top_state *st = ui->st;
	char buf[80], expr[96];
	double d;

	switch (ch) {
	case 'q': case 'Q': *quit = true; break;
	case 'h': case '?': show_help(); break;
	case 'P': st->sort = TOP_SORT_CPU; break;
	case 'M': st->sort = TOP_SORT_MEM; break;
	case 'N': st->sort = TOP_SORT_PID; break;
	case 'T': st->sort = TOP_SORT_TIME; break;
	case 'R': st->sort_reverse = !st->sort_reverse; break;
	case 'V': ui->tree = !ui->tree; break;
	case 'w': st->wchan = !st->wchan; break;
	case 'c': st->cmdline = !st->cmdline; break;
	case 'v':
		if (!st->filter)
			st->filter = st->nvms ? &st->vms[0] : NULL;
		else if ((size_t)(st->filter - st->vms) + 1 < st->nvms)
			st->filter++;
		else
			st->filter = NULL;
		ui->first = 0;
		break;
	case '/':
		ask("Show only commands containing: ", buf, sizeof(buf));
		snprintf(expr, sizeof(expr), "COMMAND=%s", buf);
		if (buf[0] && top_filter_set(st, expr) < 0)
			snprintf(ui->msg, sizeof(ui->msg), "filter not added (at most %d)", TOP_FILTERS_MAX);
		ui->first = 0;
		break;
	case 'o': case 'O':
		ask("add filter (COMMAND=TEXT, USER=, VM=, S=, PID, %CPU, %MEM, RES with = < >; ! negates): ",
		    buf, sizeof(buf));
		if (buf[0] && top_filter_set(st, buf) < 0)
			snprintf(ui->msg, sizeof(ui->msg), "not a filter: '%s'", cli_esc(buf));
		ui->first = 0;
		break;
	case '=': st->nfilters = 0; ui->first = 0; break;
	case KEY_UP: if (ui->first) ui->first--; break;
	case KEY_DOWN: ui->first++; break;
	case KEY_PPAGE: ui->first = ui->first > ui->page ? ui->first - ui->page : 0; break;
	case KEY_NPAGE: ui->first += ui->page; break;
	case KEY_HOME: ui->first = 0; break;
	case KEY_END: ui->first = (size_t)-1 / 2; break;	/* draw() clamps it */
	case '+': st->delay *= 2; break;
	case '-': st->delay = st->delay / 2 < 0.01 ? 0.01 : st->delay / 2; break;
	case 'd':
		ask("Change delay to (seconds): ", buf, sizeof(buf));
		d = strtod(buf, NULL);
		if (d >= 0.01 && d <= 86400)
			st->delay = d;
		break;
	default:
		if (ch >= '1' && ch <= '9' && (size_t)(ch - '1') < st->nvms)
			st->vms[ch - '1'].collapsed = !st->vms[ch - '1'].collapsed;
		break;	/* KEY_RESIZE too: redrawn at the new size */
	}
}

int top_tui(struct top_state *st)
{
	struct tui ui = { .st = st };
	double next;
	bool quit = false;

	/* Wide and combining characters in guest names need a UTF-8 locale (main sets C.UTF-8
	 * when the environment's is not one). */
	if (!setlocale(LC_CTYPE, ""))
		setlocale(LC_CTYPE, "C.UTF-8");
	if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		setlocale(LC_CTYPE, "C.UTF-8");
	if (!initscr())
		return cli_fail("cannot start the terminal UI (try -b)");
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	top_remote_start_async(st);
	draw(&ui);	/* the VMs, "attaching...", while the first frames are read */
	top_sample_all(st);
	next = now_s() + st->delay;
	while (!quit) {
		double wait = next - now_s();

		draw(&ui);
		timeout(wait > 0 ? (int)(wait * 1000) : 0);
		key(&ui, getch(), &quit);
		if (now_s() >= next) {
			top_sample_all(st);
			next = now_s() + st->delay;
		}
	}
	endwin();
	return 0;
}
