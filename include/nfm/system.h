/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The system view: what /proc/modules, /proc/mounts, /dev/kmsg, /proc/meminfo, /proc/loadavg,
 * /proc/cpuinfo and the /proc/net files say inside the guest, read from its memory.
 *
 * Every list function returns an array it allocates in one block (records and the strings they
 * point to): the caller frees it with a single free(). They return the number of records, or
 * -errno (see nfm.h). A walk that stops early on hostile or changing data returns what it has and
 * sets *truncated when that out-parameter is given.
 */
#ifndef NFM_SYSTEM_H
#define NFM_SYSTEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nfm/nfm.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nfm_ctx;

/* ---- modules: the lines of /proc/modules ---- */

struct nfm_module {
	char name[56];		/* MODULE_NAME_LEN */
	uint64_t size;		/* bytes of every memory area, as /proc/modules */
	int refcount;		/* module_refcount(); -1 when the kernel cannot unload modules */
	const char *users;	/* "a,b," / "[permanent]," / "-", as /proc/modules prints them */
	const char *state;	/* "Live", "Loading", "Unloading" */
	uint64_t address;	/* base of the text (core) area */
	char taints[16];	/* "(OE)", "" without taint bits; "+"/"-" inside while loading/unloading */
	uint64_t module;	/* address of the struct module */
};

NFM_EXPORT int nfm_module_list(struct nfm_ctx *ctx, struct nfm_module **ret, bool *truncated);

/*
 * A loaded module's memory regions ([start, end) kernel addresses: text, data, rodata, init...
 * as mem[] since 6.4, the core and init layouts before): how many were stored (at most max).
 */
NFM_EXPORT int nfm_module_memory(struct nfm_ctx *ctx, uint64_t module, uint64_t (*ranges)[2],
				 int max);

/* ---- cross-view checks: one kernel structure against another (what a rootkit leaves) ---- */

/* A system call table entry: it should be the start of a function of the core kernel. */
struct nfm_syscall_entry {
	unsigned int nr;
	bool ia32;		/* ia32_sys_call_table (32-bit compat), else sys_call_table */
	bool ok;		/* the start of a core-kernel text symbol */
	uint64_t handler;
	const char *symbol;	/* NULL when nothing names the address */
	const char *module;	/* the module whose memory holds it; NULL: none */
	uint64_t offset;	/* into symbol */
};

/* Every entry of sys_call_table and (when the kernel has one) ia32_sys_call_table. */
NFM_EXPORT int nfm_syscall_table(struct nfm_ctx *ctx, struct nfm_syscall_entry **ret);

/* A loaded module as the modules list (lsmod) and module_kset (/sys/module) see it. */
struct nfm_module_view {
	char name[56];
	uint64_t module;	/* struct module address */
	bool in_list;		/* on the modules list: /proc/modules, lsmod */
	bool in_sysfs;		/* in module_kset: /sys/module/NAME */
};

/* Every module either view has; one hidden from one view is what list_del() rootkits leave. */
NFM_EXPORT int nfm_module_views(struct nfm_ctx *ctx, struct nfm_module_view **ret);

/* A process as the task list (ps, /proc) and the PID table (init_pid_ns's IDR) see it. */
struct nfm_task_view {
	int32_t pid;
	char comm[16];
	uint64_t task;		/* struct task_struct of the thread-group leader */
	bool in_list;		/* on init_task.tasks: what ps and /proc walk, what list_del() hides */
	bool in_pid_table;	/* a thread of it has its PID in init_pid_ns */
};

/*
 * Every process either view has. The task list is walked before and after the PID table (a
 * process starting or ending meanwhile is not odd), and on a live guest a process in one view
 * only must stay so over a few looks 20 ms apart (a vCPU stopped between the kernel's two
 * updates shows one for that long).
 */
NFM_EXPORT int nfm_task_views(struct nfm_ctx *ctx, struct nfm_task_view **ret);

