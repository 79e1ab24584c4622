// SPDX-License-Identifier: GPL-2.0-or-later
/* nfm ss (and netstat): TCP, UDP and UNIX sockets of every namespace, with their processes. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nfm/system.h>

#include "cli.h"

#define SO_ACCEPTCON_ (1u << 16)

static const char *const tcp_states[] = {
	"UNKNOWN", "ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT",
	"UNCONN", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING", "NEW-SYN-RECV",
};

static const char *netid(const struct nfm_socket *s)
{
	if (s->family == AF_UNIX)
		return s->type == SOCK_STREAM ? "u_str" : s->type == SOCK_DGRAM ? "u_dgr" :
		       s->type == SOCK_SEQPACKET ? "u_seq" : "u_???";
	if (s->protocol == IPPROTO_TCP)
		return s->family == AF_INET6 ? "tcp6" : "tcp";
	return s->family == AF_INET6 ? "udp6" : "udp";
}

static const char *state_name(const struct nfm_socket *s)
{
	if (s->family == AF_UNIX)
		return s->unix_flags & SO_ACCEPTCON_ ? "LISTEN" : s->state == 3 ? "ESTAB" : "UNCONN";
	return s->state >= 0 && s->state <= 12 ? tcp_states[s->state] : "UNKNOWN";
}

/* "addr:port" as ss prints it ([v6]:port, * for a wildcard port). */
static void endpoint(const struct nfm_socket *s, bool local, char *buf, size_t size)
{
	const uint8_t *a = local ? s->laddr : s->raddr;
	uint16_t port = local ? s->lport : s->rport;
	char ip[INET6_ADDRSTRLEN], p[8];

	if (s->family == AF_UNIX) {
		snprintf(buf, size, "%s", local ? (s->path_len ? cli_esc(s->path) : "*") : "*");
		return;
	}
	inet_ntop(s->family, a, ip, sizeof(ip));
	snprintf(p, sizeof(p), port ? "%u" : "*", port);
	snprintf(buf, size, s->family == AF_INET6 ? "[%s]:%s" : "%s:%s", ip, p);
}

/* The address column of /proc/net/tcp*: the words as the kernel prints them (%08X each). */
static void proc_addr(const struct nfm_socket *s, bool local, char *buf)
{
	const uint8_t *a = local ? s->laddr : s->raddr;
	uint32_t w[4];
	int i, n = s->family == AF_INET6 ? 4 : 1;

	memcpy(w, a, 16);
	for (i = 0; i < n; i++)
		sprintf(buf + 8 * i, "%08X", w[i]);
	sprintf(buf + 8 * n, ":%04X", local ? s->lport : s->rport);
}

static struct json_object *sock_json(const struct nfm_socket *s)
{
	struct json_object *o = json_object_new_object(), *ow = json_object_new_array();
	char b[160];
	int i;

	json_object_object_add(o, "netid", json_object_new_string(netid(s)));
	json_object_object_add(o, "netns", json_object_new_int64(s->netns));
	json_object_object_add(o, "family", json_object_new_int(s->family));
	json_object_object_add(o, "protocol", json_object_new_int(s->protocol));
	json_object_object_add(o, "type", json_object_new_int(s->type));
	json_object_object_add(o, "state", json_object_new_string(state_name(s)));
	json_object_object_add(o, "state_raw", json_object_new_int(s->state));
	if (s->family == AF_UNIX) {
		json_object_object_add(o, "path", cli_json_bytes(s->path, (size_t)s->path_len));
		json_object_object_add(o, "flags", json_object_new_int64(s->unix_flags));
	} else {
		inet_ntop(s->family, s->laddr, b, sizeof(b));
		json_object_object_add(o, "local", json_object_new_string(b));
		json_object_object_add(o, "lport", json_object_new_int(s->lport));
		inet_ntop(s->family, s->raddr, b, sizeof(b));
		json_object_object_add(o, "remote", json_object_new_string(b));
		json_object_object_add(o, "rport", json_object_new_int(s->rport));
		proc_addr(s, true, b);
		json_object_object_add(o, "proc_local", json_object_new_string(b));
		proc_addr(s, false, b);
		json_object_object_add(o, "proc_remote", json_object_new_string(b));
		json_object_object_add(o, "uid", json_object_new_int64(s->uid));
	}
	json_object_object_add(o, "rx_queue", json_object_new_int64(s->rx_queue));
	json_object_object_add(o, "tx_queue", json_object_new_int64(s->tx_queue));
	json_object_object_add(o, "inode", json_object_new_int64((int64_t)s->inode));
	for (i = 0; i < s->nr_owners && i < NFM_SOCK_MAX_OWNERS; i++) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "pid", json_object_new_int(s->owner_pid[i]));
		json_object_object_add(x, "comm", cli_json_bytes(s->owner_comm[i],
								 strlen(s->owner_comm[i])));
		json_object_array_add(ow, x);
	}
	json_object_object_add(o, "owners", ow);
	json_object_object_add(o, "nr_owners", json_object_new_int(s->nr_owners));
	snprintf(b, sizeof(b), "0x%016" PRIx64, s->sk);
	json_object_object_add(o, "sk", json_object_new_string(b));
	return o;
}

