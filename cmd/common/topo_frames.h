/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TopoLog's frames as JSON (nfmd GET /api/topology/frames, nfm topo --remote): what the join
 * needs of each VM (doc/schema/docs/nfmd.topology_frames.json): its addresses, and its
 * listeners and connections with their owners and TCP byte counters. A graph merged from
 * several nfmd is then joined from frames, exactly as one nfm joins the VMs it reads itself
 * (the graphs of the nfmd instances could not be merged: a connection between VMs of two
 * hosts is, in each host's graph, an edge to an external address).
 */
#ifndef NFM_CMD_TOPO_FRAMES_H
#define NFM_CMD_TOPO_FRAMES_H

#include <json-c/json.h>
#include <stddef.h>

#include "topo.h"

/* One frame's VM object: {"vm", "complete", "error"?, "addresses", "sockets"}. */
struct json_object *topo_frame_json(const struct topo_frame *f);

/* A frame parsed back: owns its arrays (topo_frame_store_free). */
struct topo_frame_store {
	char vm[128];
	char error[256];
	struct nfm_socket *socks;
	struct nfm_netdev *devs;	/* one pseudo-device holding the addresses, 32 per device */
	uint64_t (*bytes)[2];
	struct topo_frame frame;	/* points into the above */
};

/*
 * Parse one VM object; every count and string bounded (an nfmd is not trusted more than a
 * guest). 0, or -EBADMSG with a reason in err, -ENOMEM.
 */
int topo_frame_parse(struct json_object *o, struct topo_frame_store *out, char *err, size_t errsize);
void topo_frame_store_free(struct topo_frame_store *s);

#endif
