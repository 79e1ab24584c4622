// SPDX-License-Identifier: MIT
/*
 * Truth server: on "TRUTH <id>\n" from the host, write the guest's own view of itself, framed by
 * NFM-TRUTH-BEGIN/END lines, one record per line with every free-form byte string hex-encoded.
 * The format is documented in lab/TRUTH-FORMAT.md; keep the two in step.
 *
 * "FILE <path>\n" answers "NFM-FILE <length>\n" and the file's bytes, or "NFM-FILE -<errno>\n".
 * "CHURN <seconds>\n" starts a process that forks and reaps short-lived children for that long
 * (answer "CHURN-STARTED <pid>"); "CHURN-COUNT\n" answers "CHURN-COUNT <children>", or -1 while
 * it still runs. "BENCH <seconds>\n" / "BENCH-COUNT\n" the same for a CPU benchmark (rounds).
 * "INSMOD <name> [param=value]\n" loads /lib/modules/<name>.ko, "RMMOD <name>\n" unloads it; both
 * answer "MODULE-DONE <exit status>" (the lab's test modules, lab/hookmod, hook on demand; RMMOD
 * turns a livepatch off first). "KMSG <text>\n" writes text to /dev/kmsg, answering
 * "KMSG-DONE <0 or errno>". "IPADDR add|del CIDR MAC\n" adds or removes an address on the NIC
 * with that MAC, answering "IPADDR-DONE <exit status>".
 */
#define _GNU_SOURCE
#include "zoo.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILE (32u << 20)

static struct buf tmp; /* scratch for file contents */

static void rec_file(struct buf *o, const char *path)
{
	rec_file_record(o, path, &tmp, read_file(path, &tmp, MAX_FILE));
}