/* ---- mounts: the lines of /proc/mounts as PID 1 reads it ---- */

struct nfm_mount {
	const char *device;	/* as /proc/mounts: octal escapes for space, tab, newline, backslash */
	const char *path;	/* mount point, relative to PID 1's root, escaped the same way */
	const char *fstype;	/* "tmpfs", "fuse.sshfs" */
	const char *options;	/* "rw,relatime,size=65536k" */
	bool options_complete;	/* false: the filesystem's own options could not be rendered */
	int mnt_id;
	uint64_t mount;		/* address of the struct mount */
};

NFM_EXPORT int nfm_mount_list(struct nfm_ctx *ctx, struct nfm_mount **ret, bool *truncated);

/*
 * The mount id of the mount a mount (nfm_mount.mount) is mounted on, /proc/PID/mountinfo's
 * second field: its own id for the namespace's root. 0, -EINVAL, -EBADMSG (a parent pointer
 * that leads nowhere), or a read error.
 */
NFM_EXPORT int nfm_mount_parent_id(struct nfm_ctx *ctx, uint64_t mount, int *parent_id);

/* ---- kernel log: the printk ring buffer ---- */

struct nfm_log_record {
	uint64_t seq;
	uint64_t ts_nsec;	/* local_clock() at printk time */
	int level;		/* 0..7 */
	int facility;		/* 0 kernel, 1 user (/dev/kmsg writers) ... */
	uint32_t caller_id;	/* 0x80000000|cpu or a task id */
	const char *text;	/* raw bytes, NUL-terminated (may hold newlines and control bytes) */
	size_t text_len;
};

NFM_EXPORT int nfm_log_records(struct nfm_ctx *ctx, struct nfm_log_record **ret, bool *truncated);

/* ---- memory: /proc/meminfo, in kB ---- */

struct nfm_meminfo {
	uint64_t mem_total, mem_free, mem_available, buffers, cached, swap_cached;
	uint64_t swap_total, swap_free, shmem, slab_reclaimable, slab_unreclaimable;
};

NFM_EXPORT int nfm_meminfo(struct nfm_ctx *ctx, struct nfm_meminfo *ret);

/* ---- load: /proc/loadavg ---- */

struct nfm_loadavg {
	uint64_t avenrun[3];	/* fixed point, FSHIFT 11 */
	double load[3];		/* as /proc/loadavg rounds them */
	unsigned int running;	/* runnable tasks over online CPUs */
	unsigned int threads;	/* nr_threads */
	int last_pid;		/* last PID allocated in the initial namespace */
	char text[128];		/* the /proc/loadavg line, without the newline */
};

NFM_EXPORT int nfm_loadavg(struct nfm_ctx *ctx, struct nfm_loadavg *ret);

/* ---- CPUs: /proc/cpuinfo ---- */

/* One online CPU (x86-64: per-CPU cpu_info, arch/x86/kernel/cpu/proc.c show_cpuinfo). */
struct nfm_cpuinfo {
	unsigned int cpu;
	char vendor_id[16];
	unsigned int family, model, stepping;
	char model_name[64];
	unsigned int microcode;
	unsigned int cache_size_kb;	/* 0: no "cache size" line */
	double mhz;		/* cpu_khz / 1000 (what /proc shows without APERF/MPERF or cpufreq) */
	int physical_id, core_id, siblings, cores;
	unsigned int apicid, initial_apicid;
	int cpuid_level;
	unsigned int phys_bits, virt_bits;
	const char *flags;	/* space-separated, as /proc/cpuinfo: x86_cap_flags of the set bits */
	const char *bugs;	/* the same from x86_bug_flags */
};

/* The online CPUs, in one block (caller frees). Count or -errno (-ENOENT: not x86-64 data). */
NFM_EXPORT int nfm_cpuinfo_list(struct nfm_ctx *ctx, struct nfm_cpuinfo **ret);

