// The live view: draws the layout the coordinator computed, then updates the
// numbers from its event stream (/view/events) every second. No libraries.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
let W = 200, H = 64; // node box size: the layout event says
const query = location.search; // carries ?secret=... to the stream
const canvas = document.getElementById("canvas");
const world = document.getElementById("world");
const nodesLayer = document.getElementById("nodes");
const edgesLayer = document.getElementById("edges");
const view = { x: 0, y: 0, k: 1 };
let layout = null, state = null, selected = null, fitted = false;
const drawn = { nodes: new Map(), edges: new Map() };

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}
function setText(e, text) { if (e.textContent !== text) e.textContent = text; }
function rate(r) { return r == null ? "" : (r >= 100 ? Math.round(r) : Math.round(r * 10) / 10) + "/s"; }
function ago(ms) { return ms < 1500 ? "just now" : Math.round(ms / 1000) + " s ago"; }

function apply() {
  world.setAttribute("transform", `translate(${view.x},${view.y}) scale(${view.k})`);
  canvas.classList.toggle("far", view.k < 0.45);
}
function fit() {
  if (!layout) return;
  const box = canvas.getBoundingClientRect();
  const w = Math.max(layout.width, 1), h = Math.max(layout.height, 1);
  view.k = Math.min(1.2, (box.width - 40) / w, (box.height - 40) / h);
  view.x = (box.width - w * view.k) / 2;
  view.y = (box.height - h * view.k) / 2;
  apply();
}

// Pan and zoom.
let drag = null;
canvas.addEventListener("mousedown", (e) => { drag = { x: e.clientX - view.x, y: e.clientY - view.y }; canvas.classList.add("panning"); });
window.addEventListener("mousemove", (e) => { if (drag) { view.x = e.clientX - drag.x; view.y = e.clientY - drag.y; apply(); } });
window.addEventListener("mouseup", () => { drag = null; canvas.classList.remove("panning"); });
canvas.addEventListener("wheel", (e) => {
  e.preventDefault();
  const box = canvas.getBoundingClientRect();
  const px = e.clientX - box.left, py = e.clientY - box.top;
  const k = Math.min(4, Math.max(0.02, view.k * Math.exp(-e.deltaY * 0.0015)));
  view.x = px - (px - view.x) * (k / view.k);
  view.y = py - (py - view.y) * (k / view.k);
  view.k = k;
  apply();
}, { passive: false });
document.getElementById("fit").addEventListener("click", fit);
document.getElementById("find").addEventListener("input", (e) => {
  const text = e.target.value.trim().toLowerCase();
  let first = null;
  for (const [id, g] of drawn.nodes) {
    const hit = text !== "" && id.toLowerCase().includes(text);
    g.classList.toggle("found", hit);
    if (hit && !first) first = id;
  }
  if (first && layout) {
    const [x, y] = layout.nodes[first];
    const box = canvas.getBoundingClientRect();
    view.k = Math.max(view.k, 0.8);
    view.x = box.width / 2 - (x + W / 2) * view.k;
    view.y = box.height / 2 - (y + H / 2) * view.k;
    apply();
  }
});

function drawLayout() {
  nodesLayer.textContent = "";
  edgesLayer.textContent = "";
  drawn.nodes.clear();
  drawn.edges.clear();
  if (!state) return;
  for (const node of state.topology.nodes) {
    const at = layout.nodes[node.id];
    if (!at) continue;
    const g = el("g", { class: "node", transform: `translate(${at[0]},${at[1]})`, "data-node": node.id }, nodesLayer);
    el("rect", { width: W, height: H }, g);
    const role = el("text", { x: 10, y: 19, class: "role" }, g);
    const component = el("text", { x: 10, y: 36, class: "component" }, g);
    const counts = el("text", { x: 10, y: 54, class: "counts" }, g);
    const title = el("title", {}, g);
    g.addEventListener("click", (e) => { e.stopPropagation(); selected = node.id; update(); });
    drawn.nodes.set(node.id, g);
    Object.assign(g, { parts: { role, component, counts, title } });
  }
  for (const edge of state.topology.edges) {
    const a = layout.nodes[edge.src.node], b = layout.nodes[edge.tgt.node];
    if (!a || !b) continue;
    const g = el("g", { class: "edge", "data-edge": edge.id }, edgesLayer);
    const x1 = a[0] + W, y1 = a[1] + H / 2, x2 = b[0], y2 = b[1] + H / 2;
    const dx = Math.max(40, Math.abs(x2 - x1) / 2);
    el("path", { d: `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}` }, g);
    const label = el("text", { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 5, "text-anchor": "middle" }, g);
    const title = el("title", {}, g);
    drawn.edges.set(edge.id, Object.assign(g, { parts: { label, title } }));
  }
}

