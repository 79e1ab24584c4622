// SPDX-License-Identifier: GPL-2.0-or-later
/* Parse the parts of a QEMU command line that say where guest RAM is. See qemu_cmdline.h. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "source/qemu_cmdline.h"
#include "source/qemu_opts.h"

#define MiB (1024ULL * 1024)
#define GiB (1024ULL * MiB)

#define MAX_ARGS 4096
#define MAX_CHARDEVS 16

static void copy_str(char *dst, size_t size, const char *s, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

static bool parse_bool(const char *s, bool *ret)
{
	if (!strcmp(s, "on") || !strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "y")) {
		*ret = true;
		return true;
	}
	if (!strcmp(s, "off") || !strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "n")) {
		*ret = false;
		return true;
	}
	return false;
}

int nfm_qemu_parse_size(const char *s, size_t len, uint64_t default_unit, uint64_t *ret)
{
	uint64_t whole = 0, unit = default_unit, frac_num = 0, frac_den = 1, v;
	size_t i = 0;

	while (i < len && isspace((unsigned char)s[i]))
		i++;
	if (i == len || !isdigit((unsigned char)s[i]))
		return -EINVAL;
	if (len - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		/* QEMU accepts hex, without a fraction. */
		i += 2;
		if (i == len || !isxdigit((unsigned char)s[i]))
			return -EINVAL;
		while (i < len && isxdigit((unsigned char)s[i])) {
			int d = isdigit((unsigned char)s[i]) ? s[i] - '0' :
				tolower((unsigned char)s[i]) - 'a' + 10;

			if (whole > (UINT64_MAX >> 4))
				return -EINVAL;
			whole = whole * 16 + d;
			i++;
		}
	} else {
		while (i < len && isdigit((unsigned char)s[i])) {
			if (whole > (UINT64_MAX - 9) / 10)
				return -EINVAL;
			whole = whole * 10 + (s[i] - '0');
			i++;
		}
		if (i < len && s[i] == '.') {
			i++;
			while (i < len && isdigit((unsigned char)s[i])) {
				if (frac_den < 1000000000ULL) {
					frac_num = frac_num * 10 + (s[i] - '0');
					frac_den *= 10;
				}
				i++;
			}
		}
	}
	if (i < len) {
		switch (tolower((unsigned char)s[i])) {
		case 'b': unit = 1; break;
		case 'k': unit = 1ULL << 10; break;
		case 'm': unit = 1ULL << 20; break;
		case 'g': unit = 1ULL << 30; break;
		case 't': unit = 1ULL << 40; break;
		case 'p': unit = 1ULL << 50; break;
		case 'e': unit = 1ULL << 60; break;
		default: return -EINVAL;
		}
		i++;
	}
	if (i != len)
		return -EINVAL;
	if (whole && unit > UINT64_MAX / whole)
		return -EINVAL;
	v = whole * unit;
	/* frac_num < frac_den <= 1e9 and unit <= 2^60: split to avoid overflow. */
	v += (unit / frac_den) * frac_num + (unit % frac_den) * frac_num / frac_den;
	if (v < whole * unit)
		return -EINVAL;
	*ret = v;
	return 0;
}

static bool parse_size_str(const char *s, uint64_t unit, uint64_t *ret)
{
	return !nfm_qemu_parse_size(s, strlen(s), unit, ret);
}

/* "pc-i440fx-1.7", "pc-q35-1.5", "pc-1.2", "pc-0.15": machine types older than 2.0. */
static bool old_machine_version(const char *t)
{
	const char *v = NULL;

	if (!strncmp(t, "pc-i440fx-", 10))
		v = t + 10;
	else if (!strncmp(t, "pc-q35-", 7))
		v = t + 7;
	else if (!strncmp(t, "pc-", 3) && isdigit((unsigned char)t[3]))
		v = t + 3;
	return v && isdigit((unsigned char)v[0]) && atoi(v) < 2;
}

static void set_machine(struct nfm_qemu_cmdline *cl, const char *t)
{
	copy_str(cl->machine_type, sizeof(cl->machine_type), t, strlen(t));
	if (!strcmp(t, "q35") || !strncmp(t, "pc-q35-", 7))
		cl->machine = NFM_QEMU_MACHINE_Q35;
	else if (!strcmp(t, "pc") || !strncmp(t, "pc-", 3))
		cl->machine = NFM_QEMU_MACHINE_PC;
	else
		cl->machine = NFM_QEMU_MACHINE_OTHER;
	cl->gigabyte_align = !old_machine_version(t);
}

struct chardev {
	char id[64];
	char path[256];
};

struct parse_state {
	struct chardev chardevs[MAX_CHARDEVS];
	size_t nr_chardevs;
	char mon_chardev[64];
	struct nfm_qemu_nic_state *nics;	/* qemu_nics.c, freed by nfm_qemu_nics_finish() */
};

