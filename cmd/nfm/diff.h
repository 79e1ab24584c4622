/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Differences between two JSON documents of the schema (doc/schema/), object by object: the
 * objects of each array member are matched by their identity keys (a process by pid and start
 * time, a module by name, a socket by netid, netns, inode and struct sock, ...; doc/history.md
 * has the table) and reported as added, removed or changed (with each changed member's old and
 * new value). Members that change all the time (CPU times, RSS, queue lengths, counters) are
 * not compared unless all_fields. Used by nfm diff (two moments) and nfm timeline (the state
 * timeline's deltas). No guest knowledge: it compares documents, which may be hostile (a
 * stored file): every value is only compared and copied, never trusted for a size.
 */
#ifndef NFM_CMD_DIFF_H
#define NFM_CMD_DIFF_H

#include <json-c/json.h>
#include <stdbool.h>

/* The identity rule of an array member ("processes"), or NULL when it has none (objects are
 * then matched by their whole value: added and removed only). */
struct diff_rule {
	const char *member;	/* the document member, an array of objects */
	const char *view;	/* the command whose document has it ("ps") */
	const char *keys[8];	/* identity members, NULL-terminated */
	const char *ignore[28];	/* members not compared (they change all the time) */
	const char *label[4];	/* members that name an object in a table */
};
const struct diff_rule *diff_rule(const char *member);

/*
 * Compare the array members of two documents a and b (of the same kind). Appends to views one
 * object per array member found in either document:
 *   {"view", "member", "keys": [names], "added": [objects], "removed": [objects],
 *    "changed": [{"key": {name: value}, "fields": {name: {"from", "to"}}, "object": new}]}
 * view names the command for the members that have a rule, else view_name. Returns the number
 * of differences, or -ENOMEM. Neither a nor b is modified or kept.
 */
int diff_docs(const char *view_name, struct json_object *a, struct json_object *b,
	      bool all_fields, struct json_object *views);

/* Compare one member's arrays (either may be NULL: absent); the view object, or NULL on OOM. */
struct json_object *diff_member(const char *view, const char *member, struct json_object *a,
				struct json_object *b, bool all_fields, int *count);

/* The text of an object's label members (comm and cmdline, a module's name...), for a table. */
void diff_label(const char *member, struct json_object *o, char *buf, size_t size);
/* An object's identity members {name: value} (new reference; NULL when member has no rule). */
struct json_object *diff_key(const char *member, struct json_object *o);
/* "pid=42 start_time_ticks=17": an object's identity, for a table. */
void diff_key_text(struct json_object *key, char *buf, size_t size);
/* "comm: a -> b; uid: 0 -> 1000": a change's fields, for a table. */
void diff_fields_text(struct json_object *fields, char *buf, size_t size);

#endif
