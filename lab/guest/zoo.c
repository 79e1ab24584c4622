// SPDX-License-Identifier: MIT
/*
 * The lab guest's known, awkward workload ("zoo").
 *
 *   zoo spawn NPROCS        start every role plus NPROCS sleepers, write ZOO_MANIFEST, then idle
 *   zoo truth-server DEV    answer truth requests on DEV (see zoo-truth.c)
 *
 * Each role is this binary re-executed with the role's odd argv and env NFM_ZOO=<role>, so
 * /proc/PID/cmdline and /proc/PID/environ show exactly what execve() was given. Every role writes
 * its own manifest entry (what it expects /proc to show) to ZOO_RUN_DIR; the spawner gathers them.
 */
#define _GNU_SOURCE
#include "zoo.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char long_arg[5001]; /* a cmdline crossing a page boundary */
static char long_env[6001];

struct role {
	const char *name;	/* NFM_ZOO value, unique */
	const char *comm;	/* PR_SET_NAME argument; the kernel keeps 15 bytes */
	const char *argv[4];	/* exec argv (NULL-terminated); argv[1] may be patched at spawn */
	void (*run)(const struct role *r);
};

static struct buf manifest; /* this process's manifest lines */
static int g_argc;
static char **g_argv;
static char *g_arg_end; /* end of the argv area as exec left it (the kernel's mm->arg_end) */

/* ---- manifest -------------------------------------------------------------------------- */

static void span(const char *first, const char *last, const char **start, size_t *len)
{
	*start = first;
	*len = (size_t)(last + strlen(last) + 1 - first);
}

/* "role <hex role> <pid> <hex comm> <hex cmdline> <hex environ>": cmdline/environ are the raw
 * bytes of the argv/env areas, which is what the kernel returns for /proc/PID/{cmdline,environ}. */
static void manifest_role(const char *role, pid_t pid, const char *comm)
{
	const char *p;
	size_t n;
	char c[16] = { 0 };

	strncpy(c, comm, 15);
	buf_printf(&manifest, "role ");
	buf_hex(&manifest, role, strlen(role));
	buf_printf(&manifest, " %d ", pid);
	buf_hex(&manifest, c, strlen(c));
	buf_put(&manifest, " ", 1);
	buf_hex(&manifest, g_argv[0], g_arg_end - g_argv[0]);
	buf_put(&manifest, " ", 1);
	int ne = 0;
	while (environ[ne])
		ne++;
	span(environ[0], environ[ne - 1], &p, &n);
	buf_hex(&manifest, p, n);
	buf_put(&manifest, "\n", 1);
}

static void manifest_expect(const char *role, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void manifest_self(const char *role, const char *comm)
{
	manifest_role(role, getpid(), comm);
}

static void manifest_expect(const char *role, const char *key, const char *fmt, ...)
{
	char v[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	buf_printf(&manifest, "expect ");
	buf_hex(&manifest, role, strlen(role));
	buf_printf(&manifest, " %s ", key);
	buf_hex(&manifest, v, strlen(v));
	buf_put(&manifest, "\n", 1);
}

/* Atomic publish: the spawner counts finished files in ZOO_RUN_DIR. */
static void manifest_publish(void)
{
	char tmp[64], dst[64];
	snprintf(tmp, sizeof(tmp), ZOO_RUN_DIR "/.%d", getpid());
	snprintf(dst, sizeof(dst), ZOO_RUN_DIR "/%d.m", getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, manifest.p, manifest.len) != (ssize_t)manifest.len)
		die("manifest write");
	close(fd);
	if (rename(tmp, dst))
		die("manifest rename");
}

static void __attribute__((noreturn)) idle(void)
{
	for (;;)
		pause();
}

static void set_comm(const char *comm)
{
	prctl(PR_SET_NAME, comm, 0, 0, 0);
}

/* ---- roles ----------------------------------------------------------------------------- */

static void run_plain(const struct role *r)
{
	(void)r;
}

/* setproctitle-style: overwrite the argv area in place, NUL-padded to its original length. */
static void run_proctitle(const struct role *r)
{
	(void)r;
	char *start = g_argv[0], *end = g_arg_end - 1;
	memset(start, 0, end - start);
	snprintf(start, end - start, "zoo: rewritten title (idle)");
}

struct thr {
	const char *name;
	pid_t tid;
	pthread_barrier_t *bar;
};

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	/* prctl truncates to 15 bytes; pthread_setname_np would refuse longer names. */
	prctl(PR_SET_NAME, t->name, 0, 0, 0);
	t->tid = gettid();
	pthread_barrier_wait(t->bar);
	idle();
}

