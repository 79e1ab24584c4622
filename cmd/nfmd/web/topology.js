// nfmd /topology: the topology join's Graphviz SVG (GET /api/topology/svg) with the graph's
// document (GET /api/topology) beside it for the details. Every guest string reaches the page
// as text (textContent) or inside the SVG document Graphviz wrote (XML-escaped, parsed as
// image/svg+xml, never as HTML).
"use strict";
const REFRESH_MS = (Number(new URLSearchParams(location.search).get("refresh")) || 5) * 1000;
const params = new URLSearchParams(location.search);
// ?vm=NAME filters, ?select=NODE-ID opens a node's details (links to a view, and the tests)
let doc = null, selected = null, filterVm = params.get("vm") || "", pending = params.get("select");

function text(tag, s, cls) {
  const e = document.createElement(tag);
  e.textContent = s;
  if (cls) e.className = cls;
  return e;
}

function status(msg, error) {
  const s = document.getElementById("status");
  s.textContent = msg;
  s.className = error ? "error" : "";
}

function nodeSummary(n) {
  const parts = [n.kind, n.id];
  if (n.pid !== undefined) parts.push("pid " + n.pid + (n.comm ? " (" + n.comm + ")" : ""));
  if (n.address) parts.push(n.address);
  return parts.join(" · ");
}

function edgeSummary(e) {
  const st = Object.entries(e.states).map(([k, v]) => k + " " + v).join(", ");
  let s = e.src + " → " + e.dst + " " + e.protocol + "/" + e.port + " ×" + e.count + " (" + st + ")";
  if (e.bytes_to_dst !== undefined) s += "; " + e.bytes_to_dst + " B to dst, " + e.bytes_to_src + " B to src";
  return s;
}

function showDetails(kind, obj) {
  const d = document.getElementById("details");
  d.replaceChildren(text("h3", kind === "node" ? "Node" : "Edge"));
  d.appendChild(text("pre", JSON.stringify(obj, null, 1), "json"));
  if (kind === "node") {
    const ul = document.createElement("ul");
    for (const e of doc.edges)
      if (e.src === obj.id || e.dst === obj.id) ul.appendChild(text("li", edgeSummary(e)));
    d.appendChild(text("h4", "Edges"));
    d.appendChild(ul);
  }
}

function hover(kind, obj) {
  document.getElementById("hover").textContent = kind === "node" ? nodeSummary(obj) : edgeSummary(obj);
}

// Which nodes and edges the VM filter keeps: the VM's own nodes, its edges, their other ends.
function visible() {
  const keepN = new Set(), keepE = new Set(), vmOf = new Map(doc.nodes.map(n => [n.id, n.vm]));
  doc.edges.forEach((e, i) => {
    if (!filterVm || vmOf.get(e.src) === filterVm || vmOf.get(e.dst) === filterVm) {
      keepE.add(i);
      keepN.add(e.src);
      keepN.add(e.dst);
    }
  });
  for (const n of doc.nodes)
    if (!filterVm || n.vm === filterVm) keepN.add(n.id);
  return [keepN, keepE];
}

function wire(svg) {
  const byId = new Map(doc.nodes.map(n => [n.id, n]));
  const [keepN, keepE] = visible();
  svg.querySelectorAll("g.node").forEach(g => {
    const id = g.querySelector("title").textContent, n = byId.get(id);
    if (!n) return;
    g.dataset.nodeId = id;
    g.classList.toggle("filtered", !keepN.has(id));
    g.classList.toggle("selected", selected === "node:" + id);
    g.addEventListener("mouseenter", () => hover("node", n));
    g.addEventListener("click", () => { select("node:" + id); showDetails("node", n); });
  });
  svg.querySelectorAll("g.edge").forEach((g, i) => {
    const e = doc.edges[i];
    if (!e || g.querySelector("title").textContent !== e.src + "->" + e.dst) return;
    const key = "edge:" + e.src + ">" + e.dst + ":" + e.protocol + ":" + e.port;
    g.dataset.edge = key;
    g.classList.toggle("filtered", !keepE.has(i));
    g.classList.toggle("selected", selected === key);
    g.addEventListener("mouseenter", () => hover("edge", e));
    g.addEventListener("click", () => { select(key); showDetails("edge", e); });
  });
}

function select(key) {
  selected = key;
  document.querySelectorAll("#graph g.selected").forEach(g => g.classList.remove("selected"));
  document.querySelectorAll("#graph g.node, #graph g.edge").forEach(g => {
    if ((g.dataset.nodeId && "node:" + g.dataset.nodeId === key) || g.dataset.edge === key)
      g.classList.add("selected");
  });
}

function fillFilter() {
  const sel = document.getElementById("vm-filter");
  const have = new Set([...sel.options].map(o => o.value));
  for (const vm of doc.vms || [])
    if (!have.has(vm)) {
      const o = text("option", vm);
      o.value = vm;
      sel.appendChild(o);
    }
  sel.value = filterVm;
}

async function refresh() {
  try {
    const [j, s] = await Promise.all([fetch("/api/topology"), fetch("/api/topology/svg")]);
    if (!j.ok || !s.ok) throw new Error("HTTP " + (j.ok ? s.status : j.status));
    doc = await j.json();
    const svgDoc = new DOMParser().parseFromString(await s.text(), "image/svg+xml");
    const svg = svgDoc.documentElement;
    if (svg.nodeName !== "svg") throw new Error("the SVG does not parse");
    const g = document.getElementById("graph");
    g.replaceChildren(document.importNode(svg, true));
    wire(g.querySelector("svg"));
    fillFilter();
    if (pending && doc.nodes.some(n => n.id === pending)) {
      select("node:" + pending);
      showDetails("node", doc.nodes.find(n => n.id === pending));
      pending = null;
    }
    status(doc.vms.length + " VMs, " + doc.nodes.length + " nodes, " + doc.edges.length +
           " edges, " + doc.nr_connections + " connections" + (doc.complete ? "" : " (incomplete)") +
           " · " + new Date(doc.time_ns / 1e6).toLocaleTimeString(), !doc.complete);
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
  } catch (err) {
    status("cannot load the topology: " + err.message, true);
  }
}

document.getElementById("vm-filter").addEventListener("change", ev => {
  filterVm = ev.target.value;
  if (doc) wire(document.querySelector("#graph svg"));
});
refresh();
setInterval(refresh, REFRESH_MS);
