#!/usr/bin/env bash
# nfmd under a real systemd, with dist/nfmd.service as `meson install` installs it: a systemd 252
# (the distribution's /lib/systemd/systemd) runs as PID 1 of its own PID, mount, cgroup, UTS, IPC
# and network namespaces, boots a one-unit target, starts a lab guest as a unit of its own (so
# that the guest is one of the processes nfmd can see), then `systemctl start nfmd`, and asserts:
#   - the unit is active/running (Type=notify: nfmd said READY=1 on $NOTIFY_SOCKET);
#   - its main process runs as the transient user of DynamicUser= (not root, every uid and gid),
#     with exactly CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE effective, permitted, bounding and
#     ambient (/proc/PID/status), no_new_privs and a seccomp filter;
#   - /metrics has the guest, attached (nfm_vm_up 1, nfm_vm_status{status="up"}, its QEMU's pid),
#     with values the guest itself gives: uname release and nodename, MemTotal, online CPUs (the
#     guest's truth snapshot, lab/TRUTH-FORMAT.md), RAM as QEMU was told, and as many processes
#     as `nfm --vm NAME ps -j` counts from outside, run as root without a sandbox;
#   - the sandbox costs no metric: nfmd run as root, unconfined, serves the same families for the
#     guest (whose vCPU threads are named, as libvirt's are: nfmd cannot use its QMP socket);
#   - `systemctl reload nfmd` (ExecReload: SIGHUP) leaves the same main PID running and serving:
#     nfmd logs the rescan and /metrics still has the guest, crawled again since.
# usage: nfmd_systemd.sh BUILD_DIR   (root; nothing of the host is changed, see below)
#
# Isolation: the whole thing lives in namespaces this script makes and a cgroup of its own
# (CGROUP2/CURRENT/nfm-sdbox-PID, the root of the new cgroup namespace, with a cgroup2 mount at
# /sys/fs/cgroup in the new mount namespace: systemd runs in unified mode whatever the host's
# layout). Private /run, /tmp, /var/tmp and /var/log/journal (tmpfs); /sys and /proc/sys read
# only (PID 1 would raise fs.file-max and fs.nr_open); its own hostname and loopback; its
# /dev/console a file of ours (PID 1 logs there); no CAP_SYS_MODULE, CAP_SYS_BOOT or
# CAP_SYS_TIME; the install of the build (DESTDIR) bind-mounted on /usr/local
# (the prefix the unit's paths name) and an ld.so.cache made for it. Everything dies with the
# namespace's PID 1 (SIGKILL at the end, or when this script dies: pdeathsig); the cgroups are
# then removed. NFM_SDBOX_HOLD=1 keeps it all until RUN/hold is removed (debugging).
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(realpath "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
kernel=${NFM_SDBOX_KERNEL:-6.1-cloud}
name=sdbox-$$
port=9464 # dist/nfmd.conf's listen address, as installed: 127.0.0.1:9464
t0=$SECONDS

say() { printf '[%3ds] %s\n' $((SECONDS - t0)) "$*"; }
W='' U='' P='' CG=''
cleanup() {
	if [ -n "${NFM_SDBOX_HOLD:-}" ] && [ -n "$P" ]; then # debugging: keep it until $W/hold goes
		touch "$W/hold"; echo "holding: nsenter -t $P -m -p -u -i -n -C; rm $W/hold to end"
		while [ -f "$W/hold" ]; do sleep 1; done
	fi
	if [ -n "$P" ] && [ -d "/proc/$P" ]; then
		# the guest's QEMU is stopped as a unit, the rest dies with PID 1
		ns systemctl stop --no-block nfm-sdbox-lab.service >/dev/null 2>&1
		sleep 1
		kill -KILL "$P" 2>/dev/null
	fi
	[ -n "$U" ] && wait "$U" 2>/dev/null
	if [ -n "$CG" ] && [ -d "$CG" ]; then
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$CG" ] || break
			sleep 0.5
		done
		[ -d "$CG" ] && echo "cleanup: cannot remove cgroup $CG" >&2
	fi
	[ -n "$W" ] && rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP
dump_logs() {
	[ -n "$W" ] || return 0
	echo "--- systemd (PID 1) log, last 40 lines"; tail -n 40 "$W/systemd.log" "$W/console"
	if [ -n "$P" ] && [ -d "/proc/$P" ]; then
		echo "--- systemctl status nfmd"; ns systemctl status --no-pager -l nfmd.service 2>&1 | tail -25
		echo "--- journalctl -u nfmd"; ns journalctl --no-pager -u nfmd.service 2>&1 | tail -25
	fi
	[ -f "$W/lab.log" ] && { echo "--- nfm-lab start"; tail -20 "$W/lab.log"; }
}
fail() { echo "FAIL: $*"; dump_logs; exit 1; }
ns() { nsenter -t "$P" -m -p -u -i -n -C -- "$@"; }

# Prerequisites fail the test: it is registered where they are installed (scripts/install-deps).
[ "$(id -u)" = 0 ] || fail "needs root (namespaces, mounts, cgroups, reading QEMU's memory)"
for p in unshare nsenter setpriv findmnt curl ldconfig systemctl systemd-run journalctl \
	/lib/systemd/systemd python3; do
	command -v "$p" >/dev/null || fail "$p not found (scripts/install-deps installs it)"
done
cg2=$(findmnt -n -k -t cgroup2 -o TARGET | head -1)
[ -n "$cg2" ] || fail "no cgroup2 hierarchy mounted on the host (systemd needs one)"

W=$(mktemp -d /tmp/nfm-sdbox.XXXXXX)
chmod 755 "$W"
meson install -C "$build" --no-rebuild --quiet --destdir "$W/root" >"$W/install.log" 2>&1 ||
	{ cat "$W/install.log"; fail "meson install failed"; }
unit=$W/root/usr/local/lib/systemd/system/nfmd.service
[ -f "$unit" ] || fail "nfmd.service is not installed under /usr/local/lib/systemd/system (prefix not /usr/local?)"
grep -q '^ExecStart=/usr/local/sbin/nfmd --config /usr/local/etc/nfmd/nfmd.conf$' "$unit" ||
	fail "unexpected ExecStart in the installed unit: $(grep ^ExecStart= "$unit")"

cat >"$W/nfm-sdbox.target" <<'EOF'
[Unit]
Description=nfm systemd sandbox test: nothing but journald, and what the test starts
Wants=systemd-journald.socket systemd-journald.service
EOF
: >"$W/console"
cat >"$W/init.sh" <<EOF
set -e
mount --bind $W/console /dev/console
mount -o remount,bind,ro /sys
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount --bind /proc/sys /proc/sys
mount -o remount,bind,ro /proc/sys
mount --bind $W/root/usr/local /usr/local
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mkdir -p /run/nfm-sdbox /run/systemd/system
mount --bind $W /run/nfm-sdbox
# the tree under test (its lab/ starts the guest) stays where it is, also when a clone lives
# under /tmp or /var/tmp, which get tmpfs mounts of their own below
mkdir -p /run/nfm-sdbox-src
mount --bind "$src" /run/nfm-sdbox-src
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /var/tmp
if [ ! -d "$src/lab" ]; then mkdir -p "$src" && mount --bind /run/nfm-sdbox-src "$src"; fi
if [ -d /var/log/journal ]; then mount -t tmpfs -o mode=0755 tmpfs /var/log/journal; fi
ldconfig -X -C /run/nfm-sdbox/ld.so.cache
mount --bind /run/nfm-sdbox/ld.so.cache /etc/ld.so.cache
cp /run/nfm-sdbox/nfm-sdbox.target /run/systemd/system/
exec env -i container=nfm-sdbox PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	/lib/systemd/systemd --system --unit=nfm-sdbox.target --log-target=console --show-status=no
EOF

# The kernel package now: the namespace has no network (its own loopback only).
kdir=$("$src/lab/nfm-lab" fetch "$kernel" 2>"$W/fetch.err") ||
	{ cat "$W/fetch.err"; fail "nfm-lab fetch $kernel failed"; }
say "kernel $kernel: $kdir"

# our own cgroup, then the namespaces (the cgroup namespace's root is the cgroup we are in)
self=$(sed -n 's/^0:://p' /proc/self/cgroup)
CG=$cg2${self%/}/nfm-sdbox-$$
mkdir "$CG" || fail "cannot make cgroup $CG"
say "systemd as PID 1 of new namespaces (cgroup ${CG#$cg2})"
(
	echo "$BASHPID" >"$CG/cgroup.procs" || exit 1
	exec setpriv --pdeathsig KILL unshare --kill-child --pid --fork --mount --mount-proc \
		--propagation private --cgroup --uts --ipc --net \
		setpriv --bounding-set -sys_module,-sys_boot,-sys_time -- /bin/sh "$W/init.sh"
) </dev/null >"$W/systemd.log" 2>&1 &
U=$!
for _ in $(seq 50); do
	P=$(cat "/proc/$U/task/$U/children" 2>/dev/null | awk '{print $1}')
	[ -n "$P" ] && break
	sleep 0.1
done
[ -n "$P" ] || fail "unshare started no PID 1"
state=
for _ in $(seq 300); do
	state=$(ns systemctl is-system-running 2>/dev/null)
	case $state in running | degraded) break ;; esac
	[ -d "/proc/$P" ] || fail "systemd exited"
	sleep 0.1
done
case $state in running | degraded) ;; *) fail "systemd did not finish booting nfm-sdbox.target: '$state'" ;; esac
[ "$state" = running ] || fail "systemd is $state: $(ns systemctl --failed --no-legend --no-pager)"
say "systemd $(ns systemctl --version | sed -n '1s/systemd //p') is $state"

