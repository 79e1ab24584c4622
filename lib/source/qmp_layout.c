// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A live QEMU's guest RAM layout through QMP, now or on a second thread: the session takes a
 * few milliseconds of QEMU's main loop, which discovery can spend scanning guest RAM through
 * the layout /proc/PID/maps suggests (the thread touches only its socket and its own memory).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source/qemu.h"
#include "source/qmp.h"
#include "util/log.h"

/* CPU 0's CR3 from "info registers" text; 0 when absent. */
uint64_t nfm_qmp_parse_cr3(const char *text)
{
	const char *cr3 = text ? strstr(text, "CR3=") : NULL;

	return cr3 ? strtoull(cr3 + 4, NULL, 16) : 0;
}

/*
 * Guest-physical ranges → host-virtual addresses through QMP, in two round trips: the memory
 * tree (and CPU 0's CR3, which discovery asks for next: *cr3, 0 if unknown), then every range's
 * gpa2hva. Returns the count or -errno.
 */
int nfm_qmp_layout(const char *path, const struct nfm_qemu_cmdline *cl, const struct nfm_log *log,
		   struct nfm_source_range **ret, uint64_t *cr3)
{
	const char *names[NFM_QEMU_MAX_MEMDEVS + 3], *first[] = { "info mtree -f", "info registers" };
	struct nfm_qmp_ram *ram = NULL;
	struct nfm_source_range *r = NULL;
	char *out[2] = { NULL, NULL }, **texts = NULL, (*cmd)[64] = NULL;
	const char **cmds = NULL;
	size_t nn = 0, i;
	int fd, n = 0, err;

	*cr3 = 0;
	fd = nfm_qmp_connect(path);
	if (fd < 0) {
		nfm_dbg(log, "QMP %s: cannot connect: %s", path, strerror(-fd));
		return fd;
	}
	err = nfm_qmp_hmp_many(fd, first, 2, out);
	if (err) {
		nfm_dbg(log, "QMP %s: info mtree -f failed: %s", path, strerror(-err));
		goto out;
	}
	*cr3 = nfm_qmp_parse_cr3(out[1]);
	names[nn++] = "pc.ram";
	if (cl->ram_backend[0])
		names[nn++] = cl->ram_backend;
	for (i = 0; i < cl->nr_memdevs; i++)
		names[nn++] = cl->memdevs[i].id;
	names[nn] = NULL;
	n = nfm_qmp_parse_mtree(out[0], names, &ram);
	if (n < 0) {
		err = n;
		n = 0;
		nfm_dbg(log, "QMP %s: no RAM in info mtree -f", path);
		goto out;
	}
	r = calloc(n, sizeof(*r));
	texts = calloc(n, sizeof(*texts));
	cmds = calloc(n, sizeof(*cmds));
	cmd = calloc(n, sizeof(*cmd));
	if (!r || !texts || !cmds || !cmd) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < (size_t)n; i++) {
		snprintf(cmd[i], sizeof(cmd[i]), "gpa2hva 0x%llx", (unsigned long long)ram[i].start);
		cmds[i] = cmd[i];
	}
	err = nfm_qmp_hmp_many(fd, cmds, (size_t)n, texts);
	for (i = 0; !err && i < (size_t)n; i++) {
		err = nfm_qmp_parse_gpa2hva(texts[i], &r[i].backing);
		r[i].start = ram[i].start;
		r[i].size = ram[i].size;
	}
	if (err) {
		nfm_dbg(log, "QMP %s: gpa2hva failed: %s", path, strerror(-err));
		goto out;
	}
	*ret = r;
	r = NULL;
	err = n;
out:
	for (i = 0; texts && i < (size_t)n; i++)
		free(texts[i]);
	free(texts);
	free(cmds);
	free(cmd);
	free(r);
	free(ram);
	free(out[0]);
	free(out[1]);
	close(fd);
	return err;
}

struct nfm_qmp_layout_job {
	pthread_t thread;
	char path[256];
	struct nfm_qemu_cmdline cl;
	struct nfm_source_range *ranges;
	uint64_t cr3;
	int n;			/* ranges, or -errno */
};

static void *run(void *arg)
{
	struct nfm_qmp_layout_job *j = arg;

	j->n = nfm_qmp_layout(j->path, &j->cl, NULL, &j->ranges, &j->cr3);
	return NULL;
}

struct nfm_qmp_layout_job *nfm_qmp_layout_start(const char *path, const struct nfm_qemu_cmdline *cl)
{
	struct nfm_qmp_layout_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	snprintf(j->path, sizeof(j->path), "%s", path);
	j->cl = *cl;
	if (pthread_create(&j->thread, NULL, run, j) != 0) {
		free(j);
		return NULL;
	}
	return j;
}

int nfm_qmp_layout_join(struct nfm_qmp_layout_job *j, struct nfm_source_range **ret,
			uint64_t *cr3)
{
	int n;

	pthread_join(j->thread, NULL);
	n = j->n;
	*ret = n > 0 ? j->ranges : NULL;
	if (n <= 0)
		free(j->ranges);
	*cr3 = j->cr3;
	free(j);
	return n;
}
