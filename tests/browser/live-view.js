// Drives the coordinator's live web view in headless Chromium for
// tests/tests/live_view.rs: what an operator sees, as answers to commands.
//
// Environment: CHROMIUM (the browser), SHOTS (where screenshots go),
// NODE_PATH (where playwright-core is installed).
//
// It prints one line {"ready": true}, then reads one JSON command per line
// on stdin and answers each with one JSON line on stdout: {"ok": ...} or
// {"error": "..."}. Commands (`cmd`):
// - open {url, nodes, timeoutMs}: opens url and waits until the page is
//   live and draws `nodes` nodes; answers {ms, view}.
// - view: what the page shows now (see `view()`).
// - screenshot {name}: SHOTS/name.png; answers its path.
'use strict';

const path = require('path');
const answerCommands = require('./commands');
const { chromium } = require('playwright-core');

const shots = process.env.SHOTS;
let browser = null;
let page = null;
const errors = [];

// What the page shows: its status, summary, every node and edge as drawn
// (their data attributes and text), the side panel's lists.
async function view() {
  return page.evaluate(() => {
    const text = (e) => (e ? e.textContent : '');
    const items = (id) => [...document.querySelectorAll(`#${id} li`)].map((li) => li.textContent);
    return {
      live: document.body.dataset.live === '1',
      status: text(document.getElementById('status')),
      summary: text(document.getElementById('summary')),
      nodes: [...document.querySelectorAll('g.node')].map((g) => ({
        id: g.dataset.node,
        class: g.getAttribute('class'),
        participants: Number(g.dataset.participants || 0),
        dead: Number(g.dataset.dead || 0),
        text: [...g.querySelectorAll('text')].map((t) => t.textContent),
      })),
      edges: [...document.querySelectorAll('g.edge')].map((g) => ({
        id: g.dataset.edge,
        class: g.getAttribute('class'),
        rate: g.dataset.rate === '' || g.dataset.rate === undefined ? null : Number(g.dataset.rate),
        depth: g.dataset.depth === '' || g.dataset.depth === undefined ? null : Number(g.dataset.depth),
        dead: g.dataset.dead === '' || g.dataset.dead === undefined ? null : Number(g.dataset.dead),
        label: g.querySelector('text') ? g.querySelector('text').textContent : '',
      })),
      pending: items('pending'),
      forwarded: items('forwarded'),
    };
  });
}

const commands = {
  async open({ url, nodes, timeoutMs }) {
    if (page) await page.context().close();
    const context = await browser.newContext({ viewport: { width: 1400, height: 820 } });
    page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    const started = Date.now();
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(
      (n) => document.body.dataset.live === '1' && document.querySelectorAll('g.node').length >= n,
      nodes, { timeout: timeoutMs || 20000, polling: 50 },
    );
    return { ms: Date.now() - started, view: await view(), errors };
  },
  view,
  async screenshot({ name }) {
    const file = path.join(shots, `${name}.png`);
    await page.screenshot({ path: file });
    return file;
  },
  async errors() { return errors; },
};

async function main() {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  await answerCommands(commands);
  await browser.close();
}

main().catch((e) => {
  process.stderr.write(`live-view driver: ${e.message}\n`);
  process.exit(1);
});
