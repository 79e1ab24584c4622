// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * x86-64 instruction lengths (Intel SDM vol. 2, appendix A opcode maps). The tables say, per
 * opcode, whether a ModRM byte follows and how large the immediate is; ModRM/SIB/displacement
 * sizes follow from the ModRM byte in 64-bit mode (no 16-bit addressing there).
 */
#include <errno.h>
#include <string.h>

#include "check/x86dec.h"

/* Immediate size codes. */
enum { I0, I8, I16, IZ /* 16 or 32 by operand size */, IV /* 16/32/64 (mov r, imm) */,
       IENTER /* 16 + 8 */, IMOFFS /* 64 (32 with 0x67) */, BAD };

struct op1 {
	uint8_t modrm : 1;
	uint8_t imm : 7;
};

#define M(i) { 1, i }
#define N(i) { 0, i }
#define X { 0, BAD }

/* One-byte map; prefixes (0x26 0x2e 0x36 0x3e 0x40-0x4f 0x64-0x67 0xf0 0xf2 0xf3) and 0x0f,
 * 0xc4, 0xc5 are handled before the table. */
static const struct op1 map1[256] = {
	/* 00 */ M(I0), M(I0), M(I0), M(I0), N(I8), N(IZ), X, X,
	/* 08 */ M(I0), M(I0), M(I0), M(I0), N(I8), N(IZ), X, X,
	/* 10 */ M(I0), M(I0), M(I0), M(I0), N(I8), N(IZ), X, X,
	/* 18 */ M(I0), M(I0), M(I0), M(I0), N(I8), N(IZ), X, X,
	/* 20 */ M(I0), M(I0), M(I0), M(I0), N(I8), N(IZ), X, X,
	/* 28 */ M(I0), M(I0), M(I0), M(I0), N(I8), N(IZ), X, X,
	/* 30 */ M(I0), M(I0), M(I0), M(I0), N(I8), N(IZ), X, X,
	/* 38 */ M(I0), M(I0), M(I0), M(I0), N(I8), N(IZ), X, X,
	/* 40 */ X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	/* 50 */ N(I0), N(I0), N(I0), N(I0), N(I0), N(I0), N(I0), N(I0),
	/* 58 */ N(I0), N(I0), N(I0), N(I0), N(I0), N(I0), N(I0), N(I0),
	/* 60 */ X, X, X, M(I0), X, X, X, X,
	/* 68 */ N(IZ), M(IZ), N(I8), M(I8), N(I0), N(I0), N(I0), N(I0),
	/* 70 */ N(I8), N(I8), N(I8), N(I8), N(I8), N(I8), N(I8), N(I8),
	/* 78 */ N(I8), N(I8), N(I8), N(I8), N(I8), N(I8), N(I8), N(I8),
	/* 80 */ M(I8), M(IZ), X, M(I8), M(I0), M(I0), M(I0), M(I0),
	/* 88 */ M(I0), M(I0), M(I0), M(I0), M(I0), M(I0), M(I0), M(I0),
	/* 90 */ N(I0), N(I0), N(I0), N(I0), N(I0), N(I0), N(I0), N(I0),
	/* 98 */ N(I0), N(I0), X, N(I0), N(I0), N(I0), N(I0), N(I0),
	/* a0 */ N(IMOFFS), N(IMOFFS), N(IMOFFS), N(IMOFFS), N(I0), N(I0), N(I0), N(I0),
	/* a8 */ N(I8), N(IZ), N(I0), N(I0), N(I0), N(I0), N(I0), N(I0),
	/* b0 */ N(I8), N(I8), N(I8), N(I8), N(I8), N(I8), N(I8), N(I8),
	/* b8 */ N(IV), N(IV), N(IV), N(IV), N(IV), N(IV), N(IV), N(IV),
	/* c0 */ M(I8), M(I8), N(I16), N(I0), X, X, M(I8), M(IZ),
	/* c8 */ N(IENTER), N(I0), N(I16), N(I0), N(I0), N(I8), X, N(I0),
	/* d0 */ M(I0), M(I0), M(I0), M(I0), X, X, X, N(I0),
	/* d8 */ M(I0), M(I0), M(I0), M(I0), M(I0), M(I0), M(I0), M(I0),
	/* e0 */ N(I8), N(I8), N(I8), N(I8), N(I8), N(I8), N(I8), N(I8),
	/* e8 */ N(IZ), N(IZ), X, N(I8), N(I0), N(I0), N(I0), N(I0),
	/* f0 */ X, N(I0), X, X, N(I0), N(I0), M(I0), M(I0),	/* f6/f7: imm by reg */
	/* f8 */ N(I0), N(I0), N(I0), N(I0), N(I0), N(I0), M(I0), M(I0),
};

