// SPDX-License-Identifier: GPL-2.0-or-later
/* The JSON document envelope and value helpers (jout.h, doc/schema/README.md). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest_text.h"
#include "jout.h"

struct json_object *jdoc_new(const char *kind)
{
	struct json_object *doc = json_object_new_object();

	if (!doc)
		return NULL;
	j_add(doc, "schema_version", j_int(JDOC_SCHEMA_VERSION));
	j_add(doc, "kind", json_object_new_string(kind));
	j_add(doc, "complete", j_bool(true));
	return doc;
}

void jdoc_error(struct json_object *doc, const char *view, int err, const char *msg)
{
	struct json_object *errs, *e;

	if (!doc)
		return;
	j_add(doc, "complete", j_bool(false));
	if (!json_object_object_get_ex(doc, "errors", &errs) ||
	    !json_object_is_type(errs, json_type_array)) {
		errs = json_object_new_array();
		j_add(doc, "errors", errs);
	}
	e = json_object_new_object();
	j_add(e, "view", j_str(view ? view : ""));
	j_add(e, "error", j_str(msg ? msg : err ? strerror(-err) : "unknown error"));
	if (err)
		j_add(e, "errno", j_int(-(int64_t)err));
	json_object_array_add(errs, e);
}

bool jdoc_complete(struct json_object *doc)
{
	struct json_object *c;

	return !json_object_object_get_ex(doc, "complete", &c) || json_object_get_boolean(c);
}

int jdoc_flags(int pretty)
{
	return JSON_C_TO_STRING_NOSLASHESCAPE |
	       (pretty > 0 ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN);
}

int jdoc_print(FILE *f, struct json_object *doc, int pretty)
{
	const char *s;
	int bad;

	if (pretty < 0)
		pretty = isatty(fileno(f));
	s = json_object_to_json_string_ext(doc, jdoc_flags(pretty));
	bad = !s || fputs(s, f) < 0 || putc('\n', f) == EOF;
	json_object_put(doc);
	bad |= fflush(f) != 0 || ferror(f);
	return bad ? 1 : 0;
}

struct json_object *j_int(int64_t v)
{
	return json_object_new_int64(v);
}

struct json_object *j_u64(uint64_t v)
{
	return v > INT64_MAX ? json_object_new_uint64(v) : json_object_new_int64((int64_t)v);
}

struct json_object *j_addr(uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "0x%" PRIx64, v);
	return json_object_new_string(b);
}

struct json_object *j_fixed(double v, int decimals)
{
	char b[64];

	if (!isfinite(v))
		return NULL;
	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	snprintf(b, sizeof(b), "%.*f", decimals, v);
	/* -0.001 rounds to "-0.00": print a zero as a zero. */
	if (b[0] == '-' && strspn(b + 1, "0.") == strlen(b + 1))
		memmove(b, b + 1, strlen(b));
	/* The text above is what is printed; the double is what a reader of the object gets. */
	return json_object_new_double_s(strtod(b, NULL), b);
}

struct json_object *j_bool(bool v)
{
	return json_object_new_boolean(v);
}

struct json_object *j_bytes(const void *bytes, size_t len)
{
	return guest_json_bytes(bytes, len);
}

struct json_object *j_str(const char *s)
{
	return s ? j_bytes(s, strlen(s)) : NULL;
}

struct json_object *j_strn(const char *s, size_t max)
{
	return j_bytes(s, strnlen(s, max));
}

struct json_object *j_hex(const void *bytes, size_t len)
{
	return guest_json_hex(bytes, len);
}

/* j_bytes() is exact iff it kept the length: every invalid byte becomes four ("\xNN"). */
static bool exact_form(struct json_object *v, size_t len)
{
	return v && (size_t)json_object_get_string_len(v) == len;
}

bool j_bytes_exact(const void *bytes, size_t len)
{
	struct json_object *v = j_bytes(bytes, len);
	bool exact = exact_form(v, len);

	json_object_put(v);
	return exact;
}

void j_add(struct json_object *o, const char *key, struct json_object *v)
{
	json_object_object_add(o, key, v);
}

void j_add_bytes(struct json_object *o, const char *key, const void *bytes, size_t len)
{
	struct json_object *v = j_bytes(bytes, len);
	char hk[128];

	j_add(o, key, v);
	if (exact_form(v, len))
		return;
	snprintf(hk, sizeof(hk), "%s_hex", key);
	j_add(o, hk, j_hex(bytes, len));
}
