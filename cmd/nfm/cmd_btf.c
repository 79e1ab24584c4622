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
#include "jout.h"

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

static int cmd_btf(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ 0 }
	};
	const char *out = NULL;
	struct nfm_kernel_info ki;
	const void *data;
	size_t size;
	int ret, c;

	while ((c = cli_getopt(cli, argc, argv, "o:", longopts)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		default:
			return cli_opt_status(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "no arguments expected");
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
			return cli_fail("%s: %s", cli_esc(out), strerror(-ret));
	}
	if (cli->json) {
		struct json_object *doc = jdoc_new("btf");

		j_add(doc, "nr_btf_types", j_u64(ki.nr_btf_types));
		j_add(doc, "size_bytes", j_u64(size));
		j_add(doc, "from", j_strn(ki.btf_how, sizeof(ki.btf_how)));
		if (out)
			j_add(doc, "saved_to", j_str(out));
		return cli_print_json(cli, doc);
	}
	if (printf("BTF: %" PRIu64 " types, %zu bytes, from %s%s%s\n", ki.nr_btf_types, size,
		   ki.btf_how, out ? "; saved to " : "", out ? cli_esc(out) : "") < 0)
		return 1;
	return 0;
}

const struct command command_btf = {
	.name = "btf",
	.summary = "the kernel's BTF from guest memory (-o: save it, for --btf)",
	.usage = "[-j] [-o FILE]",
	.help = "  -o, --output FILE   save the raw BTF (the bytes of /sys/kernel/btf/vmlinux) to FILE\n",
	.run = cmd_btf,
};
