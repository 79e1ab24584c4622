// SPDX-License-Identifier: GPL-2.0-or-later
/* lsof -u and -i: which processes and which sockets lsof would select, and -i's NAME column. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guest_users.h"
#include "lsof_sel.h"

bool lsof_inet_word(const char *w)
{
	return w[0] == '4' || w[0] == '6' || w[0] == '@' || w[0] == ':' ||
	       !strncasecmp(w, "tcp", 3) || !strncasecmp(w, "udp", 3);
}

static int port_parse(const char *p, unsigned int *v)
{
	char *end;
	unsigned long n = strtoul(p, &end, 10);

	if (!isdigit((unsigned char)p[0]) || n > 65535)
		return -1;
	*v = (unsigned int)n;
	return (int)(end - p);
}

int lsof_inet_parse(struct lsof_sel *s, const char *spec)
{
	const char *p = spec;
	char addr[INET6_ADDRSTRLEN + 2];
	size_t n;
	int k;

	s->on = true;
	if (!p)
		return 0;
	if (*p == '4' || *p == '6')
		s->family = *p++ == '4' ? AF_INET : AF_INET6;
	if (!strncasecmp(p, "tcp", 3) || !strncasecmp(p, "udp", 3)) {
		s->proto = tolower((unsigned char)*p) == 't' ? IPPROTO_TCP : IPPROTO_UDP;
		p += 3;
	}
	if (*p == '@') {
		p++;
		/* [v6] or v4, up to the port */
		n = *p == '[' ? strcspn(p, "]") + 1 : strcspn(p, ":");
		if (n < 2 || n >= sizeof(addr))
			return -1;
		memcpy(addr, p[0] == '[' ? p + 1 : p, p[0] == '[' ? n - 2 : n);
		addr[p[0] == '[' ? n - 2 : n] = 0;
		p += n;
		s->addr_family = strchr(addr, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(s->addr_family, addr, s->addr) != 1)
			return -1;
	}
	if (*p == ':') {
		if ((k = port_parse(++p, &s->port_lo)) < 0)
			return -1;
		p += k;
		s->port_hi = s->port_lo;
		if (*p == '-') {
			if ((k = port_parse(++p, &s->port_hi)) < 0 || s->port_hi < s->port_lo)
				return -1;
			p += k;
		}
	}
	return *p ? -1 : 0;
}

int lsof_pids_parse(struct lsof_sel *s, const char *list)
{
	const char *p = list;

	if (!*p)
		return -1;
	while (*p) {
		bool not = *p == '^';
		char *end;
		long v;

		p += not;
		if (!isdigit((unsigned char)*p))
			return -1;
		v = strtol(p, &end, 10);
		if (v <= 0 || v > 4194304 || (*end && *end != ',') ||
		    (not ? s->nr_xpids : s->nr_pids) == LSOF_PIDS_MAX)
			return -1;
		if (not)
			s->xpids[s->nr_xpids++] = (int32_t)v;
		else
			s->pids[s->nr_pids++] = (int32_t)v;
		p = end + (*end == ',');
	}
	return 0;
}

bool lsof_pid_excluded(const struct lsof_sel *s, int32_t pid)
{
	for (int i = 0; i < s->nr_xpids; i++)
		if (s->xpids[i] == pid)
			return true;
	return false;
}

bool lsof_pid_match(struct lsof_sel *s, int32_t pid)
{
	bool hit = false;

	for (int i = 0; i < s->nr_pids; i++)
		if (s->pids[i] == pid)
			hit = s->pid_seen[i] = true;
	return hit;
}

int lsof_users_parse(struct cli *cli, const char *list, struct lsof_sel *s)
{
	char name[GUEST_NAME_MAX], *end;
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");
		unsigned long v;

		if (!n || n >= sizeof(name) || s->nr_users == LSOF_USERS_MAX)
			return cli_usage_error(cli, "not a user list: '%s'", cli_esc(list));
		memcpy(name, p, n);
		name[n] = 0;
		v = strtoul(name, &end, 10);
		if (isdigit((unsigned char)name[0]) && !*end && v <= 0xffffffffu)
			s->users[s->nr_users++] = (uint32_t)v;
		else if (guest_user_id(cli->ctx, name, &s->users[s->nr_users]) == 0)
			s->nr_users++;
		else
			return cli_usage_error(cli, "user '%s' is not in the guest's cached /etc/passwd",
					       cli_esc(name));
		p += n + (p[n] == ',');
	}
	return 0;
}