static void run_threads(const struct role *r)
{
	static const char *names[] = { "zt-worker-1", "zt-ünï", "zt esc\033[1m", "zt-io\tx",
				       "zt-long-name-over-15" };
	enum { N = sizeof(names) / sizeof(names[0]) };
	static struct thr t[N];
	/* static: waiters may still be inside pthread_barrier_wait after ours returns, and this
	 * frame is reused then (seen on arm64 under TCG: glibc aborted "The futex facility
	 * returned an unexpected error code"). */
	static pthread_barrier_t bar;
	pthread_t th;

	pthread_barrier_init(&bar, NULL, N + 1);
	for (int i = 0; i < N; i++) {
		t[i].name = names[i];
		t[i].bar = &bar;
		if (pthread_create(&th, NULL, thread_main, &t[i]))
			die("pthread_create");
	}
	pthread_barrier_wait(&bar);
	for (int i = 0; i < N; i++) {
		char c[16] = { 0 };
		strncpy(c, names[i], 15);
		buf_printf(&manifest, "thread ");
		buf_hex(&manifest, r->name, strlen(r->name));
		buf_printf(&manifest, " %d %d ", getpid(), t[i].tid);
		buf_hex(&manifest, c, strlen(c));
		buf_put(&manifest, "\n", 1);
	}
	manifest_expect(r->name, "threads", "%d", N + 1);
}

/* Children exit at once and are never reaped: they stay zombies (state Z, no mm). */
static void run_zparent(const struct role *r)
{
	(void)r;
	for (int i = 1; i <= 2; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			set_comm("zoo-zombie");
			_exit(7);
		}
		siginfo_t si;
		/* WNOWAIT: learn that it exited but leave it a zombie. */
		waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
		char role[16];
		snprintf(role, sizeof(role), "zombie%d", i);
		buf_printf(&manifest, "role ");
		buf_hex(&manifest, role, strlen(role));
		buf_printf(&manifest, " %d ", pid);
		buf_hex(&manifest, "zoo-zombie", 10);
		buf_printf(&manifest, " - -\n");
		manifest_expect(role, "state", "Z");
	}
}

/*
 * Nested pid namespaces, for status NStgid/NSpid/NSpgid/NSsid at three levels: a child that is
 * pid 1 of a new namespace, its second child (pid 2 there), and its child in a namespace of its
 * own (pid 1 again, three ids) that leads a session. The children are forks: the role's argv
 * and environment are theirs.
 */
static void pidns_child(int ready, const char *comm, int lead)
{
	if (lead)
		setsid();
	set_comm(comm);
	if (write(ready, "x", 1) != 1)
		_exit(1);
	idle();
}

