// SPDX-License-Identifier: GPL-2.0-or-later
/* Interned tables (intern.h): a short list, a few tables per kernel build watched. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/intern.h"

struct held {
	void *data;
	size_t len;
	unsigned int refs;
	struct held *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct held *table;

void *nfm_intern(void *data, size_t len)
{
	struct held *h, *fresh;

	if (!data)
		return NULL;
	fresh = malloc(sizeof(*fresh));	/* before the lock: nothing allocated under it */
	pthread_mutex_lock(&lock);
	for (h = table; h; h = h->next)
		if (h->len == len && memcmp(h->data, data, len) == 0)
			break;
	if (h) {
		h->refs++;
	} else if (fresh) {
		*fresh = (struct held){ .data = data, .len = len, .refs = 1, .next = table };
		table = fresh;
		fresh = NULL;
	}
	pthread_mutex_unlock(&lock);
	free(fresh);
	if (!h)
		return data;
	free(data);
	return h->data;
}

void nfm_intern_put(const void *p)
{
	struct held **hp, *gone = NULL;
	bool found = false;

	if (!p)
		return;
	pthread_mutex_lock(&lock);
	for (hp = &table; *hp; hp = &(*hp)->next)
		if ((*hp)->data == p) {
			found = true;
			if (--(*hp)->refs == 0) {
				gone = *hp;
				*hp = gone->next;
			}
			break;
		}
	pthread_mutex_unlock(&lock);
	if (gone) {
		free(gone->data);
		free(gone);
	} else if (!found) {
		free((void *)p);	/* private: holding it failed for memory */
	}
}
