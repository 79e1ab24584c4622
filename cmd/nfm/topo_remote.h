/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NFM_TOPO_REMOTE_H
#define NFM_TOPO_REMOTE_H

#include "topo_frames.h"

/*
 * The frames of every VM the nfmd instances of list ("HOST:PORT,...", at most 64) watch, in
 * the order of the list and of each nfmd's answer. A host that cannot be asked is one frame
 * named HOST:PORT, incomplete, with the reason. 0 and *ret (free each store, then the array),
 * -E2BIG, -ENOMEM.
 */
int topo_remote_fetch(const char *list, struct topo_frame_store **ret, int *nr);

#endif
