// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfmd: the nfm daemon. Finds every QEMU VM on the host, attaches to each guest kernel with no
 * configuration, crawls it on a schedule and serves Prometheus metrics and a JSON API.
 * One event loop: epoll over a timerfd (the crawl schedule), a signalfd, the workers' eventfd
 * and libmicrohttpd's epoll fd.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "conffile.h"
#include "jout.h"
#include "nfmd.h"
#include "record.h"
#include "units.h"

/*
 * A crawl was published: a recorded VM gets its state frame, the API's own document with its
 * topology frame added ("topology": the object of /api/topology/frames), so that nfm topo
 * --store can join the VMs as they were at any recorded moment.
 */
static void record_published(struct vm *vm, void *arg)
{
	const struct nfmd *d = arg;
	struct json_object *doc, *topo;

	if (!record_wanted(&d->cfg, vm))
		return;
	doc = api_vm(vm);
	if (!doc)
		return;
	topo = api_topology_frame(vm);
	if (topo)
		j_add(doc, "topology", topo);
	record_queue_frame(&d->cfg, vm, doc);
	json_object_put(doc);
}

static const struct nfmd_config default_config = {
	.listen = "127.0.0.1:9464",
	.interval = { [F_BASE] = 1, [F_PS] = 5, [F_NET] = 5, [F_SYS] = 30 },
	.rescan = 2,
	.crawl_timeout = 2,
	.attach_backoff_max = 60,
	.workers = 2,
	.attach_workers = 1,
	.max_vms = 128,
	.lim = { .top = 10, .max_json_tasks = 2000, .max_items = 512 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nfmd [OPTIONS]\n\n"
		"Serve every QEMU VM's guest kernel state as Prometheus metrics and JSON.\n\n"
		"  --config FILE          settings from FILE: `key = value` lines, keys as these\n"
		"                         options without --; the command line overrides it\n"
		"  --listen ADDR:PORT     HTTP address (default 127.0.0.1:9464)\n"
		"  --token-file FILE      require 'Authorization: Bearer <contents of FILE>'\n"
		"  --basic-auth-user USER, --basic-auth-password-file FILE\n"
		"                         or accept HTTP basic auth as USER with FILE's password\n"
		"  --tls-cert FILE, --tls-key FILE  serve HTTPS with this PEM certificate and key\n"
		"  --insecure-listen      allow a non-loopback address without token or basic auth\n"
		"  --interval DUR         base crawl: uptime, CPUs, memory (default 1s)\n"
		"  --ps-interval DUR      processes (default 5s; 0 disables)\n"
		"  --net-interval DUR     interfaces and sockets (default 5s; 0 disables)\n"
		"  --sys-interval DUR     modules, mounts, kernel log, diagnosis (default 30s; 0 disables)\n"
		"  --rescan DUR           look for new and gone VMs (default 2s)\n"
		"  --crawl-timeout DUR    time budget of one crawl of one VM (default 2s)\n"
		"  --top N                processes with per-process metrics (default 10)\n"
		"  --workers N            crawl threads (default 2)\n"
		"  --attach-workers N     threads looking for guest kernels (default 1)\n"
		"  --max-vms N            VMs watched at most (default 128)\n"
		"  --vm PATTERN           only VMs whose name matches PATTERN (shell glob)\n"
		"  --record DIR           record each VM into DIR/NAME: its state timeline (a frame\n"
		"                         per crawl; nfm timeline DIR/NAME) and, with --record-every,\n"
		"                         memory snapshots (nfm --at DIR/NAME@WHEN CMD)\n"
		"  --record-vm PATTERN    record only VMs whose name matches PATTERN (default: all)\n"
		"  --record-every DUR     a memory snapshot of each recorded VM this often (default 0:\n"
		"                         the timeline only; 10m, 1h...)\n"
		"  --record-keep DUR      drop snapshots and frames older than this (24h, 7d)\n"
		"  --record-max-size SIZE drop the oldest snapshots while a VM's store is larger (5G)\n"
		"  -v, --verbose          more log (twice: library debug)\n"
		"  -q, --quiet            errors only\n"
		"  --version, -h/--help\n\n"
		"DUR: 500ms, 1s, 2m, or seconds. See nfmd(8).\n");
}

