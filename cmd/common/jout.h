/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * JSON output shared by every tool (nfm CMD -j, nfm crawl, nfmd's API): the document envelope
 * and the value helpers that make every document follow doc/schema/README.md:
 *
 *   - a document is one object {"schema_version": 1, "kind": "ps", "complete": true, ...}
 *     (doc/schema/envelope.json), its members described by doc/schema/docs/<kind>.json;
 *   - every quantity has its unit in its name (rss_bytes, utime_ns); kernel (and user)
 *     addresses are "0x..." strings (j_addr); ids are integers; floats are rounded to what they
 *     mean and printed exactly as rounded (j_fixed: "0.99", never 0.98999999999999999);
 *   - guest strings go through j_bytes (exact when valid UTF-8, \xNN for other bytes);
 *   - compact output unless the stream is a terminal or the user asked for --pretty.
 *
 * Every constructor returns a new reference (NULL only when memory ran out: json-c then stores
 * JSON null, so a NULL never crashes a caller, it only loses one value).
 */
#ifndef NFM_CMD_JOUT_H
#define NFM_CMD_JOUT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The "schema_version" every document carries; bumped on an incompatible change. */
#define JDOC_SCHEMA_VERSION 1

/* ---- the document ---- */

/*
 * A new document {"schema_version": 1, "kind": kind, "complete": true}. kind names the document
 * schema (doc/schema/docs/<kind>.json): "ps", "crawl", "nfmd.vms", ... The caller owns it.
 */
struct json_object *jdoc_new(const char *kind);

/*
 * Record that a part of the document could not be read: sets "complete" to false and appends
 * {"view": view, "error": words, "errno": -err} to the document's "errors" array (created on
 * first use). err is a -errno (or 0 when there is none: "errno" is then left out); words are
 * msg when given (a one-line explanation, e.g. "the PID table is unreadable"), otherwise
 * strerror(-err). view names the part: a member of the document ("processes", "sockets") or
 * a feature ("cmdline of pid 42").
 */
void jdoc_error(struct json_object *doc, const char *view, int err, const char *msg);

/* Whether doc's "complete" is still true (tools exit 3, "partial view", when it is not). */
bool jdoc_complete(struct json_object *doc);

/*
 * Print doc and one newline to f, then drop the caller's reference to doc (also on failure).
 * pretty: 1 indented (two spaces), 0 compact (one line: what JSON Lines streams need), -1 auto
 * (pretty iff f is a terminal). Slashes are not escaped. Returns 0, or 1 when writing or
 * flushing f failed (a full disk, a closed pipe): the tool's exit status.
 */
int jdoc_print(FILE *f, struct json_object *doc, int pretty);

/*
 * The json_object_to_json_string_ext() flags jdoc_print uses, for a tool that sends the text
 * elsewhere (nfmd's HTTP bodies): pretty 1 or 0 (no "auto" here).
 */
int jdoc_flags(int pretty);

/* ---- values ---- */

/* An integer (ids, counts, signed quantities). */
struct json_object *j_int(int64_t v);
/* An unsigned quantity: exact over the whole range (json-c's uint64 above INT64_MAX). */
struct json_object *j_u64(uint64_t v);
/* An address (kernel or user virtual, or physical): "0x" and lowercase hex, no padding. */
struct json_object *j_addr(uint64_t v);
/*
 * A number rounded to decimals places (0..9) whose JSON text is exactly that rounding:
 * j_fixed(0.98999999, 2) prints 0.99, j_fixed(12.0, 1) prints 12.0. NaN and infinities give
 * JSON null; -0 prints as 0.
 */
struct json_object *j_fixed(double v, int decimals);
/* A boolean. */
struct json_object *j_bool(bool v);
/*
 * Guest bytes as a JSON string: exactly those bytes when they are valid UTF-8 (JSON escapes
 * control characters itself), otherwise printable ASCII and valid UTF-8 as they are, other
 * bytes as \xNN and a backslash as \\ (the guest_escape() form, cmd/common/guest_text.h).
 */
struct json_object *j_bytes(const void *bytes, size_t len);
/* j_bytes of a NUL-terminated string; NULL gives JSON null. */
struct json_object *j_str(const char *s);
/* j_bytes of a fixed-size char array that may lack its NUL (struct fields: comm[16]). */
struct json_object *j_strn(const char *s, size_t max);
/* Exact bytes as lowercase hex ("2f62696e"). */
struct json_object *j_hex(const void *bytes, size_t len);
/* Whether bytes are valid UTF-8, i.e. whether j_bytes() gives them back exactly. */
bool j_bytes_exact(const void *bytes, size_t len);

/* ---- members ---- */

/* json_object_object_add(o, key, v) (key is copied; v's reference moves into o). */
void j_add(struct json_object *o, const char *key, struct json_object *v);
/*
 * o[key] = j_bytes(bytes, len), and when those bytes are not valid UTF-8 also
 * o[key + "_hex"] = j_hex(bytes, len): the schema's rule for guest strings whose exact bytes
 * matter (comm, paths, cmdline): the text form always, the exact form when the text is not.
 */
void j_add_bytes(struct json_object *o, const char *key, const void *bytes, size_t len);

#endif
