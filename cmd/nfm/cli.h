/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the nfm subcommands: options, attaching, output. */
#ifndef NFM_CMD_CLI_H
#define NFM_CMD_CLI_H

#include <json-c/json.h>
#include <nfm/nfm.h>
#include <stdbool.h>
#include <stdio.h>

struct cli {
	const char *vm;			/* --vm SPEC */
	const char *system_map;		/* --system-map FILE */
	const char *btf;		/* --btf FILE */
	bool json;			/* -j */
	int verbose;			/* -v */
	struct nfm_log log;
	char last_error[512];		/* the library's last NFM_LOG_ERR line */
	struct nfm_source *src;
	struct nfm_ctx *ctx;
};

struct command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *usage;
	const char *summary;
};

/* Open --vm and attach; prints the one error line and returns non-zero on failure. */
int cli_attach(struct cli *cli);
/* Open --vm only. */
int cli_open(struct cli *cli);
void cli_detach(struct cli *cli);

/* "nfm: " + message to stderr; returns 1 (the exit status) for `return cli_fail(...)`. */
__attribute__((format(printf, 1, 2))) int cli_fail(const char *fmt, ...);

/* Print a JSON value (pretty) to stdout and drop the reference; 0 or 1 on a write error. */
int cli_print_json(struct json_object *o);

/*
 * Guest bytes made safe for a terminal: printable ASCII and valid UTF-8 as they are, anything
 * else (control bytes, ESC, invalid UTF-8) as \xNN, backslash as \\. Returns out.
 */
char *cli_escape(const void *bytes, size_t len, char *out, size_t outsize);
/* The same for a NUL-terminated string, into a static-per-call rotating buffer. */
const char *cli_esc(const char *s);

/* JSON string from guest bytes: json-c escapes control bytes; invalid UTF-8 is \xNN-escaped. */
struct json_object *cli_json_bytes(const void *bytes, size_t len);

/* Usage of one command to stderr; returns 2. */
int cli_usage(const struct command *cmd);

#define DECLARE_CMD(n) int cmd_##n(struct cli *cli, int argc, char **argv)
DECLARE_CMD(info);
DECLARE_CMD(list);
DECLARE_CMD(sym);
DECLARE_CMD(ps); DECLARE_CMD(pstree); DECLARE_CMD(maps); DECLARE_CMD(lsof); DECLARE_CMD(env);
DECLARE_CMD(lsmod);
DECLARE_CMD(check);
DECLARE_CMD(yara);
DECLARE_CMD(dmesg);
DECLARE_CMD(uname);
DECLARE_CMD(btf);
DECLARE_CMD(uptime);
DECLARE_CMD(free);
DECLARE_CMD(mount);
DECLARE_CMD(ip);
DECLARE_CMD(top);
DECLARE_CMD(crawl);
DECLARE_CMD(ss);
DECLARE_CMD(route);
DECLARE_CMD(arp);
DECLARE_CMD(cpuinfo);
DECLARE_CMD(shell);

/* The command table (main.c), for nfm shell: by name, or the i-th (NULL past the end). */
const struct command *cli_command(const char *name);
const struct command *cli_command_at(size_t i);

#endif
