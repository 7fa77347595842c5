// Drives noflo-ui (Flowhub's editor, a prebuilt copy) in headless Chromium
// for the end-to-end tests in tests/tests/noflo_ui.rs: what a user sees and
// does, as answers to commands.
//
// Environment: NOFLO_UI (the prebuilt editor's folder), CHROMIUM (the
// browser), SHOTS (where screenshots go), NODE_PATH (where playwright-core
// is installed).
//
// It serves NOFLO_UI on 127.0.0.1 (a free port), prints one line
// {"ide": "http://127.0.0.1:PORT/"}, then reads one JSON command per line
// on stdin and answers each with one JSON line on stdout: {"ok": ...} or
// {"error": "..."}. Commands (`cmd`):
// - open {url, nodes, timeoutMs}: a fresh browser context (no state kept
//   from an earlier page), opens url and waits until the graph shows every
//   node in `nodes`, or an error banner; answers {ms, view}.
// - view: what the page shows now (see `view()`).
// - screenshot {name}: SHOTS/name.png; answers its path.
// - runControl {button: "stop" | "start"}: clicks the runtime's button and
//   waits for the label to change; answers the view.
// - packets: opens the packet panel; answers its rows' text.
// - removeEdge {from: [node, port], to: [node, port]}: deletes the edge
//   from its context menu.
// - connect {from: [node, port], to: [node, port]}: taps the outport, then
//   the inport.
// - addNode {search, pick}: types `search` into the component search and
//   clicks the result whose title is `pick` (noflo-ui puts the node at the
//   top left of the view); answers the new node's id.
// - autolayout: clicks the editor's Autolayout button.
// - drill {node, nodes, timeoutMs}: opens node `node` of the graph shown as
//   a subgraph, as the node's "open" does (the route gets `/<node>`), and
//   waits until the page shows every node in `nodes`, or an error banner;
//   answers {ms, view}.
// - exchange: the FBP frames of this page so far (sent, received) and its
//   console errors.
// - close.
'use strict';

const http = require('http');
const fs = require('fs');
const path = require('path');
const answerCommands = require('./commands');
const { chromium } = require('playwright-core');

const root = process.env.NOFLO_UI;
const shots = process.env.SHOTS;

const types = {
  '.html': 'text/html', '.js': 'application/javascript', '.css': 'text/css',
  '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml',
  '.woff': 'font/woff', '.woff2': 'font/woff2', '.ttf': 'font/ttf',
};

function serve() {
  const server = http.createServer((req, res) => {
    let file = decodeURIComponent(req.url.split('?')[0]);
    if (file.endsWith('/')) file += 'index.html';
    file = path.join(root, path.normalize(file));
    if (!file.startsWith(root)) {
      res.writeHead(403);
      res.end();
      return;
    }
    fs.readFile(file, (err, data) => {
      if (err) {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
      res.end(data);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// Installed into every page: the first element matching `selector`
// anywhere, shadow roots included (the editor is made of web components).
function installDeep() {
  window.deepFind = (selector, root = document) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.matches(selector)) return el;
      if (el.shadowRoot) {
        const found = window.deepFind(selector, el.shadowRoot);
        if (found) return found;
      }
    }
    return null;
  };
}

let browser;
let context;
let page;
let frames;
let consoleErrors;

// Everything inside the editor's shadow DOM, as plain data.
function readView() {
  const deep = window.deepFind;
  const editor = document.querySelector('noflo-ui');
  const graphEditor = deep('the-graph-editor');
  const graph = graphEditor && graphEditor.graph;
  const svg = deep('svg.app-svg');
  const texts = (sel) => (svg ? [...svg.querySelectorAll(sel)].map((t) => t.textContent) : []);
  // The red banner: noflo-alert with isError; otherwise a progress message.
  const alert = deep('noflo-alert');
  const shownAlert = alert && alert.classList.contains('show');
  const runtime = deep('noflo-runtime');
  const label = runtime && runtime.shadowRoot ? runtime.shadowRoot.querySelector('#runcontrol h2') : null;
  const button = runtime && runtime.shadowRoot ? runtime.shadowRoot.querySelector('#runcontrol button') : null;
  return {
    hash: window.location.hash,
    shown: Boolean(svg && svg.getBoundingClientRect().width > 0),
    nodes: texts('.node-label'),
    components: texts('.node-sublabel'),
    iips: texts('.iip-info text'),
    renderedEdges: svg ? svg.querySelectorAll('.edges .edge').length : 0,
    model: graph ? {
      nodes: graph.nodes.map((n) => ({ id: n.id, component: n.component })),
      edges: graph.edges.map((e) => ({ from: [e.from.node, e.from.port], to: [e.to.node, e.to.port] })),
      iips: graph.initializers.map((i) => ({ data: i.from.data, to: [i.to.node, i.to.port] })),
    } : null,
    banner: shownAlert && alert.isError ? alert.message : '',
    progress: shownAlert && !alert.isError ? alert.message : '',
    status: label ? label.textContent.trim() : '',
    button: button ? button.getAttribute('title') : '',
    ready: Boolean(editor),
  };
}

async function view() {
  return page.evaluate(readView);
}

async function waitFor(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await view();
    if (predicate(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(`${what} within ${timeoutMs} ms; the page shows ${JSON.stringify(last)}`);
    }
    await page.waitForTimeout(50);
  }
}

async function open({ url, nodes, timeoutMs }) {
  if (context) await context.close();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(installDeep);
  page = await context.newPage();
  frames = [];
  consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => consoleErrors.push(`request failed: ${r.url()} ${r.failure() ? r.failure().errorText : ''}`));
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => frames.push({ dir: 'sent', at: Date.now(), text: String(f.payload) }));
    ws.on('framereceived', (f) => frames.push({ dir: 'received', at: Date.now(), text: String(f.payload) }));
  });
  const started = Date.now();
  await page.goto(url);
  const want = nodes || [];
  const shown = await waitFor(
    (v) => v.banner || (v.shown && want.every((n) => v.nodes.includes(n))),
    timeoutMs || 20000,
    `the graph with nodes ${want.join(', ')} (or an error banner)`,
  );
  return { ms: Date.now() - started, view: shown };
}

