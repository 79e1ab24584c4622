// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm yara (PaVScan): YARA rules over every process's memory, read through each process's own
 * page tables, as `yara RULES PID` scans a local process: the memory of one process is one
 * scan, its resident runs of pages the blocks (a page that is not in guest RAM, swapped out or
 * never touched, splits blocks and is not scanned). One line per string match:
 *   PID COMM RULE STRING 0xADDRESS
 * With --kernel, the kernel instead: the core image [_text, _end) as one scan, each loaded
 * module's memory as one scan each ("kernel [NAME] RULE STRING 0xADDRESS").
 * Exit status 0 whether or not anything matched; 1 on errors (rules that do not compile say
 * where); 3 when the task or module list broke part way (what was scanned is reported).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yara.h>

#include <nfm/task.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"

#define BLOCK_MAX (1u << 20)	/* bytes per scanned block */
#define MAX_VMAS 65536

struct scan {
	struct cli *cli;
	const struct nfm_task *task;	/* NULL: kernel memory */
	const char *label;		/* the kernel part scanned: "vmlinux" or a module's name */
	uint64_t (*vmas)[2];	/* [start, end) */
	size_t nvmas, vi;
	uint64_t va;		/* next address to look at in vmas[vi] */
	uint8_t *buf;
	YR_MEMORY_BLOCK block;
	struct json_object *arr;
	long matches;
	uint64_t scanned_bytes;	/* what was read and handed to libyara */
	bool modules_cut;	/* the kernel scan's module list was cut short */
	int compile_errors;
};

static const uint8_t *fetch(YR_MEMORY_BLOCK *b)
{
	return ((struct scan *)b->context)->buf;
}

/* The next run of resident pages (at most BLOCK_MAX bytes), or NULL at the end. */
static YR_MEMORY_BLOCK *next_block(YR_MEMORY_BLOCK_ITERATOR *it)
{
	struct scan *s = it->context;

	while (s->vi < s->nvmas) {
		uint64_t end = s->vmas[s->vi][1];

		if (s->va < s->vmas[s->vi][0])
			s->va = s->vmas[s->vi][0];
		while (s->va < end) {
			size_t want = end - s->va > BLOCK_MAX ? BLOCK_MAX : (size_t)(end - s->va);
			int got = s->task ? nfm_task_read(s->cli->ctx, s->task, s->va, s->buf, want) :
					    (int)nfm_read_kernel_some(s->cli->ctx, s->va, s->buf, want);

			if (got <= 0) {
				s->va = (s->va | 4095) + 1;	/* not resident: skip the page */
				continue;
			}
			s->block = (YR_MEMORY_BLOCK){ .size = (size_t)got, .base = s->va,
						      .context = s, .fetch_data = fetch };
			s->va += (uint64_t)got;
			s->scanned_bytes += (uint64_t)got;
			return &s->block;
		}
		s->vi++;
	}
	return NULL;
}

static YR_MEMORY_BLOCK *first_block(YR_MEMORY_BLOCK_ITERATOR *it)
{
	struct scan *s = it->context;

	s->vi = 0;
	s->va = 0;
	return next_block(it);
}

/*
 * libyara allocates its matches unaligned (a notebook of packed records): every member is read
 * through a copy, never through the YR_MATCH pointer (UBSan: misaligned access), so its
 * yr_string_matches_foreach(), which reads match->next in place, is not used either.
 */
static void match_copy(const YR_MATCH *m, YR_MATCH *out)
{
	memcpy(out, (const unsigned char *)(const void *)m, sizeof(*out));
}

static void report_match(struct scan *s, const YR_RULE *rule, const YR_STRING *str,
			 const YR_MATCH *m)
{
	uint64_t addr = (uint64_t)m->base + (uint64_t)m->offset;
	struct json_object *o;

	s->matches++;
	if (!s->arr && s->task) {
		printf("%d %s %s %s 0x%016" PRIx64 "\n", s->task->pid, cli_esc(s->task->name),
		       cli_esc(rule->identifier), cli_esc(str->identifier), addr);
		return;
	}
	if (!s->arr) {
		printf("kernel [%s] %s %s 0x%016" PRIx64 "\n", cli_esc(s->label),
		       cli_esc(rule->identifier), cli_esc(str->identifier), addr);
		return;
	}
	o = obj_yara_match(rule->identifier, str->identifier, addr,
			   m->match_length > 0 ? (uint64_t)m->match_length : 0);
	if (s->task) {
		j_add(o, "pid", j_int(s->task->pid));
		j_add_bytes(o, "comm", s->task->name, strnlen(s->task->name, sizeof(s->task->name)));
	} else {
		j_add(o, "region", j_str(s->label));
	}
	json_object_array_add(s->arr, o);
}

