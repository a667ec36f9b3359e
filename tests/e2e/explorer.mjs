// End-to-end test of the explorer in a real browser (Debian's chromium, driven by playwright-core):
// start the server, search 浙江大学, expand it, click a CO_BUILT_BY edge, read its evidence quote,
// save a screenshot. Run from the repository root after `cargo build`:
//   node tests/e2e/explorer.mjs [screenshot.png]
// Environment: INNOGRAPH_BIN (default target/debug/innograph), CHROMIUM (default /usr/bin/chromium).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../web/explorer/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const screenshot = process.argv[2] || 'target/explorer.png';
const dataDir = mkdtempSync(join(tmpdir(), 'innograph-e2e-'));
const server = spawn(process.env.INNOGRAPH_BIN || 'target/debug/innograph',
  ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });

const base = await new Promise((resolve, reject) => {
  let buffer = '';
  server.stdout.on('data', (chunk) => {
    buffer += chunk;
    const match = buffer.match(/GraphQL:\s+(http:\/\/\S+)\/graphql/);
    if (match) resolve(match[1]);
  });
  server.on('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
});

let failed = 0;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  const problems = [];
  globalThis.problems = problems;
  page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
  await page.goto(`${base}/`);
  await page.fill('#search', '浙江大学');
  await page.click('#suggestions li[data-id="zhejiang-university"]', { timeout: 10_000 });
  await page.waitForFunction(() => window.cy
    && window.cy.getElementById('zhejiang-university').hasClass('expanded')
    && window.cy.edges('.CO_BUILT_BY[target = "zhejiang-university"]').nonempty()
    && window.busy === 0,
    null, { timeout: 15_000 });
  // Fit the whole neighbourhood in view, as a user would with the Fit button.
  await page.click('#fit');
  const built = await page.evaluate(() => window.cy.edges('.CO_BUILT_BY[target = "zhejiang-university"]').length);
  console.log(`zhejiang-university expanded with ${built} CO_BUILT_BY edges`);
  // Click a CO_BUILT_BY edge on the canvas, at a point where Cytoscape's own hit test finds that edge
  // (not a node or a label drawn over it).
  const point = await page.evaluate(() => {
    const cy = window.cy;
    const box = cy.container().getBoundingClientRect();
    const pan = cy.pan();
    const zoom = cy.zoom();
    for (const edge of cy.edges('.CO_BUILT_BY[target = "zhejiang-university"]').toArray()) {
      const s = edge.source().position();
      const t = edge.target().position();
      for (const f of [0.5, 0.4, 0.6, 0.3, 0.7, 0.35, 0.65]) {
        const model = { x: s.x + f * (t.x - s.x), y: s.y + f * (t.y - s.y) };
        const rendered = { x: model.x * zoom + pan.x, y: model.y * zoom + pan.y };
        if (rendered.x < 5 || rendered.y < 5 || rendered.x > box.width - 5 || rendered.y > box.height - 5) continue;
        const hit = cy.renderer().findNearestElement(model.x, model.y, true, false);
        if (hit && hit.id() === edge.id()) return { x: box.left + rendered.x, y: box.top + rendered.y, id: edge.id() };
      }
    }
    return null;
  });
  if (!point) throw new Error('no CO_BUILT_BY edge can be clicked on the canvas');
  await page.mouse.click(point.x, point.y);
  await page.waitForFunction(() => window.busy === 0);
  await page.waitForSelector('#panel blockquote.evidence', { timeout: 10_000 });
  const target = await page.getAttribute('#panel .en a[data-entity]', 'data-entity');
  if (target !== 'zhejiang-university') { failed++; console.error(`FAILED: the panel shows a relation to ${target}`); }
  const quote = await page.textContent('#panel blockquote.evidence');
  const source = await page.textContent('#panel .source');
  console.log(`clicked ${point.id}: «${quote}» — ${source.trim().replace(/\s+/g, ' ')}`);
  if (!quote || !quote.includes('浙')) { failed++; console.error('FAILED: the evidence quote does not name the university'); }
  if (!/20\d\d/.test(source)) { failed++; console.error('FAILED: the evidence has no document date'); }
  await page.click('#fit');
  await page.screenshot({ path: screenshot });
  console.log(`screenshot: ${screenshot}`);
  if (problems.length) { failed++; console.error(`FAILED: page problems: ${problems.join('; ')}`); }
  globalThis.problems = problems;
} catch (error) {
  failed++;
  console.error(`FAILED: ${error.stack || error}`);
  const page = browser.contexts()[0]?.pages()[0];
  if (page) {
    const state = await page.evaluate(() => window.cy
      ? { nodes: window.cy.nodes().length, edges: window.cy.edges().length, busy: window.busy, status: document.getElementById("status").textContent }
      : 'no cytoscape').catch((e) => String(e));
    console.error(`page state: ${JSON.stringify(state)}; problems: ${JSON.stringify(globalThis.problems || [])}`);
    await page.screenshot({ path: screenshot }).catch(() => {});
  }
} finally {
  await browser.close();
  server.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(`${failed ? 0 : 1} passed, ${failed ? 1 : 0} failed`);
process.exit(failed ? 1 : 0);
