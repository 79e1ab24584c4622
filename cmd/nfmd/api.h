/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The JSON API's documents, built from the VM table (HTTP is http.c's). */
#ifndef NFMD_API_H
#define NFMD_API_H

#include <json-c/json.h>

#include "vms.h"

/* GET /: what is served. */
struct json_object *api_index(void);
/* GET /api/v1/vms: every VM watched. */
struct json_object *api_vms(const struct vm_table *vms);
/* GET /api/v1/vms/NAME: one VM's latest frame. */
struct json_object *api_vm(const struct vm *vm);
/* The VM's topology frame (topo_frames.h), NULL before its first socket list. */
struct json_object *api_topology_frame(const struct vm *vm);
/*
 * The topology join (cmd/common/topo.h, by VM) over the watched VMs' latest socket lists: one
 * frame per VM whose latest net section has them, frame i being (*ret_vms)[i]. 0 and *g (free
 * with topo_graph_free) and *ret_vms (free()), or -errno.
 */
struct topo_graph;
int api_topology_graph(const struct vm_table *vms, struct topo_graph **g,
		       const struct vm ***ret_vms, int *nr);
/* GET /api/topology: `nfm topo -j`'s document (doc/schema/docs/topo.json) over those VMs. */
struct json_object *api_topology(const struct vm_table *vms);
/* GET /api/topology/svg: that graph drawn by Graphviz (topo_svg.h); 0 and *svg (free()), -errno. */
int api_topology_svg(const struct vm_table *vms, char **svg, size_t *len);
/* GET /api/topology/frames: nfmd.topology_frames, each VM's sockets the join uses. */
struct json_object *api_topology_frames(const struct vm_table *vms);
/* The body of an error response. */
struct json_object *api_error(unsigned int http_status, const char *msg);

#endif