/* One online CPU of an arm64 guest, as arm64's /proc/cpuinfo (arch/arm64/kernel/cpuinfo.c). */
struct nfm_cpuinfo_arm64 {
	unsigned int cpu;
	uint32_t midr;		/* MIDR_EL1 as the kernel recorded it (cpu_data.reg_midr) */
	int64_t bogomips_centi;	/* "BogoMIPS" x 100 (loops_per_jiffy and HZ); -1: not found */
	const char *features;	/* "Features": names of the set elf_hwcap bits; NULL: not found */
};

/*
 * The online CPUs of an arm64 guest, in one block (caller frees). Count or -errno
 * (-EOPNOTSUPP: not an arm64 guest). Bogomips or features the kernel's tables do not give
 * (loops_per_jiffy, HZ, elf_hwcap or hwcap_str not found, or a set bit without a name) are -1 or
 * NULL: the caller says the view is partial.
 */
NFM_EXPORT int nfm_cpuinfo_arm64_list(struct nfm_ctx *ctx, struct nfm_cpuinfo_arm64 **ret);

/* ---- network interfaces: ip addr, /proc/net/dev ---- */

#define NFM_NETDEV_MAX_ADDRS 32

struct nfm_ifaddr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t broadcast[4];	/* IPv4 only */
	int prefixlen;
	int scope;		/* RT_SCOPE_* */
	uint32_t flags;		/* IFA_F_* */
	char label[16];		/* IPv4 only */
};

struct nfm_netdev_stats {
	uint64_t rx_bytes, rx_packets, rx_errors, rx_dropped, rx_fifo, rx_frame, rx_compressed,
		multicast;
	uint64_t tx_bytes, tx_packets, tx_errors, tx_dropped, tx_fifo, collisions, tx_carrier,
		tx_compressed;
};

struct nfm_netdev {
	uint32_t netns;		/* the namespace's inode number (as /proc/PID/ns/net) */
	int ifindex;
	char name[16];
	unsigned int flags;	/* dev_get_flags(): IFF_* */
	unsigned int mtu;
	unsigned int type;	/* ARPHRD_* */
	uint8_t addr[32];	/* hardware address */
	int addr_len;
	uint8_t broadcast[32];
	char qdisc[16];
	unsigned int txqlen;
	int operstate;		/* IF_OPER_*, as ip link shows it (DOWN while not running) */
	struct nfm_netdev_stats stats;	/* /proc/net/dev's columns (rx_dropped includes missed) */
	bool stats_exact;	/* false: the driver's own ndo_get_stats64 could not be replayed */
	int nr_addrs;
	struct nfm_ifaddr addrs[NFM_NETDEV_MAX_ADDRS];
	uint64_t dev;		/* address of the struct net_device */
};

NFM_EXPORT int nfm_netdev_list(struct nfm_ctx *ctx, struct nfm_netdev **ret, bool *truncated);

/* ---- sockets: /proc/net/{tcp,tcp6,udp,udp6,unix} ---- */

#define NFM_SOCK_MAX_OWNERS 4

struct nfm_socket {
	int family;		/* AF_INET, AF_INET6, AF_UNIX */
	int protocol;		/* IPPROTO_TCP, IPPROTO_UDP, 0 for AF_UNIX */
	int type;		/* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	int state;		/* TCP_* (the kernel's sk_state); SS_* of the socket for AF_UNIX */
	uint8_t laddr[16], raddr[16];
	uint16_t lport, rport;	/* host order */
	/* as /proc/net/tcp|udp; AF_UNIX (0.2+): as ss -x (unix_diag): a listener's pending
	 * connections and backlog limit, else bytes unread and the truesize of unread bytes sent */
	uint32_t tx_queue, rx_queue;
	uint32_t uid;
	uint64_t inode;
	uint32_t netns;
	unsigned int unix_flags;	/* __SO_ACCEPTCON (1 << 16) for listeners, as /proc/net/unix */
	int path_len;		/* AF_UNIX: bytes of the address after sun_family (0: unnamed) */
	char path[109];		/* AF_UNIX: sun_path; abstract names start with '@' */
	int nr_owners;		/* processes holding an fd on it (at most NFM_SOCK_MAX_OWNERS kept) */
	int owner_pid[NFM_SOCK_MAX_OWNERS];
	char owner_comm[NFM_SOCK_MAX_OWNERS][16];
	uint64_t sk;		/* address of the struct sock */
};