static double duration_arg(const struct nfmd_log *log, const char *opt, const char *s, double min)
{
	double d = parse_duration(s);

	if (d < 0 || (d > 0 && d < min) || d > 86400) {
		logmsg(log, NFM_LOG_ERR, "%s %s: expected a duration like 500ms, 1s or 2m (at least %gs)",
		       opt, s, min);
		exit(2);
	}
	return d;
}

/* A duration without the one-day cap (retention, snapshot periods). */
static double long_duration_arg(const struct nfmd_log *log, const char *opt, const char *s, double min)
{
	double d = parse_duration(s);

	if (d < min || d > 100 * 365 * 86400.0) {
		logmsg(log, NFM_LOG_ERR, "%s %s: expected a duration like 10m, 24h or 7d (at least %gs)",
		       opt, s, min);
		exit(2);
	}
	return d;
}

static int int_arg(const struct nfmd_log *log, const char *opt, const char *s, int min, int max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < min || v > max) {
		logmsg(log, NFM_LOG_ERR, "%s %s: expected a number from %d to %d", opt, s, min, max);
		exit(2);
	}
	return (int)v;
}

enum { O_LISTEN = 256, O_TOKEN, O_INTERVAL, O_PS, O_NET, O_SYS, O_RESCAN, O_TIMEOUT, O_TOP,
       O_WORKERS, O_AWORKERS, O_MAXVMS, O_VM, O_VERSION, O_CONFIG, O_TLS_CERT, O_TLS_KEY,
       O_BASIC_USER, O_BASIC_PASS, O_INSECURE, O_RECORD, O_RECORD_VM, O_RECORD_EVERY,
       O_RECORD_KEEP, O_RECORD_MAX };

static const struct option opts[] = {
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "token-file", required_argument, NULL, O_TOKEN },
	{ "basic-auth-user", required_argument, NULL, O_BASIC_USER },
	{ "basic-auth-password-file", required_argument, NULL, O_BASIC_PASS },
	{ "tls-cert", required_argument, NULL, O_TLS_CERT },
	{ "tls-key", required_argument, NULL, O_TLS_KEY },
	{ "insecure-listen", no_argument, NULL, O_INSECURE },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "interval", required_argument, NULL, O_INTERVAL },
	{ "ps-interval", required_argument, NULL, O_PS },
	{ "net-interval", required_argument, NULL, O_NET },
	{ "sys-interval", required_argument, NULL, O_SYS },
	{ "rescan", required_argument, NULL, O_RESCAN },
	{ "crawl-timeout", required_argument, NULL, O_TIMEOUT },
	{ "top", required_argument, NULL, O_TOP },
	{ "workers", required_argument, NULL, O_WORKERS },
	{ "attach-workers", required_argument, NULL, O_AWORKERS },
	{ "max-vms", required_argument, NULL, O_MAXVMS },
	{ "vm", required_argument, NULL, O_VM },
	{ "record", required_argument, NULL, O_RECORD },
	{ "record-vm", required_argument, NULL, O_RECORD_VM },
	{ "record-every", required_argument, NULL, O_RECORD_EVERY },
	{ "record-keep", required_argument, NULL, O_RECORD_KEEP },
	{ "record-max-size", required_argument, NULL, O_RECORD_MAX },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "version", no_argument, NULL, O_VERSION },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* Strings from the configuration file live as long as nfmd (the configuration points at them). */
static const char *keep(struct nfmd *d, const char *s)
{
	char *c = strdup(s);

	if (!c) {
		logmsg(&d->log, NFM_LOG_ERR, "out of memory");
		exit(1);
	}
	return c;
}