# The guest, as a unit of that systemd: its QEMU stays in the unit's cgroup (RemainAfterExit).
# Its vCPU threads are named (-name NAME,debug-threads=on, as libvirt starts QEMU): without QMP,
# which the dynamic user cannot reach, that is how nfmd finds them (doc/ctop.md).
say "lab guest $name ($kernel, 256M, 1 CPU, debug-threads=on)"
ns systemd-run --quiet --unit=nfm-sdbox-lab --service-type=oneshot -p RemainAfterExit=yes \
	-p TimeoutStartSec=400 -p WorkingDirectory="$src/lab" \
	-p StandardOutput=file:/run/nfm-sdbox/lab.log -p StandardError=inherit \
	${NFM_LAB_CACHE:+--setenv=NFM_LAB_CACHE=$NFM_LAB_CACHE} \
	/usr/bin/python3 -c '
import argparse, sys
from nfmlab import vm
info = vm.start(argparse.Namespace(kernel=sys.argv[1], name=sys.argv[2], mem="256M", cpus=1,
    procs=40, qmp="on", shm="off", machine="pc", la57="off", accel="auto", debug_threads=True))
print("".join("%s=%s\n" % kv for kv in info.items()), end="")' "$kernel" "$name" ||
	fail "the lab guest did not start"
