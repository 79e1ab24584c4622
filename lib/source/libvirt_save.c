// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `virsh save` images: libvirt's header (src/qemu/qemu_saveimage.h, an on-disk ABI: the magic
 * "LibvirtQemudSave", then host-endian u32 version, data_len, was_running, format, cookieOffset
 * and 14 unused words), data_len bytes of domain XML and cookie, then the QEMU migration stream
 * as QEMU wrote it, unless format says a compressor filtered it. "LibvirtQemudPart" marks an
 * image whose save did not finish.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "util/log.h"
#include "source/dump.h"

#define SAVE_HEADER_SIZE (16 + 19 * 4)
#define SAVE_MAX_DATA (64u << 20)	/* the XML and cookie: a few KiB in practice */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int nfm_libvirt_save_stream(const uint8_t *data, size_t size, const char *name,
			    const struct nfm_log *log, size_t *off)
{
	static const char *const formats[] = { "raw", "gzip", "bzip2", "xz", "lzop", "zstd" };
	uint32_t version, data_len, format;

	if (size < SAVE_HEADER_SIZE || memcmp(data, "LibvirtQemudSave", 16)) {
		nfm_err(log, "%s: not a libvirt save image", name);
		return -EBADMSG;
	}
	version = le32(data + 16);
	data_len = le32(data + 20);
	format = le32(data + 28);
	if (version < 1 || version > 2) {
		nfm_err(log, "%s: libvirt save image version %u (1 and 2 are read)", name, version);
		return -EOPNOTSUPP;
	}
	if (format) {
		nfm_err(log, "%s: a libvirt save image compressed with %s (save_image_format): "
			"not read; restore it, or save it again with format raw", name,
			format < sizeof(formats) / sizeof(formats[0]) ? formats[format] : "an unknown "
			"compressor");
		return -EOPNOTSUPP;
	}
	if (data_len > SAVE_MAX_DATA || data_len > size - SAVE_HEADER_SIZE) {
		nfm_err(log, "%s: corrupt libvirt save image (its XML runs past the file)", name);
		return -EBADMSG;
	}
	*off = SAVE_HEADER_SIZE + (size_t)data_len;
	if (size - *off < 4 || memcmp(data + *off, "QEVM", 4)) {
		nfm_err(log, "%s: corrupt libvirt save image (no QEMU migration stream after its "
			"XML)", name);
		return -EBADMSG;
	}
	return 0;
}