static void run_pidns(const struct role *r)
{
	static const char *const comms[] = { "zoo-pidns1", "zoo-pidns1b", "zoo-pidns2" };
	int fds[2], n = 0;
	pid_t c1;
	char b[3];

	(void)r;
	if (pipe(fds) < 0 || unshare(CLONE_NEWPID) < 0)
		die("pidns: unshare");
	c1 = fork();
	if (c1 < 0)
		die("fork");
	if (c1 == 0) {
		if (fork() == 0)
			pidns_child(fds[1], comms[1], 0);
		if (unshare(CLONE_NEWPID) < 0)
			_exit(1);
		if (fork() == 0)
			pidns_child(fds[1], comms[2], 1);
		pidns_child(fds[1], comms[0], 0);
	}
	for (ssize_t k; n < 3 && (k = read(fds[0], b, 3 - (size_t)n)) > 0;)
		n += (int)k;	/* each child's byte: its comm is set */
	manifest_role("pidns1", c1, comms[0]);
	/* the others' pids in this namespace: /proc (ours) names them, children of c1 */
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char path[64], st[512], comm[32];
		int pid = atoi(e->d_name), ppid = 0;
		FILE *f;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		if (!(f = fopen(path, "r")))
			continue;
		if (fgets(st, sizeof(st), f) && strrchr(st, ')'))
			sscanf(strrchr(st, ')') + 2, "%*c %d", &ppid);
		fclose(f);
		if (ppid != c1)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		if (!(f = fopen(path, "r")))
			continue;
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = 0;
			manifest_role(!strcmp(comm, comms[2]) ? "pidns2" : "pidns1b", pid, comm);
		}
		fclose(f);
	}
	if (d)
		closedir(d);
}

static void make_file(const char *path, size_t size, int c)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(path);
	char *m = malloc(size);
	memset(m, c, size);
	if (write(fd, m, size) != (ssize_t)size)
		die("write");
	free(m);
	close(fd);
}

static void run_files(const struct role *r)
{
	const char *n = r->name;
	int fd = open("/etc/nfm-lab.txt", O_RDONLY);
	manifest_expect(n, "fd_regular", "%d", fd);
	fd = open("/mnt/tmpfs/zoo-append.txt", O_WRONLY | O_CREAT | O_APPEND, 0640);
	if (write(fd, "zoo was here\n", 13) != 13)
		die("write");
	manifest_expect(n, "fd_append", "%d", fd);
	fd = open("/mnt/tmpfs/zoo-deleted.txt", O_RDWR | O_CREAT, 0600);
	if (write(fd, "gone\n", 5) != 5)
		die("write");
	unlink("/mnt/tmpfs/zoo-deleted.txt");
	manifest_expect(n, "fd_deleted", "%d", fd);

	make_file("/mnt/tmpfs/zoo-shared.bin", 1 << 20, 'S');
	fd = open("/mnt/tmpfs/zoo-shared.bin", O_RDWR);
	char *sh = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (sh == MAP_FAILED)
		die("mmap shared");
	sh[0] = 's';
	manifest_expect(n, "mmap_shared", "%lx-%lx", (unsigned long)sh,
			(unsigned long)sh + (1 << 20));
	manifest_expect(n, "fd_mmap_shared", "%d", fd);

	make_file("/mnt/tmpfs/zoo-private.bin", 256 << 10, 'P');
	fd = open("/mnt/tmpfs/zoo-private.bin", O_RDONLY);
	char *pv = mmap(NULL, 256 << 10, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (pv == MAP_FAILED)
		die("mmap private");
	pv[0] = 'p'; /* one COW page */
	close(fd); /* mapped but no longer open: maps shows it, fd list does not */
	manifest_expect(n, "mmap_private", "%lx-%lx", (unsigned long)pv,
			(unsigned long)pv + (256 << 10));

	size_t anon_sz = 8 << 20;
	char *an = mmap(NULL, anon_sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (an == MAP_FAILED)
		die("mmap anon");
	for (size_t i = 0; i < anon_sz; i += 4096)
		an[i] = (char)(i >> 12 | 1); /* non-zero so no zero-page sharing */
	manifest_expect(n, "anon", "%lx-%lx", (unsigned long)an, (unsigned long)an + anon_sz);
	manifest_expect(n, "anon_bytes", "%zu", anon_sz);

	int p[2];
	if (pipe(p))
		die("pipe");
	if (write(p[1], "in the pipe", 11) != 11)
		die("write");
	manifest_expect(n, "pipe", "%d %d", p[0], p[1]);
	manifest_expect(n, "eventfd", "%d", eventfd(7, EFD_NONBLOCK));
	manifest_expect(n, "epoll", "%d", epoll_create1(0));
	manifest_expect(n, "timerfd", "%d", timerfd_create(CLOCK_MONOTONIC, 0));
	/* fd 200: the kernel replaces the table embedded in files_struct (64 slots) by an
	 * allocated one of 256, as a busy server's is (tests/hostile forges its size) */
	manifest_expect(n, "fd_high", "%d", dup2(p[0], 200));
}

static int tcp_listen(int fam, const char *ip, int port)
{
	int s = socket(fam, SOCK_STREAM, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fam == AF_INET) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
		inet_pton(AF_INET, ip, &a.sin_addr);
		if (bind(s, (void *)&a, sizeof(a)))
			die("bind4");
	} else {
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
		inet_pton(AF_INET6, ip, &a.sin6_addr);
		if (bind(s, (void *)&a, sizeof(a)))
			die("bind6");
	}
	if (listen(s, 8))
		die("listen");
	return s;
}

/* Connects to a listener in this process and accepts: both ends ESTABLISHED here. */
static void tcp_pair(int l, int fam, const char *ip, int port)
{
	int c = socket(fam, SOCK_STREAM, 0);
	if (fam == AF_INET) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
		inet_pton(AF_INET, ip, &a.sin_addr);
		if (connect(c, (void *)&a, sizeof(a)))
			die("connect4");
	} else {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
		inet_pton(AF_INET6, ip, &a.sin6_addr);
		if (connect(c, (void *)&a, sizeof(a)))
			die("connect6");
	}
	if (accept(l, NULL, NULL) < 0)
		die("accept");
}

