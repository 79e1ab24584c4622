/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The state timeline's frames (doc/history.md): a crawl document is stored whole (a key frame)
 * or as a delta against the frame before it. A delta is exact: applying it to the previous frame
 * gives back the document byte for byte as JSON (member order included):
 *
 *   {"delta": 1, "order": [member names of the new frame, in order],
 *    "set": {member: value, for members whose value is new or changed},
 *    "arrays": {member: [item...]}}   for array members present in both frames, where an item
 *                                     is [start, count] (that run of the previous array's
 *                                     elements) or an element of the new array
 *
 * Members in "order" but in neither "set" nor "arrays" are the previous frame's, unchanged.
 * A stored delta is hostile input: frame_apply checks every name and range against prev.
 */
#ifndef NFM_CMD_FRAMES_H
#define NFM_CMD_FRAMES_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* Key frame every this many frames. */
#define FRAME_KEY_EVERY 60

/* The delta of cur against prev (new object; NULL on OOM). */
struct json_object *frame_delta(struct json_object *prev, struct json_object *cur);
/* prev + delta: the frame (new object), or NULL when delta is malformed or does not fit prev. */
struct json_object *frame_apply(struct json_object *prev, struct json_object *delta);
/*
 * A stored frame record's bytes as its frame: a key frame parsed, a delta parsed and applied to
 * prev (the frame before, or NULL). NULL with *why set when the bytes are not one JSON object or
 * the delta does not fit prev.
 */
struct json_object *frame_decode(struct json_object *prev, bool key, const void *data, size_t len,
				 const char **why);

#endif
