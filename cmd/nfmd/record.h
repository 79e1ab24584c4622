/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nfmd --record DIR: each recorded VM's store, DIR/NAME (doc/history.md), holds its state
 * timeline (one frame per published crawl: the VM's API document, a key frame every
 * FRAME_KEY_EVERY, else a delta against the frame before) and, with --record-every, memory
 * snapshots as `nfm record` takes them. `nfm timeline DIR/NAME`, `nfm --at DIR/NAME@WHEN CMD`
 * and `nfm snapshots DIR/NAME` read it.
 *
 * Threads: the main thread builds each frame when it publishes a crawl (it owns the published
 * sections) and hands the text to the VM's next job; the worker running that job writes it,
 * and takes a snapshot when one is due, so only the thread that owns the VM's guest touches its
 * store. A frame that could not be written breaks the chain of deltas: the next one is a key.
 */
#ifndef NFMD_RECORD_H
#define NFMD_RECORD_H

#include <stdbool.h>

#include <json-c/json.h>

#include "config.h"
#include "log.h"
#include "vms.h"

/* Is vm recorded (--record set and its name matching --record-vm)? */
bool record_wanted(const struct nfmd_config *cfg, const struct vm *vm);

/* Main thread, after a crawl of vm was published: queue doc (the VM's API document; the caller
 * keeps its reference) as the next frame of its timeline. */
void record_queue_frame(const struct nfmd_config *cfg, struct vm *vm, struct json_object *doc);

/* Main thread, when a worker could not write vm's frames: the next frame is a key frame. */
void record_chain_broken(struct vm *vm);

/*
 * Worker (owns vm's guest): write the frames handed over in *frames (freed, *frames = NULL);
 * then, with --record-every and an attached guest, a memory snapshot when one is due. Returns 0,
 * or -errno with a line in msg (frames lost or a failed snapshot).
 */
int record_run(struct vm *vm, struct record_frame **frames, const struct nfmd_config *cfg,
	       const struct nfmd_log *log, char *msg, size_t msgsz);

/* Free a list of frames not written. */
void record_frames_free(struct record_frame *f);

/* Main thread at shutdown, with every worker stopped: write each VM's frames still queued. */
void record_flush(struct vm_table *vms, const struct nfmd_config *cfg, const struct nfmd_log *log);

#endif
