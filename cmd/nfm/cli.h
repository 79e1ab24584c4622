/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The nfm command framework: one table of commands (commands.c), options by getopt_long per
 * command (short options bundle: -bn1, -ef), `--help` on every command, one table writer
 * (table.h, libsmartcols) and one JSON writer (jout.h, json-c).
 *
 * Exit status of every command: 0 ok, 1 runtime error, 2 usage error (one line on stderr),
 * 3 partial view (the output is incomplete or inconsistent, and says so), 4 `nfm check` found
 * something. A failed write to stdout is 1.
 */
#ifndef NFM_CMD_CLI_H
#define NFM_CMD_CLI_H

#include <getopt.h>
#include <json-c/json.h>
#include <nfm/nfm.h>
#include <stdbool.h>
#include <stdio.h>

enum {
	EXIT_USAGE = 2,
	EXIT_PARTIAL = 3,
	EXIT_FINDINGS = 4,
};

struct command;

struct cli {
	const char *vm;			/* --vm SPEC */
	const char *system_map;		/* --system-map FILE */
	const char *btf;		/* --btf FILE */
	bool json;			/* -j */
	int pretty;			/* --pretty: 1; --compact: 0; auto (a terminal): -1 */
	bool noheadings;		/* --noheadings: tables without their header line */
	bool raw;			/* --raw: tables as raw, unaligned, space-separated cells */
	int verbose;			/* -v before the command */
	struct nfm_log log;
	char last_error[512];		/* the library's last NFM_LOG_ERR line */
	struct nfm_source *src;
	struct nfm_ctx *ctx;
	const struct command *cmd;	/* the command being run (for its usage and help) */
};

struct command {
	const char *name;
	/* One line for `nfm help`. */
	const char *summary;
	/* Synopsis after "nfm NAME " (options and arguments). */
	const char *usage;
	/* The option list of `nfm NAME --help`, one "  -x, --long ARG  what it does\n" a line;
	 * the options every command takes are added by the framework. NULL: none of its own. */
	const char *help;
	int (*run)(struct cli *cli, int argc, char **argv);
};

/*
 * getopt_long for a command, with the options every command takes (-j/--json, --pretty,
 * --compact, --noheadings, --raw, --vm, --system-map, --btf, -h/--help) handled here.
 * Call it in a loop like getopt_long (it resets getopt on a command's first call); it returns
 * the command's own option characters (or long options' values), -1 at the end (positional
 * arguments then start at argv[optind]), or CLI_OPT_STOP after --help was printed or a usage
 * error was reported: then the command returns cli_opt_status(cli).
 */
#define CLI_OPT_STOP 0x10000
int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
	       const struct option *longopts);
/* 0 after --help, EXIT_USAGE after a usage error. */
int cli_opt_status(const struct cli *cli);

/* "nfm CMD: message (see nfm CMD --help)" on stderr; returns EXIT_USAGE. */
__attribute__((format(printf, 2, 3))) int cli_usage_error(struct cli *cli, const char *fmt, ...);

/* Run one command from the table with its own argv (argv[0] = its name): main and nfm shell. */
int cli_run(struct cli *cli, const struct command *cmd, int argc, char **argv);

/* Open --vm and attach; prints the one error line and returns non-zero on failure. */
int cli_attach(struct cli *cli);
/* Open --vm only. */
int cli_open(struct cli *cli);
void cli_detach(struct cli *cli);

/* "nfm: " + message to stderr; returns 1 (the exit status) for `return cli_fail(...)`. */
__attribute__((format(printf, 1, 2))) int cli_fail(const char *fmt, ...);
/* "nfm: warning: " + message to stderr (a partial view says so). */
__attribute__((format(printf, 1, 2))) void cli_warn(const char *fmt, ...);

/* Print a JSON value (compact, or pretty on a terminal or with --pretty) and drop the
 * reference; 0, or 1 on a write error. */
int cli_print_json(struct cli *cli, struct json_object *o);

/*
 * Guest bytes made safe for a terminal: printable ASCII and valid UTF-8 as they are, anything
 * else (control bytes, ESC, invalid UTF-8) as \xNN, backslash as \\. Returns out.
 */
char *cli_escape(const void *bytes, size_t len, char *out, size_t outsize);
/* The same for a NUL-terminated string, into a static-per-call rotating buffer. */
const char *cli_esc(const char *s);

/* JSON string from guest bytes: json-c escapes control bytes; invalid UTF-8 is \xNN-escaped. */
struct json_object *cli_json_bytes(const void *bytes, size_t len);

/* The command table (commands.c): by name, or the i-th (NULL past the end). */
const struct command *cli_command(const char *name);
const struct command *cli_command_at(size_t i);
/* `nfm help` / `nfm --help`: every command with its summary. */
void cli_print_commands(FILE *f);

/* Each command's definition, in its cmd_*.c file. */
extern const struct command command_info, command_list, command_sym, command_btf, command_ps, command_pstree, command_maps, command_lsof, command_env,
	command_lsmod, command_yara, command_check, command_dmesg, command_uname, command_uptime, command_free, command_mount, command_findmnt, command_ip,
	command_ifconfig, command_ss, command_netstat, command_route, command_arp, command_cpuinfo, command_shell, command_top, command_crawl, command_help;

extern const struct command command_bt;
extern const struct command command_kmem;
extern const struct command command_diagnose;
extern const struct command command_record, command_snapshots;
extern const struct command command_topo;
extern const struct command command_diff, command_timeline, command_export;

/* "10s", "5m", "24h", "1d", "500ms" -> ns; -1 when it does not parse (cmd_record.c). */
int64_t cli_parse_duration(const char *s);

/* The source spec of `nfm --at WHEN` (cmd_record.c): snap:STORE@WHEN, the store from WHEN
 * (DIR@WHEN), --vm DIR or $NFM_STORE. Static storage. */
const char *cli_at_spec(const char *vm, const char *at);

/* One crawl document with every feature (cmd_crawl.c): the state timeline's frame (nfm record
 * --frames). The caller owns it; *host is the crawl's host accounting state (nfm_host_vm_free). */
struct nfm_host_vm;
struct json_object *cli_crawl_frame(struct cli *cli, struct nfm_host_vm **host);

/* Handlers shared by two commands (aliases). */
int cmd_ip(struct cli *cli, int argc, char **argv);
int cmd_ss(struct cli *cli, int argc, char **argv);

#endif
