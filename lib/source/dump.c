// SPDX-License-Identifier: GPL-2.0-or-later
/* Memory dump files: open and mmap read-only, detect the format, hand off to its parser. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source/dump.h"
#include "util/log.h"

struct dump_priv {
	struct nfm_dump_info info;
	void *mmap_base;	/* set when the source owns an mmap of the file */
	size_t mmap_len;
};

static const struct {
	const char *magic;
	size_t len;
	const char *what;
} unsupported[] = {
	{ "PAGEDU64", 8, "a Windows crash dump" },
	{ "PAGEDUMP", 8, "a Windows crash dump" },
	{ "\x1f\x8b", 2, "a gzip-compressed file" },
	{ "\xfd" "7zXZ", 5, "an xz-compressed file" },
	{ "\x28\xb5\x2f\xfd", 4, "a zstd-compressed file" },
	{ "BZh", 3, "a bzip2-compressed file" },
	{ "LibvirtQemudPart", 16, "a libvirt save image whose save did not finish" },
	{ "\x04\x22\x4d\x18", 4, "an lz4-compressed file" },
};

enum nfm_dump_format nfm_dump_detect(const uint8_t *data, size_t size, const char **what)
{
	size_t i;

	if (size >= 4 && !memcmp(data, "\x7f" "ELF", 4))
		return NFM_DUMP_ELF;
	/* LiME's le32 magic 0x4C694D45 is "EMiL" on disk. */
	if (size >= 4 && !memcmp(data, "EMiL", 4))
		return NFM_DUMP_LIME;
	if (size >= 8 && (!memcmp(data, "KDUMP   ", 8) || !memcmp(data, "DISKDUMP", 8)))
		return NFM_DUMP_KDUMP;
	if (size >= 12 && !memcmp(data, "makedumpfile", 12))
		return NFM_DUMP_KDUMP_FLAT;
	if (size >= 4 && !memcmp(data, "QEVM", 4))
		return NFM_DUMP_MIGRATION;
	if (size >= 16 && !memcmp(data, "LibvirtQemudSave", 16))
		return NFM_DUMP_LIBVIRT_SAVE;
	for (i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		if (size >= unsupported[i].len &&
		    !memcmp(data, unsupported[i].magic, unsupported[i].len)) {
			if (what)
				*what = unsupported[i].what;
			return NFM_DUMP_UNSUPPORTED;
		}
	}
	return NFM_DUMP_RAW;
}

static int dump_vmcoreinfo(struct nfm_source *src, char **ret, size_t *len)
{
	struct dump_priv *p = src->priv;
	char *s;

	if (!p->info.vmcoreinfo)
		return -ENOENT;
	s = malloc(p->info.vmcoreinfo_len + 1);
	if (!s)
		return -ENOMEM;
	memcpy(s, p->info.vmcoreinfo, p->info.vmcoreinfo_len + 1);
	*ret = s;
	*len = p->info.vmcoreinfo_len;
	return 0;
}

static int dump_cpu_state(struct nfm_source *src, unsigned int cpu, struct nfm_cpu_state *ret)
{
	struct dump_priv *p = src->priv;

	if (cpu >= p->info.nr_cpus)
		return -ENOENT;
	*ret = p->info.cpus[cpu];
	return 0;
}

static int dump_resident(struct nfm_source *src, uint64_t off, uint64_t npages, uint8_t *bitmap)
{
	/* Every byte of a dump is there; the file's page cache is not our business. */
	uint64_t i;

	for (i = 0; i < npages; i++)
		bitmap[i / 8] |= 1u << (i & 7);
	return 0;
}

static void dump_destroy(struct nfm_source *src)
{
	struct dump_priv *p = src->priv;

	if (!p)
		return;
	if (p->mmap_base)
		munmap(p->mmap_base, p->mmap_len);
	nfm_dump_info_release(&p->info);
	free(p);
	src->priv = NULL;
}

static const struct nfm_source_ops elf_ops = {
	.kind = "elf",
	.vmcoreinfo = dump_vmcoreinfo,
	.cpu_state = dump_cpu_state,
	.resident = dump_resident,
	.destroy = dump_destroy,
};

static const struct nfm_source_ops lime_ops = {
	.kind = "lime",
	.resident = dump_resident,
	.destroy = dump_destroy,
};

static const struct nfm_source_ops raw_ops = {
	.kind = "raw",
	.resident = dump_resident,
	.destroy = dump_destroy,
};