/* One option, from the command line or the configuration file; exits on a bad value. */
static void set_option(struct nfmd *d, int c, const char *arg, int *verbose)
{
	struct nfmd_config *cfg = &d->cfg;
	const struct nfmd_log *log = &d->log;

	switch (c) {
	case O_LISTEN: cfg->listen = arg; break;
	case O_TOKEN: cfg->token_file = arg; break;
	case O_BASIC_USER: cfg->basic_user = arg; break;
	case O_BASIC_PASS: cfg->basic_password_file = arg; break;
	case O_TLS_CERT: cfg->tls_cert = arg; break;
	case O_TLS_KEY: cfg->tls_key = arg; break;
	case O_INSECURE: cfg->insecure_listen = true; break;
	case O_INTERVAL: cfg->interval[F_BASE] = duration_arg(log, "--interval", arg, 0.01); break;
	case O_PS: cfg->interval[F_PS] = duration_arg(log, "--ps-interval", arg, 0.01); break;
	case O_NET: cfg->interval[F_NET] = duration_arg(log, "--net-interval", arg, 0.01); break;
	case O_SYS: cfg->interval[F_SYS] = duration_arg(log, "--sys-interval", arg, 0.01); break;
	case O_RESCAN: cfg->rescan = duration_arg(log, "--rescan", arg, 0.1); break;
	case O_TIMEOUT: cfg->crawl_timeout = duration_arg(log, "--crawl-timeout", arg, 0.01); break;
	case O_TOP: cfg->lim.top = int_arg(log, "--top", arg, 0, 1000); break;
	case O_WORKERS: cfg->workers = int_arg(log, "--workers", arg, 1, 64); break;
	case O_AWORKERS: cfg->attach_workers = int_arg(log, "--attach-workers", arg, 1, 64); break;
	case O_MAXVMS: cfg->max_vms = int_arg(log, "--max-vms", arg, 1, 4096); break;
	case O_VM: cfg->only = arg; break;
	case O_RECORD: cfg->record_dir = arg; break;
	case O_RECORD_VM: cfg->record_only = arg; break;
	case O_RECORD_EVERY: cfg->record_every = long_duration_arg(log, "--record-every", arg, 1); break;
	case O_RECORD_KEEP: cfg->record_keep = long_duration_arg(log, "--record-keep", arg, 1); break;
	case O_RECORD_MAX:
		cfg->record_max_bytes = units_parse_size(arg);
		if (!cfg->record_max_bytes) {
			logmsg(log, NFM_LOG_ERR, "--record-max-size %s: expected a size like 5G or 500M", arg);
			exit(2);
		}
		break;
	case 'v': (*verbose)++; break;
	case 'q': d->log.level = NFM_LOG_ERR; break;
	case O_VERSION: printf("nfmd %s\n", nfm_version()); exit(0);
	case 'h': usage(stdout); exit(0);
	default: usage(stderr); exit(2);
	}
}

struct conf_ctx {
	struct nfmd *d;
	const char *path;
	int *verbose;
};

/* A `key = value` line of --config: key is a long option's name. */
static int conf_set(const char *key, const char *value, int line, void *arg)
{
	struct conf_ctx *cc = arg;
	const struct option *o;

	for (o = opts; o->name; o++)
		if (!strcmp(o->name, key))
			break;
	if (!o->name || o->val == O_CONFIG || o->val == O_VERSION || o->val == 'h') {
		logmsg(&cc->d->log, NFM_LOG_ERR, "%s:%d: unknown setting '%s' (see nfmd(8))", cc->path,
		       line, key);
		return -1;
	}
	if (o->has_arg == no_argument) {
		if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0"))
			return 0;
		if (strcmp(value, "yes") && strcmp(value, "true") && strcmp(value, "1")) {
			logmsg(&cc->d->log, NFM_LOG_ERR, "%s:%d: %s: expected yes or no", cc->path, line,
			       key);
			return -1;
		}
	} else if (!*value) {
		logmsg(&cc->d->log, NFM_LOG_ERR, "%s:%d: %s needs a value", cc->path, line, key);
		return -1;
	}
	set_option(cc->d, o->val, keep(cc->d, value), cc->verbose);
	return 0;
}

