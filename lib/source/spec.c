// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm_source_open(): turn a user's spec into a source. See include/nfm/source.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source/qemu.h"
#include "source/qmp.h"
#include "source/source.h"
#include "util/hostfile.h"
#include "util/log.h"

#define MAX_VMS 1024

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int parse_pid(const char *s, const struct nfm_log *log, int *pid)
{
	long v;

	if (!all_digits(s) || strlen(s) > 9 || (v = strtol(s, NULL, 10)) <= 0) {
		nfm_err(log, "\"%s\" is not a process id", s);
		return -EINVAL;
	}
	*pid = (int)v;
	return 0;
}

/* All QEMU processes; *ret is caller-freed. Returns the count. */
static int list_vms(const struct nfm_log *log, struct nfm_vm_info **ret)
{
	struct nfm_vm_info *vms = calloc(MAX_VMS, sizeof(*vms));
	int n;

	if (!vms)
		return -ENOMEM;
	n = nfm_vm_list(vms, MAX_VMS);
	if (n < 0) {
		nfm_err(log, "cannot list processes: %s", strerror(-n));
		free(vms);
		return n;
	}
	*ret = vms;
	return n < MAX_VMS ? n : MAX_VMS;
}

static int open_by_name(const char *name, const struct nfm_log *log, struct nfm_source **ret)
{
	struct nfm_vm_info *vms;
	int n, i, pid = 0, matches = 0;

	n = list_vms(log, &vms);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		if (!strcmp(vms[i].name, name)) {
			if (!matches)
				pid = vms[i].pid;
			matches++;
		}
	}
	free(vms);
	if (!matches) {
		nfm_err(log, "no VM named %s (see nfm list)", name);
		return -ENOENT;
	}
	if (matches > 1) {
		nfm_err(log, "%d QEMU processes are named %s; choose one by pid (see nfm list)",
			matches, name);
		return -EINVAL;
	}
	return nfm_source_open_qemu(pid, NULL, log, ret);
}

static int open_only(const struct nfm_log *log, struct nfm_source **ret)
{
	struct nfm_vm_info *vms;
	int n, pid;

	n = list_vms(log, &vms);
	if (n < 0)
		return n;
	pid = n ? vms[0].pid : 0;
	free(vms);
	if (!n) {
		nfm_err(log, "no QEMU process found on this host");
		return -ENOENT;
	}
	if (n > 1) {
		nfm_err(log, "%d QEMU processes are running; choose one with --vm (see nfm list)", n);
		return -EINVAL;
	}
	return nfm_source_open_qemu(pid, NULL, log, ret);
}

static int open_libvirt(const char *name, const struct nfm_log *log, struct nfm_source **ret)
{
	char path[512], *text = NULL;
	size_t len;
	int pid, err;

	if (!*name || strchr(name, '/')) {
		nfm_err(log, "\"%s\" is not a libvirt domain name", name);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/run/libvirt/qemu/%s.pid", name);
	err = nfm_read_file(path, 64, &text, &len);
	if (err) {
		if (err == -EACCES || err == -EPERM)
			nfm_err(log, "no permission to read %s%s", path, nfm_perm_hint());
		else
			nfm_err(log, "no running libvirt domain %s (no %s)", name, path);
		return err == -EACCES || err == -EPERM ? err : -ENOENT;
	}
	while (len && isspace((unsigned char)text[len - 1]))
		text[--len] = '\0';
	err = parse_pid(text, log, &pid);
	free(text);
	if (err) {
		nfm_err(log, "%s does not hold a process id", path);
		return -EBADMSG;
	}
	return nfm_source_open_qemu(pid, NULL, log, ret);
}

static int open_qmp(const char *path, const struct nfm_log *log, struct nfm_source **ret)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	int fd;

	fd = nfm_qmp_connect(path);
	if (fd < 0) {
		nfm_err(log, "cannot talk QMP on %s: %s", path, strerror(-fd));
		return fd == -EACCES || fd == -EPERM ? fd : -ENOENT;
	}
	/* The QEMU behind the socket: its pid from the peer credentials. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 || cred.pid <= 0) {
		nfm_err(log, "cannot tell which process serves %s", path);
		close(fd);
		return -EIO;
	}
	close(fd);
	return nfm_source_open_qemu(cred.pid, path, log, ret);
}

static const char *file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO (a dump must be a file nfm can read at any offset)";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	return "not a regular file";
}

int nfm_source_open(const char *spec, const struct nfm_log *log, struct nfm_source **ret)
{
	struct stat st;
	int pid, err;

	if (!ret)
		return -EINVAL;
	if (!spec || !*spec)
		return open_only(log, ret);
	if (!strncmp(spec, "pid:", 4) || all_digits(spec)) {
		err = parse_pid(spec + (all_digits(spec) ? 0 : 4), log, &pid);
		if (err)
			return err;
		return nfm_source_open_qemu(pid, NULL, log, ret);
	}
	if (!strncmp(spec, "name:", 5))
		return open_by_name(spec + 5, log, ret);
	if (!strncmp(spec, "libvirt:", 8))
		return open_libvirt(spec + 8, log, ret);
	if (!strncmp(spec, "qmp:", 4))
		return open_qmp(spec + 4, log, ret);
	if (!strncmp(spec, "snap:", 5))
		return nfm_source_open_snap(spec + 5, log, ret);
	if (!strncmp(spec, "file:", 5))
		return nfm_source_open_dump(spec + 5, log, ret);
	if (!stat(spec, &st)) {
		if (S_ISREG(st.st_mode))
			return nfm_source_open_dump(spec, log, ret);
		if (S_ISSOCK(st.st_mode))
			return open_qmp(spec, log, ret);
		/* it exists, and is not something nfm reads: say what it is */
		nfm_err(log, "not a memory dump: %s is %s", spec, file_kind(st.st_mode));
		return -EINVAL;
	}
	if (errno == EACCES && strchr(spec, '/')) {
		nfm_err(log, "no permission to look at %s%s", spec, nfm_perm_hint());
		return -EACCES;
	}
	if (strchr(spec, '/')) {
		nfm_err(log, "%s: no such file", spec);
		return -ENOENT;
	}
	return open_by_name(spec, log, ret);
}
