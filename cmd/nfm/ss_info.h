/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ss -i's text (ss_info.c). */
#ifndef NFM_CMD_SS_INFO_H
#define NFM_CMD_SS_INFO_H

#include <stddef.h>

struct nfm_tcp_info;

/* iproute2's TCP info line for t ("ts sack cubic wscale:7,7 rto:204 ..."), without the tab. */
void ss_info_text(const struct nfm_tcp_info *t, char *buf, size_t size);

#endif
