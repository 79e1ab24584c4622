// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ksgen.h"

/* A few multi-character tokens, as the kernel's compressor would find (they may span the type). */
static const char *const multi_tokens[] = {
	"kallsyms_", "Tsys_", "__x64_", "_stext", "_text", "init", "func_", "per_cpu", "tt",
	"_0", "_1", "00", "T_", "t_", "do_",
};

struct gsym {
	const struct ksgen_sym *s;
	size_t orig;
};

static int cmp_gsym(const void *a, const void *b)
{
	const struct gsym *x = a, *y = b;

	if (x->s->addr != y->s->addr)
		return x->s->addr < y->s->addr ? -1 : 1;
	return x->orig < y->orig ? -1 : x->orig > y->orig;
}

/* kallsyms_seqs_of_names order: name (without type), then address, then table index. */
static const struct gsym *sort_base;

static int cmp_seq(const void *a, const void *b)
{
	const struct gsym *x = &sort_base[*(const size_t *)a], *y = &sort_base[*(const size_t *)b];
	int c = strcmp(x->s->name, y->s->name);

	if (c)
		return c;
	if (x->s->addr != y->s->addr)
		return x->s->addr < y->s->addr ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

enum { B_NUM, B_NAMES, B_MARKERS, B_TOKTAB, B_TOKIDX, B_OFFS, B_RELBASE, B_SEQS, B_COUNT };

int ksgen_build(const struct ksgen_sym *syms, size_t n, const struct ksgen_opts *o,
		struct ksgen_image *img, size_t **order_ret)
{
	static const int layouts[][B_COUNT] = {
		[KSGEN_LAYOUT_6_1] = { B_OFFS, B_RELBASE, B_NUM, B_NAMES, B_MARKERS, B_SEQS,
				       B_TOKTAB, B_TOKIDX },
		[KSGEN_LAYOUT_6_4] = { B_NUM, B_NAMES, B_MARKERS, B_TOKTAB, B_TOKIDX, B_OFFS,
				       B_RELBASE, B_SEQS },
		[KSGEN_LAYOUT_NAMES_LAST] = { B_NUM, B_MARKERS, B_TOKTAB, B_TOKIDX, B_OFFS,
					      B_RELBASE, B_SEQS, B_NAMES },
	};
	char tokens[256][32];
	bool used[256] = { false };
	size_t ntok = sizeof(multi_tokens) / sizeof(multi_tokens[0]);
	int multi_code[sizeof(multi_tokens) / sizeof(multi_tokens[0])];
	struct gsym *g;
	uint8_t *names;
	size_t names_cap, names_len = 0, i, k;
	uint32_t *markers;
	size_t size[B_COUNT] = { 0 }, off[B_COUNT], total = 0;
	uint8_t toktab[256 * 33];
	size_t toktab_len = 0;
	uint16_t tokidx[256];
	uint64_t relbase = 0;
	bool rel = o->enc == NFM_KALLSYMS_BASE_RELATIVE || o->enc == NFM_KALLSYMS_ABSOLUTE_PERCPU;

	memset(img, 0, sizeof(*img));
	g = calloc(n, sizeof(*g));
	for (i = 0; i < n; i++) {
		g[i].s = &syms[i];
		g[i].orig = i;
	}
	qsort(g, n, sizeof(*g), cmp_gsym);

	/* Every character in use is its own token; multi-character tokens take free codes. */
	for (i = 0; i < n; i++) {
		char type = o->enc == NFM_KALLSYMS_ABSOLUTE_PERCPU && g[i].s->percpu ? 'A' :
			    g[i].s->type;

		used[(uint8_t)type] = true;
		for (const char *c = g[i].s->name; *c; c++)
			used[(uint8_t)*c] = true;
	}
	for (i = 0; i < 256; i++) {
		tokens[i][0] = used[i] ? (char)i : '\0';
		tokens[i][1] = '\0';
	}
	for (k = 0, i = 255; k < ntok; k++) {
		while (i > 0 && used[i])
			i--;
		if (!i)
			break;
		strcpy(tokens[i], multi_tokens[k]);
		multi_code[k] = (int)i;
		used[i] = true;
	}
	ntok = k;
	for (i = 0; i < 256; i++) {
		size_t l = strlen(tokens[i]);

		tokidx[i] = (uint16_t)toktab_len;
		memcpy(toktab + toktab_len, tokens[i], l + 1);
		toktab_len += l + 1;
	}

	names_cap = 64;
	for (i = 0; i < n; i++)
		names_cap += strlen(g[i].s->name) + 4;
	names = malloc(names_cap);
	markers = calloc((n + 255) / 256 + 1, sizeof(*markers));
	for (i = 0; i < n; i++) {
		char str[2048];
		uint8_t code[2048];
		size_t len = 0, p = 0, sl;
		char type = o->enc == NFM_KALLSYMS_ABSOLUTE_PERCPU && g[i].s->percpu ? 'A' :
			    g[i].s->type;

		if (!(i & 0xff))
			markers[i >> 8] = (uint32_t)names_len;
		str[0] = type;
		strcpy(str + 1, g[i].s->name);
		sl = strlen(str);
		while (p < sl) {
			size_t best = 0;
			int bc = (uint8_t)str[p];

			for (k = 0; k < ntok; k++) {
				size_t tl = strlen(multi_tokens[k]);

				if (tl > best && !strncmp(str + p, multi_tokens[k], tl)) {
					best = tl;
					bc = multi_code[k];
				}
			}
			code[len++] = (uint8_t)bc;
			p += best ? best : 1;
		}
		if (len <= 0x7f || o->short_lens) {
			names[names_len++] = (uint8_t)len;
		} else {
			names[names_len++] = (uint8_t)((len & 0x7f) | 0x80);
			names[names_len++] = (uint8_t)((len >> 7) & 0x7f);
		}
		memcpy(names + names_len, code, len);
		names_len += len;
	}

	if (rel)
		for (i = 0; i < n; i++)
			if (!(o->enc == NFM_KALLSYMS_ABSOLUTE_PERCPU && g[i].s->percpu)) {
				relbase = g[i].s->addr;
				break;
			}

	size[B_NUM] = 4;
	size[B_NAMES] = names_len;
	size[B_MARKERS] = 4 * ((n + 255) / 256);
	size[B_TOKTAB] = toktab_len;
	size[B_TOKIDX] = 512;
	size[B_OFFS] = n * (o->enc == NFM_KALLSYMS_ABSOLUTE ? 8 : 4);
	size[B_RELBASE] = rel ? 8 : 0;
	size[B_SEQS] = o->no_seqs ? 0 : 3 * n;
	for (i = 0; i < B_COUNT; i++) {
		int b = layouts[o->layout][i];

		total = (total + 7) & ~(size_t)7;
		off[b] = total;
		total += size[b];
	}
	/* Real tables sit inside megabytes of .rodata: leave readable bytes after them. */
	img->size = total + (2u << 20);
	img->mem = calloc(1, img->size);
	img->base_va = o->base_va;
	img->names_len = names_len;

	put32(img->mem + off[B_NUM], (uint32_t)n);
	memcpy(img->mem + off[B_NAMES], names, names_len);
	for (i = 0; i < (n + 255) / 256; i++)
		put32(img->mem + off[B_MARKERS] + 4 * i, markers[i]);
	memcpy(img->mem + off[B_TOKTAB], toktab, toktab_len);
	for (i = 0; i < 256; i++)
		put16(img->mem + off[B_TOKIDX] + 2 * i, tokidx[i]);
	if (rel)
		put64(img->mem + off[B_RELBASE], relbase);
	for (i = 0; i < n; i++) {
		uint64_t a = g[i].s->addr;
		uint8_t *p = img->mem + off[B_OFFS];
		long long v;

		switch (o->enc) {
		case NFM_KALLSYMS_ABSOLUTE:
			put64(p + 8 * i, a);
			continue;
		case NFM_KALLSYMS_BASE_RELATIVE:
			v = (long long)(a - relbase);
			if (a < relbase || a - relbase > UINT32_MAX)
				goto fail;
			break;
		case NFM_KALLSYMS_ABSOLUTE_PERCPU:
			if (g[i].s->percpu) {
				if (a > INT32_MAX)
					goto fail;
				v = (long long)a;
			} else {
				if (a < relbase || a - relbase > (uint64_t)INT32_MAX)
					goto fail;
				v = -(long long)(a - relbase) - 1;
			}
			break;
		case NFM_KALLSYMS_PLACE_RELATIVE:
		default:
			v = (long long)(a - (o->base_va + off[B_OFFS] + 4 * i));
			if (v < INT32_MIN || v > INT32_MAX)
				goto fail;
			break;
		}
		put32(p + 4 * i, (uint32_t)(int32_t)v);
	}
	if (!o->no_seqs) {
		size_t *seq = malloc((n ? n : 1) * sizeof(*seq));

		for (i = 0; i < n; i++)
			seq[i] = i;
		sort_base = g;
		qsort(seq, n, sizeof(*seq), cmp_seq);
		for (i = 0; i < n; i++) {
			uint8_t *p = img->mem + off[B_SEQS] + 3 * i;

			p[0] = (uint8_t)(seq[i] >> 16);
			p[1] = (uint8_t)(seq[i] >> 8);
			p[2] = (uint8_t)seq[i];
		}
		free(seq);
		img->seqs = o->base_va + off[B_SEQS];
	}

	img->t.names = o->base_va + off[B_NAMES];
	img->t.num_syms = o->base_va + off[B_NUM];
	img->t.token_table = o->base_va + off[B_TOKTAB];
	img->t.token_index = o->base_va + off[B_TOKIDX];
	img->t.markers = o->base_va + off[B_MARKERS];
	if (o->enc == NFM_KALLSYMS_ABSOLUTE) {
		img->t.addresses = o->base_va + off[B_OFFS];
	} else {
		img->t.offsets = o->base_va + off[B_OFFS];
		if (rel)
			img->t.relative_base = o->base_va + off[B_RELBASE];
	}
	if (order_ret) {
		*order_ret = malloc((n ? n : 1) * sizeof(**order_ret));
		for (i = 0; i < n; i++)
			(*order_ret)[i] = g[i].orig;
	}
	free(g);
	free(names);
	free(markers);
	return 0;
fail:
	free(g);
	free(names);
	free(markers);
	ksgen_free(img);
	return -1;
}

void ksgen_free(struct ksgen_image *img)
{
	free(img->mem);
	img->mem = NULL;
}

int ksgen_read(void *ud, uint64_t va, void *buf, size_t len)
{
	struct ksgen_image *img = ud;

	img->reads++;
	if (img->fail_err && va < img->fail_hi && va + len > img->fail_lo)
		return img->fail_err;
	if (va < img->base_va || va - img->base_va > img->size || len > img->size - (va - img->base_va))
		return -EFAULT;
	memcpy(buf, img->mem + (va - img->base_va), len);
	return 0;
}