info=/run/nfm-lab/$name/info
qpid=$(ns sed -n 's/^pid=//p' "$info")
truth=$(ns sed -n 's/^truth=//p' "$info")
[ -n "$qpid" ] && [ -n "$truth" ] || fail "no pid or truth in $info"
ns cat "$truth" >"$W/truth" || fail "cannot read the truth snapshot $truth"
say "guest up: QEMU pid $qpid (in the namespace), $(ns sed -n 's/^accel=//p' "$info")"

say "systemctl start nfmd.service"
ns systemctl start nfmd.service || fail "systemctl start nfmd.service failed"
show() { ns systemctl show -p "$1" --value nfmd.service; }
[ "$(show ActiveState)/$(show SubState)" = active/running ] ||
	fail "nfmd.service is $(show ActiveState)/$(show SubState)"
[ "$(show Type)" = notify ] || fail "Type=$(show Type)"
main=$(show MainPID)
[ "$main" -gt 1 ] 2>/dev/null || fail "MainPID=$main"
ns cat "/proc/$main/status" >"$W/status" || fail "cannot read /proc/$main/status"
[ "$(ns readlink "/proc/$main/exe")" = /usr/local/sbin/nfmd ] || fail "main PID is $(ns readlink "/proc/$main/exe")"
# DynamicUser: one uid and gid from systemd's dynamic range 61184-65519, for all four of each
read -r _ u1 u2 u3 u4 < <(grep '^Uid:' "$W/status")
read -r _ g1 g2 g3 g4 < <(grep '^Gid:' "$W/status")
for id in $u1 $u2 $u3 $u4 $g1 $g2 $g3 $g4; do
	[ "$id" = "$u1" ] && [ "$id" -ge 61184 ] && [ "$id" -le 65519 ] ||
		fail "nfmd runs as Uid: $u1 $u2 $u3 $u4 Gid: $g1 $g2 $g3 $g4, not one dynamic user"
done
user=$(ns getent passwd "$u1" | cut -d: -f1)
[ "$user" = nfmd ] || fail "uid $u1 is '$user' (nss-systemd), not the unit's dynamic user nfmd"
# CAP_DAC_READ_SEARCH (2) and CAP_SYS_PTRACE (19), nothing else
want=$(printf '%016x' $(((1 << 2) | (1 << 19))))
for c in CapEff CapPrm CapBnd CapAmb; do
	got=$(sed -n "s/^$c:[[:space:]]*//p" "$W/status")
	[ "$got" = "$want" ] || fail "$c $got, not $want (cap_dac_read_search,cap_sys_ptrace)"
