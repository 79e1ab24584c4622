#!/usr/bin/env bash
# The installed systemd unit: `meson install` into a scratch DESTDIR puts nfmd.service where
# systemd looks under the prefix, its ExecStart names the nfmd that was installed and the
# configuration file it reads is installed too; `systemd-analyze verify` finds nothing to say
# (paths rebased into the DESTDIR so that the binary exists; man pages not looked up); and
# `systemd-analyze security` rates its exposure at most 2.0 ("OK"; nfmd(8) explains each
# setting), so a loosened sandbox fails here.
# usage: check_unit.sh BUILD_DIR
set -uo pipefail
build=$1
command -v systemd-analyze >/dev/null || { echo "no systemd-analyze: skipped"; exit 77; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
meson install -C "$build" --no-rebuild --quiet --destdir "$d/root" >"$d/install.log" 2>&1 ||
	{ cat "$d/install.log"; echo "meson install failed"; exit 1; }
unit=$(find "$d/root" -path '*/lib/systemd/system/nfmd.service' | head -1)
[ -n "$unit" ] || { echo "nfmd.service not installed under PREFIX/lib/systemd/system"; exit 1; }
exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
conf=$(sed -n 's/^ExecStart=.*--config \([^ ]*\).*/\1/p' "$unit")
[ -x "$d/root$exe" ] || { echo "ExecStart=$exe, but meson installed no such program"; exit 1; }
[ -f "$d/root$conf" ] || { echo "ExecStart reads $conf, but meson installed no such file"; exit 1; }
mkdir -p "$d/units"
sed "s|$exe|$d/root$exe|; s|$conf|$d/root$conf|" "$unit" >"$d/units/nfmd.service"
out=$(systemd-analyze verify --man=no "$d/units/nfmd.service" 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -n "$out" ]; then
	echo "systemd-analyze verify ($rc):"; echo "$out"; exit 1
fi
# The threshold is the exposure times ten.
sec=$(systemd-analyze security --offline=yes --threshold=20 --no-pager "$d/units/nfmd.service" 2>&1)
rc=$?
score=$(echo "$sec" | sed -n 's/.*Overall exposure level for nfmd.service: \([0-9.]* [A-Z]*\).*/\1/p')
if [ $rc -ne 0 ] || [ -z "$score" ]; then
	echo "systemd-analyze security ($rc): exposure ${score:-unknown}, more than 2.0:"
	echo "$sec" | grep '✗'; exit 1
fi
echo "nfmd.service installed as ${unit#$d/root}, ExecStart=$exe: systemd-analyze verify is silent;"
echo "systemd-analyze security: exposure $score"
