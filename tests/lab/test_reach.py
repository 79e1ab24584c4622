"""Reach in default CI (issue 19): the core views on the kernels outside Debian 12 — bullseye's
5.10 (kallsyms found by structure, pre-maple VMAs, old layouts) and trixie's 6.12 — each the
same test, against the guest's own truth, as on the main lab kernels. The full matrix
(scripts/test --full) runs every lab test on them instead, and runs this file on 6.1 cloud with
5-level paging ("6.1-cloud+la57": a CPU with LA57, so every view reads through five levels).

Kernels: conftest.reach_kernels() (NFM_LAB_REACH_KERNELS)."""
import os
import subprocess

from nfmcli import NFM, one_error_line

import test_attach as attach
import test_bt as bt
import test_compat_ps as compat_ps
import test_kmem as kmem
import test_net as net
import test_process as process
import test_system as system
import test_yara as yara


def test_info_and_symbols(reach_vm):
    attach.test_info_live(reach_vm)
    attach.test_sym_equals_kallsyms(reach_vm)


def test_types_found(reach_vm):
    """nfm info says where the types came from: the guest's own BTF, or for the kernel built
    without it the file found by its release in $NFM_BTF_PATH; without that file, one error
    line that says what is missing and how to make it, exit 1."""
    info = attach.info_json("--vm", reach_vm.pid)
    if reach_vm.kernel_name != "6.1-nobtf":
        assert info["btf_from"].startswith("guest memory"), info
        return
    assert info["btf_from"] == "file found by release", info
    env = dict(os.environ, NFM_BTF_PATH="/nonexistent")
    p = subprocess.run([NFM, "--vm", str(reach_vm.pid), "info"], capture_output=True, text=True,
                       env=env, timeout=120)
    line = one_error_line(p)
    assert "this kernel (%s) has no BTF (CONFIG_DEBUG_INFO_BTF): give --btf FILE" % (
        reach_vm.kernel) in line and "pahole --btf_encode_detached" in line, line
    assert "%s.btf in $NFM_BTF_PATH" % reach_vm.kernel in line, line


def test_processes(reach_vm, tmp_path):
    process.test_ps_matches_proc(reach_vm)
    process.test_ps_threads_match_proc(reach_vm)
    process.test_ps_on_dump_matches_proc(reach_vm, tmp_path)
    compat_ps.test_ps_o_rows_against_proc(reach_vm)


def test_memory_files_env(reach_vm):
    process.test_maps_match_proc(reach_vm)
    process.test_lsof_matches_proc(reach_vm)
    process.test_env_matches_proc(reach_vm)


def test_network(reach_vm):
    net.test_ss_equals_proc_net(reach_vm)
    net.test_route_equals_proc_net_route(reach_vm)
    net.test_arp_equals_proc_net_arp(reach_vm)
    system.test_ip_addr(reach_vm)


def test_system_views(reach_vm):
    system.test_lsmod_equals_proc_modules(reach_vm)
    system.test_mount_equals_proc_mounts(reach_vm)
    system.test_dmesg_every_record(reach_vm)
    system.test_uname(reach_vm)
    kmem.test_kmem_slab_objects_match_slabinfo(reach_vm)


def test_stacks_and_yara(reach_vm, tmp_path):
    bt.test_bt_on_dump_equals_proc_stack(reach_vm, tmp_path)
    yara.test_every_process_finds_its_command_line(reach_vm, tmp_path)
