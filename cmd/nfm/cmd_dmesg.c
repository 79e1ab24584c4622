// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm dmesg: the kernel log from the printk ring buffer, as dmesg prints it. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"

static struct json_object *rec_json(const struct nfm_log_record *r)
{
	struct json_object *o = json_object_new_object();
	char ts[32];

	snprintf(ts, sizeof(ts), "%" PRIu64 ".%06" PRIu64, r->ts_nsec / 1000000000,
		 r->ts_nsec % 1000000000 / 1000);
	json_object_object_add(o, "seq", json_object_new_int64((int64_t)r->seq));
	json_object_object_add(o, "timestamp", json_object_new_string(ts));
	json_object_object_add(o, "ts_nsec", json_object_new_int64((int64_t)r->ts_nsec));
	json_object_object_add(o, "level", json_object_new_int(r->level));
	json_object_object_add(o, "facility", json_object_new_int(r->facility));
	json_object_object_add(o, "caller_id", json_object_new_int64(r->caller_id));
	json_object_object_add(o, "text", cli_json_bytes(r->text, r->text_len));
	return o;
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

int cmd_dmesg(struct cli *cli, int argc, char **argv)
{
	struct nfm_log_record *recs;
	bool raw = false, trunc = false;
	char *buf;
	int n, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-r") || !strcmp(argv[i], "--raw"))
			raw = true;
		else
			return cli_fail("usage: nfm dmesg [-j] [-r]");
	}
	if (cli_attach(cli))
		return 1;
	n = nfm_log_records(cli->ctx, &recs, &trunc);
	if (n < 0)
		return cli_fail("cannot read the kernel log: %s",
				cli->last_error[0] ? cli->last_error : strerror(-n));
	if (cli->json) {
		struct json_object *a = json_object_new_array();

		for (i = 0; i < n; i++)
			json_object_array_add(a, rec_json(&recs[i]));
		free(recs);
		return cli_print_json(cli, a);
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
	return 0;
}

const struct command command_dmesg = {
	.name = "dmesg",
	.summary = "the kernel log (printk ring buffer)",
	.usage = "[-j] [-r]",
	.run = cmd_dmesg,
};
