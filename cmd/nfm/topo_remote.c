// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm topo --remote HOST:PORT,...: the frames of the VMs several nfmd instances watch (GET
 * /api/topology/frames, doc/schema/docs/nfmd.topology_frames.json), to be joined as one graph.
 * HTTP through libcurl with a connect timeout and an overall timeout: an nfmd that does not
 * answer becomes an incomplete frame named after it (the graph says so, exit 3), never a hang.
 * The bearer token, if nfmd wants one, comes from $NFM_REMOTE_TOKEN.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo_remote.h"

#define MAX_BODY (256u << 20)
#define MAX_REMOTES 64

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	FILE *f = ud;
	size_t n = size * nmemb;

	if (ftell(f) + (long)n > (long)MAX_BODY)
		return 0;	/* curl fails the transfer */
	return fwrite(data, 1, n, f);
}

/* GET http://host/api/topology/frames into a parsed document, or NULL with err set. */
static struct json_object *get_frames(CURL *c, const char *host, char *err, size_t errsize)
{
	char url[400], cerr[CURL_ERROR_SIZE] = "", *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	struct json_object *doc = NULL;
	long status = 0;
	CURLcode rc;

	if (!f) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	snprintf(url, sizeof(url), "http://%s/api/topology/frames", host);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	rc = curl_easy_perform(c);
	fclose(f);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK)
		snprintf(err, errsize, "%s", cerr[0] ? cerr : curl_easy_strerror(rc));
	else if (status != 200)
		snprintf(err, errsize, "HTTP status %ld", status);
	else if (!(doc = json_tokener_parse(body)))
		snprintf(err, errsize, "the answer is not JSON");
	free(body);
	return doc;
}

static int add_store(struct topo_frame_store **a, int *n)
{
	struct topo_frame_store *x = realloc(*a, ((size_t)*n + 1) * sizeof(**a));

	if (!x)
		return -ENOMEM;
	*a = x;
	memset(&x[*n], 0, sizeof(x[*n]));
	return (*n)++;
}

/* One host's frames appended; a host that fails is one incomplete frame named after it. */
static int fetch_host(CURL *c, const char *host, struct topo_frame_store **a, int *n)
{
	char err[300] = "";
	struct json_object *doc = c ? get_frames(c, host, err, sizeof(err)) : NULL, *vms = NULL;
	int i, k;

	if (!c)
		snprintf(err, sizeof(err), "libcurl: %s", curl_easy_strerror(CURLE_FAILED_INIT));
	if (doc && (!json_object_object_get_ex(doc, "vms", &vms) ||
		    !json_object_is_type(vms, json_type_array)))
		snprintf(err, sizeof(err), "the answer is not an nfmd.topology_frames document");
	for (i = 0; !err[0] && i < (int)json_object_array_length(vms); i++) {
		if ((k = add_store(a, n)) < 0)
			break;
		if (topo_frame_parse(json_object_array_get_idx(vms, (size_t)i), &(*a)[k], err,
				     sizeof(err))) {
			(*n)--;
			break;
		}
	}
	json_object_put(doc);
	if (!err[0])
		return 0;
	/* the host's frames so far stay; the host itself says what went wrong */
	if ((k = add_store(a, n)) < 0)
		return k;
	snprintf((*a)[k].vm, sizeof((*a)[k].vm), "%s", host);
	snprintf((*a)[k].error, sizeof((*a)[k].error), "nfmd %.60s: %s", host, err);
	(*a)[k].frame = (struct topo_frame){ .vm = (*a)[k].vm, .complete = false,
					     .error = (*a)[k].error };
	return 0;
}

int topo_remote_fetch(const char *list, struct topo_frame_store **ret, int *nr)
{
	struct topo_frame_store *a = NULL;
	struct curl_slist *hdr = NULL;
	const char *token = getenv("NFM_REMOTE_TOKEN");
	char *copy = strdup(list), *save = NULL, *host;
	CURL *c = NULL;
	int n = 0, hosts = 0, ret_code = 0, i;

	if (!copy)
		return -ENOMEM;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
		c = curl_easy_init();
	if (c) {
		if (token && *token) {
			char *h;

			if (asprintf(&h, "Authorization: Bearer %s", token) >= 0) {
				hdr = curl_slist_append(NULL, h);
				free(h);
			}
		}
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c, CURLOPT_USERAGENT, "nfm-topo");
	}
	for (host = strtok_r(copy, ",", &save); host; host = strtok_r(NULL, ",", &save)) {
		if (++hosts > MAX_REMOTES || strlen(host) > 300) {
			ret_code = -E2BIG;
			break;
		}
		if ((ret_code = fetch_host(c, host, &a, &n)))
			break;
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	free(copy);
	if (ret_code) {
		for (i = 0; i < n; i++)
			topo_frame_store_free(&a[i]);
		free(a);
		return ret_code;
	}
	/* the stores moved while growing: point each frame at its own store again */
	for (i = 0; i < n; i++)
		if (a[i].frame.vm)
			a[i].frame.vm = a[i].vm, a[i].frame.error = a[i].error[0] ? a[i].error :
				"a partial view";
	*ret = a;
	*nr = n;
	return 0;
}