static void rec_clock(struct buf *o, const char *which)
{
	struct timespec ts;
	read_file("/proc/uptime", &tmp, 4096);
	clock_gettime(CLOCK_BOOTTIME, &ts);
	buf_printf(o, "clock %s ", which);
	buf_hex(o, tmp.p, tmp.len);
	buf_printf(o, " %lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

/* "phase <name> <boottime ns>": where snapshot time goes (slow TCG hosts). */
static void rec_phase(struct buf *o, const char *name)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	buf_printf(o, "phase %s %lld\n", name, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

static int is_num(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* "<kind> <pid>[ <tid>] <name> <hex>" or, when the read fails, "perr <pid> <tid|-> <name> <errno>". */
static void rec_pfile(struct buf *o, const char *kind, const char *pid, const char *tid,
		      const char *name)
{
	char path[600];
	if (tid)
		snprintf(path, sizeof(path), "/proc/%s/task/%s/%s", pid, tid, name);
	else
		snprintf(path, sizeof(path), "/proc/%s/%s", pid, name);
	int err = read_file(path, &tmp, MAX_FILE);
	if (err) {
		buf_printf(o, "perr %s %s %s %d\n", pid, tid ? tid : "-", name, -err);
		return;
	}
	buf_printf(o, "%s %s ", kind, pid);
	if (tid)
		buf_printf(o, "%s ", tid);
	buf_printf(o, "%s ", name);
	buf_hex(o, tmp.p, tmp.len);
	buf_put(o, "\n", 1);
}

static void rec_fds(struct buf *o, const char *pid)
{
	char path[600], link[4096];
	snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!is_num(e->d_name))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd/%s", pid, e->d_name);
		ssize_t n = readlink(path, link, sizeof(link));
		if (n < 0)
			continue; /* closed meanwhile */
		buf_printf(o, "fd %s %s ", pid, e->d_name);
		buf_hex(o, link, n);
		buf_put(o, "\n", 1);
		snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", pid, e->d_name);
		if (read_file(path, &tmp, 1 << 20) == 0) {
			buf_printf(o, "fdinfo %s %s ", pid, e->d_name);
			buf_hex(o, tmp.p, tmp.len);
			buf_put(o, "\n", 1);
		}
	}
	closedir(d);
}

static void rec_process(struct buf *o, const char *pid)
{
	static const char *files[] = { "stat", "status", "comm", "cmdline", "environ",
				       "maps", "statm", "io", "smaps_rollup" };
	char path[600];

	struct timespec ts;

	buf_printf(o, "proc %s\n", pid);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		rec_pfile(o, "pfile", pid, NULL, files[i]);
		if (i == 0) {
			/* When stat was read: rates (top's %CPU) need the exact instant. */
			clock_gettime(CLOCK_BOOTTIME, &ts);
			buf_printf(o, "pclock %s %lld\n", pid,
				   (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
		}
	}
	rec_fds(o, pid);
	snprintf(path, sizeof(path), "/proc/%s/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!is_num(e->d_name))
			continue;
		buf_printf(o, "task %s %s\n", pid, e->d_name);
		rec_pfile(o, "tfile", pid, e->d_name, "stat");
		rec_pfile(o, "tfile", pid, e->d_name, "comm");
		rec_pfile(o, "tfile", pid, e->d_name, "status");
		/* Kernel stacks for nfm bt (root only: CAP_SYS_ADMIN). */
		rec_pfile(o, "tfile", pid, e->d_name, "stack");
		rec_pfile(o, "tfile", pid, e->d_name, "wchan");
	}
	closedir(d);
}

static void rec_processes(struct buf *o)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	while ((e = readdir(d)))
		if (is_num(e->d_name))
			rec_process(o, e->d_name);
	closedir(d);
}

/* Runs a busybox applet, records its stdout (and exit status). */
static void rec_cmd(struct buf *o, char *const argv[], const char *label)
{
	int p[2];
	if (pipe(p))
		return;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		execv("/bin/busybox", argv);
		_exit(127);
	}
	close(p[1]);
	tmp.len = 0;
	char chunk[4096];
	ssize_t n;
	while ((n = read(p[0], chunk, sizeof(chunk))) > 0)
		buf_put(&tmp, chunk, n);
	close(p[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	buf_printf(o, "cmd ");
	buf_hex(o, label, strlen(label));
	buf_put(o, " ", 1);
	buf_hex(o, tmp.p, tmp.len);
	buf_printf(o, " %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* /dev/kmsg records: "prio,seq,usec,flags[,...];text\n" then " KEY=VALUE\n" dictionary lines. */
static void rec_kmsg(struct buf *o)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	char r[8192 + 1];
	for (;;) {
		ssize_t n = read(fd, r, sizeof(r) - 1);
		if (n < 0 && errno == EPIPE)
			continue; /* overwritten while reading: skip to the next one */
		if (n <= 0)
			break;
		r[n] = 0;
		char *semi = memchr(r, ';', n);
		if (!semi)
			continue;
		unsigned prio = 0;
		unsigned long long seq = 0, usec = 0;
		if (sscanf(r, "%u,%llu,%llu", &prio, &seq, &usec) != 3)
			continue;
		char *text = semi + 1, *nl = memchr(text, '\n', r + n - text);
		size_t tlen = nl ? (size_t)(nl - text) : (size_t)(r + n - text);
		char *dict = nl ? nl + 1 : r + n;
		buf_printf(o, "kmsg %llu %llu %u ", seq, usec, prio);
		buf_hex(o, text, tlen);
		buf_put(o, " ", 1);
		buf_hex(o, dict, r + n - dict);
		buf_put(o, "\n", 1);
	}
	close(fd);
}

/* Named core-kernel symbols, every 500th line and every module's line (a few hundred at most):
 * enough to check a kallsyms decoder and the modules' symbol tables.
 * Reading /proc/kallsyms takes seconds under TCG and the modules are loaded before the server
 * starts, so the sample is reused until a module comes or goes. */
static void rec_kallsyms(struct buf *o)
{
	static struct buf out, mods;
	struct buf now = { 0 }, raw = { 0 };
	/* a module loaded or unloaded since (its symbols move in the list): sample again. The
	 * modules' names and addresses only: use counts change without moving any symbol. */
	read_file("/proc/modules", &raw, MAX_FILE);
	for (char *l = raw.p, *e = raw.p + raw.len; l && l < e;) {
		char *nl = memchr(l, '\n', e - l), *sp = memchr(l, ' ', (nl ? nl : e) - l);
		char *addr = memrchr(l, ' ', (nl ? nl : e) - l);
		if (sp && addr) {
			buf_put(&now, l, sp - l);
			buf_put(&now, addr, (nl ? nl : e) - addr);
			buf_put(&now, "\n", 1);
		}
		l = nl ? nl + 1 : NULL;
	}
	free(raw.p);
	if (out.len && now.len == mods.len && (!now.len || !memcmp(now.p, mods.p, now.len))) {
		free(now.p);
		buf_put(o, out.p, out.len);
		return;
	}
	free(mods.p);
	mods = now;
	out.len = 0;
	static const char *want[] = { "init_task", "init_uts_ns", "swapper_pg_dir", "init_top_pgt",
				      "_stext",
				      "_text", "linux_banner", "jiffies", "init_net",
				      "modules", "prb" };
	if (read_file("/proc/kallsyms", &tmp, 256u << 20))
		return;
	char *p = tmp.p, *end = tmp.p + tmp.len;
	unsigned long line = 0;
	struct buf samples = { 0 };
	for (; p < end; line++) {
		char *nl = memchr(p, '\n', end - p);
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		int hit = line % 500 == 0 || memchr(p, '\t', len) != NULL;
		/* "<addr> <type> <name>[\t[module]]": core symbols only (no tab). */
		char *sp = memchr(p, ' ', len);
		char *name = sp ? memchr(sp + 1, ' ', len - (sp + 1 - p)) : NULL;
		if (!hit && name && !memchr(p, '\t', len)) {
			name++;
			size_t nlen = len - (name - p);
			for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
				if (strlen(want[i]) == nlen && !memcmp(want[i], name, nlen))
					hit = 1;
		}
		if (hit) {
			buf_printf(&samples, "ksym %lu ", line);
			buf_hex(&samples, p, len);
			buf_put(&samples, "\n", 1);
		}
		p += len + 1;
	}
	buf_printf(&out, "ksymcount %lu\n", line);
	buf_put(&out, samples.p, samples.len);
	free(samples.p);
	buf_put(o, out.p, out.len);
}

static void rec_uname(struct buf *o)
{
	struct utsname u;
	uname(&u);
	const char *k[] = { "sysname", "nodename", "release", "version", "machine", "domainname" };
	const char *v[] = { u.sysname, u.nodename, u.release, u.version, u.machine, u.domainname };
	for (int i = 0; i < 6; i++) {
		buf_printf(o, "uname %s ", k[i]);
		buf_hex(o, v[i], strlen(v[i]));
		buf_put(o, "\n", 1);
	}
}

static void set_kptr_restrict(const char *v)
{
	int fd = open("/proc/sys/kernel/kptr_restrict", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, v, strlen(v)) < 0) {
			/* left as it was: the file then shows hashed addresses */
		}
		close(fd);
	}
}

/*
 * A file that prints addresses with %pK (/proc/vmallocinfo): hashed unless kptr_restrict is 1
 * and the reader has CAP_SYSLOG. Read with 1 for a moment, then the guest's value again.
 */
static void rec_file_kptr(struct buf *o, const char *path)
{
	char old[16] = "";
	struct buf b = { 0 };

	if (read_file("/proc/sys/kernel/kptr_restrict", &b, sizeof(old) - 1) == 0 && b.len)
		memcpy(old, b.p, b.len);
	free(b.p);
	set_kptr_restrict("1");
	rec_file(o, path);
	if (old[0])
		set_kptr_restrict(old);
}

static void snapshot(struct buf *o, const char *id)
{
	static const char *sys_files[] = {
		"/proc/modules", "/proc/mounts", "/proc/self/mountinfo", "/proc/meminfo", "/proc/loadavg", "/proc/uptime",
		"/proc/stat", "/proc/version", "/proc/cpuinfo", "/proc/cmdline", "/proc/iomem",
		"/proc/filesystems", "/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp",
		"/proc/net/udp6", "/proc/net/unix", "/proc/net/route", "/proc/net/ipv6_route",
		"/proc/net/arp", "/proc/net/dev", "/proc/net/if_inet6", "/proc/sys/kernel/osrelease",
		"/proc/sys/kernel/version", "/proc/sys/kernel/hostname", "/proc/sys/kernel/pid_max",
		"/proc/sys/kernel/kptr_restrict", "/sys/kernel/vmcoreinfo", "/etc/nfm-lab.txt",
		/* nfm kmem: caches' object sizes and orders, vmalloc areas (root only) */
		"/proc/slabinfo", "/sys/kernel/slab/task_struct/object_size",
		"/sys/kernel/slab/mm_struct/object_size", "/sys/kernel/slab/filp/object_size",
	};
	static char *cmds[][5] = {
		{ "busybox", "ip", "addr", NULL }, { "busybox", "ip", "route", NULL },
		{ "busybox", "ip", "-6", "route", NULL }, { "busybox", "ip", "neigh", NULL },
	};
	static const char *labels[] = { "ip addr", "ip route", "ip -6 route", "ip neigh" };

	o->len = 0;
	buf_printf(o, "NFM-TRUTH-BEGIN %s 1\n", id);
	size_t first = o->len;
	rec_clock(o, "start");
	rec_phase(o, "processes");
	rec_processes(o);
	rec_phase(o, "files");
	for (size_t i = 0; i < sizeof(sys_files) / sizeof(sys_files[0]); i++)
		rec_file(o, sys_files[i]);
	rec_file_kptr(o, "/proc/vmallocinfo");	/* nfm kmem: the vmalloc areas */
	rec_tcp_info(o);	/* nfm ss -i: the kernel's tcp_info of every TCP socket */
	rec_ss_details(o);	/* nfm ss -o -m -xe: inet_diag's timers, unix_diag, skmem */
	rec_uname(o);
	rec_phase(o, "commands");
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		rec_cmd(o, cmds[i], labels[i]);
	rec_phase(o, "kmsg");
	rec_kmsg(o);
	rec_phase(o, "kallsyms");
	rec_kallsyms(o);
	rec_phase(o, "manifest");
	if (read_file(ZOO_MANIFEST, &tmp, MAX_FILE) == 0)
		buf_put(o, tmp.p, tmp.len); /* already in record format */
	rec_clock(o, "end");
	unsigned long lines = 0;
	for (size_t i = first; i < o->len; i++)
		lines += o->p[i] == '\n';
	buf_printf(o, "NFM-TRUTH-END %s %lu\n", id, lines);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				poll(&(struct pollfd){ .fd = fd, .events = POLLOUT }, 1, 100);
				continue;
			}
			return -errno;
		}
		p += w;
		n -= w;
	}
	return 0;
}