/* Two-byte map (0f xx): ModRM unless listed here; imm8 where listed. */
static bool map2_no_modrm(uint8_t b)
{
	switch (b) {
	case 0x05: case 0x06: case 0x07: case 0x08: case 0x09: case 0x0b: case 0x0e:
	case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: case 0x37:
	case 0x77: case 0xa0: case 0xa1: case 0xa2: case 0xa8: case 0xa9: case 0xaa:
		return true;
	}
	return (b >= 0x80 && b <= 0x8f) || (b >= 0xc8 && b <= 0xcf);
}

static bool map2_imm8(uint8_t b)
{
	return (b >= 0x70 && b <= 0x73) || b == 0xa4 || b == 0xac || b == 0xba || b == 0xc2 ||
	       (b >= 0xc4 && b <= 0xc6) || b == 0x0f;
}

/* ModRM, SIB and displacement bytes from p (p[0] is ModRM); -1 when past avail. */
static int modrm_len(const uint8_t *p, size_t avail)
{
	uint8_t m, mod, rm;
	int len = 1;

	if (avail < 1)
		return -1;
	m = p[0];
	mod = m >> 6;
	rm = m & 7;
	if (mod == 3)
		return 1;
	if (rm == 4) {
		if (avail < 2)
			return -1;
		len++;
		if (mod == 0 && (p[1] & 7) == 5)
			len += 4;
	} else if (mod == 0 && rm == 5) {
		len += 4;	/* RIP-relative */
	}
	if (mod == 1)
		len += 1;
	else if (mod == 2)
		len += 4;
	return len;
}

static int64_t sext(const uint8_t *p, int size)
{
	if (size == 1)
		return (int8_t)p[0];
	int32_t v;

	memcpy(&v, p, 4);
	return v;
}

