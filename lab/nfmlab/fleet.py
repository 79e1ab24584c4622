"""A small fleet of lab guests that talk to each other (nfm topo, #18).

Guests: client, app, db (and app2 with full=True). Each pair that talks shares a point-to-point
link: two virtio-net NICs joined by QEMU `-netdev dgram` over two unix datagram sockets in the
fleet's runtime dir, so no frame ever reaches a host interface (no tap, no bridge, no host
address). Each guest's role is a shell script appended to the lab initramfs as /bin/nfm-fleet
(init runs it once the guest is ready), as scenario.py does; it prints "NFM-FLEET ready" when
its links are up and its services started.

Traffic (busybox): the client fetches a page from app's httpd every 3 s (short-lived
connections, then TIME-WAIT on app), keeps one nc connection open to app:8080 and another to
app:8081 that carries a line of 11 bytes a second (topo --watch's rates); app keeps two
nc connections open to db (5432, 6379); the client keeps trying 198.51.100.7:443 (TEST-NET-2:
outside the fleet; app drops the SYNs, so the socket stays SYN-SENT). Every guest's zoo also
keeps a connected UDP socket to 10.77.0.1 (its dummy0 network, removed here): an external peer.
"""
import argparse
import hashlib
import os
import shutil
import threading
import time

from . import LabError, accel, initramfs, kernels, modules, paths, vm

EXTERNAL = "198.51.100.7"


def layout(full=False):
    """{role: [(link, ip/prefix, mac)]} and the link names. Link L's two ends are the two roles
    listing it; the lower role name binds L-a.sock, the other L-b.sock."""
    nics = {"client": [("ca", "10.80.1.1/24", "52:54:00:80:01:01")],
            "app": [("ca", "10.80.1.2/24", "52:54:00:80:01:02"),
                    ("ad", "10.80.2.1/24", "52:54:00:80:02:01")],
            "db": [("ad", "10.80.2.2/24", "52:54:00:80:02:02")]}
    if full:
        nics["client"].append(("cb", "10.80.3.1/24", "52:54:00:80:03:01"))
        nics["app2"] = [("cb", "10.80.3.2/24", "52:54:00:80:03:02"),
                        ("bd", "10.80.4.1/24", "52:54:00:80:04:01")]
        nics["db"].append(("bd", "10.80.4.2/24", "52:54:00:80:04:02"))
    return nics


def _script(role, nics):
    up = []
    for _, cidr, mac in nics:
        # find the NIC by its MAC: probe order is not a promise
        up.append('d=$(for i in /sys/class/net/*; do [ "$(cat $i/address)" = %s ] && '
                  'echo ${i##*/}; done)\nip link set "$d" up\nip addr add %s dev "$d"' % (mac, cidr))
    svc = {
        "client": ["ip route add default via 10.80.1.2",
                   "(while :; do nc 10.80.1.2 8080 < /run/hold; sleep 1; done) &",
                   "(while :; do wget -q -O /dev/null http://10.80.1.2/; sleep 3; done) &",
                   "(while :; do nc %s 443 < /dev/null; sleep 1; done) &" % EXTERNAL,
                   # a steady trickle for topo --watch's rates: 11 bytes a second
                   "(while :; do (while :; do echo nfm-stream; sleep 1; done) | "
                   "nc 10.80.1.2 8081; sleep 1; done) &"],
        "app": ["mkdir -p /www && echo nfm-fleet > /www/index.html",
                "httpd -p 80 -h /www",
                "(while :; do nc -l -p 8080 < /run/hold > /dev/null; done) &",
                "(while :; do nc -l -p 8081 < /run/hold > /dev/null; done) &",
                "(while :; do nc 10.80.2.2 5432 < /run/hold; sleep 1; done) &",
                "(while :; do nc 10.80.2.2 6379 < /run/hold; sleep 1; done) &"],
        "app2": ["mkdir -p /www && echo nfm-fleet > /www/index.html",
                 "httpd -p 80 -h /www",
                 "(while :; do nc 10.80.4.2 5433 < /run/hold; sleep 1; done) &"],
        "db": ["(while :; do nc -l -p 5432 < /run/hold > /dev/null; done) &",
               "(while :; do nc -l -p 6379 < /run/hold > /dev/null; done) &"],
    }[role]
    if role == "db" and any(l == "bd" for l, _, _ in nics):
        svc.append("(while :; do nc -l -p 5433 < /run/hold > /dev/null; done) &")
    return ("#!/bin/sh\n"
            "for m in $(cat /lib/modules/fleet.list); do insmod /lib/modules/$m 2>/dev/null; done\n"
            "i=0; while [ $i -lt 100 ] && ! ls /sys/class/net | grep -q eth; do sleep 0.1; "
            "i=$((i+1)); done\n"
            # every guest's dummy0 holds 10.77.0.2: the fleet's addresses must be its own
            "ip addr flush dev dummy0\n"
            # long-lived nc read a FIFO this shell holds open and nobody writes: never EOF
            "mkfifo /run/hold; exec 3<>/run/hold\n" + "\n".join(up + svc) +
            "\necho NFM-FLEET ready\n").encode()