/*
 * Background jobs the host starts and asks about: CHURN forks and reaps short-lived children,
 * BENCH is a CPU benchmark (for the monitoring-overhead bench), BURN a CPU burner at a duty cycle
 * ("BURN <seconds> <percent> [cpu]", for cTop). Each runs for the seconds asked, then writes its
 * count to ZOO_RUN_DIR/<name>.count. A third number pins the job to that guest CPU
 * (sched_setaffinity) before it starts.
 */
#define CHURN_ALIVE 8

static int job_cpu = -1; /* in a job's process: the CPU it is pinned to, or -1 */

static bool before(const struct timespec *end)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec < end->tv_sec || (now.tv_sec == end->tv_sec && now.tv_nsec < end->tv_nsec);
}

/* Fork and reap children that live 0-3 ms, CHURN_ALIVE at a time; the count is the forks. */
static unsigned long churn(const struct timespec *end, int arg)
{
	(void)arg;
	unsigned long forks = 0;
	int alive = 0;

	while (before(end)) {
		if (alive == CHURN_ALIVE && wait(NULL) > 0)
			alive--;
		pid_t pid = fork();
		if (pid == 0) {
			prctl(PR_SET_NAME, "zoo-churnkid", 0, 0, 0);
			usleep((useconds_t)(rand() % 3000));
			_exit(0);
		}
		if (pid > 0) {
			alive++;
			forks++;
		}
	}
	while (wait(NULL) > 0)
		;
	return forks;
}

