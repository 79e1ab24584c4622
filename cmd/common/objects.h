/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest objects as JSON: one builder per object type, used by every producer (nfm CMD -j,
 * nfm crawl, nfmd's API) so that a process, a socket, an interface... is the same object
 * everywhere. Each builder matches one schema file of doc/schema/ (named in its comment), which
 * documents every member: its unit and its meaning. The conventions (doc/schema/README.md):
 * units in names (_bytes, _ns, _pages), addresses as "0x..." strings, ids as integers, enums by
 * the kernel's (or the familiar tool's) name with the number in "<name>_code", guest strings
 * exact when valid UTF-8 with an "<name>_hex" member holding the exact bytes when not.
 *
 * Every builder returns a new object the caller owns (and usually hands to an array or a
 * document). Callers may add the optional members the schema lists for that object (e.g.
 * "cmdline", "files", "threads" on a process) with the names the schema gives, and nothing else:
 * the schemas say "additionalProperties": false, so a test catches drift.
 */
#ifndef NFM_CMD_OBJECTS_H
#define NFM_CMD_OBJECTS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nfm/nfm.h>	/* first: context.h and source.h use NFM_EXPORT without it */
#include <nfm/context.h>
#include <nfm/cpu.h>
#include <nfm/source.h>
#include <nfm/system.h>
#include <nfm/task.h>

#include "jout.h"

/* ---- processes: doc/schema/process.json, vma.json, fd.json ---- */

/*
 * process.json: a process (or a thread, from an NFM_TASK_THREADS walk), with /proc/PID/stat and
 * status names: task, mm (addresses), pid (the thread's id for a thread, as status "Pid:"),
 * tgid, ppid, uid euid suid fsuid gid egid sgid fsgid, state ("R", "S"...), comm (what
 * /proc/PID/comm shows, + comm_hex), task_comm (task->comm, + task_comm_hex), kthread, flags
 * (PF_*), nice, priority, policy ("SCHED_OTHER"...), policy_code, rt_priority, num_threads,
 * start_time_ns, start_time_ticks, utime_ns, stime_ns, utime_ticks, stime_ticks, vsize_bytes,
 * rss_pages, rss_bytes, rss_exact_bytes, rss_anon_bytes, rss_file_bytes, rss_shmem_bytes.
 * rss_bytes is VmRSS: rss_exact_bytes when vmrss_summed (nfm_vmrss_summed() of the guest).
 *
 * Optional members callers add (documented in process.json): "cmdline" etc. through
 * obj_process_cmdline(); "cmdline_error" (j_str(strerror)), "tids" (array of ints), "threads"
 * (array of process objects), "files" (array of fd objects), "children" (array of process
 * objects: pstree), "cpu_pct" and "mem_pct" (j_fixed(v, 1): top), "cpu_time_ns" (utime + stime,
 * when only the sum is known: top).
 */
struct json_object *obj_process(const struct nfm_task *t, bool vmrss_summed);

/*
 * Add the rest of /proc/PID/stat and status (nfm_task_info()) to proc, named as in process.json:
 * pgrp, session, tty_nr, tty_name (+ tty_name_hex), tpgid, min_flt, cmin_flt, maj_flt, cmaj_flt,
 * cutime_ns, cstime_ns, cutime_ticks, cstime_ticks, rsslim_bytes, start_code, end_code,
 * start_stack, start_data, end_data, start_brk, arg_start, arg_end, env_start, env_end,
 * sig_pending, sig_shared_pending, sig_blocked, sig_ignored, sig_caught (16 hex digits, as
 * status), stat_wchan, exit_signal, processor, exit_code,
 * tracer_pid, umask, cap_inheritable, cap_permitted, cap_effective, cap_bounding, cap_ambient
 * (16 hex digits), no_new_privs, seccomp, vm_peak_bytes, vm_lck_bytes, vm_pin_bytes,
 * vm_hwm_bytes, vm_data_bytes, vm_stk_bytes, vm_exe_bytes, vm_lib_bytes, vm_pte_bytes,
 * vm_swap_bytes, hugetlb_bytes, voluntary_ctxt_switches, nonvoluntary_ctxt_switches.
 */
void obj_process_info(struct json_object *proc, const struct nfm_task_info *i, uint64_t page_size);
/* status Groups (nfm_task_groups()) as process.json's "groups". */
void obj_process_groups(struct json_object *proc, const uint32_t *gids, int n);