static void sock_text(const struct nfm_socket *s)
{
	char l[160], r[160];
	int i;

	endpoint(s, true, l, sizeof(l));
	endpoint(s, false, r, sizeof(r));
	printf("%-6s %-10s %6u %6u %-40s %-40s %8" PRIu64, netid(s), state_name(s), s->rx_queue,
	       s->tx_queue, l, r, s->inode);
	if (s->nr_owners) {
		printf(" users:(");
		for (i = 0; i < s->nr_owners && i < NFM_SOCK_MAX_OWNERS; i++)
			printf("%s(\"%s\",pid=%d)", i ? "," : "", cli_esc(s->owner_comm[i]),
			       s->owner_pid[i]);
		if (s->nr_owners > NFM_SOCK_MAX_OWNERS)
			printf(",...");
		printf(")");
	}
	printf("\n");
}

int cmd_ss(struct cli *cli, int argc, char **argv)
{
	struct nfm_socket *socks;
	bool tcp = false, udp = false, unx = false, listening = false, v4 = false, v6 = false;
	bool trunc = false;
	int n, i, a;
	const char *usage = "usage: nfm ss [-j] [-t] [-u] [-x] [-l] [-4] [-6]";

	for (a = 1; a < argc; a++) {
		const char *w = argv[a];

		if (w[0] != '-' || !w[1])
			return cli_fail("%s", usage);
		if (!strcmp(w, "--tcp") || !strcmp(w, "--udp") || !strcmp(w, "--unix") ||
		    !strcmp(w, "--listening") || !strcmp(w, "--all") || !strcmp(w, "--numeric") ||
		    !strcmp(w, "--processes")) {
			tcp |= w[2] == 't';
			udp |= !strcmp(w, "--udp");
			unx |= !strcmp(w, "--unix");
			listening |= w[2] == 'l';
			continue;
		}
		for (i = 1; w[i]; i++) {
			switch (w[i]) {
			case 't': tcp = true; break;
			case 'u': udp = true; break;
			case 'x': unx = true; break;
			case 'l': listening = true; break;
			case '4': v4 = true; break;
			case '6': v6 = true; break;
			case 'a': case 'n': case 'p': case 'e': break;	/* always on */
			default: return cli_fail("%s", usage);
			}
		}
	}
	if (!tcp && !udp && !unx)
		tcp = udp = unx = true;
	if (!v4 && !v6)
		v4 = v6 = true;
	if (cli_attach(cli))
		return 1;
	n = nfm_socket_list(cli->ctx, &socks, &trunc);
	if (n < 0)
		return cli_fail("cannot list the guest's sockets: %s",
				cli->last_error[0] ? cli->last_error : strerror(-n));
	struct json_object *arr = cli->json ? json_object_new_array() : NULL;

	if (!arr)
		printf("%-6s %-10s %6s %6s %-40s %-40s %8s %s\n", "Netid", "State", "Recv-Q",
		       "Send-Q", "Local Address:Port", "Peer Address:Port", "Inode", "Process");
	for (i = 0; i < n; i++) {
		const struct nfm_socket *s = &socks[i];
		bool is_listen = s->family == AF_UNIX ? (s->unix_flags & SO_ACCEPTCON_) != 0 :
				 s->protocol == IPPROTO_TCP ? s->state == 10 : s->state == 7;

		if (s->family == AF_UNIX ? !unx : s->protocol == IPPROTO_TCP ? !tcp : !udp)
			continue;
		if (s->family != AF_UNIX && (s->family == AF_INET ? !v4 : !v6))
			continue;
		if (listening && !is_listen)
			continue;
		if (arr)
			json_object_array_add(arr, sock_json(s));
		else
			sock_text(s);
	}
	free(socks);
	if (arr)
		return cli_print_json(cli, arr) || trunc;
	if (trunc)
		return cli_fail("the socket list was cut short (guest data changed or inconsistent)");
	return 0;
}

const struct command command_ss = {
	.name = "ss",
	.summary = "TCP, UDP and UNIX sockets with their processes",
	.usage = "[-j] [-tuxl46]",
	.run = cmd_ss,
};
const struct command command_netstat = {
	.name = "netstat",
	.summary = "alias of ss",
	.usage = "[-j] [-tuxl46]",
	.run = cmd_ss,
};
