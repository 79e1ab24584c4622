/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NFM_CMD_TOPO_SVG_H
#define NFM_CMD_TOPO_SVG_H

#include <stddef.h>

#include "topo.h"

/*
 * The graph as SVG, drawn by Graphviz's dot (Debian graphviz) from topo_dot's text: 0 and
 * *out (NUL-terminated, free()) of *len bytes; -ENOENT when dot cannot be run, -EIO when it
 * fails or says nothing, -ETIMEDOUT after 20 s (killed), -ENOMEM. Safe in a threaded server:
 * posix_spawn, the DOT text handed over in a memfd (no pipe to write while reading another).
 */
int topo_svg(const struct topo_graph *g, char **out, size_t *len);

#endif
