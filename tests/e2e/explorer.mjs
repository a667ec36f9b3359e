// End-to-end test of the explorer in a real browser (Debian's chromium, driven by playwright-core):
// start the server, search 浙江大学, expand it, click a CO_BUILT_BY edge, read its evidence quote;
// check the policy-layer switch (off by default, counts what it hides, shows the layer when checked)
// around 绍兴市; check that an inferred relation (天津大学 LOCATED_IN 天津市, from the reference table)
// is drawn dashed and its evidence names its basis; save a screenshot.
// Run from the repository root after `cargo build`:
//   node tests/e2e/explorer.mjs [screenshot.png]
// Environment: INNOGRAPH_BIN (default target/debug/innograph), CHROMIUM (default /usr/bin/chromium),
// EXPLORER_ASSETS (optional, e.g. assets/explorer: serve the page's own files from this directory instead
// of the copies embedded in the binary, to try edits to the explorer without rebuilding).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
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
  if (process.env.EXPLORER_ASSETS) {
    const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
    const own = (url) => url.pathname === '/' || (url.pathname.startsWith('/explorer/') && !url.pathname.startsWith('/explorer/vendor/'));
    await page.route(own, async (route) => {
      const path = new URL(route.request().url()).pathname;
      const file = path === '/' ? 'index.html' : path.slice('/explorer/'.length);
      const body = readFileSync(join(process.env.EXPLORER_ASSETS, file));
      await route.fulfill({ body, contentType: types[extname(file)] || 'application/octet-stream' });
    });
    console.log(`serving the explorer's files from ${process.env.EXPLORER_ASSETS}`);
  }
  await page.goto(`${base}/`);

  // The policy layer's switch is on the page and off by default.
  const toggle = page.locator('#policy-layer');
  if (!(await toggle.isVisible())) { failed++; console.error('FAILED: no visible policy-layer switch'); }
  if (await toggle.isChecked()) { failed++; console.error('FAILED: the policy layer is on by default'); }
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

  // 绍兴市 has policy-layer neighbours (policies, programmes): with the layer off they are on the canvas
  // but hidden, and the switch says how many.
  const open = async (text, id) => {
    await page.fill('#search', text);
    await page.click(`#suggestions li[data-id="${id}"]`, { timeout: 10_000 });
    await page.waitForFunction((id) => window.cy.getElementById(id).hasClass('expanded') && window.busy === 0,
      id, { timeout: 15_000 });
  };
  // Read after two animation frames: Cytoscape's cached `visible()` is refreshed when it next draws.
  const layerState = () => page.evaluate(async () => {
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    const policy = window.cy.nodes('[layer = "POLICY"]');
    return {
      policy: policy.length,
      visible: policy.filter((n) => n.style('display') !== 'none').length,
      // edges drawn to a hidden node would be a leak
      visibleEdgesToHidden: window.cy.edges(':visible').filter((e) => e.source().hidden() || e.target().hidden()).length,
      label: document.getElementById('policy-layer-text').textContent,
      checked: document.getElementById('policy-layer').checked,
    };
  });
  await open('绍兴市', 'shaoxing-city');
  const off = await layerState();
  const shown = Number((off.label.match(/\d+/) || [])[0]);
  console.log(`shaoxing-city expanded: ${off.policy} policy-layer nodes, ${off.visible} visible; switch reads «${off.label}»`);
  if (off.checked) { failed++; console.error('FAILED: the policy layer switch is checked'); }
  if (!(off.policy > 0)) { failed++; console.error('FAILED: 绍兴市 brought no policy-layer nodes'); }
  if (off.visible !== 0) { failed++; console.error(`FAILED: ${off.visible} policy-layer nodes visible while the layer is off`); }
  if (off.visibleEdgesToHidden !== 0) { failed++; console.error(`FAILED: ${off.visibleEdgesToHidden} edges drawn to hidden nodes`); }
  if (!(shown > 0) || shown !== off.policy) { failed++; console.error(`FAILED: the switch reads «${off.label}», expected a count of ${off.policy}`); }
  await page.check('#policy-layer');
  await page.waitForFunction(() => window.busy === 0);
  const on = await layerState();
  console.log(`policy layer on: ${on.visible} of ${on.policy} policy-layer nodes visible; switch reads «${on.label}»`);
  if (on.visible !== on.policy || on.visible === 0) { failed++; console.error('FAILED: checking the switch does not show the policy layer'); }
  if (/\d/.test(on.label)) { failed++; console.error(`FAILED: the switch still counts hidden nodes: «${on.label}»`); }
  await page.uncheck('#policy-layer');
  await page.waitForFunction(() => window.busy === 0);
  const again = await layerState();
  if (again.visible !== 0 || Number((again.label.match(/\d+/) || [])[0]) !== again.policy) {
    failed++; console.error(`FAILED: unchecking the switch does not hide the layer again: ${JSON.stringify(again)}`);
  }

  // 天津大学 LOCATED_IN 天津市 is known from the reference table only: an inferred edge, drawn dashed,
  // while a stated one stays solid.
  await open('天津大学', 'tianjin-university');
  const located = 'tianjin-university/LOCATED_IN/tianjin-municipality';
  const styles = await page.evaluate((located) => {
    const edge = window.cy.getElementById(located);
    const stated = window.cy.edges().filter((e) => e.data('inferred') === false)[0];
    return {
      exists: edge.nonempty(),
      inferred: edge.nonempty() && edge.data('inferred'),
      style: edge.nonempty() && edge.style('line-style'),
      dashed: window.cy.edges('[?inferred]').filter((e) => e.style('line-style') === 'dashed').length,
      stated: stated ? stated.style('line-style') : null,
    };
  }, located);
  console.log(`${located}: inferred ${styles.inferred}, line-style ${styles.style}; ${styles.dashed} dashed edges; a stated edge is ${styles.stated}`);
  if (!styles.exists || styles.inferred !== true) { failed++; console.error(`FAILED: ${located} is missing or not inferred`); }
  if (styles.style !== 'dashed') { failed++; console.error(`FAILED: the inferred ${located} is drawn ${styles.style}`); }
  if (styles.stated && styles.stated !== 'solid') { failed++; console.error(`FAILED: a stated edge is drawn ${styles.stated}`); }
  // Its evidence, opened from the entity panel, says it comes from the reference table.
  await page.click(`#panel a[data-relation="${located}"]`, { timeout: 10_000 });
  await page.waitForSelector('#panel .basis[data-basis="REFERENCE"]', { timeout: 10_000 });
  const basis = await page.textContent('#panel .basis');
  console.log(`its evidence basis: «${basis}»`);
  if (!basis.includes('参考表')) { failed++; console.error('FAILED: the evidence does not name its basis'); }

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
