/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Why a walk of guest data gave a partial view, in the words a command's warning line uses. */
#ifndef NFM_CMD_WALK_WORDS_H
#define NFM_CMD_WALK_WORDS_H

#include <errno.h>

/* A task walk's error or status (nfm_task_iter_next()/nfm_task_iter_status()). */
static inline const char *task_walk_words(int r)
{
	switch (r) {
	case -ELOOP:
		return "the task list loops or is longer than guest memory can hold: the listing stops there";
	case -EBADMSG:
		return "the task list is inconsistent (a bad pointer, or it disagrees with the kernel's "
		       "thread count): tasks may be missing or forged";
	default:
		return "the task list could not be read to its end";
	}
}

#endif
