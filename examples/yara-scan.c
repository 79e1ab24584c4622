// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Scan every guest process's memory with YARA rules, from outside the guest: libnfm reads each
 * mapping through the process's own page tables (nfm_vma_iter, nfm_task_read) and libyara
 * scans the bytes. Pages that are not resident are skipped, as the guest would not have them
 * either. (nfm yara does this with more care: regions across mappings, the kernel, progress.)
 *
 *     ./yara-scan pid:1234 rules.yar
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/nfm.h>
#include <yara.h>

#define CHUNK (1u << 20)		/* bytes scanned at once */
#define MAX_MAPPING (256u << 20)	/* larger mappings are scanned in their first 256 MiB */

struct hit {
	const struct nfm_task *t;
	const struct nfm_vma *v;
	uint64_t va;
	int matches;
};

/*
 * Guest text is attacker-controlled: a process may name itself with a newline or a terminal
 * escape. Print it with everything but printable ASCII as \xNN (nfm itself keeps valid UTF-8,
 * cmd/common/guest_text.c).
 */
static void put_guest(const char *s, size_t max)
{
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

static int on_match(YR_SCAN_CONTEXT *sc, int msg, void *data, void *user)
{
	struct hit *h = user;
	YR_RULE *rule = data;

	(void)sc;
	if (msg == CALLBACK_MSG_RULE_MATCHING) {
		printf("%d\t", h->t->pid);
		put_guest(h->t->name, sizeof(h->t->name));
		printf("\t%s\t0x%" PRIx64 "\t", rule->identifier, h->va);
		put_guest(h->v->name, h->v->name_len);
		putchar('\n');
		h->matches++;
	}
	return CALLBACK_CONTINUE;
}

static void log_line(void *userdata, enum nfm_log_level level, const char *msg)
{
	(void)userdata;
	if (level <= NFM_LOG_ERR)
		fprintf(stderr, "yara-scan: %s\n", msg);
}

/* Scan one process's readable mappings; returns its matches. */
static int scan_task(struct nfm_ctx *ctx, YR_RULES *rules, const struct nfm_task *t, void *buf)
{
	struct nfm_vma_iter *vi;
	struct nfm_vma v;
	struct hit h = { .t = t, .v = &v };

	if (t->kthread || !t->mm || nfm_vma_iter_new(ctx, t, &vi) < 0)
		return 0;
	while (nfm_vma_iter_next(vi, &v) > 0) {
		uint64_t end = v.end - v.start > MAX_MAPPING ? v.start + MAX_MAPPING : v.end;

		if (v.perms[0] != 'r')
			continue;
		for (uint64_t va = v.start; va < end; va += CHUNK) {
			size_t want = end - va < CHUNK ? end - va : CHUNK;
			int n = nfm_task_read(ctx, t, va, buf, want);

			if (n <= 0) {
				/* not resident: try the next page */
				va = (va & ~(uint64_t)4095) + 4096 - CHUNK;
				continue;
			}
			h.va = va;
			yr_rules_scan_mem(rules, buf, (size_t)n, SCAN_FLAGS_FAST_MODE, on_match, &h, 10);
			if ((size_t)n < want)	/* stopped at a missing page: go on after it */
				va = ((va + (uint64_t)n) & ~(uint64_t)4095) + 4096 - CHUNK;
		}
	}
	nfm_vma_iter_free(vi);
	return h.matches;
}

int main(int argc, char **argv)
{
	const struct nfm_log log = { .fn = log_line, .max_level = NFM_LOG_ERR };
	struct nfm_source *src = NULL;
	struct nfm_ctx *ctx = NULL;
	struct nfm_task_iter *it = NULL;
	YR_COMPILER *comp = NULL;
	YR_RULES *rules = NULL;
	struct nfm_task t;
	FILE *f = NULL;
	void *buf = malloc(CHUNK);
	int ret = -EINVAL, matches = 0, procs = 0;

	if (argc != 3 || !buf) {
		fprintf(stderr, "usage: yara-scan SPEC RULES.yar\n");
		free(buf);
		return 2;
	}
	if (yr_initialize() != ERROR_SUCCESS || yr_compiler_create(&comp) != ERROR_SUCCESS)
		goto out;
	f = fopen(argv[2], "r");
	if (!f || yr_compiler_add_file(comp, f, NULL, argv[2]) != 0 ||
	    yr_compiler_get_rules(comp, &rules) != ERROR_SUCCESS) {
		fprintf(stderr, "yara-scan: %s: cannot read or compile the rules\n", argv[2]);
		goto out;
	}
	ret = nfm_source_open(argv[1], &log, &src);
	if (ret == 0)
		ret = nfm_ctx_new(src, NULL, &log, &ctx);
	if (ret == 0)
		ret = nfm_task_iter_new(ctx, 0, &it);
	if (ret < 0) {
		fprintf(stderr, "yara-scan: %s: %s\n", argv[1], strerror(-ret));
		goto out;
	}
	while ((ret = nfm_task_iter_next(it, &t)) > 0) {
		matches += scan_task(ctx, rules, &t, buf);
		procs++;
	}
	fprintf(stderr, "yara-scan: %d processes scanned, %d matches\n", procs, matches);
out:
	nfm_task_iter_free(it);
	nfm_ctx_free(ctx);
	nfm_source_free(src);
	if (rules)
		yr_rules_destroy(rules);
	if (comp)
		yr_compiler_destroy(comp);
	if (f)
		fclose(f);
	yr_finalize();
	free(buf);
	return ret < 0 ? 1 : matches ? 0 : 3;
}