/*
 * Add a process's command line (bytes from nfm_task_cmdline()) to proc: "cmdline" (the bytes,
 * NULs included, as j_bytes), "cmdline_hex" when not valid UTF-8, "argv" (the NUL-separated
 * words, an array of strings), and when st says pages were missing "cmdline_pages_missing" and
 * "cmdline_pages_swapped". st may be NULL. Nothing is added for len 0 (kernel threads).
 */
void obj_process_cmdline(struct json_object *proc, const void *cmd, size_t len,
			 const struct nfm_umem_stat *st);

/*
 * vma.json: one mapping (/proc/PID/maps line): start, end (addresses), size_bytes, perms
 * ("r-xp"), flags (VM_*), offset_bytes, dev_major, dev_minor, inode, file (struct file
 * address, "0x0" for anonymous memory), name (+ name_hex).
 */
struct json_object *obj_vma(const struct nfm_vma *v);

/*
 * fd.json: one open file descriptor: fd, type ("REG", "SOCK"...), path (+ path_hex), flags
 * (O_*), pos_bytes, mode (i_mode), inode, dev_major, dev_minor, file (address); for a socket
 * also sock_family ("inet"...), sock_family_code, sock_type ("stream"...), sock_type_code,
 * sock_protocol_code, proto ("TCP"). Optional members: "pid" and "comm" (nfm lsof's flat list).
 */
struct json_object *obj_fd(const struct nfm_fd *f);

/* ---- kernel modules: module.json; cross-view checks: check_finding.json ---- */

/*
 * module.json: name, size_bytes, refcount, users (array of module names; "[permanent]" kept as
 * the kernel prints it), state ("Live"...), taints ("(OE)" or ""), address (text base),
 * module (struct module address). Optional member: "line" (the /proc/modules line).
 */
struct json_object *obj_module(const struct nfm_module *m);

/*
 * check_finding.json#/$defs/syscall: nr, table ("sys_call_table" / "ia32_sys_call_table"), ok,
 * handler (address), symbol (string or null), offset_bytes (into symbol), module (string or
 * null).
 */
struct json_object *obj_syscall_entry(const struct nfm_syscall_entry *e);
/* check_finding.json#/$defs/module_view: name, module (address), in_list, in_sysfs. */
struct json_object *obj_module_view(const struct nfm_module_view *v);
/* check_finding.json#/$defs/task_view: pid, comm, task (address), in_list, in_pid_table. */
struct json_object *obj_task_view(const struct nfm_task_view *v);
/*
 * hook.json (obj_check.c): a hook or registered handler (nfm_hooks): kind, ok, what, object,
 * site, site_symbol, site_offset_bytes, nr_sites, vector, target, owner, symbol, offset_bytes,
 * module.
 */
struct nfm_hook;
struct json_object *obj_hook(const struct nfm_hook *h);

/* ---- system: mount.json, log_record.json, memory.json, loadavg.json, cpu_times.json,
 * cpuinfo.json, kernel.json, vm.json, fs_entry.json, symbol.json, yara_match.json ---- */

/*
 * mount.json: device, path, fstype, options (as /proc/mounts: octal escapes), options_complete,
 * mnt_id, mount (struct mount address). Optional member: "line" (the /proc/mounts line).
 */
struct json_object *obj_mount(const struct nfm_mount *m);

/*
 * log_record.json: seq, time_ns (printk time after boot), level ("err"...), level_code (0-7),
 * facility ("kern", "user"...), facility_code, caller_id and caller ("T123" / "C2", when the
 * kernel recorded one), text (+ text_hex).
 */
struct json_object *obj_log_record(const struct nfm_log_record *r);

/*
 * memory.json: /proc/meminfo in bytes: mem_total_bytes, mem_free_bytes, mem_available_bytes,
 * buffers_bytes, cached_bytes, swap_cached_bytes, swap_total_bytes, swap_free_bytes,
 * shmem_bytes, slab_reclaimable_bytes, slab_unreclaimable_bytes.
 */
struct json_object *obj_memory(const struct nfm_meminfo *m);

/*
 * loadavg.json: load1, load5, load15 (2 decimals, as /proc/loadavg), avenrun (the kernel's
 * three fixed-point values, FSHIFT 11), running, threads, last_pid, text (the /proc/loadavg
 * line).
 */
struct json_object *obj_loadavg(const struct nfm_loadavg *l);

/*
 * cpu_times.json: cpu (-1 for the total), user_ns, nice_ns, system_ns, idle_ns, iowait_ns,
 * irq_ns, softirq_ns, steal_ns, guest_ns, guest_nice_ns.
 */
