/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NFM_TOPO_STORE_H
#define NFM_TOPO_STORE_H

#include <stdint.h>

#include <nfm/nfm.h>

#include "topo_frames.h"

/*
 * nfm topo --since with --store: the window's socket states read from recorded state timelines
 * (nfm record --frames, nfmd --record) instead of sampled from now on. Each VM's frames are
 * rebuilt (key frame and deltas), reduced to what the join needs (its addresses, its TCP and
 * UDP sockets with their owners: the object of topo_frame_json) and kept only where that
 * changed, so a window is as many joins as it had changes.
 */
struct topo_rec_state {
	int64_t time_ns;		/* the frame's time; the window's start for the state in force then */
	struct topo_frame_store fs;
};

struct topo_rec_vm {
	char dir[512];
	struct topo_rec_state *st;	/* time order */
	int n, cap;
	char *last;			/* the last state's JSON text: a frame equal to it adds nothing */
	bool cut;			/* past TOPO_REC_MAX_STATES or _SOCKETS: the rest left out */
};

#define TOPO_REC_MAX_STATES 100000
/* Sockets kept over every state of every VM (~300 bytes each): a store's frames are bounded one
 * by one, not in sum. Past it, as past TOPO_REC_MAX_STATES, the rest is left out (cut). */
#define TOPO_REC_MAX_SOCKETS 1000000
#define TOPO_REC_MAX_STORES 1024

/*
 * dir: a store, or a directory of stores one level down (nfmd --record's DIR/NAME). The states
 * in [from_ns, to_ns], and the one in force at from_ns. 0 and *ret (topo_store_free), or -errno
 * with the reason in err (a store that does not open, a frame that does not decode).
 */
int topo_store_load(const struct nfm_log *log, const char *dir, int64_t from_ns, int64_t to_ns,
		    struct topo_rec_vm **ret, int *nr, char *err, size_t errsize);
void topo_store_free(struct topo_rec_vm *v, int n);

#endif