done
grep -q '^NoNewPrivs:[[:space:]]*1$' "$W/status" || fail "no_new_privs not set"
grep -q '^Seccomp:[[:space:]]*2$' "$W/status" || fail "no seccomp filter"
say "nfmd pid $main: user $user ($u1), caps $want in Eff/Prm/Bnd/Amb, NoNewPrivs 1, Seccomp 2"

metrics() { ns curl -sS --max-time 10 "http://127.0.0.1:$port/metrics" >"$W/$1" 2>"$W/curl.err"; }
check_guest() { # $1 = metrics file; prints why not, or nothing
	python3 - "$W/$1" "$W/truth" "$name" "$qpid" "$src/lab" "$W/$1.summary" 2>&1 <<'PYEOF'
import re, sys
path, truth_path, name, qpid, lab, summary = sys.argv[1:7]
sys.path.insert(0, lab)
from nfmlab import truth
series = {}
for line in open(path):
    m = re.match(r'^(\w+)\{([^}]*)\} (\S+)$', line.rstrip("\n"))
    if m:
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
        if labels.get("vm") == name:
            series.setdefault(m.group(1), []).append((labels, float(m.group(3))))
def bad(why):
    print(why)
    sys.exit(1)
def one(metric, **want):
    for labels, v in series.get(metric, []):
        if all(labels.get(k) == x for k, x in want.items()):
            return labels, v
    return None, None
labels, up = one("nfm_vm_up")
if up != 1:
    bad("nfm_vm_up{vm=%r} is %s" % (name, up))
if labels.get("pid") != qpid:
    bad("nfm_vm_up{vm=%r} has pid=%s, QEMU is %s" % (name, labels.get("pid"), qpid))
if one("nfm_vm_status", status="up")[1] != 1:
    bad("nfm_vm_status{status=\"up\"} is not 1")
t = truth.load(truth_path)
rel, node = t.uname["release"].decode(), t.uname["nodename"].decode()
if one("nfm_guest_info", release=rel, nodename=node)[1] != 1:
    bad("no nfm_guest_info{release=%r,nodename=%r} 1: %s" % (rel, node, series.get("nfm_guest_info")))
memtotal = int(re.search(rb"^MemTotal:\s+(\d+) kB", t.files["/proc/meminfo"], re.M).group(1)) * 1024
got = one("nfm_guest_memory_MemTotal_bytes")[1]
if got != memtotal:
    bad("nfm_guest_memory_MemTotal_bytes %s, the guest's /proc/meminfo says %d" % (got, memtotal))
cpus = len(re.findall(rb"^processor\s*:", t.files["/proc/cpuinfo"], re.M))
if one("nfm_guest_cpus")[1] != cpus:
    bad("nfm_guest_cpus %s, the guest's /proc/cpuinfo has %d" % (one("nfm_guest_cpus")[1], cpus))
if one("nfm_guest_ram_bytes")[1] != 256 << 20:
    bad("nfm_guest_ram_bytes %s, QEMU has -m 256M" % one("nfm_guest_ram_bytes")[1])
with open(summary, "w") as f:
    f.write("release %s, MemTotal %d, %d CPU, %d processes, %d crawls" % (
        rel, memtotal, cpus, one("nfm_guest_processes")[1], one("nfm_crawls_total")[1]))
PYEOF
}
why=
for _ in $(seq 60); do
	if metrics m1; then
		why=$(check_guest m1) && break
	else
		why="curl: $(cat "$W/curl.err")"
	fi
	sleep 1
done
[ -z "$why" ] || fail "/metrics: $why"
say "/metrics: guest $name up, pid $qpid, $(cat "$W/m1.summary")"