struct json_object *obj_cpu_times(const struct nfm_cpu_times *t);

/*
 * cpuinfo.json: one CPU with /proc/cpuinfo's names: processor, vendor_id, cpu_family, model,
 * model_name, stepping, microcode, cpu_mhz (3 decimals), cache_size_bytes (absent without a
 * "cache size" line), physical_id, siblings, core_id, cpu_cores, apicid, initial_apicid,
 * cpuid_level, phys_bits, virt_bits, flags and bugs (arrays of names).
 */
struct json_object *obj_cpuinfo(const struct nfm_cpuinfo *c);
struct json_object *obj_cpuinfo_arm64(const struct nfm_cpuinfo_arm64 *c);

/*
 * kernel.json: what attach found: sysname, nodename, release, version, machine, domainname,
 * banner, paging_levels, kaslr_offset, page_offset, kernel_pgd, vmcoreinfo_pa (addresses),
 * phys_base (signed integer), cpus_online, cpus_possible, mem_total_bytes, ram_bytes,
 * nr_symbols, nr_btf_types, vmcoreinfo_from, symbols_from, btf_from, attach_ns.
 * Optional members: "uptime_ns" (nfm_ctx_uptime_ns) and "source" (nfm_source_describe).
 */
struct json_object *obj_kernel(const struct nfm_kernel_info *ki);

/*
 * vm.json: a QEMU process on the host: pid, name, ram_bytes (0: unknown), qmp ("" : none).
 * Optional members (nfm list, nfm top, nfmd): "release", "uptime_ns", "cpus_online", "error",
 * and nfmd's "status", "up", "libvirt", "discovered_time_ns", "last_crawl_time_ns",
 * "last_crawl_duration_ns", "crawls", "crawl_errors", "attaches", "reboots".
 */
struct json_object *obj_vm(const struct nfm_vm_info *v);

/*
 * fs_entry.json: a file from the dentry cache (nfm shell ls): name (+ name_hex), type ("dir",
 * "reg", "lnk", "chr", "blk", "fifo", "sock", "unknown"), mode, inode, size_bytes,
 * cached_pages, cached_bytes, mountpoint, dentry and inode_struct (addresses).
 * page_size: the guest's page size (0: 4096).
 */
struct json_object *obj_fs_entry(const struct nfm_fs_entry *e, uint64_t page_size);

/*
 * symbol.json: a kernel symbol: name, type (the /proc/kallsyms letter; absent when type is 0),
 * address, module (null for the core kernel). Optional members (nfm sym ADDRESS): "query"
 * (the address asked about) and "offset_bytes" (query - address).
 */
struct json_object *obj_symbol(const char *name, char type, uint64_t address,
			       const char *module);

/*
 * kmem_allocation.json: the allocation holding a kernel address (nfm kmem): query (the address
 * asked about), kind, start, size_bytes, offset_bytes (query - start), and for a slab object
 * slot_size_bytes, cache (the struct kmem_cache) and cache_name; order for slab and pages. a NULL: no allocation
 * holds the address (kind "none").
 */
struct json_object *obj_kmem_allocation(uint64_t query, const struct nfm_kmem *a);

/*
 * yara_match.json: one YARA string match: rule, string (the string's identifier, "$a"),
 * address (where it matched: a user address for a process, a kernel address otherwise),
 * length_bytes. Callers add "pid" and "comm" (a process's memory) or "region" (the kernel
 * image or a module's name: the kernel scan).
 */
struct json_object *obj_yara_match(const char *rule, const char *string_id, uint64_t address,
				   uint64_t length);

/* ---- network: interface.json, socket.json, route.json, neighbour.json ---- */

/*
 * interface.json: netns (inode number), ifindex, ifname, flags (array: "UP", "BROADCAST"...),
 * flags_code (IFF_*), mtu_bytes, qdisc, operstate ("UP"...), operstate_code, txqlen,
 * link_type ("ether"...), link_type_code (ARPHRD_*), address, broadcast ("aa:bb:..."), stats
 * (/proc/net/dev's 16 counters), stats_exact, dev (struct net_device address); with_addrs:
 * addr_info (array of interface.json#/$defs/address: family, local, prefixlen, broadcast,
 * label, scope, scope_code, flags, flags_code).
 */
struct json_object *obj_interface(const struct nfm_netdev *d, bool with_addrs);
/* interface.json#/$defs/address: one address of an interface (ip -j addr's addr_info). */
struct json_object *obj_ifaddr(const struct nfm_ifaddr *a);

