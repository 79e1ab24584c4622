// SPDX-License-Identifier: GPL-2.0-or-later
/* ss -o, -m and -xe's words, as iproute2 6.1's misc/ss.c prints them (ss_extras.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <nfm/system.h>

#include "ss_extras.h"

void ss_append(char *buf, size_t size, const char *fmt, ...)
{
	size_t n = strnlen(buf, size);
	va_list ap;

	if (n + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
}

void ss_ms_timer(uint32_t timeout, char *buf, size_t size)
{
	if (!size)
		return;
	/* print_ms_timer(): minutes drop the milliseconds, and the seconds past nine minutes;
	 * seconds past nine drop the milliseconds */
	unsigned int secs = timeout / 1000, minutes = secs / 60, msecs = timeout % 1000;

	secs %= 60;
	buf[0] = 0;
	if (minutes) {
		msecs = 0;
		ss_append(buf, size, "%umin", minutes);
		if (minutes > 9)
			secs = 0;
	}
	if (secs) {
		if (secs > 9)
			msecs = 0;
		ss_append(buf, size, "%u%s", secs, msecs ? "." : "sec");
	}
	if (msecs)
		ss_append(buf, size, "%03ums", msecs);
}

const char *ss_timer_name(int timer)
{
	static const char *const names[] = { "off", "on", "keepalive", "timewait", "persist" };

	return timer >= 0 && timer <= 4 ? names[timer] : "unknown";
}

void ss_timer_text(const struct nfm_socket_timer *t, char *buf, size_t size)
{
	char ms[64];

	if (!size)
		return;
	buf[0] = 0;
	if (!t->timer)
		return;
	ss_ms_timer(t->expires_ms, ms, sizeof(ms));
	/* idiag_retrans is a u32 that ss prints with %d */
	ss_append(buf, size, " timer:(%s,%s,%d)", ss_timer_name(t->timer), ms, (int)t->retrans);
}

void ss_skmem_text(const struct nfm_socket_meminfo *m, char *buf, size_t size)
{
	if (!size)
		return;
	buf[0] = 0;
	ss_append(buf, size, " skmem:(r%u,rb%u,t%u,tb%u,f%u,w%u,o%u,bl%u,d%u)", m->rmem_alloc, m->rcvbuf,
	    m->wmem_alloc, m->sndbuf, m->fwd_alloc, m->wmem_queued, m->optmem, m->backlog,
	    m->drops);
}

void ss_unix_text(const struct nfm_socket_unix_details *d, const uint64_t *peers, int npeers,
		  char *buf, size_t size)
{
	int i;

	if (!size)
		return;
	buf[0] = 0;
	if (d) {
		/* the kernel's dev_t (MAJOR << 20 | MINOR) in a u32 that ss splits with glibc's
		 * major()/minor(), which decode the other encoding: a disk's 8:1 prints "0/2049" */
		uint32_t dev = d->vfs_dev_major << 20 | d->vfs_dev_minor;

		ss_append(buf, size, " %c-%c", d->shutdown & 1 ? '-' : '<', d->shutdown & 2 ? '-' : '>');
		if (d->has_vfs)
			ss_append(buf, size, " ino:%u dev:%u/%u", (uint32_t)d->vfs_ino, (dev >> 8) & 0xfffu,
			    (dev & 0xffu) | ((dev >> 12) & 0xfff00u));
	}
	if (npeers >= 0) {
		ss_append(buf, size, " peers:");
		for (i = 0; i < npeers; i++)
			ss_append(buf, size, " %u", (uint32_t)peers[i]);
	}
}

