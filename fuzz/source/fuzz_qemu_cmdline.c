// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz the QEMU command-line parser (NUL-separated argv, as /proc/PID/cmdline) and the
 * text parsers of the live backend (info mtree -f, gpa2hva, /proc/PID/maps). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "source/qemu.h"
#include "source/qemu_cmdline.h"
#include "source/qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nfm_qemu_cmdline cl;
	struct nfm_qmp_ram *ram;
	struct nfm_qemu_map *maps;
	uint64_t below, above, hva;
	char *text;
	int n;

	if (!nfm_qemu_cmdline_parse_buf((const char *)data, size, &cl))
		nfm_qemu_ram_split(&cl, &below, &above);
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	n = nfm_qmp_parse_mtree(text, NULL, &ram);
	if (n > 0)
		free(ram);
	nfm_qmp_parse_gpa2hva(text, &hva);
	n = nfm_qemu_parse_maps(text, &maps);
	if (n >= 0) {
		size_t idx;

		nfm_qemu_find_ram_map(maps, n, 1 << 30, NULL, &idx);
		free(maps);
	}
	free(text);
	return 0;
}