async function drill({ node, nodes, timeoutMs }) {
  const started = Date.now();
  // Live mode's route: runtime/<runtime id>/<graph id>/<node> (noflo-ui's
  // src/urls.js), the ids as the runtime said them in runtime:runtime.
  const said = frames
    .filter((f) => f.dir === 'received')
    .map((f) => { try { return JSON.parse(f.text); } catch (e) { return {}; } })
    .filter((m) => m.protocol === 'runtime' && m.command === 'runtime')
    .pop();
  if (!said) throw new Error('no runtime:runtime received yet');
  const route = ['runtime', said.payload.id, said.payload.graph, node];
  await page.evaluate((h) => { window.location.hash = h; }, `#${route.map(encodeURIComponent).join('/')}`);
  const want = nodes || [];
  const shown = await waitFor(
    (v) => v.banner || (v.shown && want.every((n) => v.nodes.includes(n))),
    timeoutMs || 20000,
    `the subgraph of ${node} with nodes ${want.join(', ')} (or an error banner)`,
  );
  return { ms: Date.now() - started, view: shown };
}

// An element of the graph's SVG, found in the page: its centre on screen.
async function centre(finder, args) {
  const box = await page.evaluate(({ finderText, a }) => {
    // eslint-disable-next-line no-new-func
    const find = new Function('svg', 'a', finderText);
    const svg = window.deepFind('svg.app-svg');
    const el = svg && find(svg, a);
    if (!el) return null;
    const r = el.getBoundingClientRect();
    return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
  }, { finderText: finder, a: args });
  if (!box) throw new Error(`not on the page: ${JSON.stringify(args)}`);
  return box;
}

// The port circle of `node`'s `port` (in: inports, else outports). Nodes
// are found by their order in the editor's graph, the order it draws them.
const PORT = `
  const [index, port, side] = a;
  const group = svg.querySelectorAll('.nodes .node')[index];
  if (!group) return null;
  const ports = group.querySelector(side === 'in' ? '.inports' : '.outports');
  const match = [...ports.querySelectorAll('.port')].find((p) => {
    const label = p.querySelector('.port-label');
    return label && label.textContent.toLowerCase() === port.toLowerCase();
  });
  return match ? match.querySelector('.port-circle-bg') || match : null;`;

// Where on screen the port circle of node `id`'s `port` is.
async function portPoint(id, port, side) {
  const index = (await view()).model.nodes.findIndex((n) => n.id === id);
  if (index < 0) throw new Error(`no node ${id} in the editor`);
  return centre(PORT, [index, port, side]);
}

// The middle of an edge's visible stroke, on screen. Edges are found by
// their order in the editor's graph, the order it draws them.
async function edgePoint({ from, to }) {
  const at = await page.evaluate(({ f, t }) => {
    const same = (a, b) => a.toLowerCase() === b.toLowerCase();
    const editor = window.deepFind('the-graph-editor');
    const svg = window.deepFind('svg.app-svg');
    const index = editor.graph.edges.findIndex((e) => e.from.node === f[0] && same(e.from.port, f[1])
      && e.to.node === t[0] && same(e.to.port, t[1]));
    if (index < 0) return null;
    const path = svg.querySelectorAll('.edges .edge')[index].querySelector('.edge-fg');
    const point = path.getPointAtLength(path.getTotalLength() / 2);
    const m = path.getScreenCTM();
    return { x: point.x * m.a + point.y * m.c + m.e, y: point.x * m.b + point.y * m.d + m.f };
  }, { f: from, t: to });
  if (!at) throw new Error(`no edge ${from.join('.')} -> ${to.join('.')} in the editor`);
  return at;
}

// As a user deletes an edge: its context menu (right click), then "delete".
async function removeEdge(edge) {
  const at = await edgePoint(edge);
  await page.mouse.click(at.x, at.y, { button: 'right' });
  const item = page.locator('svg.app-svg .context-slice text', { hasText: 'delete' });
  await item.click();
  const same = (a, b) => a.toLowerCase() === b.toLowerCase();
  return waitFor((v) => !v.model.edges.some((e) => e.from[0] === edge.from[0] && same(e.from[1], edge.from[1])
    && e.to[0] === edge.to[0] && same(e.to[1], edge.to[1])), 5000, 'the edge gone from the editor');
}

