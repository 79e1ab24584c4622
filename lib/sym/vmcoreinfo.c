// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * VMCOREINFO parser. The text is guest data: every line is bounded, the whole text is bounded by
 * NFM_VMCOREINFO_MAX, and the parser keeps its own NUL-terminated copy so that values handed out
 * stay valid however the guest page changes afterwards.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sym/vmcoreinfo.h"

/*
 * The kernel formats each line through a 0x50-byte buffer (vmcoreinfo_append_str() in
 * kernel/vmcore_info.c, kernel/crash_core.c before 6.9), so real lines are at most 79 characters.
 * Anything much longer is not VMCOREINFO.
 */
#define VI_LINE_MAX 256

struct vi_entry {
	const char *key;
	const char *value;
};

struct nfm_vmcoreinfo {
	size_t count;
	struct vi_entry *entries;
	char text[];		/* private copy; keys and values point into it */
};

static bool vi_key_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && c != '=';
}

static bool vi_value_char(unsigned char c)
{
	return c >= ' ' && c < 0x7f;
}

int nfm_vmcoreinfo_parse(const char *text, size_t len, struct nfm_vmcoreinfo **ret)
{
	struct nfm_vmcoreinfo *vi;
	size_t n, lines, i, start;
	bool has_osrelease = false;

	if (!text || !ret)
		return -EINVAL;
	if (len > NFM_VMCOREINFO_MAX)
		len = NFM_VMCOREINFO_MAX;
	n = strnlen(text, len);

	lines = 0;
	for (i = 0; i < n; i++)
		if (text[i] == '\n')
			lines++;
	lines++;

	vi = malloc(sizeof(*vi) + n + 1);
	if (!vi)
		return -ENOMEM;
	vi->count = 0;
	vi->entries = calloc(lines, sizeof(*vi->entries));
	if (!vi->entries) {
		free(vi);
		return -ENOMEM;
	}
	memcpy(vi->text, text, n);
	vi->text[n] = '\0';

	for (start = 0; start < n;) {
		char *line = &vi->text[start];
		char *nl = memchr(line, '\n', n - start);
		size_t line_len, k, eq = 0;
		bool ok = true;

		if (!nl) {
			/*
			 * The kernel ends every line with '\n'. A last line that ran into the length
			 * bound (no NUL inside len) may be cut short and is dropped; one ended by a NUL
			 * is complete.
			 */
			if (n == len)
				break;
			line_len = n - start;
		} else {
			line_len = (size_t)(nl - line);
		}
		start += line_len + 1;

		if (line_len == 0 || line_len > VI_LINE_MAX)
			continue;
		for (k = 0; k < line_len; k++) {
			if (!eq && line[k] == '=') {
				eq = k;
				continue;
			}
			if (eq ? !vi_value_char((unsigned char)line[k]) :
				 !vi_key_char((unsigned char)line[k])) {
				ok = false;
				break;
			}
		}
		if (!ok || eq == 0)
			continue;
		line[eq] = '\0';
		line[line_len] = '\0';
		vi->entries[vi->count].key = line;
		vi->entries[vi->count].value = line + eq + 1;
		vi->count++;
		if (!strcmp(line, "OSRELEASE"))
			has_osrelease = true;
	}

	if (!has_osrelease) {
		nfm_vmcoreinfo_free(vi);
		return -EBADMSG;
	}
	*ret = vi;
	return 0;
}

void nfm_vmcoreinfo_free(struct nfm_vmcoreinfo *vi)
{
	if (!vi)
		return;
	free(vi->entries);
	free(vi);
}

int nfm_vmcoreinfo_entry(const struct nfm_vmcoreinfo *vi, size_t i, const char **key,
			 const char **value)
{
	if (!vi || i >= vi->count)
		return -ENOENT;
	*key = vi->entries[i].key;
	*value = vi->entries[i].value;
	return 0;
}

const char *nfm_vmcoreinfo_get(const struct nfm_vmcoreinfo *vi, const char *key)
{
	size_t i;

	if (!vi || !key)
		return NULL;
	/* ~200 keys, looked up a handful of times per attach: a linear scan is enough. */
	for (i = 0; i < vi->count; i++)
		if (!strcmp(vi->entries[i].key, key))
			return vi->entries[i].value;
	return NULL;
}

size_t nfm_vmcoreinfo_count(const struct nfm_vmcoreinfo *vi)
{
	return vi ? vi->count : 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 1 to 16 hex digits, an optional "0x" prefix, nothing else. */
static int parse_hex(const char *s, uint64_t *ret)
{
	uint64_t v = 0;
	size_t digits = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s; s++) {
		int d = hexval(*s);

		if (d < 0 || ++digits > 16)
			return -EBADMSG;
		v = (v << 4) | (uint64_t)d;
	}
	if (!digits)
		return -EBADMSG;
	*ret = v;
	return 0;
}

