#!/usr/bin/env bash
# Every public header is on a man(3) page: named in doc/man3/meson.build's man3_pages (nfm.h is
# libnfm.3's). In a git checkout only the headers git tracks count (one being written is not
# yet public). usage: man3_headers.sh SOURCE_ROOT
root=$1
cd "$root" || exit 1
if git rev-parse --git-dir >/dev/null 2>&1; then
	headers=$(git ls-files 'include/nfm/*.h')
else
	headers=$(ls include/nfm/*.h)
fi
missing=
for h in $headers; do
	b=${h##*/}
	[ "$b" = nfm.h ] && continue
	grep -q "'$b'" doc/man3/meson.build || missing="$missing $b"
done
[ -z "$missing" ] || { echo "not on any man(3) page (add to doc/man3/meson.build):$missing"; exit 1; }
echo "every public header is on a man(3) page"
