// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ss -i's TCP info line (cmd/nfm/ss_info.c) against iproute2 6.1's for the same tcp_info: the
 * words, their order and units (an idle loopback connection as the lab guest's ss prints it),
 * a listener, a hostile congestion name escaped, and a buffer too small cut safely.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <nfm/system.h>

#include "guest_text.h"
#include "ss_info.h"

char *cli_escape(const void *bytes, size_t len, char *out, size_t outsize);

char *cli_escape(const void *bytes, size_t len, char *out, size_t outsize)
{
	return guest_escape(bytes, len, out, outsize);
}

static struct nfm_tcp_info established(void)
{
	struct nfm_tcp_info t = {
		.state = 1, .options = NFM_TCPI_OPT_TIMESTAMPS | NFM_TCPI_OPT_SACK | NFM_TCPI_OPT_WSCALE,
		.snd_wscale = 6, .rcv_wscale = 6, .rto_us = 208000, .rtt_us = 5368, .rttvar_us = 2684,
		.snd_mss = 32768, .pmtu = 65535, .rcv_mss = 536, .advmss = 65483, .snd_cwnd = 10,
		.snd_ssthresh = 0x7fffffff, .segs_in = 2, .last_data_sent_ms = 6380,
		.last_data_recv_ms = 6380, .last_ack_recv_ms = 6380, .pacing_rate = 976691504 / 8,
		.max_pacing_rate = UINT64_MAX, .delivered = 1, .delivery_rate_app_limited = 1,
		.reordering = 3, .rcv_space = 65483, .rcv_ssthresh = 65483, .min_rtt_us = 5368,
		.snd_wnd = 65536,
	};

	strcpy(t.congestion, "cubic");
	return t;
}

static void test_established(void **state)
{
	struct nfm_tcp_info t = established();
	char b[1024];

	(void)state;
	ss_info_text(&t, b, sizeof(b));
	assert_string_equal(b, " ts sack cubic wscale:6,6 rto:208 rtt:5.368/2.684 mss:32768 "
			    "pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 segs_in:2 send 488345753bps "
			    "lastsnd:6380 lastrcv:6380 lastack:6380 pacing_rate 976691504bps "
			    "delivered:1 app_limited rcv_space:65483 rcv_ssthresh:65483 minrtt:5.368 "
			    "snd_wnd:65536");
	/* ssthresh below 0xFFFF, retransmissions, an RTO ss leaves out (3 s: the initial one) */
	t.snd_ssthresh = 7;
	t.retrans = 1;
	t.total_retrans = 4;
	t.rto_us = 3000000;
	t.reordering = 5;
	ss_info_text(&t, b, sizeof(b));
	assert_non_null(strstr(b, " cwnd:10 ssthresh:7 "));
	assert_non_null(strstr(b, " retrans:1/4 "));
	assert_non_null(strstr(b, " reordering:5 "));
	assert_null(strstr(b, "rto:"));
}

static void test_listener_and_hostile_name(void **state)
{
	struct nfm_tcp_info t = { .state = 10, .listener = true, .snd_cwnd = 10, .reordering = 3,
				  .sacked = 128, .pacing_rate = UINT64_MAX };
	char b[256];

	(void)state;
	memcpy(t.congestion, "x\x1b]52;c;QQ==\a", 14);
	ss_info_text(&t, b, sizeof(b));
	/* the backlog limit (sacked) is not shown for a listener, as iproute2 */
	assert_string_equal(b, " x\\x1b]52;c;QQ==\\x07 cwnd:10");
	/* a buffer too small: cut, terminated, no overrun */
	t = established();
	memset(b, 'Z', sizeof(b));
	ss_info_text(&t, b, 40);
	assert_int_equal(strlen(b), 39);
	assert_int_equal(b[40], 'Z');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_established),
		cmocka_unit_test(test_listener_and_hostile_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