bool lsof_user_match(const struct lsof_sel *s, uint32_t uid)
{
	for (int i = 0; i < s->nr_users; i++)
		if (s->users[i] == uid)
			return true;
	return false;
}

static int by_inode(const void *a, const void *b)
{
	uint64_t x = ((const struct nfm_socket *)a)->inode, y = ((const struct nfm_socket *)b)->inode;

	return x < y ? -1 : x > y;
}

int lsof_inet_load(struct cli *cli, struct lsof_sel *s)
{
	bool trunc = false;
	int n = nfm_socket_list(cli->ctx, &s->socks, &trunc);

	if (n < 0)
		return cli_fail("cannot list the guest's sockets: %s",
				cli->last_error[0] ? cli->last_error : strerror(-n));
	/* only the inodes are used: owners cut short do not matter here */
	s->nr_socks = n;
	if (n)
		qsort(s->socks, (size_t)n, sizeof(*s->socks), by_inode);
	return 0;
}

static void endpoint(int family, const uint8_t *a, unsigned int port, char *buf, size_t size)
{
	static const uint8_t zero[16];
	char ip[INET6_ADDRSTRLEN];

	if (!memcmp(a, zero, family == AF_INET ? 4 : 16))
		strcpy(ip, "*");
	else if (!inet_ntop(family, a, ip, sizeof(ip)))
		strcpy(ip, "?");
	if (port)
		snprintf(buf, size, family == AF_INET6 && ip[0] != '*' ? "[%s]:%u" : "%s:%u", ip,
			 port);
	else
		snprintf(buf, size, family == AF_INET6 && ip[0] != '*' ? "[%s]:*" : "%s:*", ip);
}

static bool port_in(const struct lsof_sel *s, const struct nfm_socket *k)
{
	if (!s->port_lo && !s->port_hi)
		return true;
	return (k->lport >= s->port_lo && k->lport <= s->port_hi) ||
	       (k->rport && k->rport >= s->port_lo && k->rport <= s->port_hi);
}

static bool addr_in(const struct lsof_sel *s, const struct nfm_socket *k)
{
	size_t len = s->addr_family == AF_INET ? 4 : 16;

	return !s->addr_family || (k->family == s->addr_family &&
				   (!memcmp(k->laddr, s->addr, len) || !memcmp(k->raddr, s->addr, len)));
}

const char *lsof_inet_match(const struct lsof_sel *s, const struct nfm_fd *f, char *buf,
			    size_t size)
{
	/* lsof's names of the TCP states (tcp_states.h order) */
	static const char *const st[] = { NULL, "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
					  "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT",
					  "LAST_ACK", "LISTEN", "CLOSING" };
	struct nfm_socket key = { .inode = f->ino };
	const struct nfm_socket *k;
	char l[64], r[64];
	int n;

	if (strcmp(f->type, "SOCK") || (f->sock_family != AF_INET && f->sock_family != AF_INET6) ||
	    !s->nr_socks)
		return NULL;
	k = bsearch(&key, s->socks, (size_t)s->nr_socks, sizeof(*s->socks), by_inode);
	if (!k || (k->family != AF_INET && k->family != AF_INET6) ||
	    (s->family && k->family != s->family) || (s->proto && k->protocol != s->proto) ||
	    !port_in(s, k) || !addr_in(s, k))
		return NULL;
	endpoint(k->family, k->laddr, k->lport, l, sizeof(l));
	n = snprintf(buf, size, "%s", l);
	if (k->rport) {
		endpoint(k->family, k->raddr, k->rport, r, sizeof(r));
		n += snprintf(buf + n, size - (size_t)n, "->%s", r);
	}
	if (k->protocol == IPPROTO_TCP && k->state > 0 && k->state <= 11 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, " (%s)", st[k->state]);
	return buf;
}

void lsof_inet_free(struct lsof_sel *s)
{
	free(s->socks);
	s->socks = NULL;
	s->nr_socks = 0;
}