static void parse_object(struct nfm_qemu_cmdline *cl, const char *v)
{
	struct nfm_qemu_memdev *md;
	char type[32], tmp[64];

	if (!nfm_qemu_obj_get(v, "qom-type", "qom-type", type, sizeof(type)) ||
	    strncmp(type, "memory-backend-", 15) || cl->nr_memdevs >= NFM_QEMU_MAX_MEMDEVS)
		return;
	md = &cl->memdevs[cl->nr_memdevs];
	memset(md, 0, sizeof(*md));
	copy_str(md->type, sizeof(md->type), type, strlen(type));
	nfm_qemu_obj_get(v, "id", NULL, md->id, sizeof(md->id));
	nfm_qemu_obj_get(v, "mem-path", NULL, md->mem_path, sizeof(md->mem_path));
	/* memfd shares by default; file and ram do not. */
	md->share = !strcmp(type, "memory-backend-memfd");
	if (nfm_qemu_obj_get(v, "share", NULL, tmp, sizeof(tmp)))
		parse_bool(tmp, &md->share);
	if (nfm_qemu_obj_get(v, "size", NULL, tmp, sizeof(tmp)) && !parse_size_str(tmp, 1, &md->size))
		md->size = 0;
	cl->nr_memdevs++;
}

static void parse_chardev(struct parse_state *st, const char *v)
{
	struct chardev *c;
	char backend[32];

	if (!nfm_qemu_opt_get(v, "backend", "backend", backend, sizeof(backend)) ||
	    strcmp(backend, "socket") || st->nr_chardevs >= MAX_CHARDEVS)
		return;
	c = &st->chardevs[st->nr_chardevs];
	if (!nfm_qemu_opt_get(v, "id", NULL, c->id, sizeof(c->id)) ||
	    !nfm_qemu_opt_get(v, "path", NULL, c->path, sizeof(c->path)))
		return;
	st->nr_chardevs++;
}

static void parse_qmp(struct nfm_qemu_cmdline *cl, const char *v)
{
	size_t n = 0;

	if (cl->qmp[0] || strncmp(v, "unix:", 5))
		return;
	v += 5;
	if (!strncmp(v, "path=", 5))
		v += 5;
	while (v[n] && v[n] != ',')
		n++;
	copy_str(cl->qmp, sizeof(cl->qmp), v, n);
}

static int parse_opt(struct nfm_qemu_cmdline *cl, struct parse_state *st, const char *opt,
		     const char *v)
{
	char tmp[256];

	if (!strcmp(opt, "name")) {
		if (nfm_qemu_opt_get(v, "guest", "guest", tmp, sizeof(tmp)))
			copy_str(cl->name, sizeof(cl->name), tmp, strlen(tmp));
	} else if (!strcmp(opt, "m")) {
		if (nfm_qemu_opt_get(v, "size", "size", tmp, sizeof(tmp))) {
			if (!parse_size_str(tmp, MiB, &cl->ram_size))
				return -EINVAL;
		}
	} else if (!strcmp(opt, "machine") || !strcmp(opt, "M")) {
		if (nfm_qemu_opt_get(v, "type", "type", tmp, sizeof(tmp)))
			set_machine(cl, tmp);
		if (nfm_qemu_opt_get(v, "memory-backend", NULL, tmp, sizeof(tmp)))
			copy_str(cl->ram_backend, sizeof(cl->ram_backend), tmp, strlen(tmp));
		if (nfm_qemu_opt_get(v, "max-ram-below-4g", NULL, tmp, sizeof(tmp)) &&
		    !parse_size_str(tmp, 1, &cl->max_ram_below_4g))
			cl->max_ram_below_4g = 0;
	} else if (!strcmp(opt, "object")) {
		parse_object(cl, v);
	} else if (!strcmp(opt, "qmp") || !strcmp(opt, "qmp-pretty")) {
		parse_qmp(cl, v);
	} else if (!strcmp(opt, "chardev")) {
		parse_chardev(st, v);
	} else if (!strcmp(opt, "netdev") || !strcmp(opt, "nic") || !strcmp(opt, "device") ||
		   !strcmp(opt, "net")) {
		return nfm_qemu_nic_opt(&st->nics, opt, v);
	} else if (!strcmp(opt, "mon")) {
		if (nfm_qemu_opt_get(v, "mode", NULL, tmp, sizeof(tmp)) && !strcmp(tmp, "control") &&
		    !st->mon_chardev[0])
			nfm_qemu_opt_get(v, "chardev", "chardev", st->mon_chardev, sizeof(st->mon_chardev));
	}
	return 0;
}

/* Options that take no argument, so that the parser does not swallow the next one. */
static bool opt_has_arg(const char *opt)
{
	static const char *const noarg[] = {
		"nographic", "daemonize", "enable-kvm", "S", "snapshot", "no-reboot",
		"no-shutdown", "no-acpi", "no-hpet", "nodefaults", "no-user-config",
		"full-screen", "s", "version", "help", "h", "preconfig", "no-fd-bootchk",
		"win2k-hack", "no-frame", "alt-grab", "ctrl-grab", "only-migratable",
		"enable-sync-profile", "old-param", "curses", "sdl", "semihosting",
		"singlestep", "perfmap", "perfmap-jit", "nouserconfig", "no-quit",
		"portrait", "watchdog-action-none", "xen-attach", NULL,
	};
	size_t i;

	for (i = 0; noarg[i]; i++)
		if (!strcmp(opt, noarg[i]))
			return false;
	return true;
}