static int on_match(YR_SCAN_CONTEXT *ctx, int message, void *data, void *user)
{
	struct scan *s = user;
	YR_RULE *rule = data;
	YR_STRING *str;

	if (message != CALLBACK_MSG_RULE_MATCHING)
		return CALLBACK_CONTINUE;
	yr_rule_strings_foreach(rule, str) {
		const YR_MATCH *p;
		YR_MATCH m;

		for (p = ctx->matches[str->idx].head; p; p = m.next) {
			match_copy(p, &m);
			if (!m.is_private)	/* private strings are not reported */
				report_match(s, rule, str, &m);
		}
	}
	return CALLBACK_CONTINUE;
}

/* The process's mappings, collected first so that the iterator can restart. */
static int collect_vmas(struct scan *s)
{
	struct nfm_vma_iter *it;
	struct nfm_vma *v = malloc(sizeof(*v));
	size_t cap = 0;
	int r;

	s->nvmas = 0;
	if (!v)
		return -1;
	r = nfm_vma_iter_new(s->cli->ctx, s->task, &it);
	if (r < 0) {
		free(v);
		return r;
	}
	while (s->nvmas < MAX_VMAS && (r = nfm_vma_iter_next(it, v)) > 0) {
		if (s->nvmas == cap) {
			size_t nc = cap ? cap * 2 : 64;
			void *p = realloc(s->vmas, nc * sizeof(*s->vmas));

			if (!p)
				break;
			s->vmas = p;
			cap = nc;
		}
		/* x86's [vsyscall] is in the kernel half: not the process's memory (arm64's user
		 * half reaches 2^48, so the top bit decides, not bit 47) */
		if (v->start >> 63)
			continue;
		s->vmas[s->nvmas][0] = v->start;
		s->vmas[s->nvmas][1] = v->end;
		s->nvmas++;
	}
	nfm_vma_iter_free(it);
	free(v);
	return r < 0 ? r : 0;
}

static void on_compile_error(int level, const char *file, int line, const YR_RULE *rule,
			     const char *msg, void *user)
{
	struct scan *s = user;

	(void)rule;
	if (level == YARA_ERROR_LEVEL_ERROR && !s->compile_errors++)
		cli_fail("%s:%d: %s", file ? file : "rules", line, msg);
}

/* One scan of [start, end) ranges of kernel memory. */
static int scan_kernel_part(struct scan *s, YR_RULES *rules, YR_MEMORY_BLOCK_ITERATOR *it,
			    const char *label, uint64_t (*ranges)[2], size_t n)
{
	int r;

	s->task = NULL;
	s->label = label;
	s->vmas = ranges;
	s->nvmas = n;
	r = yr_rules_scan_mem_blocks(rules, it, SCAN_FLAGS_PROCESS_MEMORY, on_match, s, 0);
	s->vmas = NULL;
	if (r != ERROR_SUCCESS)
		cli_fail("scanning the kernel (%s) failed (libyara error %d)", label, r);
	return r == ERROR_SUCCESS ? 0 : -1;
}

/* The core kernel image, then every loaded module. */
static int scan_kernel(struct scan *s, YR_RULES *rules, YR_MEMORY_BLOCK_ITERATOR *it)
{
	uint64_t image[1][2], ranges[16][2];
	struct nfm_module *mods;
	char type;
	int n;

	if (nfm_sym_lookup(s->cli->ctx, "_text", &image[0][0], &type) < 0 ||
	    nfm_sym_lookup(s->cli->ctx, "_end", &image[0][1], &type) < 0 ||
	    image[0][1] <= image[0][0] || image[0][1] - image[0][0] > (1ull << 30)) {
		cli_fail("the kernel image's bounds (_text, _end) are not known");
		return -1;
	}
	if (scan_kernel_part(s, rules, it, "vmlinux", image, 1) < 0)
		return -1;
	n = nfm_module_list(s->cli->ctx, &mods, &s->modules_cut);
	if (n < 0) {
		cli_fail("cannot list the guest's modules: %s", strerror(-n));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		int nr = nfm_module_memory(s->cli->ctx, mods[i].module, ranges, 16);

		if (nr > 0 && scan_kernel_part(s, rules, it, mods[i].name, ranges, (size_t)nr) < 0) {
			free(mods);
			return -1;
		}
	}
	free(mods);
	return 0;
}

static bool wanted(const int32_t *pids, size_t n, int32_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return !n;
}

/* "PID[,PID...]" appended to pids; -1 when it is not such a list. */
static int parse_pids(const char *arg, int32_t *pids, size_t max, size_t *n)
{
	const char *p = arg;
	char *e;

	do {
		long v;

		errno = 0;
		v = strtol(p, &e, 10);
		if (e == p || errno || v < 0 || v > INT32_MAX || (*e && *e != ',') || *n >= max)
			return -1;
		pids[(*n)++] = (int32_t)v;
		p = e + 1;
	} while (*e);
	return 0;
}