/*
 * Integer work in rounds of 65536 steps; the count is the rounds done. SCHED_FIFO, so that the
 * zoo's CPU burners do not share the vCPU with it (RT throttling still leaves them 5 %).
 */
static unsigned long bench(const struct timespec *end, int arg)
{
	(void)arg;
	struct sched_param sp = { .sched_priority = 50 };
	unsigned long rounds = 0;
	uint64_t x = 88172645463325252ull;

	sched_setscheduler(0, SCHED_FIFO, &sp);
	while (before(end)) {
		for (int i = 0; i < 65536; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		rounds++;
	}
	return rounds + (x == 42); /* keep x alive */
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* SIGSTOP (or SIGCONT) the zoo's own burners, so that a BURN job is the only CPU load. */
static void zoo_burners(int sig)
{
	struct dirent *d;
	DIR *dir = opendir("/proc");
	char path[64], comm[32];

	while (dir && (d = readdir(dir))) {
		int pid = atoi(d->d_name), fd;
		ssize_t n;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd >= 0 ? read(fd, comm, sizeof(comm) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n > 0 && !strncmp(comm, "zoo-burn", 8) && strncmp(comm, "zoo-burner", 10))
			kill(pid, sig);
	}
	if (dir)
		closedir(dir);
}

/*
 * Busy for duty % of each 100 ms window, asleep the rest. The guest's own accounting goes to
 * ZOO_RUN_DIR/BURN.log (a burner pinned to CPU n: BURN.n.log, removed when it starts, so that
 * burners on different CPUs run side by side): "<CLOCK_BOOTTIME ns> <CLOCK_PROCESS_CPUTIME_ID ns>"
 * (burn_sample()) at every edge of a busy stretch and every 5 ms inside one, so that the CPU time
 * at any instant is exact by linear interpolation (the line is flat while asleep, of slope 1 while
 * busy and not preempted). The zoo's burners are stopped while any BURN job runs: each holds
 * BURN.lock shared, and the one that ends last (it alone then takes the lock exclusively) lets them
 * go on.
 */
/*
 * One sample of the burner's own accounting: its CPU time read between two CLOCK_BOOTTIME reads,
 * stamped at their midpoint; of up to four tries, the one with the narrowest bracket. A vCPU the
 * host stops between a lone time read and the CPU-time read would otherwise pair a time with a
 * CPU time the guest charged up to the stall's length later (the guest charges a stall to the
 * running task).
 */
static void burn_sample(FILE *log)
{
	uint64_t best_t = 0, best_c = 0, best_w = UINT64_MAX;

	for (int i = 0; i < 4 && best_w > 200000; i++) {
		uint64_t t0 = clock_ns(CLOCK_BOOTTIME), c = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
		uint64_t t1 = clock_ns(CLOCK_BOOTTIME);

		if (t1 - t0 < best_w) {
			best_w = t1 - t0;
			best_t = t0 + (t1 - t0) / 2;
			best_c = c;
		}
	}
	fprintf(log, "%llu %llu\n", (unsigned long long)best_t, (unsigned long long)best_c);
}

static unsigned long burn_duty(const struct timespec *end, int duty)
{
	char path[64], tmpp[80];
	FILE *log;
	uint64_t start = clock_ns(CLOCK_MONOTONIC), last = 0, now;
	unsigned long windows = 0;
	int lock = open(ZOO_RUN_DIR "/BURN.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (job_cpu >= 0) {
		snprintf(path, sizeof(path), ZOO_RUN_DIR "/BURN.%d.log", job_cpu);
		unlink(path); /* a pinned burner's log appears when it ends */
	} else
		snprintf(path, sizeof(path), ZOO_RUN_DIR "/BURN.log");
	snprintf(tmpp, sizeof(tmpp), "%s.tmp", path);
	if (!(log = fopen(tmpp, "we"))) {
		if (lock >= 0)
			close(lock);
		return 0;
	}
	if (lock >= 0)
		flock(lock, LOCK_SH);
	zoo_burners(SIGSTOP);
	duty = duty < 1 ? 1 : duty > 100 ? 100 : duty;
	while (before(end)) {
		burn_sample(log);
		do {
			now = clock_ns(CLOCK_MONOTONIC);
			if (now - last >= 5000000) {
				burn_sample(log);
				last = now;
			}
		} while (now - start < (uint64_t)duty * 1000000);
		burn_sample(log);
		start += 100000000;
		windows++;
		if (duty < 100) {
			struct timespec t = { (time_t)(start / 1000000000), (long)(start % 1000000000) };

			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
		}
	}
	if (lock < 0 || (flock(lock, LOCK_UN) == 0 && flock(lock, LOCK_EX | LOCK_NB) == 0))
		zoo_burners(SIGCONT);
	if (lock >= 0)
		close(lock);
	fclose(log);
	rename(tmpp, path);
	return windows;
}

struct job {
	const char *name, *comm;
	unsigned long (*run)(const struct timespec *end, int arg);
};

static const struct job jobs[] = {
	{ "CHURN", "zoo-churner", churn },
	{ "BENCH", "zoo-bench", bench },
	{ "BURN", "zoo-burner", burn_duty },
};

static void count_path(const struct job *j, char *path, size_t size)
{
	snprintf(path, size, ZOO_RUN_DIR "/%s.count", j->name);
}

/*
 * Job children are reaped as they end (SIGCHLD), not only at the next NAME-COUNT: a job whose
 * count nobody asked for (a test that reads BURN's log instead) stayed a zombie named like the
 * zoo's own burners, and every later look at the guest listed it. Only the pids recorded here
 * are waited for in the handler, so the commands' children (waited for synchronously) keep
 * their status.
 */
#define JOBS_MAX 16
static volatile sig_atomic_t job_pid[JOBS_MAX];

static void reap_jobs(int sig)
{
	int saved = errno;

	(void)sig;
	for (int i = 0; i < JOBS_MAX; i++) {
		pid_t p = (pid_t)job_pid[i];

		if (p > 0 && waitpid(p, NULL, WNOHANG) == p)
			job_pid[i] = 0;
	}
	errno = saved;
}

static void block_sigchld(bool block)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

static void job_start(int fd, const struct job *j, const char *arg)
{
	char reply[64], path[128], tmpp[140], num[32];
	int seconds = 0, param = 0, cpu = -1;
	cpu_set_t set;
	bool ok;

	sscanf(arg, "%d %d %d", &seconds, &param, &cpu);
	/* a CPU must be one this server may run on (online, in its own affinity) */
	ok = seconds > 0 && seconds <= 3600;
	if (cpu != -1)
		ok = ok && cpu >= 0 && cpu < CPU_SETSIZE && !sched_getaffinity(0, sizeof(set), &set) &&
		     CPU_ISSET(cpu, &set);

	count_path(j, path, sizeof(path));
	unlink(path);
	block_sigchld(true);	/* recorded before it can end */
	pid_t pid = ok ? fork() : -1;
	if (pid == 0) {
		struct timespec end;

		signal(SIGCHLD, SIG_DFL);	/* a job's own children are its business */
		block_sigchld(false);
		prctl(PR_SET_NAME, j->comm, 0, 0, 0);
		if (cpu >= 0) {
			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			if (sched_setaffinity(0, sizeof(set), &set))
				_exit(1);
			job_cpu = cpu;
		}
		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_sec += seconds;
		unsigned long count = j->run(&end, param);
		snprintf(tmpp, sizeof(tmpp), "%s.tmp", path);
		int cfd = open(tmpp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int n = snprintf(num, sizeof(num), "%lu\n", count);
		if (cfd >= 0 && write(cfd, num, (size_t)n) == n)
			rename(tmpp, path);
		_exit(0);
	}
	for (int i = 0; pid > 0 && i < JOBS_MAX; i++)
		if (!job_pid[i]) {
			job_pid[i] = pid;
			break;
		}
	block_sigchld(false);
	int n = snprintf(reply, sizeof(reply), "%s-STARTED %d\n", j->name, (int)pid);
	write_all(fd, reply, (size_t)n);
}

static void job_count(int fd, const struct job *j)
{
	struct buf b = { 0 };
	char reply[64], path[128];
	long count = -1;

	pid_t done;

	block_sigchld(true);
	while ((done = waitpid(-1, NULL, WNOHANG)) > 0) /* jobs that are done (more than JOBS_MAX) */
		for (int i = 0; i < JOBS_MAX; i++)
			if (job_pid[i] == done)
				job_pid[i] = 0;
	block_sigchld(false);
	count_path(j, path, sizeof(path));
	if (read_file(path, &b, 64) == 0 && b.len) {
		buf_put(&b, "", 1);
		count = atol(b.p);
	}
	free(b.p);
	int n = snprintf(reply, sizeof(reply), "%s-COUNT %ld\n", j->name, count);
	write_all(fd, reply, (size_t)n);
}

/* "NAME <seconds> [<param> [<cpu>]]" starts a job, "NAME-COUNT" asks for its count; false if line
 * is neither. */
static bool job_command(int fd, const char *line)
{
	for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
		size_t l = strlen(jobs[i].name);

		if (strncmp(line, jobs[i].name, l))
			continue;
		if (line[l] == ' ') {
			job_start(fd, &jobs[i], line + l + 1);
			return true;
		}
		if (!strcmp(line + l, "-COUNT")) {
			job_count(fd, &jobs[i]);
			return true;
		}
	}
	return false;
}

static void file_command(int fd, const char *path)
{
	char head[64];
	int err = read_file(path, &tmp, MAX_FILE);
	int n = snprintf(head, sizeof(head), "NFM-FILE %ld\n", err ? (long)err : (long)tmp.len);

	write_all(fd, head, (size_t)n);
	if (!err)
		write_all(fd, tmp.p, tmp.len);
}

/* One record in the kernel log, as a program logs through /dev/kmsg (facility user, the
 * default level): "KMSG-DONE 0", or the errno. The text is a plain word string (no control bytes). */
static void kmsg_command(int fd, const char *text)
{
	char reply[32];
	int err = 0, k = open("/dev/kmsg", O_WRONLY | O_CLOEXEC), n;

	for (const char *c = text; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			err = EINVAL;
	if (k < 0)
		err = errno;
	else if (!err) {
		/* with its newline: a record without one stays open for a continuation, and no
		 * reader (nor nfm) sees it until the next record closes it */
		char rec[256];
		int len = snprintf(rec, sizeof(rec), "%s\n", text);

		if (len < 0 || (size_t)len >= sizeof(rec))
			err = E2BIG;
		else if (write(k, rec, (size_t)len) < 0)
			err = errno;
	}
	if (k >= 0)
		close(k);
	n = snprintf(reply, sizeof(reply), "KMSG-DONE %d\n", err);
	write_all(fd, reply, (size_t)n);
}

/* A livepatch module cannot be unloaded while its patch is on: turn it off and wait until the
 * transition ends (the patch's sysfs folder goes away), at most 20 s. */
static void livepatch_off(const char *name)
{
	char path[160];
	int i, f;

	snprintf(path, sizeof(path), "/sys/kernel/livepatch/%s/enabled", name);
	f = open(path, O_WRONLY | O_CLOEXEC);
	if (f < 0)
		return;
	if (write(f, "0", 1) != 1)
		perror(path);
	close(f);
	snprintf(path, sizeof(path), "/sys/kernel/livepatch/%s", name);
	for (i = 0; i < 200 && access(path, F_OK) == 0; i++)
		usleep(100 * 1000);
}

/* insmod/rmmod through busybox; the module name and parameter are plain words (no path). */
static void module_command(int fd, bool load, const char *args)
{
	char name[64] = "", param[128] = "", path[128], reply[64];
	int status = -1, n;

	if (sscanf(args, "%63[A-Za-z0-9_] %127[A-Za-z0-9_=,.-]", name, param) >= 1) {
		pid_t pid;

		snprintf(path, sizeof(path), "/lib/modules/%s.ko", name);
		if (!load)
			livepatch_off(name);
		pid = fork();
		if (pid == 0) {
			if (load)
				execl("/bin/busybox", "insmod", path, param[0] ? param : NULL, NULL);
			else
				execl("/bin/busybox", "rmmod", name, NULL);
			_exit(127);
		}
		if (pid > 0 && waitpid(pid, &status, 0) == pid)
			status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	}
	n = snprintf(reply, sizeof(reply), "MODULE-DONE %d\n", status);
	write_all(fd, reply, (size_t)n);
}

/* "IPADDR add|del CIDR MAC": busybox ip addr on the interface with that MAC address (probe
 * order is no promise); answers "IPADDR-DONE <exit status>" (-1: bad request, no such NIC). */
static void ipaddr_command(int fd, const char *args)
{
	char op[8] = "", cidr[48] = "", mac[24] = "", ifname[256] = "", reply[64];
	int status = -1, n;
	DIR *d;
	struct dirent *de;

	if (sscanf(args, "%7[adel] %47[0-9a-fA-F.:/] %23[0-9a-f:]", op, cidr, mac) == 3 &&
	    (!strcmp(op, "add") || !strcmp(op, "del")) && (d = opendir("/sys/class/net"))) {
		while (!ifname[0] && (de = readdir(d))) {
			char path[300], addr[32] = "";
			int f;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/sys/class/net/%s/address", de->d_name);
			f = open(path, O_RDONLY | O_CLOEXEC);
			if (f < 0)
				continue;
			n = (int)read(f, addr, sizeof(addr) - 1);
			close(f);
			addr[n > 0 ? n : 0] = 0;
			if (!strncmp(addr, mac, strlen(mac)) && addr[strlen(mac)] == '\n')
				snprintf(ifname, sizeof(ifname), "%s", de->d_name);
		}
		closedir(d);
	}
	if (ifname[0]) {
		pid_t pid = fork();

		if (pid == 0) {
			execl("/bin/busybox", "ip", "addr", op, cidr, "dev", ifname, NULL);
			_exit(127);
		}
		if (pid > 0 && waitpid(pid, &status, 0) == pid)
			status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	}
	n = snprintf(reply, sizeof(reply), "IPADDR-DONE %d\n", status);
	write_all(fd, reply, (size_t)n);
}

int truth_server(const char *dev)
{
	int fd = open(dev, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		die(dev);
	struct termios t;
	if (tcgetattr(fd, &t) == 0) { /* a serial port fallback: raw bytes, no echo */
		cfmakeraw(&t);
		cfsetspeed(&t, B115200);
		tcsetattr(fd, TCSANOW, &t);
	}
	prctl(PR_SET_NAME, "zoo-truthsrv", 0, 0, 0);
	sigaction(SIGCHLD, &(struct sigaction){ .sa_handler = reap_jobs, .sa_flags = SA_RESTART },
		  NULL);
	struct buf out = { 0 };
	char line[256];
	size_t ll = 0;
	for (;;) {
		char c;
		ssize_t n = read(fd, &c, 1);
		if (n <= 0) {
			/* virtio ports return 0 while no host is connected */
			usleep(50000);
			continue;
		}
		if (c != '\n') {
			if (ll < sizeof(line) - 1)
				line[ll++] = c;
			continue;
		}
		line[ll] = 0;
		ll = 0;
		if (strlen(line) && line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = 0;
		if (!strncmp(line, "TRUTH ", 6)) {
			snapshot(&out, line + 6);
			write_all(fd, out.p, out.len);
		} else if (!strcmp(line, "PING")) {
			write_all(fd, "PONG\n", 5);
		} else if (!strncmp(line, "FILE ", 5)) {
			file_command(fd, line + 5);
		} else if (!strncmp(line, "KMSG ", 5)) {
			kmsg_command(fd, line + 5);
		} else if (!strncmp(line, "IPADDR ", 7)) {
			ipaddr_command(fd, line + 7);
		} else if (!strncmp(line, "INSMOD ", 7) || !strncmp(line, "RMMOD ", 6)) {
			module_command(fd, line[0] == 'I', strchr(line, ' ') + 1);
		} else {
			job_command(fd, line);
		}
	}
}