/* Secrets and certificates named by the configuration, read once at startup. */
static void read_secrets(struct nfmd *d)
{
	struct nfmd_config *cfg = &d->cfg;

	if (cfg->token_file && !(cfg->token = conffile_secret(cfg->token_file, "token-file", &d->log)))
		exit(1);
	if (!cfg->basic_user != !cfg->basic_password_file) {
		logmsg(&d->log, NFM_LOG_ERR, "basic-auth-user and basic-auth-password-file go together");
		exit(2);
	}
	if (cfg->basic_password_file &&
	    !(cfg->basic_password = conffile_secret(cfg->basic_password_file,
						    "basic-auth-password-file", &d->log)))
		exit(1);
	if (!cfg->tls_cert != !cfg->tls_key) {
		logmsg(&d->log, NFM_LOG_ERR, "tls-cert and tls-key go together");
		exit(2);
	}
	if (cfg->tls_cert) {
		struct stat st;

		cfg->tls_cert_pem = conffile_slurp(cfg->tls_cert, "tls-cert", 1 << 20, &d->log);
		cfg->tls_key_pem = conffile_slurp(cfg->tls_key, "tls-key", 1 << 20, &d->log);
		if (!cfg->tls_cert_pem || !cfg->tls_key_pem)
			exit(1);
		if (stat(cfg->tls_key, &st) == 0 && (st.st_mode & 0077))
			logmsg(&d->log, NFM_LOG_WARN, "tls-key %s is readable by other users", cfg->tls_key);
	}
}

static void parse_args(struct nfmd *d, int argc, char **argv)
{
	struct nfmd_config *cfg = &d->cfg;
	const struct nfmd_log *log = &d->log;
	int c, verbose = 0;

	/* The file first, so that the command line overrides it. */
	for (int i = 1; i < argc; i++) {
		const char *path = !strcmp(argv[i], "--config") && i + 1 < argc ? argv[i + 1] :
				   !strncmp(argv[i], "--config=", 9) ? argv[i] + 9 : NULL;

		if (!strcmp(argv[i], "--"))
			break;
		if (path) {
			struct conf_ctx cc = { d, path, &verbose };

			if (conffile_read(path, log, conf_set, &cc) < 0)
				exit(2);
			break;
		}
	}
	while ((c = getopt_long(argc, argv, "vqh", opts, NULL)) != -1)
		if (c != O_CONFIG)
			set_option(d, c, optarg, &verbose);
	if (optind < argc) {
		logmsg(log, NFM_LOG_ERR, "unexpected argument '%s' (see nfmd --help)", argv[optind]);
		exit(2);
	}
	if (!cfg->record_dir && (cfg->record_only || cfg->record_every || cfg->record_keep ||
				 cfg->record_max_bytes)) {
		logmsg(log, NFM_LOG_ERR, "the --record-* settings go with --record DIR");
		exit(2);
	}
	if (cfg->interval[F_BASE] <= 0) {
		logmsg(log, NFM_LOG_ERR, "--interval must be more than 0");
		exit(2);
	}
	if (verbose)
		d->log.level = NFM_LOG_DEBUG + (verbose > 1);
	read_secrets(d);
}

/* systemd Type=notify without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void sd_notify_ready(const struct nfmd_log *log)
{
	const char *p = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static const char msg[] = "READY=1";
	size_t len;
	int fd;

	if (!p || (p[0] != '/' && p[0] != '@') || strlen(p) >= sizeof(sa.sun_path))
		return;
	len = strlen(p);
	memcpy(sa.sun_path, p, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, sizeof(msg) - 1, 0, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		logmsg(log, NFM_LOG_WARN, "cannot notify systemd: %s", strerror(errno));
	close(fd);
}

static void arm(int tfd, double at)
{
	struct itimerspec its = { 0 };
	double s = floor(at);

	if (at <= 0)
		at = s = 1e-9;
	its.it_value.tv_sec = (time_t)s;
	its.it_value.tv_nsec = (long)((at - s) * 1e9);
	if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value.tv_nsec = 1;
	timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Set up everything but the HTTP server; 0, or 1 (the exit status) after saying why. */