int nfm_qemu_cmdline_parse(const char *const *argv, size_t argc, struct nfm_qemu_cmdline *ret)
{
	struct nfm_qemu_cmdline *cl;
	struct parse_state *st;
	size_t i;
	int err = 0;

	if (!ret || (argc && !argv))
		return -EINVAL;
	cl = calloc(1, sizeof(*cl));
	st = calloc(1, sizeof(*st));
	if (!cl || !st) {
		free(cl);
		free(st);
		return -ENOMEM;
	}
	cl->ram_size = 128 * MiB;
	cl->machine = NFM_QEMU_MACHINE_PC;
	cl->gigabyte_align = true;
	for (i = 1; i < argc && !err; i++) {
		const char *a = argv[i];

		if (!a || a[0] != '-')
			continue;	/* a bare disk image */
		a += (a[1] == '-') ? 2 : 1;
		if (!opt_has_arg(a))
			continue;
		if (i + 1 >= argc || !argv[i + 1])
			break;
		err = parse_opt(cl, st, a, argv[i + 1]);
		i++;
	}
	if (!cl->qmp[0] && st->mon_chardev[0]) {
		for (i = 0; i < st->nr_chardevs; i++)
			if (!strcmp(st->chardevs[i].id, st->mon_chardev))
				copy_str(cl->qmp, sizeof(cl->qmp), st->chardevs[i].path,
					 strlen(st->chardevs[i].path));
	}
	/* -machine memory-backend=ID gives the RAM size too (then -m may be absent). */
	if (cl->ram_backend[0]) {
		for (i = 0; i < cl->nr_memdevs; i++)
			if (!strcmp(cl->memdevs[i].id, cl->ram_backend) && cl->memdevs[i].size)
				cl->ram_size = cl->memdevs[i].size;
	}
	cl->nr_nics = nfm_qemu_nics_finish(st->nics, cl->nics);
	free(st);
	if (!err)
		*ret = *cl;
	free(cl);
	return err;
}

int nfm_qemu_cmdline_parse_buf(const char *buf, size_t len, struct nfm_qemu_cmdline *ret)
{
	const char **argv;
	char *copy;
	size_t argc = 0, i;
	int err;

	if (!buf && len)
		return -EINVAL;
	/* Our own NUL-terminated copy: the last argument need not end in NUL. */
	copy = malloc(len + 1);
	argv = calloc(MAX_ARGS, sizeof(*argv));
	if (!copy || !argv) {
		free(copy);
		free(argv);
		return -ENOMEM;
	}
	if (len)
		memcpy(copy, buf, len);
	copy[len] = '\0';
	for (i = 0; i < len && argc < MAX_ARGS; i += strlen(copy + i) + 1)
		argv[argc++] = copy + i;
	err = nfm_qemu_cmdline_parse(argv, argc, ret);
	free(argv);
	free(copy);
	return err;
}

bool nfm_qemu_is_qemu_path(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "qemu-system-", 12) || !strncmp(base, "qemu-kvm", 8);
}

int nfm_qemu_ram_split(const struct nfm_qemu_cmdline *cl, uint64_t *below, uint64_t *above)
{
	uint64_t ram = cl->ram_size, lowmem, max_low = cl->max_ram_below_4g;

	switch (cl->machine) {
	case NFM_QEMU_MACHINE_PC:
		/*
		 * pc_piix.c: the traditional split is 3.5 GiB (the default max-ram-below-4g); when
		 * RAM has to be split at all, machine types since 2.0 move it down to 3 GiB so that
		 * 1 GiB-aligned guest addresses stay 1 GiB-aligned in the host.
		 */
		if (!max_low)
			max_low = 0xe0000000;
		lowmem = max_low;
		if (ram >= max_low && cl->gigabyte_align && lowmem > 0xc0000000)
			lowmem = 0xc0000000;
		break;
	case NFM_QEMU_MACHINE_Q35:
		/*
		 * pc_q35.c: leave 512 MiB for PCI and 256 MiB for MMCONFIG below 4 GiB (2.75 GiB);
		 * when RAM does not fit, split at 2 GiB (machine types since 2.0). max-ram-below-4g
		 * only lowers the split.
		 */
		if (ram >= 0xb0000000)
			lowmem = cl->gigabyte_align ? 0x80000000 : 0xb0000000;
		else
			lowmem = 0xb0000000;
		if (max_low && lowmem > max_low)
			lowmem = max_low;
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (ram >= lowmem) {
		*below = lowmem;
		*above = ram - lowmem;
	} else {
		*below = ram;
		*above = 0;
	}
	return 0;
}
