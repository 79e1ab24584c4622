// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm btf: the guest kernel's BTF, found in its memory. -o FILE saves the raw blob (the bytes of
 * /sys/kernel/btf/vmlinux): keep it next to a dump, give it to --btf, or to bpftool.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int save(const char *path, const void *data, size_t size)
{
	const char *p = data;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	while (size) {
		ssize_t n = write(fd, p, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? -errno : -EIO;

			close(fd);
			return err;
		}
		p += n;
		size -= (size_t)n;
	}
	return close(fd) < 0 ? -errno : 0;
}

int cmd_btf(struct cli *cli, int argc, char **argv)
{
	const char *out = NULL;
	struct nfm_kernel_info ki;
	const void *data;
	size_t size;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else
			return cli_fail("usage: nfm btf [-j] [-o FILE]");
	}
	if (cli_attach(cli))
		return 1;
	ret = nfm_ctx_kernel_info(cli->ctx, &ki);
	if (ret == 0)
		ret = nfm_btf_raw(cli->ctx, &data, &size);
	if (ret < 0)
		return cli_fail("cannot get the guest's BTF: %s", strerror(-ret));
	if (out) {
		ret = save(out, data, size);
		if (ret < 0)
			return cli_fail("%s: %s", out, strerror(-ret));
	}
	if (cli->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "types", json_object_new_int64((int64_t)ki.nr_btf_types));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)size));
		json_object_object_add(o, "from", json_object_new_string(ki.btf_how));
		if (out)
			json_object_object_add(o, "saved_to", json_object_new_string(out));
		return cli_print_json(cli, o);
	}
	printf("BTF: %" PRIu64 " types, %zu bytes, from %s%s%s\n", ki.nr_btf_types, size,
	       ki.btf_how, out ? "; saved to " : "", out ? cli_esc(out) : "");
	return 0;
}

const struct command command_btf = {
	.name = "btf",
	.summary = "the kernel's BTF from guest memory (-o: save it, for --btf)",
	.usage = "[-j] [-o FILE]",
	.run = cmd_btf,
};