static int setup(struct nfmd *d)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;
	int ret;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->epfd < 0 || d->tfd < 0 || d->sfd < 0) {
		logmsg(&d->log, NFM_LOG_ERR, "cannot set up the event loop: %s", strerror(errno));
		return 1;
	}
	ret = vm_table_init(&d->vms, &d->cfg, &d->log);
	if (ret < 0) {
		logmsg(&d->log, NFM_LOG_ERR, "cannot make the VM table: %s", strerror(-ret));
		return 1;
	}
	schedule_init(&d->sched, &d->cfg, &d->log, &d->vms, &d->pool);
	d->sched.published = record_published;
	d->sched.published_arg = d;
	ret = pool_start(&d->pool, d->cfg.workers, d->cfg.attach_workers, schedule_run_job,
			 &d->sched, &d->log);
	if (ret < 0) {
		logmsg(&d->log, NFM_LOG_ERR, "cannot start the crawl workers: %s", strerror(-ret));
		return 1;
	}
	ev.data.fd = d->tfd;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->tfd, &ev);
	ev.data.fd = d->sfd;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sfd, &ev);
	ev.data.fd = d->pool.efd;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->pool.efd, &ev);
	return 0;
}

/* Read the signals; false when nfmd is to exit. */
static bool signals(struct nfmd *d)
{
	struct signalfd_siginfo si;
	bool running = true;

	while (read(d->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			logmsg(&d->log, NFM_LOG_INFO, "SIGHUP: rescanning VMs");
			vm_table_rescan(&d->vms);
		} else {
			logmsg(&d->log, NFM_LOG_INFO, "signal %d: exiting", (int)si.ssi_signo);
			running = false;
		}
	}
	return running;
}

static void run(struct nfmd *d)
{
	struct epoll_event evs[8];
	bool running = true;

	arm(d->tfd, now_mono());
	while (running) {
		int n = epoll_wait(d->epfd, evs, 8, http_timeout_ms(&d->http));

		if (n < 0 && errno != EINTR) {
			logmsg(&d->log, NFM_LOG_ERR, "epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == d->tfd) {
				uint64_t exp;

				if (read(d->tfd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
					logmsg(&d->log, NFM_LOG_WARN, "timerfd: %s", strerror(errno));
			} else if (fd == d->sfd) {
				running = signals(d);
			} else if (fd == d->pool.efd) {
				schedule_done(&d->sched, pool_take_done(&d->pool));
			}
		}
		/* libmicrohttpd: its epoll fd, and its connection timeouts. */
		http_run(&d->http);
		arm(d->tfd, schedule_due(&d->sched, now_mono()));
		pool_tick(&d->pool, now_mono());
	}
}

int main(int argc, char **argv)
{
	struct nfmd d = { .cfg = default_config, .log = { .level = NFM_LOG_INFO } };
	int ret;

	d.log.journal = getenv("JOURNAL_STREAM") != NULL;
	parse_args(&d, argc, argv);
	setvbuf(stderr, NULL, _IOLBF, 0);
	srand((unsigned int)getpid());
	ret = setup(&d);
	if (ret)
		return ret;
	/* exit(), not return: the crawl workers already run and read d, which lives in this frame */
	if (http_start(&d.http, &d.cfg, &d.vms, &d.log, d.epfd) < 0)
		exit(1);
	logmsg(&d.log, NFM_LOG_INFO, "nfmd %s: crawling every %gs (ps %gs, net %gs, sys %gs), %d workers%s",
	       nfm_version(), d.cfg.interval[F_BASE], d.cfg.interval[F_PS], d.cfg.interval[F_NET],
	       d.cfg.interval[F_SYS], d.cfg.workers,
	       d.cfg.token || d.cfg.basic_user ? ", authentication required" : "");
	sd_notify_ready(&d.log);
	run(&d);
	http_stop(&d.http);
	/* A crawl still runs: exit without freeing what it uses. exit(), not return: the worker
	 * reads d (the configuration, the log) until the process ends, and d lives in this frame. */
	if (!pool_stop(&d.pool))
		exit(0);
	schedule_done(&d.sched, pool_take_done(&d.pool));
	record_flush(&d.vms, &d.cfg, &d.log);
	vm_table_free(&d.vms);
	free(d.cfg.token);
	free(d.cfg.basic_password);
	free(d.cfg.tls_cert_pem);
	free(d.cfg.tls_key_pem);
	close(d.tfd);
	close(d.sfd);
	close(d.epfd);
	return 0;
}
