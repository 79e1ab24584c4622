// SPDX-License-Identifier: GPL-2.0-or-later
/* State shared by the kernel walkers: offsets resolved once per attach (filled by later walkers). */
#include <stdlib.h>

#include "kernel/kernel.h"

void nfm_kernel_free(struct nfm_kernel *l)
{
	free(l);
}