# Processes: nfmd's count against nfm's own, outside the sandbox (the zoo's process set is fixed
# once booted; a count is taken before and after and nfmd's must lie between).
count_ps() {
	ns "$build/cmd/nfm/nfm" --vm "$name" ps -j >"$W/ps.json" 2>"$W/ps.err" || return 1
	python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["processes"]))' "$W/ps.json"
}
n1=$(count_ps) || fail "nfm --vm $name ps -j: $(cat "$W/ps.err")"
metrics m2 || fail "curl: $(cat "$W/curl.err")"
procs=$(sed -n "s/^nfm_guest_processes{vm=\"$name\",pid=\"$qpid\"} \([0-9]*\)$/\1/p" "$W/m2")
n2=$(count_ps) || fail "nfm --vm $name ps -j: $(cat "$W/ps.err")"
lo=$((n1 < n2 ? n1 : n2)) hi=$((n1 > n2 ? n1 : n2))
[ -n "$procs" ] && [ "$procs" -ge "$lo" ] && [ "$procs" -le "$hi" ] ||
	fail "nfm_guest_processes '$procs', nfm ps -j counts $n1 then $n2"
say "nfm_guest_processes $procs = nfm ps -j's $n1/$n2"

# Nothing lost to the sandbox: the same nfmd, root and unconfined (a transient unit of the same
# systemd), serves the same metric families for the guest (QMP, which only root reaches here, adds
# none: the vCPU threads have names).
ns systemd-run --quiet --unit=nfm-sdbox-root /usr/local/sbin/nfmd \
	--config /usr/local/etc/nfmd/nfmd.conf --listen 127.0.0.1:$((port + 1)) ||
	fail "cannot start nfmd as root (nfm-sdbox-root.service)"
families() { sed -n "s/^\(nfm_[A-Za-z0-9_]*\){vm=\"$name\",.*/\1/p" "$W/$1" | sort -u; }
why=
for _ in $(seq 40); do
	sleep 1
	ns curl -sS --max-time 10 "http://127.0.0.1:$((port + 1))/metrics" >"$W/root.prom" 2>"$W/curl.err" &&
		metrics m4 || { why="curl: $(cat "$W/curl.err")"; continue; }
	families root.prom >"$W/root.fam"
	families m4 >"$W/sandbox.fam"
	extra=$(comm -13 "$W/root.fam" "$W/sandbox.fam" | tr '\n' ' ')
	missing=$(comm -23 "$W/root.fam" "$W/sandbox.fam" | tr '\n' ' ')
	why=
	[ -z "$missing" ] || why="missing under the sandbox (root has them): $missing"
	[ -z "$extra" ] || why="$why; only under the sandbox: $extra"
	[ -z "$why" ] && [ "$(wc -l <"$W/root.fam")" -gt 40 ] && break
done
ns systemctl stop nfm-sdbox-root.service
[ -z "$why" ] || fail "/metrics of the sandboxed nfmd against root's: $why"
grep -qx nfm_vm_host_vcpu_cpu_seconds_total "$W/sandbox.fam" || fail "no per-vCPU host series"
say "metric families of the guest: the same $(wc -l <"$W/sandbox.fam") as nfmd run as root"

crawls() { sed -n "s/^nfm_crawls_total{vm=\"$name\",pid=\"$qpid\"} \([0-9]*\)$/\1/p" "$W/$1"; }
c1=$(crawls m2)
say "systemctl reload nfmd.service"
ns systemctl reload nfmd.service || fail "systemctl reload nfmd.service failed"
sleep 3
[ "$(show ActiveState)/$(show SubState)" = active/running ] ||
	fail "after reload nfmd.service is $(show ActiveState)/$(show SubState)"
[ "$(show MainPID)" = "$main" ] || fail "after reload MainPID $(show MainPID), was $main"
[ "$(show NRestarts)" = 0 ] || fail "nfmd restarted $(show NRestarts) times"
ns journalctl --no-pager -o cat -u nfmd.service >"$W/journal" 2>&1
grep -q 'SIGHUP: rescanning VMs' "$W/journal" || fail "nfmd did not log the SIGHUP"
why=
for _ in $(seq 30); do
	if metrics m3; then
		why=$(check_guest m3) && [ "$(crawls m3)" -gt "$c1" ] && break
		[ -n "$why" ] || why="nfm_crawls_total still $(crawls m3)"
	else
		why="curl: $(cat "$W/curl.err")"
	fi
	sleep 1
done
[ -z "$why" ] || fail "after reload, /metrics: $why"
say "after reload: same pid $main, SIGHUP logged, guest still served (crawls $c1 -> $(crawls m3))"

# Anything the sandbox denied shows up in the journal (seccomp EPERM, EACCES, EROFS...).
if grep -iE 'permission|denied|not permitted|read-only|cannot|failed' "$W/journal" >"$W/bad"; then
	fail "nfmd logged errors under the sandbox: $(head -5 "$W/bad")"
fi
say "PASS"
