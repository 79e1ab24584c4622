// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm_addr_conflict_counts() against the pairwise nfm_addr_conflicts() it replaces in nfmd's
 * /metrics: random hosts of VMs with NICs on a few wires (and private ones), interfaces matched
 * to NICs by MAC, addresses drawn from a small pool so that many repeat.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <nfm/diag.h>
#include <nfm/source.h>
#include <nfm/system.h>

#define VMS 40
#define NICS 3
#define DEVS 4

static struct nfm_vm_nic nics[VMS][NICS];
static struct nfm_netdev devs[VMS][DEVS];
static struct nfm_vm_wire w[VMS];

static void make_host(unsigned int seed, int n)
{
	static const char *const links[] = { "bridge:br0", "unix:/a|/b", "udp:1/2", "" };

	srand(seed);
	memset(nics, 0, sizeof(nics));
	memset(devs, 0, sizeof(devs));
	for (int v = 0; v < n; v++) {
		for (int k = 0; k < NICS; k++) {
			snprintf(nics[v][k].mac, sizeof(nics[v][k].mac), "52:54:00:00:%02x:%02x", v, k);
			snprintf(nics[v][k].link, sizeof(nics[v][k].link), "%s", links[rand() % 4]);
		}
		for (int d = 0; d < DEVS; d++) {
			struct nfm_netdev *dv = &devs[v][d];

			snprintf(dv->name, sizeof(dv->name), "eth%d", d);
			/* interface d is NIC d (d < NICS), or has no NIC (lo, a bridge inside) */
			dv->addr_len = d == DEVS - 1 ? 0 : 6;
			memcpy(dv->addr, (uint8_t[]){ 0x52, 0x54, 0, 0, (uint8_t)v, (uint8_t)d }, 6);
			dv->nr_addrs = rand() % 4;
			for (int a = 0; a < dv->nr_addrs; a++) {
				struct nfm_ifaddr *ia = &dv->addrs[a];

				ia->family = rand() % 5 ? AF_INET : AF_INET6;
				ia->addr[0] = 10;
				ia->addr[3] = (uint8_t)(rand() % 6);
				if (rand() % 13 == 0)
					ia->family = AF_PACKET;	/* not an IP address: never a conflict */
			}
		}
		w[v] = (struct nfm_vm_wire){ nics[v], NICS, devs[v], DEVS };
	}
}

static void test_counts_equal_pairs(void **state)
{
	unsigned int counts[VMS];
	long total = 0;

	(void)state;
	for (unsigned int seed = 1; seed <= 200; seed++) {
		int n = 1 + (int)(seed % VMS);

		make_host(seed, n);
		assert_int_equal(nfm_addr_conflict_counts(w, n, counts), 0);
		for (int x = 0; x < n; x++) {
			unsigned int want = 0;

			for (int y = 0; y < n; y++)
				if (y != x)
					want += (unsigned int)nfm_addr_conflicts(&w[x], &w[y], NULL, NULL);
			assert_int_equal(counts[x], want);
			total += want;
		}
	}
	assert_true(total > 1000);	/* the pool is small: conflicts are many */
}

static void test_edges(void **state)
{
	unsigned int c[2] = { 7, 7 };
	struct nfm_vm_wire none[2] = { { 0 } };

	(void)state;
	assert_int_equal(nfm_addr_conflict_counts(NULL, 0, NULL), 0);
	assert_int_equal(nfm_addr_conflict_counts(NULL, 1, c), -EINVAL);
	assert_int_equal(nfm_addr_conflict_counts(none, 2, c), 0);
	assert_int_equal(c[0] + c[1], 0);
	/* the same address on the same wire twice in one VM is no conflict */
	make_host(1, 1);
	devs[0][1] = devs[0][0];
	devs[0][1].addr[5] = 1;
	memcpy(nics[0][1].link, nics[0][0].link, sizeof(nics[0][0].link));
	assert_int_equal(nfm_addr_conflict_counts(w, 1, c), 0);
	assert_int_equal(c[0], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_equal_pairs),
		cmocka_unit_test(test_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
