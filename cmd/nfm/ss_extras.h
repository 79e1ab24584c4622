/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ss -o (timer:), -m (skmem:) and the unix part of -e (shutdown arrows, ino:/dev:, peers:), as
 * iproute2 6.1's misc/ss.c prints them (tcp_timer_print, print_skmeminfo, unix_show_sock),
 * from the library's nfm_socket_timer / _meminfo / _unix_details / _unix_pending.
 */
#ifndef NFM_CMD_SS_EXTRAS_H
#define NFM_CMD_SS_EXTRAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cli;
struct filter;
struct json_object;
struct nfm_socket;
struct nfm_socket_meminfo;
struct nfm_socket_timer;
struct nfm_socket_unix_details;

/* What the reads of one listing came to (said once, after it). */
struct ss_extras_tally {
	int unread;		/* sockets whose details did not read (gone, or inconsistent) */
	int err;		/* the kernel's layout is not understood (-ENOENT...) */
};

/* Pure formatting (ss_extras_text.c, unit-tested): each writes buf (NUL-terminated, cut at
 * size). */
/* buf's text followed by fmt's, cut at size */
__attribute__((format(printf, 3, 4))) void ss_append(char *buf, size_t size, const char *fmt,
						    ...);
/* idiag_timer's name: off on keepalive timewait persist, "unknown" past them */
const char *ss_timer_name(int timer);
/* print_ms_timer(): "1min5sec" "9.001sec" "12sec" "5ms"... and "" for 0 */
void ss_ms_timer(uint32_t ms, char *buf, size_t size);
/* " timer:(on,1.2sec,0)"; "" when the timer is off */
void ss_timer_text(const struct nfm_socket_timer *t, char *buf, size_t size);
/* " skmem:(r0,rb131072,t0,tb16384,f0,w0,o0,bl0,d0)" */
void ss_skmem_text(const struct nfm_socket_meminfo *m, char *buf, size_t size);
/* -e of a unix socket: " <->" (d: NULL when its details did not read), " ino:N dev:M/m" when
 * bound to a path, and for a listener (npeers >= 0) " peers:" with " INODE" each */
void ss_unix_text(const struct nfm_socket_unix_details *d, const uint64_t *peers, int npeers,
		  char *buf, size_t size);

/*
 * The text ss prints after -p's users:(...) on the socket's row, by the filter's -o, -m, -e:
 * an inet socket's timer (its -e details come after, from cmd_ss.c), or a unix socket's skmem
 * and -e details. buf gets "" when none.
 */
void ss_extras_row(struct cli *cli, const struct filter *f, const struct nfm_socket *s,
		   char *buf, size_t size, struct ss_extras_tally *tally);
/*
 * iproute2's line under an inet socket (-m, or -i on TCP): true when there is one, with -m's
 * skmem in buf ("" when the socket keeps none: TIME-WAIT, SYN-RECV); -i's text follows it.
 */
bool ss_extras_note(struct cli *cli, const struct filter *f, const struct nfm_socket *s,
		    char *buf, size_t size, struct ss_extras_tally *tally);
/* ss -j: the same as members of the socket object so (timer_*, skmem, unix_*). */
void ss_extras_json(struct cli *cli, const struct filter *f, const struct nfm_socket *s,
		    struct json_object *so, struct ss_extras_tally *tally);
/* After the list: whatever could not be shown, said; true when the view is partial. */
bool ss_extras_said(struct cli *cli, const struct ss_extras_tally *tally);

#endif