int x86_decode(const uint8_t *p, size_t avail, uint64_t ip, struct x86_insn *ret)
{
	struct x86_insn in = { 0 };
	bool opsize = false, addrsize = false, rexw = false;
	size_t i = 0;
	int imm = 0, ml = 0, rel = 0;
	uint8_t b;

	/* Legacy prefixes, then at most one REX right before the opcode. */
	for (;; i++) {
		if (i >= avail || i >= 14)
			return i >= avail ? -ENODATA : -EBADMSG;
		b = p[i];
		if (b == 0x66)
			opsize = true;
		else if (b == 0x67)
			addrsize = true;
		else if (!(b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x26 || b == 0x2e ||
			   b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65))
			break;
	}
	if ((b & 0xf0) == 0x40) {
		rexw = b & 8;
		if (++i >= avail)
			return -ENODATA;
		b = p[i];
	}
	i++;
	if (b == 0x0f) {
		uint8_t b2;

		if (i >= avail)
			return -ENODATA;
		b2 = p[i++];
		if (b2 == 0x38 || b2 == 0x3a) {
			if (i >= avail)
				return -ENODATA;
			i++;
			ml = modrm_len(p + i, avail - i);
			imm = b2 == 0x3a ? 1 : 0;
		} else if (b2 >= 0x80 && b2 <= 0x8f) {
			in.kind = X86_JCC;
			rel = 4;
		} else {
			if (b2 == 0x0b || b2 == 0xb9 || b2 == 0xff)
				in.kind = X86_UD;
			if (!map2_no_modrm(b2))
				ml = modrm_len(p + i, avail - i);
			imm = map2_imm8(b2) ? 1 : 0;
		}
	} else if (b == 0x62) {
		/* EVEX (AVX-512): 3 payload bytes, opcode, ModRM; map 3 has imm8. Compressed disp8
		 * is still one byte. */
		int map;
		uint8_t op;

		if (i + 3 >= avail)
			return -ENODATA;
		map = p[i] & 7;
		if (map < 1 || map > 3)
			return -EBADMSG;
		i += 3;
		op = p[i++];
		ml = modrm_len(p + i, avail - i);
		imm = map == 3 || (map == 1 && map2_imm8(op)) ? 1 : 0;
	} else if (b == 0xc4 || b == 0xc5) {
		/* VEX: 2 (c5) or 3 (c4) bytes, then opcode and ModRM; map 3 (0f 3a) has imm8. */
		size_t vl = b == 0xc5 ? 1 : 2;
		int map = 1;
		uint8_t op;

		if (i + vl >= avail)
			return -ENODATA;
		if (b == 0xc4)
			map = p[i] & 0x1f;
		if (map < 1 || map > 3)
			return -EBADMSG;
		i += vl;
		op = p[i++];
		if (!(map == 1 && op == 0x77))	/* vzeroupper/vzeroall: no ModRM */
			ml = modrm_len(p + i, avail - i);
		imm = map == 3 || (map == 1 && map2_imm8(op)) ? 1 : 0;
	} else {
		const struct op1 *o = &map1[b];

		if (o->imm == BAD)
			return -EBADMSG;
		if (o->modrm)
			ml = modrm_len(p + i, avail - i);
		switch (o->imm) {
		case I8: imm = 1; break;
		case I16: imm = 2; break;
		case IZ: imm = opsize ? 2 : 4; break;
		case IV: imm = rexw ? 8 : opsize ? 2 : 4; break;
		case IENTER: imm = 3; break;
		case IMOFFS: imm = addrsize ? 4 : 8; break;
		}
		if ((b == 0xf6 || b == 0xf7) && ml > 0 && ((p[i] >> 3) & 7) < 2)
			imm = b == 0xf6 ? 1 : opsize ? 2 : 4;	/* test r/m, imm */
		if (b == 0xff && ml > 0 && ((p[i] >> 3) & 7) >= 2 && ((p[i] >> 3) & 7) <= 5)
			in.kind = X86_INDIRECT;
		if (b == 0xe8 || b == 0xe9 || b == 0xeb || (b >= 0x70 && b <= 0x7f) ||
		    (b >= 0xe0 && b <= 0xe3)) {
			in.kind = b == 0xe8 ? X86_CALL : (b == 0xe9 || b == 0xeb) ? X86_JMP : X86_JCC;
			rel = imm;
			imm = 0;
			if (rel == 2)
				return -EBADMSG;	/* rel16 forms: not in 64-bit kernel code */
		} else if (b == 0xc3 || b == 0xc2) {
			in.kind = X86_RET;
		} else if (b == 0xcc) {
			in.kind = X86_INT3;
		}
	}
	if (ml < 0)
		return -ENODATA;
	i += (size_t)ml + (size_t)imm + (size_t)rel;
	if (i > avail)
		return -ENODATA;
	if (i > 15)
		return -EBADMSG;
	in.len = (uint8_t)i;
	if (rel) {
		in.has_target = true;
		in.target = ip + i + (uint64_t)sext(p + i - rel, rel);
	}
	*ret = in;
	return 0;
}

bool x86_is_nop5(const uint8_t *p, size_t avail)
{
	return avail >= 5 && !memcmp(p, "\x0f\x1f\x44\x00\x00", 5);
}

bool x86_is_endbr64(const uint8_t *p, size_t avail)
{
	return avail >= 4 && !memcmp(p, "\xf3\x0f\x1e\xfa", 4);
}