/* *truncated also when the owners may be incomplete (the task walk broke, or a process's fd
 * table was unreadable or inconsistent), or a unix socket's receive queue did not read. */
NFM_EXPORT int nfm_socket_list(struct nfm_ctx *ctx, struct nfm_socket **ret, bool *truncated);

/* ss -p's users:(("comm",pid=N,fd=M)...): one file descriptor holding a socket of a list. */
struct nfm_socket_fd {
	int sock;		/* index of the socket in the list given */
	int pid;		/* the process holding it (thread-group id) */
	int fd;
	char comm[16];		/* the process's comm, NUL-terminated */
};

/*
 * Every fd of every process that holds one of socks[0..n) (an nfm_socket_list() array), the
 * fds the guest's /proc/PID/fd links as socket:[INODE], in ss -p's order: by socket index, then
 * pid and fd from the highest down. Returns the count (*ret malloc'd, may be empty) or -errno;
 * *truncated when some may be missing (as nfm_socket_list()'s owners), or past 2^21 entries.
 */
NFM_EXPORT int nfm_socket_fds(struct nfm_ctx *ctx, const struct nfm_socket *socks, int n,
			      struct nfm_socket_fd **ret, bool *truncated);

/*
 * The inode of an AF_UNIX socket's peer (unix_peer(sk), ss -x's peer "port"): sk is the
 * nfm_socket.sk of an AF_UNIX socket. *peer_inode is 0 when it has none. Returns 0; -ENOENT
 * when the kernel's layout is not known; -EINVAL, -EFAULT or -EBADMSG for a bad or gone socket.
 */
NFM_EXPORT int nfm_socket_unix_peer(struct nfm_ctx *ctx, uint64_t sk, uint64_t *peer_inode);

/*
 * The byte counters of a TCP socket (ss -i's bytes_acked and bytes_received): sk is the
 * nfm_socket.sk of a TCP socket that is not LISTEN, TIME-WAIT or SYN-RECV (those keep none).
 * Writes *acked (bytes sent and acknowledged by the peer, tcp_sock.bytes_acked) and *received
 * (tcp_sock.bytes_received). Returns 0; -EINVAL for such a socket or a bad address; -ENOENT when
 * the kernel lacks the counters; -EFAULT or -EIO when the socket cannot be read (it may be gone).
 */
NFM_EXPORT int nfm_socket_tcp_bytes(struct nfm_ctx *ctx, uint64_t sk, uint64_t *acked,
				    uint64_t *received);

/* nfm_tcp_info.options: the kernel's TCPI_OPT_* (include/uapi/linux/tcp.h) */
#define NFM_TCPI_OPT_TIMESTAMPS 1u
#define NFM_TCPI_OPT_SACK 2u
#define NFM_TCPI_OPT_WSCALE 4u
#define NFM_TCPI_OPT_ECN 8u
#define NFM_TCPI_OPT_ECN_SEEN 16u
#define NFM_TCPI_OPT_SYN_DATA 32u
#define NFM_TCPI_OPT_USEC_TS 64u
#define NFM_TCPI_OPT_TFO_CHILD 128u

/*
 * ss -i: what getsockopt(TCP_INFO) and sock_diag's INET_DIAG_INFO report for a TCP socket, the
 * kernel's struct tcp_info, computed from the tcp_sock as tcp_get_info() computes it. Names
 * are the kernel's without "tcpi_", with their unit where the kernel fixes one. A listener
 * keeps only state, congestion, pacing rates, reordering, snd_cwnd, unacked (its accept
 * backlog) and sacked (the backlog's limit), as in the kernel.
 */