static int udp_bind(int fam, const char *ip, int port)
{
	int s = socket(fam, SOCK_DGRAM, 0);
	if (fam == AF_INET) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
		inet_pton(AF_INET, ip, &a.sin_addr);
		if (bind(s, (void *)&a, sizeof(a)))
			die("bind udp4");
	} else {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
		inet_pton(AF_INET6, ip, &a.sin6_addr);
		if (bind(s, (void *)&a, sizeof(a)))
			die("bind udp6");
	}
	return s;
}

static int unix_sock(int type, const char *path, size_t plen, int do_listen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, type, 0);
	memcpy(a.sun_path, path, plen);
	unlink(path);
	if (bind(s, (void *)&a, offsetof(struct sockaddr_un, sun_path) + plen))
		die("bind unix");
	if (do_listen && listen(s, 8))
		die("listen unix");
	return s;
}

static unsigned long inode_of(int fd)
{
	struct stat st;
	return fstat(fd, &st) ? 0 : (unsigned long)st.st_ino;
}

/*
 * Bytes left in unix queues, and what the guest kernel itself says of them (SIOCINQ, SIOCOUTQ:
 * unix_inq_len and unix_outq_len, what ss -x shows): "INODE:RECVQ:SENDQ ..." of the stream's
 * accepted end (5 bytes sent, 2 read: a partly consumed skb), its client, the datagram socket
 * (two datagrams queued: the first one's length) and its sender, and the abstract listener
 * with one connection it has not accepted (its queue length and backlog).
 */