def _initrd(kernel, role, nics):
    base = initramfs.build(kernel)
    mods = modules.load_order(kernel.moddir, ["virtio_net"])
    script = _script(role, nics)
    key = hashlib.sha256(base.encode() + script + b"".join(m[0].encode() for m in mods)).hexdigest()[:16]
    out = os.path.join(paths.cache_dir(), "initramfs-%s-fleet-%s.cpio.gz" % (kernel.release, key))
    if os.path.exists(out):
        return out
    files = [("lib/modules/%s.ko" % name, elf, 0o644) for name, _, elf in mods]
    files.append(("lib/modules/fleet.list", "".join("%s.ko\n" % m[0] for m in mods).encode(), 0o644))
    files.append(("bin/nfm-fleet", script, 0o755))
    return initramfs.append(base, out, files)


def link_dir(prefix):
    """Where the fleet's link sockets live (short: unix socket paths have 108 bytes)."""
    return os.path.join(paths.run_root() + "-links", prefix)


def _netdevs(prefix, role, nics, roles):
    argv = []
    for i, (link, _, mac) in enumerate(nics):
        other = [r for r in roles if r != role and any(l == link for l, _, _ in roles[r])][0]
        me, peer = ("a", "b") if role < other else ("b", "a")
        d = link_dir(prefix)
        argv += ["-netdev", "dgram,id=n%d,local.type=unix,local.path=%s/%s-%s.sock,"
                 "remote.type=unix,remote.path=%s/%s-%s.sock" % (i, d, link, me, d, link, peer),
                 "-device", "virtio-net-pci,netdev=n%d,mac=%s" % (i, mac)]
    return argv


def _wait_ready(name, timeout):
    console = os.path.join(paths.run_dir(name), "console.log")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(console, "rb") as f:
            if b"NFM-FLEET ready" in f.read():
                return
        if vm._pid_of(name) is None:
            raise LabError("fleet guest %s: QEMU exited; see %s" % (name, console))
        time.sleep(0.2)
    raise LabError("fleet guest %s not ready after %ds; see %s" % (name, timeout, console))


def _start_one(kernel, kernel_name, prefix, role, roles, mem, out):
    name = "%s-%s" % (prefix, role)
    vm._check_name(name)
    if vm._pid_of(name):
        raise LabError("VM %s is already running (nfm-lab stop %s)" % (name, name))
    o = argparse.Namespace(kernel=kernel_name, name=name, mem=mem, cpus=1, procs=4, qmp="on",
                           shm="off", machine="pc", la57="off", accel="auto",
                           qemu_extra=_netdevs(prefix, role, roles[role], roles))
    initrd = _initrd(kernel, role, roles[role])
    acc = accel.choose(o.accel, kernel.vmlinuz)
    secs, m, marker = vm.boot(name, kernel, initrd, o, acc)
    _wait_ready(name, 240)
    out[role] = vm.booted_info(name, kernel, kernel_name, acc, secs, m, marker, mem, fleet_role=role,
                               fleet_addrs=" ".join(c for _, c, _ in roles[role]))


def start(kernel_name, prefix, full=False, mem="256M"):
    """Boots the fleet in parallel; returns {role: info dict}. On failure stops every guest."""
    kernel = kernels.fetch(kernel_name)
    roles = layout(full)
    shutil.rmtree(link_dir(prefix), ignore_errors=True)
    os.makedirs(link_dir(prefix), exist_ok=True)
    out, errs = {}, []

    def one(role):
        try:
            _start_one(kernel, kernel_name, prefix, role, roles, mem, out)
        except Exception as e:  # noqa: BLE001 - reported below, every guest stopped
            errs.append("%s: %s" % (role, e))

    initramfs.build(kernel)  # once, before the threads race for it
    ts = [threading.Thread(target=one, args=(r,)) for r in sorted(roles)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errs:
        for r in roles:
            vm.kill("%s-%s" % (prefix, r))
        raise LabError("fleet %s did not start: %s" % (prefix, "; ".join(errs)))
    return out


def stop(prefix, full=True):
    for r in layout(full):
        vm.stop("%s-%s" % (prefix, r))
    shutil.rmtree(link_dir(prefix), ignore_errors=True)
