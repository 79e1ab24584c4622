/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The JSON API's documents, built from the VM table (HTTP is http.c's). */
#ifndef NFMD_API_H
#define NFMD_API_H

#include <json-c/json.h>

#include "vms.h"

/* GET /: what is served. */
struct json_object *api_index(void);
/* GET /api/v1/vms: every VM watched. */
struct json_object *api_vms(const struct vm_table *vms);
/* GET /api/v1/vms/NAME: one VM's latest frame. */
struct json_object *api_vm(const struct vm *vm);
/* The body of an error response. */
struct json_object *api_error(unsigned int http_status, const char *msg);

#endif
