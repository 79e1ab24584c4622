// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm diagnose [VM]: why a guest is unwell, one report (lib/diag, nfm/diag.h): each finding
 * with its severity and the evidence it rests on, worst first. Exit status 0 when nothing is
 * found, 4 (EXIT_FINDINGS) when something is, 3 when nothing is found but a check could not
 * read what it needs (a partial view), 1 on errors.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/nfm.h>
#include <nfm/diag.h>

#include "cli.h"
#include "jout.h"
#include "objects.h"

static void text_report(const struct nfm_diag_report *r, const struct nfm_kernel_info *ki)
{
	uint64_t up = r->uptime_ns / 1000000000ull;

	if (ki)
		printf("guest %s, Linux %s, up %" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64
		       "\n", cli_esc(ki->nodename), cli_esc(ki->release), up / 86400,
		       up / 3600 % 24, up / 60 % 60, up % 60);
	for (unsigned int i = 0; i < r->nr_findings; i++) {
		const struct nfm_diag_finding *f = &r->findings[i];
		char sev[16];

		snprintf(sev, sizeof(sev), "%s", nfm_diag_severity_name(f->severity));
		for (char *p = sev; *p; p++)
			*p = (char)(*p - 'a' + 'A');
		printf("\n%-8s  %s: %s\n", sev, nfm_diag_kind_name(f->kind), cli_esc(f->summary));
		for (unsigned int k = 0; k < f->nr_evidence; k++)
			printf("          %s\n", cli_esc(f->evidence[k]));
	}
	if (!r->nr_findings)
		printf("no findings: nothing wrong that nfm can see\n");
	printf("\nchecked:");
	for (unsigned int i = 0; i < r->nr_checks; i++)
		printf(" %s%s", r->checks[i].name, r->checks[i].err ? " (incomplete)" : "");
	printf("\n");
}

static int cmd_diagnose(struct cli *cli, int argc, char **argv)
{
	struct nfm_diag_report *r;
	struct nfm_kernel_info ki;
	bool have_ki;
	int c, err, status;

	while ((c = cli_getopt(cli, argc, argv, "", NULL)) != -1)
		return cli_opt_status(cli);
	if (argc - optind > 1)
		return cli_usage_error(cli, "one VM at most");
	if (optind < argc) {
		if (cli->vm)
			return cli_usage_error(cli, "a VM both as --vm and as an argument");
		cli->vm = argv[optind];
	}
	if (cli_attach(cli))
		return 1;
	err = nfm_diagnose(cli->ctx, &r);
	if (err < 0)
		return cli_fail("cannot diagnose the guest: %s", strerror(-err));
	/* the other VMs of the host: an address this guest shares a wire with */
	if ((err = nfm_diagnose_peers(cli->ctx, r)) < 0) {
		nfm_diag_report_free(r);
		return cli_fail("cannot diagnose the guest: %s", strerror(-err));
	}
	have_ki = nfm_ctx_kernel_info(cli->ctx, &ki) == 0;
	for (unsigned int i = 0; i < r->nr_checks; i++)
		if (r->checks[i].err)
			cli_warn("%s: could not read %s: %s", r->checks[i].name,
				 r->checks[i].what ? r->checks[i].what : "everything",
				 strerror(-r->checks[i].err));
	status = r->nr_findings ? EXIT_FINDINGS : nfm_diag_report_partial(r) ? EXIT_PARTIAL : 0;
	if (cli->json) {
		struct json_object *doc = jdoc_new("diagnose"), *a = json_object_new_array();

		for (unsigned int i = 0; i < r->nr_checks; i++)
			if (r->checks[i].err)
				jdoc_error(doc, r->checks[i].name, r->checks[i].err,
					   r->checks[i].what ? r->checks[i].what : "unreadable");
		if (have_ki)
			j_add(doc, "kernel", obj_kernel(&ki));
		j_add(doc, "uptime_ns", j_u64(r->uptime_ns));
		j_add(doc, "healthy", j_bool(!r->nr_findings));
		j_add(doc, "nr_findings", j_int(r->nr_findings));
		for (unsigned int i = 0; i < r->nr_findings; i++)
			json_object_array_add(a, obj_finding(&r->findings[i]));
		j_add(doc, "findings", a);
		j_add(doc, "checks", obj_diag_checks(r));
		j_add(doc, "figures", obj_diag_figures(&r->fig));
		nfm_diag_report_free(r);
		return cli_print_json(cli, doc) ?: status;
	}
	text_report(r, have_ki ? &ki : NULL);
	nfm_diag_report_free(r);
	if (fflush(stdout) != 0)
		return 1;
	return status;
}

const struct command command_diagnose = {
	.name = "diagnose",
	.summary = "why a guest is unwell: panics, hangs, lockups, OOM, network and file system trouble (exit 4: found)",
	.usage = "[-j] [VM]",
	.help = "  VM                  the guest (as --vm SPEC: pid:N, name:X, file:F ...)\n"
		"A live VM is also compared with the other VMs of the host: an address held by\n"
		"another VM on the same wire (a bridge, a socket or dgram link of QEMU) is an\n"
		"address_conflict; user-mode networking is private to each VM.\n",
	.run = cmd_diagnose,
};
