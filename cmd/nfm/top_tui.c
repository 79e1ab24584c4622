// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm top's ncurses screen: a header per VM, then the processes of all VMs together. */
#include <curses.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "top.h"

static const char *const help_text[] = {
	"nfm top - processes of every VM on this host, read from outside the guests",
	"",
	"  P  sort by %CPU        M  sort by resident memory",
	"  N  sort by PID         T  sort by CPU time (TIME+)",
	"  v  show one VM / all VMs (cycles)",
	"  +  slower refresh      -  faster refresh (down to 0.01 s)",
	"  d  type a refresh interval in seconds",
	"  h or ?  this help      q  quit",
	"",
	"%CPU is (utime+stime) over the interval as top computes it; the header's %Cpu(s) is",
	"the Δ of the guest's /proc/stat counters. %HOST is the host CPU the process really got",
	"(the QEMU process's, split by guest CPU time; doc/ctop.md). Press any key to go back.",
};

static int header(struct top_state *st, int row)
{
	size_t v;
	int cols = COLS;

	for (v = 0; v < st->nvms && row < LINES - 3; v++) {
		struct top_vm *vm = &st->vms[v];
		char up[32];

		if (st->filter && st->filter != vm)
			continue;
		attron(A_BOLD);
		mvprintw(row++, 0, "%-.*s", cols, cli_esc(vm->name));
		attroff(A_BOLD);
		if (vm->error[0] || (!vm->ctx && !vm->remote)) {
			printw("  %s", cli_esc(vm->error[0] ? vm->error : "attaching..."));
			continue;
		}
		top_format_uptime(vm->uptime_ns, up, sizeof(up));
		printw("  %s  up %s, load %.2f %.2f %.2f", cli_esc(vm->ki.release), up, vm->load.load[0],
		       vm->load.load[1], vm->load.load[2]);
		mvprintw(row++, 2, "Tasks: %u total, %u running, %u sleeping, %u stopped, %u zombie",
			 vm->tasks, vm->running, vm->sleeping, vm->stopped, vm->zombie);
		mvprintw(row++, 2, "%%Cpu(s): %4.1f us, %4.1f sy, %4.1f ni, %4.1f id, %4.1f wa, %4.1f hi, "
			 "%4.1f si, %4.1f st", vm->split.us, vm->split.sy, vm->split.ni, vm->split.id,
			 vm->split.wa, vm->split.hi, vm->split.si, vm->split.st);
		if (vm->hv.ok)
			mvprintw(row++, 2, "%%Host: %4.1f cpu, %4.1f vcpu, %4.1f wait, throttled %.0f%% "
				 "of periods, steal %.1f", vm->hv.cpu_pct, vm->hv.vcpu_pct,
				 vm->hv.wait_pct, vm->hv.throttled_pct, vm->split.st);
		mvprintw(row++, 2, "MiB Mem: %.1f total, %.1f free, %.1f avail; Swap: %.1f total, %.1f free",
			 vm->mem.mem_total / 1024.0, vm->mem.mem_free / 1024.0,
			 vm->mem.mem_available / 1024.0, vm->mem.swap_total / 1024.0,
			 vm->mem.swap_free / 1024.0);
	}
	return row;
}

static void draw(struct top_state *st)
{
	static const char *const sort_names[] = { "%CPU", "RES", "PID", "TIME+" };
	struct top_proc **rows = NULL;
	size_t n, i;
	int row;

	erase();
	mvprintw(0, 0, "nfm top - %zu VM%s, every %.2f s, sorted by %s%s%s  (h for help)", st->nvms,
		 st->nvms == 1 ? "" : "s", st->delay, sort_names[st->sort],
		 st->filter ? ", only " : "", st->filter ? cli_esc(st->filter->name) : "");
	row = header(st, 1) + 1;
	attron(A_REVERSE);
	mvprintw(row++, 0, "%-12s %7s %-6s %3s %3s %8s %7s S %5s %5s %5s %9s %-*s", "VM", "PID",
		 "USER", "PR", "NI", "VIRT", "RES", "%CPU", "%HOST", "%MEM", "TIME+",
		 COLS > 86 ? COLS - 86 : 0, "COMMAND");
	attroff(A_REVERSE);
	n = top_rows(st, &rows);
	for (i = 0; i < n && row < LINES; i++, row++) {
		struct top_proc *p = rows[i];
		char t[32], host[16] = "    -";

		top_format_time(p->cpu_ns, t, sizeof(t));
		if (p->vm_hv && p->vm_hv->ok)
			snprintf(host, sizeof(host), "%5.1f", p->host_pct);
		mvprintw(row, 0, "%-12.12s %7d %-6u %3d %3d %8" PRIu64 " %7" PRIu64 " %c %5.1f %5s %5.1f %9s %.*s",
			 cli_esc(p->vm), p->pid, p->uid, p->priority, p->nice, p->vsize / 1024, p->rss_kb,
			 p->state, p->cpu_pct, host, p->mem_pct, t, COLS > 86 ? COLS - 86 : 10,
			 cli_esc(p->name));
	}
	free(rows);
	refresh();
}

static void show_help(void)
{
	size_t i;

	erase();
	for (i = 0; i < sizeof(help_text) / sizeof(help_text[0]); i++)
		mvprintw((int)i + 1, 2, "%s", help_text[i]);
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

static void ask_delay(struct top_state *st)
{
	char buf[32] = "";
	double d;

	echo();
	nocbreak();
	timeout(-1);
	mvprintw(LINES - 1, 0, "Change delay from %.2f to: ", st->delay);
	clrtoeol();
	getnstr(buf, sizeof(buf) - 1);
	noecho();
	cbreak();
	d = strtod(buf, NULL);
	if (d >= 0.01)
		st->delay = d;
}

int top_tui(struct top_state *st)
{
	double next;
	bool quit = false;

	if (!initscr())
		return cli_fail("cannot start the terminal UI (try -b)");
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	top_sample_all(st);
	next = now_s() + st->delay;
	while (!quit) {
		double wait = next - now_s();
		int ch;

		draw(st);
		timeout(wait > 0 ? (int)(wait * 1000) : 0);
		ch = getch();
		switch (ch) {
		case 'q': case 'Q': quit = true; break;
		case 'h': case '?': show_help(); break;
		case 'P': st->sort = TOP_SORT_CPU; break;
		case 'M': st->sort = TOP_SORT_MEM; break;
		case 'N': st->sort = TOP_SORT_PID; break;
		case 'T': st->sort = TOP_SORT_TIME; break;
		case 'v':
			if (!st->filter)
				st->filter = st->nvms ? &st->vms[0] : NULL;
			else if ((size_t)(st->filter - st->vms) + 1 < st->nvms)
				st->filter++;
			else
				st->filter = NULL;
			break;
		case '+': st->delay *= 2; break;
		case '-': st->delay = st->delay / 2 < 0.01 ? 0.01 : st->delay / 2; break;
		case 'd': ask_delay(st); break;
		case KEY_RESIZE: break;	/* redrawn at the top of the loop at the new size */
		default: break;
		}
		if (now_s() >= next) {
			top_sample_all(st);
			next = now_s() + st->delay;
		}
	}
	endwin();
	return 0;
}
