/* SPDX-License-Identifier: GPL-2.0-or-later */
/* iproute2's text and JSON forms for nfm ip (ip_show.c; cmd_ip.c owns the flags and names). */
#ifndef NFM_IP_SHOW_H
#define NFM_IP_SHOW_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include <nfm/system.h>

#include "cli.h"

#define IP_IFA_F_PERMANENT 0x80

/* ip route / ip neigh of the main table, every namespace; json: iproute2's array. */
int ip_route_show(struct cli *cli, int family, bool json);
int ip_neigh_show(struct cli *cli, int family, bool json);

/* Attach and read the tables (cmd_route.c, cmd_arp.c): the count, or -1 after saying why on
 * stderr; a warning too when the list was cut short. */
int route_load(struct cli *cli, struct nfm_route **rs, bool *trunc);
int neigh_load(struct cli *cli, struct nfm_neigh **ns, bool *trunc);

/* Whether ip -4/-6 shows the interface (it has an address of that family; 0: any). */
bool ip_dev_wanted(const struct nfm_netdev *d, int family);
/* One ip -br link / -br addr line. */
void ip_brief(const struct nfm_netdev *d, bool addrs, int family, const char *state);
/* One interface of ip -J link / addr (flags: the names array, owned by the result). */
struct json_object *ip_json_dev(const struct nfm_netdev *d, bool addrs, int family,
				const char *state, struct json_object *flags);

const char *ip_scope_name(int s, char *buf);
/* A link-layer address as iproute2 prints it into buf (IP_HW_MAX bytes): hex bytes with ':', or a
 * tunnel's IPv4/IPv6 address (ARPHRD_SIT, _TUNNEL, _IPGRE; _TUNNEL6, _IP6GRE). */
#define IP_HW_MAX (3 * 32 + 1)
void ip_hw(unsigned int type, const uint8_t *a, int len, char *buf);
/* "<FLAG,...>", the same as a JSON array of names, and the link/TYPE name. */
void ip_flags_print(unsigned int flags);
struct json_object *ip_flags_json(unsigned int flags);
const char *ip_link_type(unsigned int type);

#endif
