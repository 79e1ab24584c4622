// SPDX-License-Identifier: GPL-2.0-or-later
/* nfmd --record: each VM's state timeline and memory snapshots (record.h, doc/history.md). */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nfm/history.h>

#include "frames.h"
#include "record.h"
#include "util.h"

/* Frames built while the VM's jobs cannot take them (a long attach, say) wait at most this many;
 * past it the queue is dropped and the chain starts again at a key frame. */
#define QUEUE_MAX 64

bool record_wanted(const struct nfmd_config *cfg, const struct vm *vm)
{
	return cfg->record_dir && (!cfg->record_only || fnmatch(cfg->record_only, vm->name, 0) == 0);
}

void record_frames_free(struct record_frame *f)
{
	struct record_frame *next;

	for (; f; f = next) {
		next = f->next;
		free(f->text);
		free(f);
	}
}

void record_chain_broken(struct vm *vm)
{
	json_object_put(vm->rec_prev);
	vm->rec_prev = NULL;
}

void record_queue_frame(const struct nfmd_config *cfg, struct vm *vm, struct json_object *doc)
{
	bool key = !vm->rec_prev || vm->rec_n % FRAME_KEY_EVERY == 0;
	struct json_object *d = key ? json_object_get(doc) : frame_delta(vm->rec_prev, doc);
	struct record_frame *f, **tail;
	size_t n = 0;

	if (!record_wanted(cfg, vm))
		return;
	for (tail = &vm->rec_queue; *tail; tail = &(*tail)->next)
		n++;
	f = d && n < QUEUE_MAX ? calloc(1, sizeof(*f)) : NULL;
	if (f)
		f->text = strdup(json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN));
	json_object_put(d);
	if (!f || !f->text) {
		free(f);
		record_frames_free(vm->rec_queue);
		vm->rec_queue = NULL;
		record_chain_broken(vm);
		return;
	}
	f->key = key;
	f->time_ns = (int64_t)(now_real() * 1e9);
	*tail = f;
	vm->rec_n = key ? 1 : vm->rec_n + 1;
	json_object_put(vm->rec_prev);
	vm->rec_prev = json_object_get(doc);
}

/* DIR/NAME with the name made a safe file name (a guest-independent but user-given string). */
static int open_store(struct vm *vm, const struct nfmd_config *cfg, char *msg, size_t msgsz)
{
	struct guest_record *r = &vm->g.rec;
	char path[4096], name[sizeof(vm->name)];
	size_t i;
	int err;

	if (r->store)
		return 0;
	for (i = 0; vm->name[i] && i + 1 < sizeof(name); i++) {
		char c = vm->name[i];

		name[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '-' || c == '_' || (c == '.' && i) ? c : '_';
	}
	name[i] = 0;
	if (mkdir(cfg->record_dir, 0750) < 0 && errno != EEXIST) {
		snprintf(msg, msgsz, "--record %s: %s", cfg->record_dir, strerror(errno));
		return -errno;
	}
	snprintf(path, sizeof(path), "%s/%s", cfg->record_dir, name);
	err = nfm_store_open(path, NFM_STORE_WRITE | NFM_STORE_CREATE, &vm->g.log, &r->store);
	if (err) {
		snprintf(msg, msgsz, "recording into %s: %s", path,
			 vm->g.last_error[0] ? vm->g.last_error : strerror(-err));
		r->store = NULL;
	}
	return err;
}

static int write_frames(struct vm *vm, struct record_frame *f, const struct nfmd_config *cfg,
			char *msg, size_t msgsz)
{
	int64_t keep = (int64_t)(cfg->record_keep * 1e9);
	int err = 0;

	for (; f && !err; f = f->next) {
		err = nfm_store_frame_add(vm->g.rec.store, f->time_ns, f->key, f->text,
					  strlen(f->text), keep);
		if (err)
			snprintf(msg, msgsz, "the state timeline: %s", strerror(-err));
		else
			vm->g.rec.frames++;
	}
	return err;
}

static int snapshot(struct vm *vm, const struct nfmd_config *cfg, char *msg, size_t msgsz)
{
	struct guest_record *r = &vm->g.rec;
	struct nfm_kernel_info ki;
	struct nfm_snapshot_info in;
	int err;

	if (!r->rec) {
		NFM_OPTS(nfm_record_opts, ro);

		if (nfm_ctx_kernel_info(vm->g.ctx, &ki) == 0)
			ro.vmcoreinfo_pa = ki.vmcoreinfo_pa;
		err = nfm_recorder_new(r->store, vm->g.src, &ro, &vm->g.log, &r->rec);
		if (err) {
			r->rec = NULL;
			snprintf(msg, msgsz, "snapshot recorder: %s",
				 vm->g.last_error[0] ? vm->g.last_error : strerror(-err));
			return err;
		}
	}
	err = nfm_recorder_snap(r->rec, &in, NULL);
	if (err) {
		snprintf(msg, msgsz, "snapshot: %s", err == -ENOSPC ? "the disk is full" :
			 vm->g.last_error[0] ? vm->g.last_error : strerror(-err));
		return err;
	}
	r->snapshots++;
	if (cfg->record_keep > 0 || cfg->record_max_bytes)
		nfm_store_retain(r->store, (int64_t)(cfg->record_keep * 1e9), cfg->record_max_bytes,
				 (int64_t)(now_real() * 1e9), NULL);
	return 0;
}

int record_run(struct vm *vm, struct record_frame **frames, const struct nfmd_config *cfg,
	       const struct nfmd_log *log, char *msg, size_t msgsz)
{
	struct guest_record *r = &vm->g.rec;
	double now = now_mono();
	int err = 0;

	(void)log;
	if (!*frames && !(cfg->record_every > 0 && vm->g.ctx && now >= r->next_snap))
		return 0;
	err = open_store(vm, cfg, msg, msgsz);
	if (!err)
		err = write_frames(vm, *frames, cfg, msg, msgsz);
	record_frames_free(*frames);
	*frames = NULL;
	if (!err && cfg->record_every > 0 && vm->g.ctx && now >= r->next_snap) {
		err = snapshot(vm, cfg, msg, msgsz);
		/* the next one an interval after this one ended: a slow sync does not pile up */
		r->next_snap = now_mono() + cfg->record_every;
	}
	if (err) {
		r->errors++;
		snprintf(r->error, sizeof(r->error), "%s", msg);
	} else {
		r->error[0] = 0;
	}
	return err;
}

void record_flush(struct vm_table *vms, const struct nfmd_config *cfg, const struct nfmd_log *log)
{
	char msg[256];

	for (struct vm *vm = vms->head; vm; vm = vm->next) {
		struct record_frame *q = vm->rec_queue;

		if (!q)
			continue;
		vm->rec_queue = NULL;
		if (open_store(vm, cfg, msg, sizeof(msg)) || write_frames(vm, q, cfg, msg, sizeof(msg)))
			logmsg(log, NFM_LOG_WARN, "vm %s: %s", vm->label_vm, msg);
		record_frames_free(q);
	}
}