function update() {
  if (!state || !layout) return;
  const { topology, numbers } = state;
  document.getElementById("graph-name").textContent = topology.graph + (topology.started ? "" : " (not started)");
  let participants = 0, pendingNodes = 0;
  const pending = new Map(), forwarded = [];
  const wait = (what, why) => { if (!pending.has(why)) pending.set(why, []); pending.get(why).push(what); };
  for (const node of topology.nodes) {
    const g = drawn.nodes.get(node.id);
    participants += node.participants.length;
    if (node.pending) { pendingNodes += 1; wait(node.id, node.pending); }
    if (!g) continue;
    const n = numbers.nodes[node.id] || {};
    const trouble = n.last_error || n.disconnected > 0;
    const kind = node.wiring ? "wiring" : node.pending ? "pending" : trouble ? "error" : node.participants.length > 0 ? "ok" : "";
    g.setAttribute("class", ["node", kind, node.in_graph ? "" : "outside", selected === node.id ? "selected" : "", g.classList.contains("found") ? "found" : ""].join(" ").trim());
    g.dataset.participants = node.participants.length;
    g.dataset.dead = n.failed || 0;
    setText(g.parts.role, node.id);
    setText(g.parts.component, node.component + (node.in_graph ? "" : " · not in the graph"));
    let counts = "";
    if (node.wiring) counts = "broker wiring";
    else if (node.pending) counts = "waiting for a participant";
    else {
      counts = `${node.participants.length} up`;
      if (n.rate != null) counts += ` · ${rate(n.rate)}`;
      if (n.failed) counts += ` · ${n.failed} dead`;
      if (n.in_flight) counts += ` · ${n.in_flight} busy`;
    }
    setText(g.parts.counts, counts);
    setText(g.parts.title, node.pending || n.last_error || `${node.id} (${node.component})`);
  }
  const waitingNodes = new Set(topology.nodes.filter((n) => n.pending).map((n) => n.id));
  for (const edge of topology.edges) {
    const g = drawn.edges.get(edge.id);
    const n = numbers.edges[edge.id] || {};
    const waiting = edge.routes.map((r) => r.pending).filter(Boolean);
    const dead = edge.routes.some((r) => r.dead);
    const forward = edge.routes.some((r) => r.link === "forward");
    for (const r of edge.routes) {
      // A route waiting for a node that waits itself is said by the node.
      if (r.pending && !waitingNodes.has(r.from.node) && !waitingNodes.has(r.to.node)) wait(r.name, r.pending);
      if (r.link === "forward") forwarded.push(r.name);
    }
    if (!g) continue;
    const kind = waiting.length || !edge.routes.length || !topology.started ? "pending"
      : forward ? "forward" : dead ? "dead" : (n.depth || 0) > 100 ? "backlog" : (n.rate || 0) > 0 ? "flowing" : "";
    const transient = edge.delivery === "transient" ? " transient" : "";
    g.setAttribute("class", `edge ${kind}${transient}`.trim().replace(/  +/g, " "));
    g.dataset.rate = n.rate == null ? "" : n.rate;
    g.dataset.depth = n.depth == null ? "" : n.depth;
    g.dataset.dead = n.dead == null ? "" : n.dead;
    const parts = [];
    if (n.rate != null) parts.push(rate(n.rate));
    if (n.depth) parts.push(`${n.depth} waiting`);
    if (n.dead) parts.push(`${n.dead} dead`);
    if (forward) parts.push("via coordinator");
    if (edge.delivery === "transient") parts.push("transient");
    if (waiting.length) parts.push("pending");
    setText(g.parts.label, parts.join(" · "));
    setText(g.parts.title, waiting.length ? waiting.join("; ") : edge.routes.map((r) => `${r.name} (${r.link || "not wanted"}${r.in_place ? ", in place" : ""}${edge.delivery ? `, ${edge.delivery}` : ""})`).join("; "));
  }
  setText(document.getElementById("summary"), `${topology.nodes.length} nodes · ${participants} participants · ${topology.edges.length} edges · ${pendingNodes} pending`);
  // One line per reason: a thousand nodes waiting for the same thing is one
  // thing to fix.
  const reasons = [...pending].map(([why, what]) =>
    `${what.slice(0, 3).join(", ")}${what.length > 3 ? ` and ${what.length - 3} more` : ""}: ${why}`);
  list("pending", reasons, "nothing pending");
  list("forwarded", forwarded, "none");
  details();
}

