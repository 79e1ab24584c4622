// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm dmesg: the kernel log from the printk ring buffer, as util-linux dmesg prints it:
 * -T wall-clock times (the guest's boot time plus the record's stamp), -x facility and level
 * names, --level/--facility/-k/-u filters, -w follows a live guest (the ring polled at 5 Hz).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nfm/system.h>
#include <nfm/task.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"

#define LINE_BUF (65536 * 4 + 1)

/* util-linux dmesg's names (lib/syslog names of syslog(3)). */
static const char *const level_names[] = { "emerg", "alert", "crit", "err", "warn", "notice",
					   "info", "debug" };
static const char *const facility_names[] = { "kern", "user", "mail", "daemon", "auth", "syslog",
	"lpr", "news", "uucp", "cron", "authpriv", "ftp", "res0", "res1", "res2", "res3",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7" };

struct dmesg_opts {
	bool raw, decode, ctime, notime, follow;
	uint32_t levels, facilities;	/* bit sets; 0: all */
	int64_t boot_ns;		/* -T: the guest's wall-clock boot time */
	char *buf;
};

/* "err,warn" or "3,4" into a bit set; -1 for a name dmesg does not know. */
static int parse_names(const char *list, const char *const *names, int nr, uint32_t *set)
{
	char *dup = strdup(list), *save = NULL, *w;
	int ret = 0;

	if (!dup)
		return -1;
	for (w = strtok_r(dup, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		char *end;
		long v = strtol(w, &end, 10);
		int i;

		if (*w && !*end && v >= 0 && v < nr) {
			*set |= 1u << v;
			continue;
		}
		for (i = 0; i < nr && strcmp(w, names[i]); i++)
			;
		/* procps/util-linux also spell "warning" and "error" */
		if (i == nr && nr == 8 && !strcmp(w, "warning"))
			i = 4;
		if (i == nr && nr == 8 && !strcmp(w, "error"))
			i = 3;
		if (i == nr) {
			ret = -1;
			break;
		}
		*set |= 1u << i;
	}
	free(dup);
	return ret;
}

static bool wanted(const struct dmesg_opts *o, const struct nfm_log_record *r)
{
	if (o->levels && (r->level < 0 || r->level > 7 || !(o->levels & 1u << r->level)))
		return false;
	if (o->facilities && (r->facility < 0 || r->facility > 23 ||
			      !(o->facilities & 1u << r->facility)))
		return false;
	return true;
}

/* A line escaped for the terminal, tabs kept as they are (dmesg prints them). */
static void print_line(const char *p, size_t len, char *buf, size_t size)
{
	const char *tab;

	while ((tab = memchr(p, '\t', len))) {
		fputs(cli_escape(p, (size_t)(tab - p), buf, size), stdout);
		putchar('\t');
		len -= (size_t)(tab - p) + 1;
		p = tab + 1;
	}
	puts(cli_escape(p, len, buf, size));
}

static void print_record(const struct dmesg_opts *o, const struct nfm_log_record *r)
{
	const char *p = r->text, *end = r->text + r->text_len;

	/* Every line of a record gets the record's prefix, as syslog(2) output has it. */
	do {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);

		if (o->raw)
			printf("<%d>", r->facility << 3 | r->level);
		else if (o->decode)
			printf("%-6s:%-6s: ",
			       r->facility >= 0 && r->facility < 24 ? facility_names[r->facility] : "",
			       r->level >= 0 && r->level < 8 ? level_names[r->level] : "");
		if (o->notime) {
			/* nothing */
		} else if (o->ctime) {
			time_t t = (time_t)((o->boot_ns + (int64_t)r->ts_nsec) / 1000000000);
			struct tm tm;
			char s[64];

			/* dmesg -T: ctime(3)'s form in the local time zone */
			if (localtime_r(&t, &tm) && strftime(s, sizeof(s), "%a %b %e %H:%M:%S %Y", &tm))
				printf("[%s] ", s);
		} else {
			printf("[%5" PRIu64 ".%06" PRIu64 "] ", r->ts_nsec / 1000000000,
			       r->ts_nsec % 1000000000 / 1000);
		}
		print_line(p, len, o->buf, LINE_BUF);
		p = nl ? nl + 1 : end;
	} while (p < end);
}

/* The records after seq *last (all when *last is UINT64_MAX); *last moves on. */
static int show(struct cli *cli, struct dmesg_opts *o, uint64_t *last, bool *partial)
{
	struct nfm_log_record *recs;
	struct json_object *doc = NULL, *a = NULL;
	bool trunc = false;
	int n, i, shown = 0;

	n = nfm_log_records(cli->ctx, &recs, &trunc);
	if (n < 0)
		return cli_fail("cannot read the kernel log: %s",
				cli->last_error[0] ? cli->last_error : strerror(-n));
	if (trunc && !o->follow)
		cli_warn("the kernel log was cut short (guest data changed or inconsistent)");
	*partial |= trunc;
	if (cli->json) {
		doc = jdoc_new("dmesg");
		a = json_object_new_array();
	}
	for (i = 0; i < n; i++) {
		const struct nfm_log_record *r = &recs[i];

		if (*last != UINT64_MAX && r->seq <= *last)
			continue;
		if (!wanted(o, r))
			continue;
		shown++;
		if (a)
			json_object_array_add(a, obj_log_record(r));
		else
			print_record(o, r);
	}
	if (n > 0 && (*last == UINT64_MAX || recs[n - 1].seq > *last))
		*last = recs[n - 1].seq;
	else if (*last == UINT64_MAX)
		*last = 0;
	free(recs);
	if (doc) {
		j_add(doc, "records", a);
		if (trunc)
			jdoc_error(doc, "records", -EBADMSG, "the kernel log was cut short");
		/* -w -j: one document per poll that found new records (JSON Lines) */
		if (!o->follow || shown)
			return cli_print_json(cli, doc);
		json_object_put(doc);
		return 0;
	}
	return fflush(stdout) || ferror(stdout) ? 1 : 0;
}

/* The usage error of a bad -l/-f list names every name (the bash completion reads them). */
static int names_error(struct cli *cli, const char *what, const char *list,
		       const char *const *names, int nr)
{
	char all[256];
	size_t k = 0;
	int i;

	all[0] = 0;
	for (i = 0; i < nr; i++)
		k += (size_t)snprintf(all + k, sizeof(all) - k, "%s%s", i ? " " : "", names[i]);
	return cli_usage_error(cli, "unknown %s in '%s' (names: %s; or 0-%d)", what, cli_esc(list),
			       all, nr - 1);
}

static int cmd_dmesg(struct cli *cli, int argc, char **argv)
{
	/* dmesg's own --raw (before the table option of every command, which dmesg has no use for) */
	static const struct option longopts[] = {
		{ "raw", no_argument, NULL, 'r' },
		{ "ctime", no_argument, NULL, 'T' },
		{ "decode", no_argument, NULL, 'x' },
		{ "level", required_argument, NULL, 'l' },
		{ "facility", required_argument, NULL, 'f' },
		{ "kernel", no_argument, NULL, 'k' },
		{ "userspace", no_argument, NULL, 'u' },
		{ "notime", no_argument, NULL, 't' },
		{ "follow", no_argument, NULL, 'w' },
		{ 0 }
	};
	struct dmesg_opts o = { 0 };
	uint64_t last = UINT64_MAX;
	bool partial = false;
	int ret, c;

	while ((c = cli_getopt(cli, argc, argv, "rTxl:f:kutw", longopts)) != -1) {
		switch (c) {
		case 'r':
			o.raw = true;
			break;
		case 'T':
			o.ctime = true;
			break;
		case 'x':
			o.decode = true;
			break;
		case 'l':
			if (parse_names(optarg, level_names, 8, &o.levels))
				return names_error(cli, "level", optarg, level_names, 8);
			break;
		case 'f':
			if (parse_names(optarg, facility_names, 24, &o.facilities))
				return names_error(cli, "facility", optarg, facility_names, 24);
			break;
		case 'k':
			o.facilities |= 1u << 0;
			break;
		case 'u':
			o.facilities |= 1u << 1;
			break;
		case 't':
			o.notime = true;
			break;
		case 'w':
			o.follow = true;
			break;
		default:
			return cli_opt_status(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "no arguments expected");
	if (cli_attach(cli))
		return 1;
	if (o.ctime && !o.notime) {
		ret = nfm_task_boot_time(cli->ctx, &o.boot_ns);
		if (ret < 0)
			return cli_fail("cannot read the guest's boot time for -T: %s",
					cli->last_error[0] ? cli->last_error : strerror(-ret));
	}
	o.buf = malloc(LINE_BUF);
	if (!o.buf)
		return cli_fail("out of memory");
	ret = show(cli, &o, &last, &partial);
	/* -w: poll the ring at 5 Hz; a new crawl each time, so the records are the guest's now */
	while (!ret && o.follow) {
		usleep(200000);
		nfm_ctx_refresh(cli->ctx);
		ret = show(cli, &o, &last, &partial);
	}
	free(o.buf);
	return ret ?: partial ? EXIT_PARTIAL : 0;
}

const struct command command_dmesg = {
	.name = "dmesg",
	.summary = "the kernel log (printk ring buffer)",
	.usage = "[-j] [-rTxtkuw] [-l LEVELS] [-f FACILITIES]",
	.help = "  -r, --raw           each line with its <priority> prefix, as dmesg -r\n"
		"  -T, --ctime         wall-clock times (the guest's boot time + the record's stamp)\n"
		"  -t, --notime        no timestamps\n"
		"  -x, --decode        facility and level names before each line\n"
		"  -l, --level LIST    only these levels (emerg,alert,crit,err,warn,notice,info,debug\n"
		"                      or 0-7)\n"
		"  -f, --facility LIST  only these facilities (kern,user,daemon,... or 0-23)\n"
		"  -k, --kernel        only kernel messages (--facility kern)\n"
		"  -u, --userspace     only messages from user space (--facility user)\n"
		"  -w, --follow        wait for new messages (the ring read again 5 times a second);\n"
		"                      -j: one document per batch of new records (JSON Lines)\n",
	.run = cmd_dmesg,
};