struct nfm_tcp_info {
	int state;			/* TCP_* */
	bool listener;			/* state is LISTEN (see above) */
	char congestion[16];		/* the congestion control's name: "cubic", "bbr"... */
	uint8_t ca_state, retransmits, probes, backoff;
	uint8_t options;		/* NFM_TCPI_OPT_* */
	uint8_t snd_wscale, rcv_wscale;	/* with NFM_TCPI_OPT_WSCALE */
	uint8_t delivery_rate_app_limited;
	uint32_t rto_us, ato_us, snd_mss, rcv_mss;
	uint32_t unacked, sacked, lost, retrans;	/* packets */
	uint32_t last_data_sent_ms, last_data_recv_ms, last_ack_recv_ms;	/* ago */
	uint32_t pmtu, rcv_ssthresh, rtt_us, rttvar_us, snd_ssthresh, snd_cwnd, advmss;
	uint32_t reordering, rcv_rtt_us, rcv_space, total_retrans;
	uint64_t pacing_rate, max_pacing_rate;	/* bytes per second; UINT64_MAX: unlimited */
	uint64_t bytes_acked, bytes_received, bytes_sent, bytes_retrans;
	uint32_t segs_out, segs_in, data_segs_out, data_segs_in;
	uint32_t notsent_bytes, min_rtt_us;
	uint64_t delivery_rate;		/* bytes per second */
	uint32_t delivered, delivered_ce, dsack_dups, reord_seen, rcv_ooopack, snd_wnd;
};

/*
 * The TCP information of the TCP socket at sk (an nfm_socket.sk). Returns 0; -EINVAL for a
 * TIME-WAIT or SYN-RECV socket (they keep none) or a bad address; -ENOENT when this kernel's
 * BTF lacks a member it needs; -EFAULT or -EIO when the socket cannot be read (it may be gone);
 * -EBADMSG when its congestion control pointer leads nowhere (inconsistent guest data).
 */
NFM_EXPORT int nfm_socket_tcp_info(struct nfm_ctx *ctx, uint64_t sk, struct nfm_tcp_info *ret);

/* nfm_socket_timer.timer: inet_diag's idiag_timer, as ss -o names it */
enum nfm_sock_timer_kind {
	NFM_SOCK_TIMER_OFF = 0,
	NFM_SOCK_TIMER_ON = 1,		/* retransmit, reordering or loss probe; a request's SYN-ACK */
	NFM_SOCK_TIMER_KEEPALIVE = 2,	/* sk_timer: keepalive (also FIN-WAIT-2's linger) */
	NFM_SOCK_TIMER_TIMEWAIT = 3,
	NFM_SOCK_TIMER_PERSIST = 4,	/* zero window probe */
};

/* ss -o's timer:(NAME,EXPIRES,RETRANS) of a TCP socket (0.2). */
struct nfm_socket_timer {
	int timer;		/* enum nfm_sock_timer_kind */
	uint32_t expires_ms;	/* until it fires, from the guest's jiffies at the read; 0: due */
	uint32_t retrans;	/* icsk_retransmits (on), icsk_probes_out (keepalive, persist),
				 * a request's num_retrans; 0 for timewait */
};

/*
 * The timer of the TCP socket at sk (an nfm_socket.sk of any TCP state, TIME-WAIT and SYN-RECV
 * included), as inet_diag computes idiag_timer, idiag_expires and idiag_retrans. Returns 0;
 * -EINVAL for a bad address or a socket that is not TCP; -ENOENT when this kernel's BTF lacks a
 * member it needs; -EFAULT or -EIO when the socket cannot be read (it may be gone).
 */
