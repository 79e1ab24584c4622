// nfmd /fleet: every watched VM with its load, CPU, memory and top processes, from the JSON
// API (GET /api/v1/vms, /api/v1/vms/NAME). CPU is busy time over the interval between two
// refreshes (the guest's /proc/stat times at each process walk); guest strings go in as text.
"use strict";
const REFRESH_MS = (Number(new URLSearchParams(location.search).get("refresh")) || 5) * 1000;
const TOP = 5;
const last = new Map();	// VM name -> its previous document

function cell(tr, s, cls) {
  const td = document.createElement("td");
  td.textContent = s;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function mib(b) {
  return b === undefined ? "?" : (b / 1048576).toFixed(0) + " MiB";
}

// cpu_times.json: /proc/stat's "cpu" line (cpu -1: all CPUs), in ns
function busy(c) {
  if (!c) return null;
  const idle = (c.idle_ns || 0) + (c.iowait_ns || 0);
  const all = ["user_ns", "nice_ns", "system_ns", "idle_ns", "iowait_ns", "irq_ns", "softirq_ns", "steal_ns"]
    .reduce((s, k) => s + (c[k] || 0), 0);
  return [all - idle, all];
}

function cpuText(prev, cur) {
  const a = busy(prev && prev.cpu_frame && prev.cpu_frame.cpu_times);
  const b = busy(cur.cpu_frame && cur.cpu_frame.cpu_times);
  if (!a || !b || b[1] <= a[1]) return "…";
  return (100 * (b[0] - a[0]) / (b[1] - a[1])).toFixed(1) + " %";
}

function topProcesses(prev, cur) {
  const before = new Map(((prev && prev.processes) || []).map(p => [p.pid, p.cpu_time_ns]));
  const ps = (cur.processes || []).map(p => ({
    p, cpu: before.has(p.pid) ? (p.cpu_time_ns || 0) - (before.get(p.pid) || 0) : -1 }));
  const byCpu = ps.some(x => x.cpu > 0);
  ps.sort((x, y) => byCpu ? y.cpu - x.cpu : (y.p.rss_bytes || 0) - (x.p.rss_bytes || 0));
  const ol = document.createElement("ol");
  for (const x of ps.slice(0, TOP)) {
    const li = document.createElement("li");
    li.textContent = x.p.comm + " [" + x.p.pid + "] " +
      (byCpu ? (x.cpu / 1e6).toFixed(0) + " ms CPU" : mib(x.p.rss_bytes) + " RSS");
    li.className = "proc";
    ol.appendChild(li);
  }
  return ol;
}

async function row(vm) {
  const tr = document.createElement("tr");
  tr.dataset.vm = vm.name;
  let d = null;
  try {
    const r = await fetch("/api/v1/vms/" + encodeURIComponent(vm.name));
    if (r.ok) d = await r.json();
  } catch (err) { /* shown as unknown below */ }
  cell(tr, vm.name, "vm-name");
  cell(tr, vm.status + (vm.error ? ": " + vm.error : ""), "vm-status");
  cell(tr, vm.release || "?");
  if (!d) {
    cell(tr, "?"); cell(tr, "?"); cell(tr, "?"); cell(tr, "?"); cell(tr, "?");
    return tr;
  }
  // the guest's own /proc/loadavg text (its rounding of avenrun)
  cell(tr, d.loadavg ? d.loadavg.text.split(" ").slice(0, 3).join(" ") : "?", "load num");
  cell(tr, cpuText(last.get(vm.name), d), "cpu num");
  const m = d.memory;
  cell(tr, m ? mib(m.mem_total_bytes - m.mem_available_bytes) + " / " + mib(m.mem_total_bytes) : "?",
       "mem num").dataset.totalBytes = m ? String(m.mem_total_bytes) : "";
  cell(tr, d.tasks ? String(d.tasks.nr_processes) : "?", "num");
  cell(tr, "", "top").appendChild(topProcesses(last.get(vm.name), d));
  last.set(vm.name, d);
  return tr;
}

async function refresh() {
  const st = document.getElementById("status");
  try {
    const r = await fetch("/api/v1/vms");
    if (!r.ok) throw new Error("HTTP " + r.status);
    const vms = (await r.json()).vms;
    const rows = await Promise.all(vms.map(row));
    document.querySelector("#fleet tbody").replaceChildren(...rows);
    st.textContent = vms.length + " VMs · " + new Date().toLocaleTimeString();
    st.className = "";
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
  } catch (err) {
    st.textContent = "cannot load the fleet: " + err.message;
    st.className = "error";
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
