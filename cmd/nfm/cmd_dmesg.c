// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm dmesg: the kernel log from the printk ring buffer, as dmesg prints it. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"

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

static int cmd_dmesg(struct cli *cli, int argc, char **argv)
{
	/* dmesg's own --raw (before the table option of every command, which dmesg has no use for) */
	static const struct option longopts[] = {
		{ "raw", no_argument, NULL, 'r' },
		{ 0 }
	};
	struct nfm_log_record *recs;
	bool raw = false, trunc = false;
	char *buf;
	int n, i, c;

	while ((c = cli_getopt(cli, argc, argv, "r", longopts)) != -1) {
		switch (c) {
		case 'r':
			raw = true;
			break;
		default:
			return cli_opt_status(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "no arguments expected");
	if (cli_attach(cli))
		return 1;
	n = nfm_log_records(cli->ctx, &recs, &trunc);
	if (n < 0)
		return cli_fail("cannot read the kernel log: %s",
				cli->last_error[0] ? cli->last_error : strerror(-n));
	if (trunc)
		cli_warn("the kernel log was cut short (guest data changed or inconsistent)");
	if (cli->json) {
		struct json_object *doc = jdoc_new("dmesg"), *a = json_object_new_array();

		for (i = 0; i < n; i++)
			json_object_array_add(a, obj_log_record(&recs[i]));
		j_add(doc, "records", a);
		if (trunc)
			jdoc_error(doc, "records", -EBADMSG, "the kernel log was cut short");
		free(recs);
		return cli_print_json(cli, doc) ?: trunc ? EXIT_PARTIAL : 0;
	}
	buf = malloc(65536 * 4 + 1);
	if (!buf) {
		free(recs);
		return cli_fail("out of memory");
	}
	for (i = 0; i < n; i++) {
		const struct nfm_log_record *r = &recs[i];
		const char *p = r->text, *end = r->text + r->text_len;

		/* Every line of a record gets the record's prefix, as syslog(2) output has it. */
		do {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len = (size_t)((nl ? nl : end) - p);

			if (raw)
				printf("<%d>", r->facility << 3 | r->level);
			printf("[%5" PRIu64 ".%06" PRIu64 "] ", r->ts_nsec / 1000000000,
			       r->ts_nsec % 1000000000 / 1000);
			print_line(p, len, buf, 65536 * 4 + 1);
			p = nl ? nl + 1 : end;
		} while (p < end);
	}
	free(buf);
	free(recs);
	return trunc ? EXIT_PARTIAL : 0;
}

const struct command command_dmesg = {
	.name = "dmesg",
	.summary = "the kernel log (printk ring buffer)",
	.usage = "[-j] [-r]",
	.help = "  -r, --raw           each line with its <priority> prefix, as dmesg -r\n",
	.run = cmd_dmesg,
};
