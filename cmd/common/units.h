/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sizes as people type them on both tools' command lines. */
#ifndef NFM_CMD_UNITS_H
#define NFM_CMD_UNITS_H

#include <stdint.h>

/* "5G", "500M", "64KiB", "1024" (bytes; K/M/G/T are powers of 1024); 0 when it does not parse
 * or is past 10^18. */
uint64_t units_parse_size(const char *s);

#endif