static void unix_queues(const char *n, int c, int srv, int ds, int al)
{
	char buf[2], out[256];
	int snd = socket(AF_UNIX, SOCK_DGRAM, 0), pend = socket(AF_UNIX, SOCK_STREAM, 0);
	int fds[4], i, inq, outq;
	size_t k = 0;
	struct sockaddr_un d = { .sun_family = AF_UNIX, .sun_path = "/run/zoo-dgram.sock" };
	struct sockaddr_un ab = { .sun_family = AF_UNIX };

	if (write(c, "hello", 5) != 5 || read(srv, buf, 2) != 2)
		die("unix stream queue");
	if (sendto(snd, "seven..", 7, 0, (void *)&d, sizeof(d)) != 7 ||
	    sendto(snd, "abc", 3, 0, (void *)&d, sizeof(d)) != 3)
		die("unix dgram queue");
	memcpy(ab.sun_path, "\0nfm-zoo-abstract", sizeof("\0nfm-zoo-abstract") - 1);
	if (connect(pend, (void *)&ab, offsetof(struct sockaddr_un, sun_path) +
		    sizeof("\0nfm-zoo-abstract") - 1))
		die("unix pending connect");
	fds[0] = srv, fds[1] = c, fds[2] = ds, fds[3] = snd;
	for (i = 0; i < 4; i++) {
		if (ioctl(fds[i], FIONREAD, &inq) || ioctl(fds[i], TIOCOUTQ, &outq))
			die("unix SIOCINQ/SIOCOUTQ");
		k += (size_t)snprintf(out + k, sizeof(out) - k, "%lu:%d:%d ", inode_of(fds[i]), inq,
				      outq);
	}
	snprintf(out + k, sizeof(out) - k, "%lu:1:8", inode_of(al));
	manifest_expect(n, "unix_queues", "%s", out);
}

/*
 * ss -o: a connection to the listener l (127.0.0.1:port) whose two ends keep their keepalive
 * timers armed (sk_timer), the client's after TCP_KEEPIDLE 3600 s, the accepted end's after
 * the default tcp_keepalive_time. Idle, they hold still for an hour: /proc/net/tcp's "tr tm->when"
 * (02, the time left) and sock_diag's idiag_timer/expires say what nfm ss -o must print.
 */
static void tcp_keepalive_pair(int l, int port)
{
	int c = socket(AF_INET, SOCK_STREAM, 0), a, one = 1, idle = 3600;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) ||
	    setsockopt(c, IPPROTO_TCP, 4 /* TCP_KEEPIDLE */, &idle, sizeof(idle)) ||
	    connect(c, (void *)&sa, sizeof(sa)) || (a = accept(l, NULL, NULL)) < 0 ||
	    setsockopt(a, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)))
		die("tcp keepalive pair");
}

static void run_net(const struct role *r)
{
	const char *n = r->name;
	int l4 = tcp_listen(AF_INET, "127.0.0.1", 7701);
	int l6 = tcp_listen(AF_INET6, "::1", 7702);
	tcp_listen(AF_INET, "0.0.0.0", 7705);
	tcp_listen(AF_INET6, "::", 7706);
	tcp_pair(l4, AF_INET, "127.0.0.1", 7701);
	tcp_pair(l6, AF_INET6, "::1", 7702);
	tcp_keepalive_pair(l4, 7701);
	manifest_expect(n, "tcp4_listen", "127.0.0.1:7701 0.0.0.0:7705");
	manifest_expect(n, "tcp6_listen", "[::1]:7702 [::]:7706");
	manifest_expect(n, "tcp4_established", "127.0.0.1:7701");
	manifest_expect(n, "tcp6_established", "[::1]:7702");

	udp_bind(AF_INET, "127.0.0.1", 7703);
	udp_bind(AF_INET6, "::", 7704);
	int u = udp_bind(AF_INET, "10.77.0.2", 7707);
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(53) };
	inet_pton(AF_INET, "10.77.0.1", &peer.sin_addr);
	connect(u, (void *)&peer, sizeof(peer)); /* connected UDP: rem_address set */
	manifest_expect(n, "udp4", "127.0.0.1:7703 10.77.0.2:7707->10.77.0.1:53");
	manifest_expect(n, "udp6", "[::]:7704");

	int ls = unix_sock(SOCK_STREAM, "/run/zoo-stream.sock", sizeof("/run/zoo-stream.sock"), 1);
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX, .sun_path = "/run/zoo-stream.sock" };
	int srv = -1;
	if (connect(c, (void *)&a, sizeof(a)) || (srv = accept(ls, NULL, NULL)) < 0)
		die("unix connect");
	int ds = unix_sock(SOCK_DGRAM, "/run/zoo-dgram.sock", sizeof("/run/zoo-dgram.sock"), 0);
	int al = unix_sock(SOCK_STREAM, "\0nfm-zoo-abstract", sizeof("\0nfm-zoo-abstract") - 1, 1);
	int sp[2];
	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp);
	manifest_expect(n, "unix", "/run/zoo-stream.sock /run/zoo-dgram.sock @nfm-zoo-abstract");
	unix_queues(n, c, srv, ds, al);
}

