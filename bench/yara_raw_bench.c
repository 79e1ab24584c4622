// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libyara alone, the ceiling of nfm yara's throughput: RULES over FILE's bytes (e.g. a guest's
 * ELF dump) held in RAM, in 1 MiB blocks as nfm yara hands them over, RUNS times; prints MB/s of
 * each run. bench/yara_bench.py runs it on the same guest it scans with nfm.
 *
 *	yara_raw_bench RULES FILE [RUNS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <yara.h>

#define BLOCK (1u << 20)

static int on_match(YR_SCAN_CONTEXT *c, int msg, void *data, void *user)
{
	return CALLBACK_CONTINUE;
}

int main(int argc, char **argv)
{
	YR_COMPILER *comp = NULL;
	YR_RULES *rules = NULL;
	FILE *rf, *df;
	unsigned char *buf;
	long size;
	int runs = argc > 3 ? atoi(argv[3]) : 5;

	if (argc < 3 || runs < 1) {
		fprintf(stderr, "usage: yara_raw_bench RULES FILE [RUNS]\n");
		return 2;
	}
	rf = fopen(argv[1], "r");
	df = fopen(argv[2], "rb");
	if (!rf || !df || fseek(df, 0, SEEK_END) || (size = ftell(df)) <= 0 || fseek(df, 0, SEEK_SET)) {
		fprintf(stderr, "yara_raw_bench: cannot read %s or %s\n", argv[1], argv[2]);
		return 1;
	}
	buf = malloc((size_t)size);
	if (!buf || fread(buf, 1, (size_t)size, df) != (size_t)size) {
		fprintf(stderr, "yara_raw_bench: cannot load %s\n", argv[2]);
		return 1;
	}
	if (yr_initialize() != ERROR_SUCCESS || yr_compiler_create(&comp) != ERROR_SUCCESS ||
	    yr_compiler_add_file(comp, rf, NULL, argv[1]) ||
	    yr_compiler_get_rules(comp, &rules) != ERROR_SUCCESS) {
		fprintf(stderr, "yara_raw_bench: the rules do not compile\n");
		return 1;
	}
	for (int k = 0; k < runs; k++) {
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (long off = 0; off < size; off += BLOCK)
			yr_rules_scan_mem(rules, buf + off, size - off < BLOCK ? (size_t)(size - off) : BLOCK,
					  SCAN_FLAGS_PROCESS_MEMORY, on_match, NULL, 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("%.1f\n", size / 1e6 / ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9));
	}
	yr_rules_destroy(rules);
	yr_compiler_destroy(comp);
	yr_finalize();
	free(buf);
	return 0;
}
