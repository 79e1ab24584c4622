// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm lab: allocate and touch memory until the OOM killer ends this process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	for (unsigned long mb = 0;; mb++) {
		char *p = malloc(1 << 20);

		if (!p) {
			fprintf(stderr, "nfm-hog: malloc failed after %lu MiB\n", mb);
			pause();
		}
		memset(p, 0x5a, 1 << 20);
	}
}