static void __attribute__((noreturn)) burn(int duty)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	for (;;) {
		/* Busy for duty ms of each 100 ms window, sleep the rest. */
		int64_t start = t.tv_sec * 1000000000LL + t.tv_nsec, now;
		do {
			struct timespec n;
			clock_gettime(CLOCK_MONOTONIC, &n);
			now = n.tv_sec * 1000000000LL + n.tv_nsec;
		} while (now - start < duty * 1000000LL);
		start += 100000000LL;
		t.tv_sec = start / 1000000000LL;
		t.tv_nsec = start % 1000000000LL;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
	}
}

static void run_burn(const struct role *r)
{
	manifest_expect(r->name, "duty_percent", "%d", atoi(r->name + 4));
}

static void run_uid(const struct role *r)
{
	gid_t g = 1002;
	if (setgroups(1, &g) || setresgid(1001, 1001, 1001) || setresuid(1000, 1000, 1000))
		die("setresuid");
	setpriority(PRIO_PROCESS, 0, 10);
	manifest_expect(r->name, "uid", "1000 1000 1000 1000");
	manifest_expect(r->name, "gid", "1001 1001 1001 1001");
	manifest_expect(r->name, "nice", "10");
}

static void run_uidmix(const struct role *r)
{
	if (setresgid(2001, 2002, 2003) || setresuid(1000, 1001, 1002))
		die("setresuid");
	manifest_expect(r->name, "uid", "1000 1001 1002 1001");
	manifest_expect(r->name, "gid", "2001 2002 2003 2002");
}

static void run_nice(const struct role *r)
{
	int v = atoi(r->name + 4);
	setpriority(PRIO_PROCESS, 0, v);
	manifest_expect(r->name, "nice", "%d", v);
}

static void run_env(const struct role *r)
{
	manifest_expect(r->name, "env_count", "%d", 7);
}