NFM_EXPORT int nfm_socket_timer(struct nfm_ctx *ctx, uint64_t sk, struct nfm_socket_timer *ret);

/* ss -m's skmem:(...): sk_get_meminfo()'s SK_MEMINFO_* of a full socket, bytes (0.2) */
struct nfm_socket_meminfo {
	uint32_t rmem_alloc;	/* r: sk_rmem_alloc */
	uint32_t rcvbuf;	/* rb: sk_rcvbuf */
	uint32_t wmem_alloc;	/* t: sk_wmem_alloc less the socket's own reference */
	uint32_t sndbuf;	/* tb: sk_sndbuf */
	uint32_t fwd_alloc;	/* f: sk_forward_alloc */
	uint32_t wmem_queued;	/* w: sk_wmem_queued */
	uint32_t optmem;	/* o: sk_omem_alloc */
	uint32_t backlog;	/* bl: sk_backlog.len */
	uint32_t drops;		/* d: sk_drops (packets) */
};

/*
 * The memory counters of the socket at sk (TCP, UDP or unix; not a TIME-WAIT or SYN-RECV one,
 * which sock_diag gives none either). Returns 0; -EINVAL for such a socket or a bad address;
 * -ENOENT when this kernel's BTF lacks a member; -EFAULT or -EIO when it cannot be read.
 */
NFM_EXPORT int nfm_socket_meminfo(struct nfm_ctx *ctx, uint64_t sk,
				  struct nfm_socket_meminfo *ret);

/* ss -xe: unix_diag's SHUTDOWN and VFS of a unix socket (0.2) */
struct nfm_socket_unix_details {
	uint8_t shutdown;	/* sk_shutdown: 1 RCV_SHUTDOWN, 2 SEND_SHUTDOWN */
	bool has_vfs;		/* bound to a path: the socket file's inode and device below */
	uint64_t vfs_ino;
	uint32_t vfs_dev_major, vfs_dev_minor;	/* the file system's device (s_dev) */
};

/*
 * The details of the unix socket at sk (an nfm_socket.sk of an AF_UNIX socket). Returns 0;
 * -EINVAL for a bad address; -ENOENT when this kernel's BTF lacks a member; -EFAULT, -EIO or
 * -EBADMSG when the socket or its path's dentry cannot be read.
 */
NFM_EXPORT int nfm_socket_unix_details(struct nfm_ctx *ctx, uint64_t sk,
				       struct nfm_socket_unix_details *ret);

/*
 * The connections a unix listener at sk has not accepted yet (unix_diag's ICONS, ss -xe's
 * peers:): for each, in queue order, the inode of the connecting socket (0 if it has none).
 * Returns the count, *ret malloc'd (the caller frees it); -EINVAL when sk is not a listener or a
 * bad address; -ENOENT (layout), -EFAULT, -EIO, or -EBADMSG when the queue and its length
 * disagree (it moved under the read, or is forged).
 */
NFM_EXPORT int nfm_socket_unix_pending(struct nfm_ctx *ctx, uint64_t sk, uint64_t **ret);

/*
 * The kernel's socket counters of one network namespace, as /proc/net/sockstat and sockstat6
 * print them in it (and /proc/net/snmp's Tcp CurrEstab). A counter that could not be read is -1.
 * orphan and alloc are global (the same in every namespace), as in the kernel.
 */
struct nfm_sockstat {
	uint32_t netns;			/* ns.inum */
	int64_t sockets_used;		/* sockets: used */
	int64_t tcp_inuse, tcp_orphan, tcp_tw, tcp_alloc, tcp_mem_pages;	/* TCP: */
	int64_t udp_inuse, udp_mem_pages;	/* UDP: */
	int64_t udplite_inuse, raw_inuse;	/* UDPLITE:, RAW: */
	int64_t frag_inuse, frag_mem_bytes;	/* FRAG: inuse, memory */
	int64_t tcp6_inuse, udp6_inuse, udplite6_inuse, raw6_inuse;	/* sockstat6 */
	int64_t frag6_inuse, frag6_mem_bytes;	/* FRAG6: */
	int64_t tcp_curr_estab;		/* /proc/net/snmp Tcp: CurrEstab */
};

