/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest bytes on their way to a person or a program (shared by nfm and nfmd): escaped for a
 * terminal, or made a JSON string. Guest strings are attacker-controlled.
 */
#ifndef NFM_CMD_GUEST_TEXT_H
#define NFM_CMD_GUEST_TEXT_H

#include <json-c/json.h>
#include <stddef.h>

/*
 * For a terminal: printable ASCII and valid UTF-8 as they are; every byte of anything else as
 * \xNN: control bytes (C0, DEL), invalid UTF-8, and valid UTF-8 that a terminal would act on or
 * that hides or reorders text (C1 controls, bidi overrides and isolates, zero-width and other
 * invisible characters); a backslash as \\. Always NUL-terminates out; returns out.
 */
char *guest_escape(const void *bytes, size_t len, char *out, size_t outsize);

/* A JSON string: exact when the bytes are valid UTF-8, C1, bidi and invisible characters
 * included (a program reads them, not a terminal; JSON escapes the control characters),
 * otherwise the guest_escape() form. NULL on allocation failure. */
struct json_object *guest_json_bytes(const void *bytes, size_t len);

/* Exact guest bytes, unambiguous in JSON: a lowercase hex string. NULL on allocation failure. */
struct json_object *guest_json_hex(const void *bytes, size_t len);

#endif
