// SPDX-License-Identifier: GPL-2.0-or-later
/* JSON builders for kernel stacks (doc/schema/stack.json) and a process's wchan. */
#include <nfm/nfm.h>
#include <nfm/stack.h>

#include "objects.h"

static const struct {
	unsigned int bit;
	const char *name;
} stack_flags[] = {
	{ NFM_STACK_TRUNCATED, "TRUNCATED" }, { NFM_STACK_ERROR, "ERROR" },
	{ NFM_STACK_RUNNING, "RUNNING" }, { NFM_STACK_NO_STACK, "NO_STACK" },
	{ NFM_STACK_GUESSED, "GUESSED" }, { NFM_STACK_REGS, "REGS" }, { NFM_STACK_USER, "USER" },
};

struct json_object *obj_stack(const struct nfm_stack_frame *frames, int n, unsigned int flags,
			      int cpu)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array(), *fl;
	char text[512];

	for (int i = 0; i < n; i++) {
		const struct nfm_stack_frame *f = &frames[i];
		struct json_object *e = json_object_new_object();

		j_add(e, "ip", j_addr(f->ip));
		j_add(e, "symbol", f->symbol ? j_str(f->symbol) : NULL);
		j_add(e, "offset_bytes", j_u64(f->offset));
		j_add(e, "size_bytes", j_u64(f->size));
		j_add(e, "module", f->module ? j_str(f->module) : NULL);
		nfm_stack_frame_format(f, text, sizeof(text));
		j_add(e, "text", j_str(text));
		json_object_array_add(a, e);
	}
	j_add(o, "frames", a);
	fl = json_object_new_array();
	for (size_t i = 0; i < sizeof(stack_flags) / sizeof(stack_flags[0]); i++)
		if (flags & stack_flags[i].bit)
			json_object_array_add(fl, j_str(stack_flags[i].name));
	j_add(o, "flags", fl);
	j_add(o, "flags_code", j_int(flags));
	if (cpu >= 0)
		j_add(o, "cpu", j_int(cpu));
	return o;
}

void obj_process_wchan(struct json_object *proc, const char *wchan)
{
	j_add(proc, "wchan", wchan ? j_str(wchan) : NULL);
}