/*
 * The counters of every network namespace (init_net first) into a malloc'd array the caller
 * frees. Returns the count (>= 1) or -errno; *truncated when the namespace walk stopped early.
 */
NFM_EXPORT int nfm_sockstat_list(struct nfm_ctx *ctx, struct nfm_sockstat **ret, bool *truncated);

/* What a walk of a namespace's TCP hash tables (listeners and ehash) found. */
struct nfm_tcp_hashed {
	uint64_t hashed4, hashed6;	/* full socks of AF_INET / AF_INET6: what TCP/TCP6 inuse count */
	uint64_t timewait;		/* TIME-WAIT socks (not counted by inuse) */
	uint64_t syn_recv;		/* request socks (TCP_NEW_SYN_RECV; not counted by inuse) */
	uint64_t unread;		/* socks that could not be read or had no inet family */
};

/*
 * Count the TCP sockets hashed in namespace netns (its ns.inum; 0 for init_net), the sockets
 * sock_prot_inuse_get(net, &tcp_prot) and &tcpv6_prot count: inet_hash()/inet_ehash_nolisten()
 * add one when a sock enters the listening or established hash, inet_unhash() and the TIME-WAIT
 * hash dance take it away. Writes *ret; returns 0, -ENOENT (no such namespace or no hash table),
 * -EBADMSG, -EFAULT or -ELOOP when the walk could not be completed (then *ret is not written).
 */
NFM_EXPORT int nfm_tcp_hashed_count(struct nfm_ctx *ctx, uint32_t netns,
				    struct nfm_tcp_hashed *ret);

/* ---- routes and neighbours ---- */

/* One line of /proc/net/route: the main table (RT_TABLE_MAIN) of a namespace, in trie order. */
struct nfm_route {
	uint32_t netns;
	char ifname[16];		/* "*" without a device */
	uint32_t dst, gateway, mask;	/* network byte order, as /proc/net/route prints them */
	int prefixlen;
	unsigned int flags;		/* RTF_*, as fib_flag_trans() */
	int metric;			/* fib_priority */
	unsigned int mtu, window, irtt;	/* advmss + 40, window, rtt >> 3 (as /proc/net/route) */
	int scope, type, protocol;	/* RT_SCOPE_*, RTN_*, RTPROT_* */
	uint32_t table;
	bool exact;			/* false: a nexthop group, device and gateway not shown */
};

NFM_EXPORT int nfm_route_list(struct nfm_ctx *ctx, struct nfm_route **ret, bool *truncated);

/* One neighbour (ARP for AF_INET, NDP for AF_INET6) of any namespace, in hash-bucket order. */
struct nfm_neigh {
	uint32_t netns;
	int family;
	uint8_t addr[16];
	uint8_t lladdr[32];
	int lladdr_len;
	char ifname[16];
	unsigned int state;	/* NUD_* */
	unsigned int flags;	/* NTF_* */
	unsigned int type;	/* ARPHRD_* of the device */
	int dev_addr_len;	/* the device's hardware address length (what /proc/net/arp prints) */
};

NFM_EXPORT int nfm_neigh_list(struct nfm_ctx *ctx, struct nfm_neigh **ret, bool *truncated);

/* ---- files from the dentry and page caches (nfm shell ls/cat) ---- */

/*
 * Paths are absolute, resolved from PID 1's root through the guest's dentry cache (a name the
 * kernel has not cached cannot be found: -ENOENT) and across its mounts (PID 1's namespace).
 * "." and ".." work; symbolic links are not followed.
 */