function list(id, items, none) {
  const ul = document.getElementById(id);
  const text = items.length ? items : [none];
  if (ul.dataset.text === text.join("\n")) return;
  ul.dataset.text = text.join("\n");
  ul.textContent = "";
  for (const item of text.slice(0, 200)) {
    const li = document.createElement("li");
    li.textContent = item;
    if (!items.length) li.className = "hint";
    ul.appendChild(li);
  }
  if (text.length > 200) { const li = document.createElement("li"); li.textContent = `and ${text.length - 200} more`; ul.appendChild(li); }
}

function details() {
  const box = document.getElementById("details");
  const node = selected && state.topology.nodes.find((n) => n.id === selected);
  if (!node) return;
  const n = state.numbers.nodes[node.id] || {};
  const lines = [`${node.component}`, node.pending ? `pending: ${node.pending}` : null,
    n.answered ? `${n.processed} processed · ${n.failed} dead-lettered · ${n.in_flight} in flight${n.rate != null ? " · " + rate(n.rate) : ""}` : null,
    n.disconnected ? `${n.disconnected} without a broker connection` : null,
    n.draining ? `${n.draining} draining` : null,
    n.last_error ? `last error: ${n.last_error}` : null].filter(Boolean);
  box.textContent = "";
  const h = document.createElement("h2"); h.textContent = node.id; box.appendChild(h);
  for (const line of lines) { const p = document.createElement("p"); p.textContent = line; box.appendChild(p); }
  const ul = document.createElement("ul");
  for (const m of node.participants) {
    const li = document.createElement("li");
    li.textContent = `${m.id} — seen ${ago(m.last_seen_ms)}${m.forwarded ? " · edges via coordinator" : ""}`;
    ul.appendChild(li);
  }
  box.appendChild(ul);
}

canvas.addEventListener("click", () => { selected = null; });

function connect() {
  const status = document.getElementById("status");
  const events = new EventSource("/view/events" + query);
  events.addEventListener("layout", (e) => {
    layout = JSON.parse(e.data);
    W = layout.node_width;
    H = layout.node_height;
    if (state) { drawLayout(); update(); }
    if (!fitted && state) { fit(); fitted = true; }
  });
  events.addEventListener("state", (e) => {
    const first = !state;
    state = JSON.parse(e.data);
    if (first && layout) { drawLayout(); if (!fitted) { fit(); fitted = true; } }
    else if (layout && state.topology.nodes.some((n) => !drawn.nodes.has(n.id) && layout.nodes[n.id])) drawLayout();
    update();
    const age = state.numbers.age_ms;
    status.textContent = age == null ? "live · observing…" : "live";
    status.className = "chip ok";
    document.body.dataset.live = "1";
  });
  events.onerror = () => {
    status.textContent = "disconnected, retrying…";
    status.className = "chip bad";
    document.body.dataset.live = "0";
  };
}
connect();
