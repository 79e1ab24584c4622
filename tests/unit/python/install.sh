#!/usr/bin/env bash
# The installed Python binding: `meson install` into a scratch DESTDIR puts the package nfm
# (__init__.py, _cdef.py) where Debian's python3 looks under the prefix, its _cdef names the
# libnfm.so that was installed, and `import nfm` from there loads that library (NFM_LIBNFM points
# it into the DESTDIR) and reports the version the installed nfm reports.
# usage: install.sh BUILD_DIR
set -uo pipefail
build=$1
fail() { echo "FAIL: $*"; exit 1; }
/usr/bin/python3 -c 'import cffi' 2>/dev/null || fail "no python3-cffi: the binding is not built"
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
meson install -C "$build" --no-rebuild --quiet --destdir "$d/root" >"$d/install.log" 2>&1 ||
	{ cat "$d/install.log"; fail "meson install failed"; }
init=$(find "$d/root" -path '*/nfm/__init__.py' | head -1)
[ -n "$init" ] || fail "no nfm/__init__.py installed"
pkg=$(dirname "$init")
[ -f "$pkg/_cdef.py" ] || fail "no _cdef.py beside ${init#$d/root}"
site=${pkg%/nfm}
# the place must be on the installed python3's path (Debian: dist-packages under the prefix)
prefix=$(meson introspect "$build" --buildoptions | /usr/bin/python3 -c \
	'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"][0])')
/usr/bin/python3 -c "import site, sys; sys.exit(0 if '${site#$d/root}' in sys.path else 1)" ||
	fail "${site#$d/root} is not on python3's sys.path (prefix $prefix)"
lib=$(cd "$pkg" && /usr/bin/python3 -c 'import _cdef; print(_cdef.LIBS[0])')
[ -f "$d/root$lib" ] || fail "_cdef names $lib, which meson did not install"
nfm=$(find "$d/root" -path '*/bin/nfm' | head -1)
want=$(LD_LIBRARY_PATH="$(dirname "$d/root$lib")" "$nfm" --version 2>/dev/null | awk '{print $2}')
# a sanitizer build's libnfm needs its runtime loaded first into the (uninstrumented) python3
san=$(meson introspect "$build" --buildoptions | /usr/bin/python3 -c \
	'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "b_sanitize"][0])')
pre=
case $san in
*address*) pre="$(${CC:-cc} -print-file-name=libasan.so)" ;;
esac
case $san in
*undefined*) pre="$pre $(${CC:-cc} -print-file-name=libubsan.so)" ;;
esac
got=$(cd / && LD_PRELOAD="${pre# }" ASAN_OPTIONS=detect_leaks=0 PYTHONPATH="$site" NFM_LIBNFM="$d/root$lib" LD_LIBRARY_PATH="$(dirname "$d/root$lib")" \
	/usr/bin/python3 -c 'import nfm; print(nfm.version(), nfm.library_path)') || fail "import nfm failed"
[ -n "$want" ] && [ "${got%% *}" = "$want" ] || fail "import nfm: version ${got%% *}, the installed nfm says $want"
[ "${got#* }" = "$d/root$lib" ] || fail "import nfm loaded ${got#* }, not the installed $lib"
echo "import nfm from ${site#$d/root}: libnfm $want (${lib})"
