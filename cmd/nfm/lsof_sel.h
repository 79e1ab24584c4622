/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lsof's -p, -u and -i selections (lsof_sel.c): pids (^PID excludes), users by name or uid, and
 * internet sockets matched by inode against the guest's socket list. */
#ifndef NFM_LSOF_SEL_H
#define NFM_LSOF_SEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nfm/system.h>
#include <nfm/task.h>

#include "cli.h"

#define LSOF_USERS_MAX 32
#define LSOF_PIDS_MAX 64

struct lsof_sel {
	bool on;			/* -i given */
	int family;			/* 0, AF_INET, AF_INET6 */
	int proto;			/* 0, IPPROTO_TCP, IPPROTO_UDP */
	int addr_family;		/* 0: any address */
	uint8_t addr[16];
	unsigned int port_lo, port_hi;	/* 0, 0: any port */
	int32_t pids[LSOF_PIDS_MAX];	/* -p PID,... */
	bool pid_seen[LSOF_PIDS_MAX];
	int nr_pids;
	int32_t xpids[LSOF_PIDS_MAX];	/* -p ^PID,...: never listed */
	int nr_xpids;
	uint32_t users[LSOF_USERS_MAX];
	int nr_users;
	struct nfm_socket *socks;	/* sorted by inode */
	int nr_socks;
};

/* Whether word looks like an -i argument (lsof takes it as the next word too). */
bool lsof_inet_word(const char *word);
/* Parse "[46][PROTO][@ADDR][:PORT[-PORT]]" (NULL: every internet socket); 0 or -1. */
int lsof_inet_parse(struct lsof_sel *s, const char *spec);
/* -p [^]PID,... (repeatable): 0, or -1 for a word that is not a pid or too many. */
int lsof_pids_parse(struct lsof_sel *s, const char *list);
bool lsof_pid_excluded(const struct lsof_sel *s, int32_t pid);
/* Is pid selected by -p? (and remember that it was found) */
bool lsof_pid_match(struct lsof_sel *s, int32_t pid);
/* -u USER,...: names through the guest's /etc/passwd, or numbers; 0, or a usage error (2). */
int lsof_users_parse(struct cli *cli, const char *list, struct lsof_sel *s);
bool lsof_user_match(const struct lsof_sel *s, uint32_t uid);
/* Read the guest's sockets; 0 or 1 after saying why. */
int lsof_inet_load(struct cli *cli, struct lsof_sel *s);
/* The NAME lsof prints for f when it is an internet socket -i selects, else NULL. */
const char *lsof_inet_match(const struct lsof_sel *s, const struct nfm_fd *f, char *buf,
			    size_t size);
void lsof_inet_free(struct lsof_sel *s);

#endif