static const struct role roles[] = {
	{ "space", "zoo with space", { "zoo with space", "arg two", "x y", NULL }, run_plain },
	{ "utf8", "zoo-ünïcødé", { "zoo-ünïcødé", "ärg", NULL }, run_plain },
	{ "utf8cut", "zoo-ééééééé", { "zoo-ééééééé", NULL }, run_plain },
	/* East Asian wide characters: two terminal cells each */
	{ "wide", "zoo-漢字寬", { "zoo-漢字寬", "寬字元寬字元寬字元寬字元寬字元寬字元寬字元", "x", NULL },
	  run_plain },
	{ "tab", "zoo\ttab\tname", { "zoo\ttab", "a\tb", NULL }, run_plain },
	{ "escape", "\033[31mzoo-red\033[0m", { "\033[31mred\033[0m", "\033]0;title\007", NULL },
	  run_plain },
	{ "newline", "zoo\nnl", { "zoo\nnl", "back\\slash", NULL }, run_plain },
	{ "longname", "zoo-this-name-is-much-longer-than-fifteen",
	  { "zoo-this-name-is-much-longer-than-fifteen", "--flag=value", NULL }, run_plain },
	{ "kthread", "kworker/0:9", { "[kworker/0:9]", NULL }, run_plain },
	{ "kthread2", "[kworker/u4:2]", { "", NULL }, run_plain },
	{ "emptyargv", "", { "", NULL }, run_plain },
	{ "emptyargs", "zoo-emptyargs", { "zoo-emptyargs", "", "", NULL }, run_plain },
	{ "longargv", "zoo-longargv", { "zoo-longargv", long_arg, NULL }, run_plain },
	{ "proctitle", "zoo-proctitle",
	  { "zoo-proctitle-original-argument-that-gets-overwritten", "arg", NULL }, run_proctitle },
	{ "threads", "zoo-threads", { "zoo-threads", "--workers=5", NULL }, run_threads },
	{ "zparent", "zoo-zparent", { "zoo-zparent", NULL }, run_zparent },
	{ "pidns", "zoo-pidns", { "zoo-pidns", NULL }, run_pidns },
	{ "stopped", "zoo-stopped", { "zoo-stopped", NULL }, run_plain },
	{ "files", "zoo-files", { "zoo-files", NULL }, run_files },
	{ "net", "zoo-net", { "zoo-net", NULL }, run_net },
	{ "uid", "zoo-uid1000", { "zoo-uid1000", NULL }, run_uid },
	{ "uidmix", "zoo-uidmix", { "zoo-uidmix", NULL }, run_uidmix },
	{ "nice-5", "zoo-nice-5", { "zoo-nice-5", NULL }, run_nice },
	{ "nice19", "zoo-nice19", { "zoo-nice19", NULL }, run_nice },
	{ "env", "zoo-env", { "zoo-env", NULL }, run_env },
	{ "burn30", "zoo-burn30", { "zoo-burn", "30", NULL }, run_burn },
	{ "burn70", "zoo-burn70", { "zoo-burn", "70", NULL }, run_burn },
};
/*
 * Sleepers fill the process-count sweeps (nfm-lab start --procs N); every tenth is heavy, a
 * long-lived service's shape: 64 VMAs that cannot merge, 16 open files, 64 KiB touched.
 */
static void run_sleeper(const struct role *r)
{
	(void)r;
	if (g_argc < 3 || strcmp(g_argv[2], "heavy"))
		return;
	for (int i = 0; i < 64; i++) {
		char *p = mmap(NULL, 4096, i % 2 ? PROT_READ : PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap");
		if (i < 16 && !(i % 2))
			memset(p, 'h', 4096);
	}
	for (int i = 0; i < 16; i++)
		if (open(i % 2 ? "/etc/nfm-lab.txt" : "/dev/null", O_RDONLY) < 0)
			die("open");
	char *heap = malloc(64 << 10);
	if (heap)
		memset(heap, 'h', 64 << 10);
}
static const struct role sleeper = { "sleep", "zoo-sleep", { "zoo-sleep", NULL }, run_sleeper };

static int role_main(const char *name)
{
	const struct role *r = NULL;
	char comm[32];

	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (!strcmp(roles[i].name, name))
			r = &roles[i];
	if (!r && !strncmp(name, "sleep-", 6)) {
		r = &sleeper;
		snprintf(comm, sizeof(comm), "zoo-%s", name);
	}
	if (!r) {
		fprintf(stderr, "zoo: unknown role %s\n", name);
		return 1;
	}
	const char *c = r == &sleeper ? comm : r->comm;
	set_comm(c);
	r->run(r);
	manifest_self(name, c);
	manifest_publish();
	if (!strcmp(name, "stopped"))
		raise(SIGSTOP);
	if (!strncmp(name, "burn", 4))
		burn(atoi(name + 4));
	idle();
}

/* ---- spawner --------------------------------------------------------------------------- */

static pid_t spawn(const char *role, char *const argv[])
{
	char e_role[64];
	snprintf(e_role, sizeof(e_role), "NFM_ZOO=%s", role);
	char *env_plain[] = { e_role, "PATH=/bin", "ZOO_ENV_A=hello world", NULL };
	char *env_rich[] = { e_role,
			     "PATH=/bin",
			     "ZOO_ENV_A=hello world",
			     "ZOO_ENV_UTF8=ünïcødé",
			     "ZOO_ENV_TAB=a\tb\033[0m",
			     "ZOO_ENV_EMPTY=",
			     long_env,
			     NULL };
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		execve("/proc/self/exe", argv, strcmp(role, "env") ? env_plain : env_rich);
		_exit(127);
	}
	return pid;
}