struct nfm_fs_entry {
	char name[256];		/* raw guest bytes (the last component; "/" for the root) */
	uint32_t mode;		/* i_mode: S_IFMT type and permission bits */
	uint64_t ino;
	uint64_t size;		/* i_size */
	uint64_t nrpages;	/* pages in the page cache (address_space.nrpages) */
	bool mountpoint;	/* a mount's root, reached by crossing a mount */
	uint64_t dentry, inode;	/* addresses of the struct dentry and struct inode */
};

/* The entry at path. 0, -ENOENT (not cached), -ENOTDIR, -EFAULT/-EBADMSG (unreadable). */
NFM_EXPORT int nfm_fs_stat(struct nfm_ctx *ctx, const char *path, struct nfm_fs_entry *ret);

/*
 * The cached children of the directory at path (positive dentries only, in the dentry cache's
 * order), in one block the caller frees. Count or -errno (-ENOTDIR for a non-directory).
 */
NFM_EXPORT int nfm_fs_list(struct nfm_ctx *ctx, const char *path, struct nfm_fs_entry **ret,
			   bool *truncated);

#define NFM_FS_READ_MAX (256u << 20)	/* the largest file nfm_fs_read() returns */

struct nfm_fs_read_stat {
	uint64_t size;			/* i_size: bytes returned */
	uint64_t pages;			/* pages the file spans */
	uint64_t pages_missing;		/* not in the page cache (their bytes are zeros) */
	uint64_t pages_swapped;		/* of those, shmem/tmpfs pages swapped out */
	uint64_t first_missing;		/* page index of the first missing page */
};

/*
 * The contents of the regular file at path from the page cache (inode->i_mapping->i_pages,
 * bounded by i_size) into a malloc'd buffer *buf of st->size bytes (the caller frees it). Pages
 * the cache does not hold read as zeros and are counted in st. 0, -ENOENT, -EISDIR, -EFBIG
 * (larger than NFM_FS_READ_MAX), -EFAULT/-EBADMSG.
 */
NFM_EXPORT int nfm_fs_read(struct nfm_ctx *ctx, const char *path, void **buf,
			   struct nfm_fs_read_stat *st);

/* ---- kernel memory: the allocation holding an address (crash's kmem ADDRESS) ---- */

enum nfm_kmem_kind {
	NFM_KMEM_SLAB = 1,	/* an object of a kmem_cache (SLUB) */
	NFM_KMEM_PAGES,		/* a block of pages from the page allocator (order 0 or compound) */
	NFM_KMEM_VMALLOC,	/* a vmalloc/vmap area */
};

struct nfm_kmem {
	int kind;		/* enum nfm_kmem_kind */
	uint64_t start;		/* the object, page block or area holding the address */
	uint64_t size;		/* its usable bytes: the cache's object_size, PAGE_SIZE << order,
				 * or the area without its guard page */
	uint64_t slot_size;	/* slab: the cache's stride, object with metadata and padding (what
				 * /proc/slabinfo calls objsize); else 0 */
	uint64_t cache;		/* slab: the struct kmem_cache; else 0 */
	char cache_name[32];	/* slab: the cache's name ("kmalloc-256", "task_struct"); else "" */
	unsigned int order;	/* slab and pages: the page order of the slab or block; else 0 */
};

/*
 * The allocation holding the kernel address va into *ret. 0; -ENOENT when va is in none that the
 * allocators record (the kernel image, memblock tables, a free page, a slab's metadata);
 * -ENODATA when this kernel's allocator tables cannot be found (a symbol such as slab_caches,
 * vmemmap, or a member missing); -EBADMSG when the allocator data is inconsistent; -EFAULT when
 * unreadable.
 */
NFM_EXPORT int nfm_kmem_find(struct nfm_ctx *ctx, uint64_t va, struct nfm_kmem *ret);
/* "slab", "pages", "vmalloc"; "?" for anything else. */
NFM_EXPORT const char *nfm_kmem_kind_name(int kind);

#ifdef __cplusplus
}
#endif

#endif