/*
 * Optional '-', then decimal digits. NUMBER() lines are "%ld", but some are printed by hand as
 * hex (NUMBER(VMALLOC_START)=0x%lx in kernel/vmcore_info.c), so "0x" switches to hex and the
 * 64-bit pattern is kept as is.
 */
static int parse_signed(const char *s, int64_t *ret)
{
	bool neg = false;
	uint64_t v = 0, limit;

	if (*s == '-') {
		neg = true;
		s++;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		int r = parse_hex(s, &v);

		if (r < 0)
			return r;
		*ret = neg ? (int64_t)(0 - v) : (int64_t)v;
		return 0;
	}
	if (!*s)
		return -EBADMSG;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EBADMSG;
		if (v > (limit - (uint64_t)(*s - '0')) / 10)
			return -EBADMSG;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*ret = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/* The value of PREFIX(name), or NULL when absent or the key would not fit a line. */
static const char *get_wrapped(const struct nfm_vmcoreinfo *vi, const char *prefix,
			       const char *name)
{
	char key[VI_LINE_MAX + 1];
	size_t pl, nl;

	if (!vi || !name)
		return NULL;
	pl = strlen(prefix);
	nl = strlen(name);
	if (pl + nl + 3 > sizeof(key))
		return NULL;
	memcpy(key, prefix, pl);
	key[pl] = '(';
	memcpy(key + pl + 1, name, nl);
	key[pl + 1 + nl] = ')';
	key[pl + 2 + nl] = '\0';
	return nfm_vmcoreinfo_get(vi, key);
}

int nfm_vmcoreinfo_symbol(const struct nfm_vmcoreinfo *vi, const char *name, uint64_t *ret)
{
	const char *v;

	if (!vi || !name || !ret)
		return -EINVAL;
	v = get_wrapped(vi, "SYMBOL", name);
	if (!v)
		return -ENOENT;
	return parse_hex(v, ret);
}

static int get_signed(const struct nfm_vmcoreinfo *vi, const char *prefix, const char *name,
		      int64_t *ret)
{
	const char *v;

	if (!vi || !name || !ret)
		return -EINVAL;
	v = get_wrapped(vi, prefix, name);
	if (!v)
		return -ENOENT;
	return parse_signed(v, ret);
}

int nfm_vmcoreinfo_number(const struct nfm_vmcoreinfo *vi, const char *name, int64_t *ret)
{
	return get_signed(vi, "NUMBER", name, ret);
}

int nfm_vmcoreinfo_offset(const struct nfm_vmcoreinfo *vi, const char *name, int64_t *ret)
{
	return get_signed(vi, "OFFSET", name, ret);
}

int nfm_vmcoreinfo_size(const struct nfm_vmcoreinfo *vi, const char *name, int64_t *ret)
{
	return get_signed(vi, "SIZE", name, ret);
}

int nfm_vmcoreinfo_length(const struct nfm_vmcoreinfo *vi, const char *name, int64_t *ret)
{
	return get_signed(vi, "LENGTH", name, ret);
}

int nfm_vmcoreinfo_kerneloffset(const struct nfm_vmcoreinfo *vi, uint64_t *ret)
{
	const char *v;

	if (!vi || !ret)
		return -EINVAL;
	v = nfm_vmcoreinfo_get(vi, "KERNELOFFSET");
	if (!v) {
		*ret = 0;
		return 0;
	}
	return parse_hex(v, ret);
}

/*
 * The note the kernel builds in vmcoreinfo_note (append_elf_note() in kernel/vmcore_info.c):
 * Elf_Nhdr { n_namesz = 11, n_descsz = size, n_type = 0 }, "VMCOREINFO\0" padded to 12 bytes,
 * then the text. Elf_Word is 32-bit on every architecture, so the header is 12 bytes.
 */
#define NOTE_NAME "VMCOREINFO"
#define NOTE_DESC_OFF 24

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int nfm_vmcoreinfo_match(const uint8_t *page, size_t len, size_t *text_off, size_t *text_len)
{
	static const char first[] = "OSRELEASE=";
	const size_t flen = sizeof(first) - 1;

	if (!page || !text_off || !text_len)
		return -EINVAL;

	if (len >= NOTE_DESC_OFF + flen && le32(page) == sizeof(NOTE_NAME) && le32(page + 8) == 0 &&
	    !memcmp(page + 12, NOTE_NAME, sizeof(NOTE_NAME)) &&
	    !memcmp(page + NOTE_DESC_OFF, first, flen)) {
		size_t desc = le32(page + 4), avail = len - NOTE_DESC_OFF;

		if (desc < flen)
			return -ENOENT;
		if (desc > NFM_VMCOREINFO_MAX)
			desc = NFM_VMCOREINFO_MAX;
		*text_off = NOTE_DESC_OFF;
		*text_len = desc < avail ? desc : avail;
		return 0;
	}
	if (len >= flen && !memcmp(page, first, flen)) {
		*text_off = 0;
		*text_len = len < NFM_VMCOREINFO_MAX ? len : NFM_VMCOREINFO_MAX;
		return 0;
	}
	return -ENOENT;
}
