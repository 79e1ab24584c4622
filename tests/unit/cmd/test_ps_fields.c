// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm ps's layout against procps-ng 4's: headers of the habit forms as Debian 12's ps prints
 * them (pid_max 32768: five-digit PID columns), a row that overflows a column, PRI of a
 * real-time task, an unknown user as its number, -o header overrides and bad names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest_text.h"
#include "ps_fields.h"

/* cli.c's escaper is guest_escape(): the same form in the test. */
char *cli_escape(const void *bytes, size_t len, char *out, size_t outsize);
const char *cli_esc(const char *s);

char *cli_escape(const void *bytes, size_t len, char *out, size_t outsize)
{
	return guest_escape(bytes, len, out, outsize);
}

const char *cli_esc(const char *s)
{
	static char b[1024];

	return guest_escape(s, strlen(s), b, sizeof(b));
}

static struct ps_env env(int pid_width)
{
	struct ps_env e = { .pid_width = pid_width, .cols = INT32_MAX, .wide_signals = true,
			    .mem_total_kb = 16u << 20, .uptime_ticks = 100000.0, .now = 1000000 };

	e.boot_s = e.now - 1000;
	return e;
}

static char *line(const char *spec, const struct ps_row *r, const struct ps_env *e)
{
	struct ps_col cols[64];
	size_t n = 0;
	char bad[64];

	assert_int_equal(ps_format_parse(spec, e, cols, &n, 64, bad, sizeof(bad)), 0);
	return ps_line(cols, n, r, e);
}

static void expect_header(const char *spec, int pid_width, const char *want)
{
	struct ps_env e = env(pid_width);
	char *l = line(spec, NULL, &e);

	assert_string_equal(l, want);
	free(l);
}

/* What Debian 12's procps-ng 4.0.2 prints (pid_max 32768; 4194304 gives 7-digit PID columns). */
static void test_headers(void **state)
{
	(void)state;
	expect_header("user,pid,%cpu,%mem,vsz,rss,tname,stat,start_time,bsdtime,args", 5,
		      "USER       PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND");
	expect_header("user,pid,%cpu,%mem,vsz,rss,tname,stat,start_time,bsdtime,args", 7,
		      "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND");
	expect_header("uid_hack,pid,ppid,c,stime,tname,time,cmd", 5,
		      "UID        PID  PPID  C STIME TTY          TIME CMD");
	expect_header("uid_hack,pid,ppid,c,stime,tname,time,cmd", 7,
		      "UID          PID    PPID  C STIME TTY          TIME CMD");
	expect_header("uid_hack,pid,ppid,lwp,c,nlwp,stime,tname,time,cmd", 5,
		      "UID        PID  PPID   LWP  C NLWP STIME TTY          TIME CMD");
	expect_header("pid,ppid,pgid,sid,tty,user,uid,group,%cpu,%mem,vsz,rss,stat,start,time,"
		      "etime,ni,pri,psr,wchan,comm,nlwp,lwp,args", 5,
		      "  PID  PPID  PGID   SID TT       USER       UID GROUP    %CPU %MEM    VSZ   RSS "
		      "STAT  STARTED     TIME     ELAPSED  NI PRI PSR WCHAN  COMMAND         NLWP   LWP "
		      "COMMAND");
	expect_header("pid=PROCESS,comm=", 5, "PROCESS ");
}

static struct ps_row row(void)
{
	struct ps_row r;

	memset(&r, 0, sizeof(r));
	r.t.pid = r.t.tgid = 1;
	r.t.state = 'S';
	r.t.nice = -10;
	r.t.priority = 10;
	r.t.nr_threads = 18;
	r.t.vsize = 53132ull << 10;
	r.t.rss_pages = 13736 / 4;
	r.t.uid = r.t.euid = 4242;	/* no name: the number, left-aligned, as procps */
	r.t.utime_ticks = 16200;	/* 2:42 */
	r.t.start_ticks = 100000 - 2700000;
	r.have_info = true;
	r.info.session = 5;
	r.info.tpgid = -1;
	r.info.vm_lck = 1;
	snprintf(r.t.name, sizeof(r.t.name), "process_api");
	return r;
}

static void test_row(void **state)
{
	struct ps_env e = env(5);
	struct ps_row r = row();
	char *l;

	(void)state;
	r.t.start_ticks = 0;
	l = line("user,pid,vsz,rss,tname,stat,bsdtime,comm", &r, &e);
	assert_string_equal(l, "4242         1  53132 13736 ?        S<Ll   2:42 process_api");
	free(l);
	/* a value wider than its column pushes the rest of the line, one space kept */
	r.t.vsize = 1234567ull << 10;
	l = line("pid,vsz,rss,comm", &r, &e);
	assert_string_equal(l, "    1 1234567 13736 process_api");
	free(l);
	/* (-100 overflows PRIORITY's 3 columns: the next column's padding takes it back, so its
	 * right edge stays where procps puts it) PRI of a SCHED_FIFO task at rt_priority 99 (prio 0: priority -100) fits its column;
	 * NI is "-" for a real-time policy, RTPRIO its priority */
	r.t.priority = -100;
	r.t.policy = 1;
	r.t.rt_priority = 99;
	l = line("pid,ni,pri,opri,priority,rtprio,cls,comm", &r, &e);
	assert_string_equal(l, "    1   - 139 -40 -100    99  FF process_api");
	free(l);
	/* a kernel thread's args; a zombie's comm; an escape in a name */
	snprintf(r.t.name, sizeof(r.t.name), "k\033thread");
	r.t.state = 'Z';
	l = line("pid,args", &r, &e);
	assert_string_equal(l, "    1 [k\\x1bthread] <defunct>");
	free(l);
}

static void test_times(void **state)
{
	struct ps_env e = env(5);
	struct ps_row r = row();
	char *l;

	(void)state;
	r.t.utime_ticks = 100 * (3 * 86400 + 3661);	/* 3 days, 1 h 1 min 1 s */
	r.t.start_ticks = 100000 - 100 * 75;		/* 75 s ago */
	l = line("time,etime,etimes,bsdtime", &r, &e);
	assert_string_equal(l, "3-01:01:01     01:15      75 4381:01");
	free(l);
	/* %CPU over the process's life: 1 s of CPU in 4 s */
	r.t.utime_ticks = 100;
	r.t.start_ticks = 100000 - 400;
	l = line("%cpu,c", &r, &e);
	assert_string_equal(l, "25.0 25");
	free(l);
}

static void test_bad_names(void **state)
{
	struct ps_env e = env(5);
	struct ps_col cols[4];
	size_t n = 0;
	char bad[64];

	(void)state;
	assert_int_equal(ps_format_parse("pid,bogus", &e, cols, &n, 4, bad, sizeof(bad)), -1);
	assert_string_equal(bad, "bogus");
	n = 0;
	assert_int_equal(ps_format_parse("pid,pid,pid,pid,pid", &e, cols, &n, 4, bad, sizeof(bad)),
			 -1);
	assert_non_null(ps_field_find("%cpu"));
	assert_null(ps_field_find("%CPU"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_row),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_bad_names),
	};

	setenv("TZ", "UTC", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
