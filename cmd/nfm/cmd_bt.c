// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm bt: kernel stacks of the guest's tasks from guest memory (x86-64: the ORC tables; arm64:
 * frame records), as the guest's
 * /proc/PID/stack shows them ("[<0>] function+0xoff/0xlen [module]"), with each task's WCHAN.
 * A task running on a CPU, which /proc/PID/stack leaves empty, is unwound from its vCPU's
 * registers when the source has them (a QMP socket, an ELF dump's notes).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/nfm.h>
#include <nfm/stack.h>
#include <nfm/task.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"

struct bt_run {
	struct cli *cli;
	struct json_object *tasks;	/* JSON: the array; NULL for text */
	bool first;
	int nr_bad;			/* stacks cut short or unreadable */
	int err;			/* the first error that left no stack */
};

static void bt_text(const struct nfm_task *t, const struct nfm_stack_frame *f, int n,
		    unsigned int flags, int cpu, bool moved, const char *wchan, bool first)
{
	char line[600];

	printf("%sPID %d  TGID %d  %s  state %c  wchan %s\n", first ? "" : "\n", t->pid, t->tgid,
	       cli_esc(t->name), t->state ? t->state : '?', wchan ? cli_esc(wchan) : "0");
	if ((flags & NFM_STACK_RUNNING) && (flags & NFM_STACK_USER))
		printf("  (running on CPU %d in user mode: no kernel frames)\n", cpu);
	else if ((flags & NFM_STACK_RUNNING) && (flags & NFM_STACK_REGS))
		printf("  (running on CPU %d: unwound from the vCPU's registers)\n", cpu);
	else if ((flags & NFM_STACK_RUNNING) && cpu >= 0 && moved)
		printf("  (running on CPU %d: it left the CPU before the registers were read)\n", cpu);
	else if ((flags & NFM_STACK_RUNNING) && cpu >= 0)
		printf("  (running on CPU %d: no registers to unwind from)\n", cpu);
	else if (flags & NFM_STACK_RUNNING)
		printf("  (running on a CPU: no registers to unwind from)\n");
	if (flags & NFM_STACK_NO_STACK)
		printf("  (the task's stack is released: it has exited)\n");
	for (int i = 0; i < n; i++) {
		nfm_stack_frame_format(&f[i], line, sizeof(line));
		printf("[<0>] %s\n", cli_esc(line));
	}
	if (flags & NFM_STACK_TRUNCATED)
		printf("  (stack cut short at %d frames)\n", n);
	if ((flags & (NFM_STACK_ERROR | NFM_STACK_REGS)) == (NFM_STACK_ERROR | NFM_STACK_REGS) && !n)
		printf("  (the vCPU's registers are not this task's, or its stack pointer is on no stack nfm follows)\n");
	else if (flags & NFM_STACK_ERROR)
		printf("  (the unwinder stopped at a frame that does not check out)\n");
}

static int bt_one(struct bt_run *r, const struct nfm_task *t)
{
	struct nfm_stack_frame frames[NFM_STACK_MAX_FRAMES];
	unsigned int flags = 0;
	const char *wchan = NULL;
	bool moved = false;
	int n, cpu = -1;

	n = nfm_task_stack(r->cli->ctx, t, frames, NFM_STACK_MAX_FRAMES, &flags);
	if (n == -ENOENT)
		return n;	/* no ORC: nothing for any task */
	if (n < 0) {
		if (!r->err)
			r->err = n;
		n = 0;
		flags |= NFM_STACK_ERROR;
	}
	if (flags & NFM_STACK_RUNNING) {
		/* no saved frame: the vCPU's registers, when the source has them */
		unsigned int rfl = 0;
		int m = nfm_task_stack_running(r->cli->ctx, t, frames, NFM_STACK_MAX_FRAMES, &rfl,
					       &cpu);

		if (m >= 0) {
			n = m;
			flags = rfl;
		}
		moved = m == -ESRCH;
		if (cpu < 0 && nfm_task_cpu(r->cli->ctx, t, &cpu) < 0)
			cpu = -1;
	}
	if (flags & (NFM_STACK_TRUNCATED | NFM_STACK_ERROR))
		r->nr_bad++;
	if (nfm_task_wchan(r->cli->ctx, t, &wchan) < 0)
		wchan = NULL;
	if (r->tasks) {
		struct json_object *o = obj_process(t, nfm_vmrss_summed(r->cli->ctx));

		obj_process_wchan(o, wchan);
		j_add(o, "stack", obj_stack(frames, n, flags, cpu));
		json_object_array_add(r->tasks, o);
	} else {
		bt_text(t, frames, n, flags, cpu, moved, wchan, r->first);
	}
	r->first = false;
	return 0;
}

static int cmd_bt(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ 0 }
	};
	struct bt_run r = { .cli = cli, .first = true };
	struct json_object *doc = NULL;
	bool all = false, partial = false;
	struct nfm_task t;
	int c, err = 0;

	while ((c = cli_getopt(cli, argc, argv, "a", longopts)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		default:
			return cli_opt_status(cli);
		}
	}
	if (all == (optind < argc))
		return cli_usage_error(cli, all ? "--all takes no PID" : "a PID or --all is needed");
	for (int i = optind; i < argc; i++) {
		char *end;
		long v = strtol(argv[i], &end, 10);

		if (!*argv[i] || *end || v < 0 || v > 0x7fffffff)
			return cli_usage_error(cli, "not a PID: %s", argv[i]);
	}
	if (cli_attach(cli))
		return 1;
	if (cli->json) {
		doc = jdoc_new("bt");
		r.tasks = json_object_new_array();
	}
	if (all) {
		struct nfm_task_iter *it;
		int k;

		err = nfm_task_iter_new(cli->ctx, NFM_TASK_THREADS, &it);
		if (err < 0) {
			json_object_put(doc);
			json_object_put(r.tasks);
			return cli_fail("cannot list the guest's tasks: %s", strerror(-err));
		}
		while ((k = nfm_task_iter_next(it, &t)) > 0) {
			err = bt_one(&r, &t);
			if (err == -ENOENT)
				break;
		}
		if (k < 0 || nfm_task_iter_skipped(it)) {
			partial = true;
			cli_warn("the task list was cut short or had tasks that did not read");
			if (doc)
				jdoc_error(doc, "tasks", k < 0 ? k : -EAGAIN,
					   "the task list was cut short or had tasks that did not read");
		}
		nfm_task_iter_free(it);
	} else {
		for (int i = optind; i < argc && err != -ENOENT; i++) {
			int32_t pid = (int32_t)strtol(argv[i], NULL, 10);
			int g = nfm_task_get(cli->ctx, pid, NFM_TASK_THREADS, &t);

			if (g < 0) {
				partial = true;
				cli_warn("no task %d in the guest", pid);
				if (doc)
					jdoc_error(doc, "tasks", g, "no such task");
				continue;
			}
			err = bt_one(&r, &t);
		}
	}
	if (err == -ENOENT) {
		json_object_put(doc);
		json_object_put(r.tasks);
		return cli_fail("no way to unwind this kernel's stacks: x86-64 needs CONFIG_UNWINDER_ORC's tables, arm64 its saved contexts in BTF");
	}
	if (r.err) {
		partial = true;
		cli_warn("some stacks could not be read: %s", strerror(-r.err));
		if (doc)
			jdoc_error(doc, "stacks", r.err, "some stacks could not be read");
	} else if (r.nr_bad) {
		/* a walk that met bad data or its bound kept the frames before it: say so */
		partial = true;
		cli_warn("%d stack%s cut short (a frame that does not check out, or too deep)",
			 r.nr_bad, r.nr_bad == 1 ? " was" : "s were");
		if (doc)
			jdoc_error(doc, "stacks", -EBADMSG, "some stacks were cut short");
	}
	if (doc) {
		j_add(doc, "tasks", r.tasks);
		return cli_print_json(cli, doc) ?: partial ? EXIT_PARTIAL : 0;
	}
	if (fflush(stdout) != 0)
		return 1;
	return partial ? EXIT_PARTIAL : 0;
}

const struct command command_bt = {
	.name = "bt",
	.summary = "kernel stacks of tasks, as /proc/PID/stack (ORC tables; arm64: frame records)",
	.usage = "[-j] PID... | --all",
	.help = "  -a, --all           every thread of every process\n"
		"  PID                 a process or thread id (its own stack)\n",
	.run = cmd_bt,
};