async function connect({ from, to }) {
  const a = await portPoint(from[0], from[1], 'out');
  const b = await portPoint(to[0], to[1], 'in');
  // A tap on the outport starts an edge, a tap on the inport ends it (the
  // same as a drag from one to the other, which needs touch input here).
  await page.mouse.click(a.x, a.y);
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2);
  await page.mouse.click(b.x, b.y);
  return waitFor((v) => v.model && v.model.edges.some((e) => e.from[0] === from[0] && e.to[0] === to[0]
    && e.from[1].toLowerCase() === from[1].toLowerCase() && e.to[1].toLowerCase() === to[1].toLowerCase()),
  5000, `the edge ${from.join('.')} -> ${to.join('.')} in the editor's graph`);
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function addNode({ search, pick }) {
  const before = (await view()).model.nodes.map((n) => n.id);
  // The search box opens from the graph's title bar.
  await page.locator('noflo-search #breadcrumb').click();
  const input = page.locator('noflo-search #searchinput');
  await input.waitFor({ state: 'visible', timeout: 5000 });
  await input.fill(search);
  const title = new RegExp(`^${escapeRegExp(pick)}$`);
  const item = page.locator('noflo-search-library-results li.search-results-item')
    .filter({ has: page.locator('h2', { hasText: title }) }).first();
  await item.waitFor({ timeout: 5000 });
  await item.click();
  const after = await waitFor((v) => v.model.nodes.length > before.length, 5000, `a new ${pick} node`);
  const added = after.model.nodes.find((n) => !before.includes(n.id));
  await page.keyboard.press('Escape');
  return { id: added.id, component: added.component, view: after };
}

// Where the editor's graph has its nodes.
function positions() {
  return page.evaluate(() => {
    const editor = window.deepFind('the-graph-editor');
    return JSON.stringify(editor.graph.nodes.map((n) => [n.id, n.metadata.x, n.metadata.y]));
  });
}

// The journal's "Autolayout" button: the editor arranges the nodes; done
// when they have moved and stay where they are.
async function autolayout() {
  const before = await positions();
  await showPackets(false);
  await page.locator('noflo-journal button[title="Autolayout"]').click();
  const deadline = Date.now() + 5000;
  let last = before;
  for (;;) {
    await page.waitForTimeout(100);
    const now = await positions();
    if (now !== before && now === last) return view();
    if (Date.now() > deadline) throw new Error(`the nodes did not settle after Autolayout: ${now}`);
    last = now;
  }
}

// Opens or closes the packet panel (it opens by itself when packets
// arrive) with a click on its handle, its top edge.
async function showPackets(open) {
  const panel = page.locator('noflo-packets the-panel#fixed');
  if ((await panel.evaluate((el) => Boolean(el.open))) === open) return;
  const box = await panel.boundingBox();
  await page.mouse.click(box.x + 20, box.y + 18);
  await page.waitForFunction(([el, want]) => Boolean(el.open) === want, [await panel.elementHandle(), open]);
}

async function packets() {
  await showPackets(true);
  return page.evaluate(() => {
    const main = window.deepFind('#fixedmain');
    if (!main) return [];
    return [...main.querySelectorAll('.react-fluid-table-row')].map((row) => {
      const text = (sel) => [...row.querySelectorAll(sel)].map((el) => el.textContent);
      const cells = row.querySelectorAll('.cell');
      return {
        nodes: text('.edge .node-id'),
        ports: text('.edge .port-id'),
        data: cells.length > 1 ? cells[1].textContent : '',
      };
    });
  });
}

async function runControl({ button }) {
  const before = await view();
  const title = button === 'stop' ? 'Stop' : 'Start';
  await page.locator(`noflo-runtime #runcontrol button[title="${title}"]`).click();
  return waitFor((v) => v.status !== before.status, 5000, `the runtime's label to change from "${before.status}"`);
}

function exchange() {
  const sent = frames.filter((f) => f.dir === 'sent').map((f) => JSON.parse(f.text));
  const received = frames.filter((f) => f.dir === 'received').map((f) => JSON.parse(f.text));
  return { sent, received, consoleErrors };
}

const commands = {
  open,
  view,
  screenshot: async ({ name }) => {
    const file = path.join(shots, `${name}.png`);
    await page.screenshot({ path: file });
    return file;
  },
  runControl,
  packets,
  removeEdge,
  connect,
  addNode,
  autolayout,
  drill,
  exchange: async () => exchange(),
  close: async () => {
    await browser.close();
    process.exit(0);
  },
};

async function main() {
  const server = await serve();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  process.stdout.write(`${JSON.stringify({ ide: `http://127.0.0.1:${server.address().port}/` })}\n`);
  await answerCommands(commands);
  await browser.close();
  server.close();
}

main().catch((e) => {
  process.stderr.write(`noflo-ui driver: ${e.message}\n`);
  process.exit(1);
});