static int new_dump(const uint8_t *data, size_t size, const char *name, const struct nfm_log *log,
		    void *mmap_base, struct nfm_source **ret)
{
	const struct nfm_source_ops *ops;
	struct nfm_source *src;
	struct dump_priv *p;
	const char *what = NULL, *label;
	char *desc;
	int err;

	if (!size) {
		nfm_err(log, "%s: empty file", name);
		return -EBADMSG;
	}
	if (nfm_dump_detect(data, size, NULL) == NFM_DUMP_MIGRATION)
		return nfm_source_new_migration(data, size, name, log, mmap_base, ret);
	if (nfm_dump_detect(data, size, NULL) == NFM_DUMP_LIBVIRT_SAVE) {
		size_t off;

		err = nfm_libvirt_save_stream(data, size, name, log, &off);
		return err ? err : nfm_source_new_migration(data + off, size - off, name, log,
							    mmap_base, ret);
	}
	p = calloc(1, sizeof(*p));
	src = calloc(1, sizeof(*src));
	if (!p || !src) {
		free(p);
		free(src);
		return -ENOMEM;
	}
	switch (nfm_dump_detect(data, size, &what)) {
	case NFM_DUMP_ELF:
		ops = &elf_ops;
		label = "ELF dump";
		err = nfm_dump_parse_elf(data, size, name, log, &p->info);
		break;
	case NFM_DUMP_LIME:
		ops = &lime_ops;
		label = "LiME dump";
		err = nfm_dump_parse_lime(data, size, name, log, &p->info);
		break;
	case NFM_DUMP_RAW:
		ops = &raw_ops;
		label = "raw dump";
		err = nfm_dump_parse_raw(data, size, name, log, &p->info);
		break;
	case NFM_DUMP_KDUMP:
	case NFM_DUMP_KDUMP_FLAT:
		/* libkdumpfile reads files: nfm_source_open_dump() hands the path over */
		nfm_err(log, "%s: a kdump-compressed dump is read from a file only", name);
		err = -EOPNOTSUPP;
		break;
	default:
		nfm_err(log, "%s is %s, which nfm cannot read yet", name, what);
		err = -EOPNOTSUPP;
		break;
	}
	if (err)
		goto fail;
	src->map = data;
	src->map_size = size;
	src->priv = p;
	if (asprintf(&desc, "%s %s", label, name) < 0) {
		err = -ENOMEM;
		goto fail;
	}
	err = nfm_source_init(src, ops, p->info.ranges, p->info.nr_ranges, desc);
	free(desc);
	if (err) {
		nfm_err(log, "%s: corrupt dump (bad memory ranges)", name);
		goto fail;
	}
	p->mmap_base = mmap_base;
	p->mmap_len = size;
	*ret = src;
	return 0;
fail:
	nfm_dump_info_release(&p->info);
	free(p);
	free(src);
	return err;
}

int nfm_source_new_dump_mem(const uint8_t *data, size_t size, const char *name,
			    const struct nfm_log *log, struct nfm_source **ret)
{
	if (!ret || (!data && size))
		return -EINVAL;
	return new_dump(data, size, name ? name : "dump", log, NULL, ret);
}

int nfm_source_open_dump(const char *path, const struct nfm_log *log, struct nfm_source **ret)
{
	enum nfm_dump_format fmt;
	struct stat st;
	void *map;
	int fd, err;

	if (!path || !ret)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err == -EACCES || err == -EPERM)
			nfm_err(log, "%s: no permission to read the dump", path);
		else
			nfm_err(log, "%s: cannot open: %s", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		nfm_err(log, "%s: cannot stat: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		nfm_err(log, "%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (!st.st_size) {
		nfm_err(log, "%s: empty file", path);
		close(fd);
		return -EBADMSG;
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		close(fd);
		return -EOPNOTSUPP;
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	err = -errno;
	close(fd);
	if (map == MAP_FAILED) {
		nfm_err(log, "%s: cannot map the dump: %s", path, strerror(-err));
		return -EIO;
	}
	fmt = nfm_dump_detect(map, st.st_size, NULL);
	if (fmt == NFM_DUMP_KDUMP || fmt == NFM_DUMP_KDUMP_FLAT) {
		/* libkdumpfile reads the file itself */
		munmap(map, st.st_size);
		return nfm_source_open_kdump(path, fmt == NFM_DUMP_KDUMP_FLAT, log, ret);
	}
	err = new_dump(map, st.st_size, path, log, map, ret);
	if (err)
		munmap(map, st.st_size);
	return err;
}
