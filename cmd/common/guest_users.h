/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * User and group names of a guest, from its own /etc/passwd and /etc/group read through its page
 * cache (nfm_fs_read(), as `nfm shell cat` reads files): what ps's USER and GROUP columns, top's
 * USER and lsof's USER show. A file the guest has not cached (or not wholly cached), an id it
 * does not list, or an entry that does not parse gives no name: the caller shows the number,
 * as procps does for an unknown id.
 *
 * The files are guest data: parsing is bounded (at most GUEST_IDS_FILE_MAX bytes, lines up to
 * GUEST_IDS_LINE_MAX, names up to GUEST_NAME_MAX - 1 bytes, GUEST_IDS_MAX entries) and a
 * malformed line is skipped. Names are raw guest bytes (any byte but NUL, ':' and newline):
 * escape them before they reach a terminal (table_cell_guest(), cli_escape()).
 *
 * Each context's tables are read once and kept for GUEST_IDS_TTL_S seconds (a refresh in top
 * reads them again after that); calls are thread-safe and copy the name out.
 */
#ifndef NFM_CMD_GUEST_USERS_H
#define NFM_CMD_GUEST_USERS_H

#include <stddef.h>
#include <stdint.h>

struct nfm_ctx;

#define GUEST_NAME_MAX 64		/* a name and its NUL */
#define GUEST_IDS_FILE_MAX (4u << 20)	/* a larger passwd/group file is not read */
#define GUEST_IDS_LINE_MAX 4096
#define GUEST_IDS_MAX 65536		/* entries kept per file */
#define GUEST_IDS_TTL_S 10

/*
 * The name of user uid into buf[GUEST_NAME_MAX]; returns buf, or NULL when the guest's
 * /etc/passwd does not name it (not cached, not listed, malformed).
 */
const char *guest_user_name(struct nfm_ctx *ctx, uint32_t uid, char *buf);
/* The same for group gid from /etc/group. */
const char *guest_group_name(struct nfm_ctx *ctx, uint32_t gid, char *buf);
/* The name, or the id in decimal when there is none: never NULL (buf[GUEST_NAME_MAX]). */
const char *guest_user_or_id(struct nfm_ctx *ctx, uint32_t uid, char *buf);
const char *guest_group_or_id(struct nfm_ctx *ctx, uint32_t gid, char *buf);
/* The uid of a user name (ps -u NAME): 0, or -ENOENT. */
int guest_user_id(struct nfm_ctx *ctx, const char *name, uint32_t *uid);
int guest_group_id(struct nfm_ctx *ctx, const char *name, uint32_t *gid);

/* Forget ctx's tables (before the context is freed, or to re-read at once). */
void guest_users_forget(struct nfm_ctx *ctx);

/* ---- the parser, for tests ---- */

struct guest_id {
	uint32_t id;
	char name[GUEST_NAME_MAX];
};

struct guest_ids {
	struct guest_id *v;		/* in file order; the first entry of an id wins (as NSS) */
	size_t n;
	unsigned int skipped;		/* lines that did not parse (or past the bounds) */
};

/*
 * Parse passwd(5)/group(5) text: "name:x:id:..." (the id is the third field in both). Empty
 * lines, comments ('#'), NIS compat lines ('+', '-') and lines holding a NUL (bytes of a page
 * the cache did not have) are left out. 0 or -ENOMEM; free with guest_ids_free().
 */
int guest_ids_parse(const char *text, size_t len, struct guest_ids *out);
void guest_ids_free(struct guest_ids *ids);
/* The first entry with this id, or NULL. */
const struct guest_id *guest_ids_by_id(const struct guest_ids *ids, uint32_t id);
const struct guest_id *guest_ids_by_name(const struct guest_ids *ids, const char *name);

#endif