static int count_manifests(const pid_t *pids, int n)
{
	char path[64];
	int done = 0;
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), ZOO_RUN_DIR "/%d.m", pids[i]);
		done += !access(path, F_OK);
	}
	return done;
}

/* Enough for the 10,000-process sweep guest (--procs 10000 --mem 2G), with room for the roles. */
#define MAX_SPAWN 12288

static int spawn_main(int nprocs)
{
	static pid_t pids[MAX_SPAWN];
	int n = 0;

	set_comm("zoo-spawner");
	mkdir(ZOO_RUN_DIR, 01777);
	chmod(ZOO_RUN_DIR, 01777); /* the uid roles publish after dropping root */
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		if (!strncmp(roles[i].name, "burn", 4))
			continue; /* burners last: they slow everything else under TCG */
		pids[n++] = spawn(roles[i].name, (char *const *)roles[i].argv);
	}
	for (int i = 0; i < nprocs && n < MAX_SPAWN - 2; i++) {
		char role[16], num[8];
		snprintf(role, sizeof(role), "sleep-%02d", i);
		snprintf(num, sizeof(num), "%02d", i);
		char *argv[] = { "zoo-sleep", num, i % 10 == 9 ? "heavy" : NULL, NULL };
		pids[n++] = spawn(role, argv);
	}
	if (!getenv("ZOO_BURN") || strcmp(getenv("ZOO_BURN"), "0")) {
		pids[n++] = spawn("burn30", (char *const *)roles[sizeof(roles) / sizeof(roles[0]) - 2].argv);
		pids[n++] = spawn("burn70", (char *const *)roles[sizeof(roles) / sizeof(roles[0]) - 1].argv);
	}

	for (int tries = 0; count_manifests(pids, n) < n; tries++) {
		if (tries > 600 + n / 10) { /* TCG forks and execs a few hundred a second */
			fprintf(stderr, "zoo: only %d of %d roles reported\n", count_manifests(pids, n), n);
			return 1;
		}
		usleep(100000);
	}
	/* The stopped role publishes, then stops: wait until it really is in state T. */
	siginfo_t si;
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (!strcmp(roles[i].name, "stopped"))
			waitid(P_PID, pids[i], &si, WSTOPPED | WNOWAIT);

	struct buf one = { 0 };
	char path[64];
	manifest_self("spawner", "zoo-spawner");
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), ZOO_RUN_DIR "/%d.m", pids[i]);
		if (read_file(path, &one, 1 << 20) == 0)
			buf_put(&manifest, one.p, one.len);
	}
	int fd = open(ZOO_MANIFEST ".tmp", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, manifest.p, manifest.len) != (ssize_t)manifest.len)
		die("manifest");
	close(fd);
	rename(ZOO_MANIFEST ".tmp", ZOO_MANIFEST);
	idle();
}

int main(int argc, char **argv)
{
	g_argc = argc;
	g_argv = argv;
	g_arg_end = argv[argc - 1] + strlen(argv[argc - 1]) + 1;
	memset(long_arg, 'a', sizeof(long_arg) - 1);
	memcpy(long_env, "ZOO_ENV_LONG=", 13);
	memset(long_env + 13, 'e', sizeof(long_env) - 14);

	const char *role = getenv("NFM_ZOO");
	if (role)
		return role_main(role);
	if (argc == 3 && !strcmp(argv[1], "spawn"))
		return spawn_main(atoi(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "truth-server"))
		return truth_server(argv[2]);
	fprintf(stderr, "usage: zoo spawn NPROCS | zoo truth-server DEVICE\n");
	return 2;
}
