// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libcurl, loaded when first used. Only the --remote paths talk HTTP, but linking libcurl made
 * every nfm command load 31 more shared libraries (TLS, Kerberos, LDAP, ...): about 15 ms and
 * 6 MB of RSS on each start. These definitions stand in for the libcurl functions nfm calls and
 * forward to the real ones, which dlopen("libcurl.so.4") finds on the first call. When libcurl
 * cannot be loaded, every call fails the way libcurl itself fails (an error code, or NULL) and
 * curl_easy_strerror() says why.
 *
 * curl_easy_setopt/getinfo are variadic with exactly one argument after the option: a long, a
 * pointer, a function pointer or a curl_off_t. On the LP64 ABIs nfm supports (x86-64, arm64)
 * all four travel in the same 64-bit integer register or stack slot, so one is forwarded as a
 * void * without knowing which it is; the build refuses other ABIs.
 */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

_Static_assert(sizeof(long) == sizeof(void *) && sizeof(curl_off_t) == sizeof(void *),
	       "curl_easy_setopt forwarding assumes an LP64 ABI");

#define CURL_FUNCS(X) \
	X(CURLcode, curl_global_init, (long)) \
	X(void, curl_global_cleanup, (void)) \
	X(CURL *, curl_easy_init, (void)) \
	X(void, curl_easy_cleanup, (CURL *)) \
	X(CURLcode, curl_easy_perform, (CURL *)) \
	X(const char *, curl_easy_strerror, (CURLcode)) \
	X(CURLcode, curl_easy_setopt, (CURL *, CURLoption, ...)) \
	X(CURLcode, curl_easy_getinfo, (CURL *, CURLINFO, ...)) \
	X(char *, curl_easy_escape, (CURL *, const char *, int)) \
	X(void, curl_free, (void *)) \
	X(struct curl_slist *, curl_slist_append, (struct curl_slist *, const char *)) \
	X(void, curl_slist_free_all, (struct curl_slist *))

static struct {
#define FIELD(ret, name, args) ret (*name) args;
	CURL_FUNCS(FIELD)
#undef FIELD
} real;
static char load_error[256];
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(load_error, sizeof(load_error), "libcurl could not be loaded: %s", dlerror());
		return;
	}
#define RESOLVE(ret, name, args) \
	*(void **)&real.name = dlsym(h, #name); \
	if (!real.name) { \
		snprintf(load_error, sizeof(load_error), "libcurl lacks %s", #name); \
		real.curl_easy_init = NULL; \
		return; \
	}
	CURL_FUNCS(RESOLVE)
#undef RESOLVE
}

/* True when every function resolved (curl_easy_init is cleared on any failure). */
static int loaded(void)
{
	pthread_once(&load_once, load);
	return real.curl_easy_init != NULL;
}

CURLcode curl_global_init(long flags)
{
	return loaded() ? real.curl_global_init(flags) : CURLE_FAILED_INIT;
}

void curl_global_cleanup(void)
{
	if (loaded())
		real.curl_global_cleanup();
}

CURL *curl_easy_init(void)
{
	return loaded() ? real.curl_easy_init() : NULL;
}

void curl_easy_cleanup(CURL *c)
{
	if (c && loaded())
		real.curl_easy_cleanup(c);
}

CURLcode curl_easy_perform(CURL *c)
{
	return loaded() ? real.curl_easy_perform(c) : CURLE_FAILED_INIT;
}

const char *curl_easy_strerror(CURLcode code)
{
	return loaded() ? real.curl_easy_strerror(code) : load_error;
}

CURLcode curl_easy_setopt(CURL *c, CURLoption opt, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, opt);
	arg = va_arg(ap, void *);
	va_end(ap);
	return loaded() ? real.curl_easy_setopt(c, opt, arg) : CURLE_FAILED_INIT;
}

CURLcode curl_easy_getinfo(CURL *c, CURLINFO info, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, info);
	arg = va_arg(ap, void *);
	va_end(ap);
	return loaded() ? real.curl_easy_getinfo(c, info, arg) : CURLE_FAILED_INIT;
}

char *curl_easy_escape(CURL *c, const char *s, int len)
{
	return loaded() ? real.curl_easy_escape(c, s, len) : NULL;
}

void curl_free(void *p)
{
	if (p && loaded())
		real.curl_free(p);
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *s)
{
	return loaded() ? real.curl_slist_append(list, s) : NULL;
}

void curl_slist_free_all(struct curl_slist *list)
{
	if (list && loaded())
		real.curl_slist_free_all(list);
}