static int cmd_yara(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "kernel", no_argument, NULL, 'k' },
		{ 0 }
	};
	struct scan s = { .cli = cli };
	YR_COMPILER *comp = NULL;
	YR_RULES *rules = NULL;
	YR_MEMORY_BLOCK_ITERATOR it = { .context = &s, .first = first_block, .next = next_block };
	struct nfm_task_iter *ti = NULL;
	struct json_object *doc = NULL;
	struct nfm_task task;
	int32_t pids[256];
	size_t npids = 0;
	const char *path;
	bool kernel = false, partial = false;
	int e;
	FILE *f = NULL;
	int ret = 1, r = 0, c;

	while ((c = cli_getopt(cli, argc, argv, "p:k", longopts)) != -1) {
		switch (c) {
		case 'p':
			if (parse_pids(optarg, pids, 256, &npids))
				return cli_usage_error(cli, "-p takes PID[,PID...] (at most 256): '%s'",
						       cli_esc(optarg));
			break;
		case 'k':
			kernel = true;
			break;
		default:
			return cli_opt_status(cli);
		}
	}
	if (optind >= argc)
		return cli_usage_error(cli, "a RULES file is needed");
	if (optind + 1 < argc)
		return cli_usage_error(cli, "one RULES file only");
	if (kernel && npids)
		return cli_usage_error(cli, "--kernel and -p do not go together");
	path = argv[optind];
	f = fopen(path, "re");
	if (!f)
		return cli_fail("%s: %s", cli_esc(path), strerror(errno));
	if (yr_initialize() != ERROR_SUCCESS) {
		fclose(f);
		return cli_fail("cannot initialise libyara");
	}
	if (yr_compiler_create(&comp) != ERROR_SUCCESS)
		goto out;
	yr_compiler_set_callback(comp, on_compile_error, &s);
	if (yr_compiler_add_file(comp, f, NULL, path) || s.compile_errors ||
	    yr_compiler_get_rules(comp, &rules) != ERROR_SUCCESS) {
		if (!s.compile_errors)
			cli_fail("%s: the rules do not compile", cli_esc(path));
		goto out;
	}
	if (cli_attach(cli))
		goto out;
	s.buf = malloc(BLOCK_MAX);
	if (!s.buf || nfm_task_iter_new(cli->ctx, 0, &ti) < 0) {
		cli_fail("cannot walk the guest's processes");
		goto out;
	}
	if (cli->json) {
		doc = jdoc_new("yara");
		s.arr = json_object_new_array();
		j_add(doc, "matches", s.arr);
	}
	if (kernel && scan_kernel(&s, rules, &it) < 0)
		goto out;
	while (!kernel && (r = nfm_task_iter_next(ti, &task)) > 0) {
		if (task.kthread || !task.mm || !wanted(pids, npids, task.pid))
			continue;
		s.task = &task;
		e = collect_vmas(&s);
		if (e < 0) {
			/* Its memory map does not read: not scanned, and the view says so. */
			cli_warn("pid %d: its memory map does not read (%s): not scanned", task.pid,
				 strerror(-e));
			partial = true;
			continue;
		}
		r = yr_rules_scan_mem_blocks(rules, &it, SCAN_FLAGS_PROCESS_MEMORY, on_match, &s, 0);
		if (r != ERROR_SUCCESS) {
			cli_fail("scanning pid %d failed (libyara error %d)", task.pid, r);
			goto out;
		}
	}
	if (r < 0) {
		/* The processes scanned so far stand: a partial view. */
		partial = true;
		cli_warn("the guest's task list broke (%s): processes after it were not scanned",
			 strerror(-r));
		if (doc)
			jdoc_error(doc, "matches", r, "the task list broke: later processes not scanned");
	}
	if (s.modules_cut) {
		partial = true;
		cli_warn("the module list was cut short (guest data changed or inconsistent)");
		if (doc)
			jdoc_error(doc, "matches", -EBADMSG, "the module list was cut short");
	}
	if (doc) {
		j_add(doc, "nr_matches", j_int(s.matches));
		j_add(doc, "scanned_bytes", j_u64(s.scanned_bytes));
		ret = cli_print_json(cli, doc);
		doc = NULL;
	} else {
		ret = fflush(stdout) ? 1 : 0;
	}
	if (!ret && partial)
		ret = EXIT_PARTIAL;
out:
	json_object_put(doc);
	nfm_task_iter_free(ti);
	free(s.buf);
	free(s.vmas);
	if (rules)
		yr_rules_destroy(rules);
	if (comp)
		yr_compiler_destroy(comp);
	yr_finalize();
	fclose(f);
	return ret;
}

const struct command command_yara = {
	.name = "yara",
	.summary = "PaVScan: YARA rules over every process's memory, or the kernel's",
	.usage = "[-j] [-p PID[,PID...] | --kernel] RULES",
	.help = "  -p, --pid PID,...   only these processes (the option may repeat)\n"
		"  -k, --kernel        the kernel instead: its core image and every module's memory\n",
	.run = cmd_yara,
};