/*
 * socket.json: netid ("tcp", "udp6", "u_str"... as ss), netns, family ("inet", "inet6",
 * "unix"), family_code, type ("stream", "dgram", "seqpacket"), type_code, protocol ("tcp",
 * "udp"; absent for 0), protocol_code, state ("ESTAB", "LISTEN", "UNCONN"... as ss prints
 * them), state_code (TCP_* or SS_*), uid, inode, rx_queue, tx_queue, owners (array of
 * {pid, comm}), nr_owners, sk (struct sock address); inet: local, local_port, remote,
 * remote_port; unix: path (+ path_hex; absent when unnamed), unix_flags.
 */
struct json_object *obj_socket(const struct nfm_socket *s);

/*
 * tcp_info.json (ss -i): the kernel's struct tcp_info of a TCP socket with units in the names;
 * a listener has only congestion, the pacing rates, reordering, snd_cwnd, accept_queue and
 * accept_queue_max.
 */
struct json_object *obj_tcp_info(const struct nfm_tcp_info *t);

/*
 * route.json: netns, dev ("*": none), dst, gateway, mask (dotted quads), prefixlen, flags ("UG",
 * as route -n), flags_code (RTF_*), metric, mtu_bytes, window_bytes, irtt_ms, scope ("link"...),
 * scope_code, type ("unicast"...), type_code, protocol ("kernel", "dhcp"...), protocol_code,
 * table, exact. Optional member: "line" (the /proc/net/route line).
 */
struct json_object *obj_route(const struct nfm_route *r);

/*
 * neighbour.json: netns, family ("inet", "inet6"), dst, dev, lladdr, state (array: "REACHABLE",
 * "STALE"... as ip neigh), state_code (NUD_*), flags_code (NTF_*), link_type, link_type_code.
 * Optional member: "line" (the /proc/net/arp line).
 */
struct json_object *obj_neighbour(const struct nfm_neigh *n);

/* ---- names of enums, for table output that must agree with the JSON ---- */

/* "inet", "inet6", "unix", "netlink", "packet", or "af<N>" in buf (>= 16 bytes). */
const char *obj_family_name(int family, char *buf);
/* "stream", "dgram", "raw", "rdm", "seqpacket", "dccp", "packet", or "type<N>" in buf. */
const char *obj_sock_type_name(int type, char *buf);
/* The State column of ss: "ESTAB", "LISTEN", "UNCONN", "TIME-WAIT"... */
const char *obj_socket_state_name(const struct nfm_socket *s);
/* The Netid column of ss: "tcp", "tcp6", "udp", "udp6", "u_str", "u_dgr", "u_seq". */
const char *obj_socket_netid(const struct nfm_socket *s);

/* ---- kernel stacks (nfm bt) ---- */

struct nfm_stack_frame;

/*
 * stack.json: a task's kernel stack from nfm_task_stack(): "frames" (each: ip, symbol (null when
 * none), offset_bytes, size_bytes, module (null: core kernel), text as /proc/PID/stack prints it
 * after "[<0>] "), "flags" (names: "TRUNCATED", "ERROR", "RUNNING", "NO_STACK", "GUESSED"),
 * "flags_code", and "cpu" when cpu >= 0 (a running task's CPU).
 */
struct json_object *obj_stack(const struct nfm_stack_frame *frames, int n, unsigned int flags,
			      int cpu);
/* Add process.json's optional "wchan" to proc: the name, or null for /proc's "0". */
void obj_process_wchan(struct json_object *proc, const char *wchan);

/* nfm diagnose (doc/schema/finding.json, docs/diagnose.json): a finding, the checks, the
 * figures (null where unknown). */
struct nfm_diag_finding;
struct nfm_diag_report;
struct nfm_diag_figures;
struct json_object *obj_finding(const struct nfm_diag_finding *f);
struct json_object *obj_diag_checks(const struct nfm_diag_report *r);
struct json_object *obj_diag_figures(const struct nfm_diag_figures *g);

struct nfm_host_sample;
/*
 * host.json: the host's accounting of a VM: cpu_ns and wait_ns (every QEMU thread), nr_threads,
 * vcpus [{cpu, tid, cpu_ns, wait_ns}], vcpus_how (when given), cgroup {version, path, usage_ns,
 * nr_periods, nr_throttled, throttled_ns, quota_us, period_us, nr_tasks, only_vm} when found.
 */
struct json_object *obj_host(const struct nfm_host_sample *h, const char *vcpus_how);

#endif
