// End-to-end test of the front-end starters in examples/ (Cytoscape.js, AntV G6, ECharts) in a real browser
// (Debian's chromium, driven by playwright-core from web/explorer/node_modules). Serves examples/ from a small
// static server on one port and runs innograph on another with `--cors-origins` naming the static server's
// origin, so every fetch is a real cross-origin request. For each page: it draws exactly the nodes that
// /api/subgraph returns for the start entity; clicking a node adds that node's neighbourhood (the count
// grows to the union the API gives); hovering an edge shows its evidence quote. Screenshots are saved as
// target/starter-{cytoscape,g6,echarts}.png.
// Run from the repository root after `cargo build` and `(cd examples && npm ci)`:
//   node tests/e2e/starters.mjs
// Environment: INNOGRAPH_BIN (default target/debug/innograph), CHROMIUM (default /usr/bin/chromium).
import { createServer } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { launchBrowser, startServer } from './harness.mjs';

const examples = resolve('examples');
const startId = 'zhejiang-university';
if (!existsSync(join(examples, 'node_modules'))) {
  console.error('FAILED: examples/node_modules is missing: run `(cd examples && npm ci)` first');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// A static file server for examples/, on its own port (a different origin from innograph's).
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.css': 'text/css', '.json': 'application/json', '.map': 'application/json' };
const statics = createServer((request, response) => {
  const path = decodeURIComponent(new URL(request.url, 'http://x').pathname);
  let file = normalize(join(examples, path));
  if (file !== examples && !file.startsWith(examples + sep)) { response.writeHead(403).end(); return; }
  if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
  if (!existsSync(file)) { response.writeHead(404).end('not found'); return; }
  response.writeHead(200, { 'content-type': types[extname(file)] || 'application/octet-stream' });
  response.end(readFileSync(file));
});
await new Promise((done) => statics.listen(0, '127.0.0.1', done));
const origin = `http://127.0.0.1:${statics.address().port}`;

const dataDir = mkdtempSync(join(tmpdir(), 'innograph-starters-'));
const { server, base } = await startServer(dataDir, ['--cors-origins', origin]);
console.log(`innograph at ${base}, examples/ at ${origin}`);

let failed = 0;
const fail = (message) => { failed++; console.error(`FAILED: ${message}`); };

// What the API gives: the ids of the nodes in one neighbourhood, read from each format's own shape.
const nodesOf = { cytoscape: (b) => b.nodes.map((n) => n.data.id), g6: (b) => b.nodes.map((n) => n.id),
  echarts: (b) => b.data.map((n) => n.id) };
async function subgraph(format, id, headers = {}) {
  const response = await fetch(`${base}/api/subgraph?ids=${encodeURIComponent(id)}&depth=1&format=${format}`, { headers });
  if (!response.ok) throw new Error(`/api/subgraph ${id} ${format}: ${response.status}`);
  return { body: await response.json(), headers: response.headers };
}

// CORS as the README shows it: the static server's origin is allowed, another one is not.
const allowed = (await subgraph('cytoscape', startId, { origin })).headers.get('access-control-allow-origin');
const other = (await subgraph('cytoscape', startId, { origin: 'http://127.0.0.1:1' })).headers.get('access-control-allow-origin');
console.log(`CORS: ${origin} → ${allowed}; http://127.0.0.1:1 → ${other}`);
if (allowed !== origin) fail(`innograph does not allow ${origin}: ${allowed}`);
if (other) fail(`innograph allows an origin it was not given: ${other}`);
const checks = [{ name: 'cors', ok: failed === 0 }];

// How each page is read: the node count from the library's own data, and where a node is on the screen.
const probes = {
  cytoscape: {
    count: () => (window.cy ? window.cy.nodes().length : -1),
    point: (id) => {
      const box = window.cy.container().getBoundingClientRect();
      const p = window.cy.getElementById(id).renderedPosition();
      return { x: box.left + p.x, y: box.top + p.y };
    },
    edges: () => window.cy.edges().map((e) => e.data()),
  },
  g6: {
    count: () => { try { return window.graph.getNodeData().length; } catch { return -1; } },
    point: (id) => { const [x, y] = window.graph.getClientByCanvas(window.graph.getElementPosition(id)); return { x, y }; },
    edges: () => window.graph.getEdgeData().map((e) => ({ ...e.data, source: e.source, target: e.target })),
  },
  echarts: {
    count: () => { try { return window.chart.getOption().series[0].data.length; } catch { return -1; } },
    point: (id) => {
      const series = window.chart.getModel().getSeriesByIndex(0);
      const [x, y] = series.coordinateSystem.dataToPoint(series.getGraph().getNodeById(id).getLayout());
      const box = window.chart.getDom().getBoundingClientRect();
      return { x: box.left + x, y: box.top + y };
    },
    edges: () => window.chart.getOption().series[0].links.map((l) => l.data),
  },
};

const browser = await launchBrowser();
mkdirSync('target', { recursive: true });
for (const [library, probe] of Object.entries(probes)) {
  const screenshot = `target/starter-${library}.png`;
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems = [];
  page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
  const failedBefore = failed;
  const count = () => page.evaluate(probe.count);
  const point = (id) => page.evaluate(probe.point, id);
  try {
    // The start entity's neighbourhood, and the neighbour whose expansion adds the most (up to 30) new nodes.
    const first = new Set(nodesOf[library]((await subgraph(library, startId)).body));
    let pick = null;
    for (const id of first) {
      if (id === startId) continue;
      const union = new Set([...first, ...nodesOf[library]((await subgraph(library, id)).body)]);
      const added = union.size - first.size;
      if (added > 0 && added <= 30 && (!pick || added > pick.added)) pick = { id, added, total: union.size };
    }
    if (!pick) throw new Error(`no neighbour of ${startId} adds nodes when expanded`);

    await page.goto(`${origin}/${library}/index.html?server=${encodeURIComponent(base)}&id=${startId}`);
    const drawn = (n, id) => page.waitForFunction(([probeSource, n, id]) => {
      const status = document.getElementById('status').textContent;
      return (0, eval)(`(${probeSource})`)() === n && status.startsWith(`${id}: +`);
    }, [probe.count.toString(), n, id], { timeout: 20_000 });
    await drawn(first.size, startId).catch(() => {});
    const initial = await count();
    console.log(`${library}: drew ${initial} nodes; /api/subgraph?ids=${startId} has ${first.size}`);
    if (initial !== first.size) throw new Error(`drew ${initial} nodes, expected ${first.size}`);

    // Click the chosen neighbour on the canvas, as a user would: its neighbourhood is added.
    // (Retried: a page may still be animating its first drawing, when a node is not yet hit by a click.)
    let at;
    for (let attempt = 0; attempt < 3 && (await count()) === initial; attempt++) {
      at = await point(pick.id);
      await page.mouse.click(at.x, at.y);
      await drawn(pick.total, pick.id).catch(() => {});
    }
    const after = await count();
    console.log(`${library}: clicked ${pick.id} at (${Math.round(at.x)}, ${Math.round(at.y)}): ${initial} → ${after} nodes (API: ${pick.total})`);
    if (!(after > initial)) fail(`${library}: clicking ${pick.id} did not add nodes`);
    else if (after !== pick.total) fail(`${library}: ${after} nodes after the click, expected ${pick.total}`);

    // Hover an edge (its midpoint, away from every node) until the tooltip shows its evidence quote,
    // once the new nodes have finished animating in.
    await page.mouse.move(5, 400);
    await page.waitForTimeout(1200);
    const edges = await page.evaluate(probe.edges);
    const ids = [...new Set(edges.flatMap((e) => [e.source, e.target]))];
    const points = Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await point(id)])));
    let shown = null;
    for (const edge of edges.filter((e) => e.evidence?.length)) {
      const s = points[edge.source], t = points[edge.target];
      const mid = { x: (s.x + t.x) / 2, y: (s.y + t.y) / 2 };
      const clear = Object.values(points).every((p) => Math.hypot(p.x - mid.x, p.y - mid.y) > 30);
      if (!clear || Math.hypot(s.x - t.x, s.y - t.y) < 60 || mid.y < 60) continue;
      await page.mouse.move(mid.x - 3, mid.y - 3);
      await page.mouse.move(mid.x, mid.y, { steps: 3 });
      const quote = edge.evidence[0].quote.slice(0, 10);
      // Each page's tooltip quotes the evidence in a <blockquote class="evidence">.
      const visible = await page.waitForFunction((quote) => [...document.querySelectorAll('blockquote.evidence')].some((el) =>
        el.textContent.includes(quote) && el.checkVisibility({ opacityProperty: true, visibilityProperty: true })),
      quote, { timeout: 2_000 }).then(() => true, () => false);
      if (visible) { shown = { edge: edge.id, quote: edge.evidence[0].quote }; break; }
      await page.mouse.move(5, 400);
    }
    if (shown) console.log(`${library}: hovering ${shown.edge} shows «${shown.quote}»`);
    else fail(`${library}: hovering an edge never showed its evidence quote`);

    await page.waitForTimeout(600); // let the tooltip finish fading in
    await page.screenshot({ path: screenshot });
    console.log(`${library}: screenshot ${screenshot}`);
    if (problems.length) fail(`${library}: page problems: ${problems.join('; ')}`);
  } catch (error) {
    fail(`${library}: ${error.stack || error}`);
    const status = await page.textContent('#status').catch(() => '?');
    console.error(`page status: «${status}»; problems: ${JSON.stringify(problems)}`);
    await page.screenshot({ path: screenshot }).catch(() => {});
  }
  await page.close();
  checks.push({ name: library, ok: failed === failedBefore });
}

await browser.close();
server.kill('SIGTERM');
statics.close();
rmSync(dataDir, { recursive: true, force: true });
// One check per page, and one for CORS.
const passed = checks.filter((c) => c.ok).length;
console.log(`starters: ${passed} passed, ${checks.length - passed} failed`);
process.exit(passed === checks.length ? 0 : 1);
