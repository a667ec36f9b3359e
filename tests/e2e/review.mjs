// End-to-end test of the review page (/review) in a real browser (Debian's chromium, driven by
// playwright-core), on a report that is not bundled (tests/fixtures/reports/ningbo-2025.txt):
// upload it with its metadata, extract, check the proposals (quotes highlighted in the text, existing
// entities linked to the explorer, the clearest case: an institute named after 浙江大学 co-built by
// zhejiang-university), select from both sides, reject one proposal, rename one, send a deliberately
// broken edit and find the validator's error next to that item, fix it, add the accepted ones with an
// editor's token, read the summary, and check through GraphQL what was and was not created.
// Run from the repository root after `cargo build`:
//   node tests/e2e/review.mjs [screenshot.png]
// Environment: INNOGRAPH_BIN (default target/debug/innograph), CHROMIUM (default /usr/bin/chromium),
// EXPLORER_ASSETS (optional, e.g. assets/explorer: serve the page's own files from this directory instead
// of the copies embedded in the binary, with the server's Content-Security-Policy, to try edits without
// rebuilding).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { innographBin as bin, launchBrowser, startServer } from './harness.mjs';

const screenshot = process.argv[2] || 'target/review.png';
const fixture = resolve('tests/fixtures/reports/ningbo-2025.txt');
const fixtureText = readFileSync(fixture, 'utf8');
const dataDir = mkdtempSync(join(tmpdir(), 'innograph-review-e2e-'));

// An editor's token for the fresh data directory, made before the server starts (which then seeds it).
const tokenOutput = execFileSync(bin, ['token', 'create', '--name', 'e2e', '--role', 'editor', '--data-dir', dataDir],
  { encoding: 'utf8' });
const token = (tokenOutput.match(/\big_[0-9a-f]+\b/) || [])[0];
if (!token) throw new Error(`no token in the output of \`innograph token create\`: ${tokenOutput}`);

const { server, base } = await startServer(dataDir);

// With `lookup`, an entity that does not exist is null as its NOT_FOUND error says, not a failure.
async function graphql(query, variables, { lookup = false } = {}) {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  const errors = (body.errors || []).filter((e) => !(lookup && e.extensions?.code === 'NOT_FOUND'));
  if (errors.length) throw new Error(errors.map((e) => e.message).join('; '));
  return body.data;
}

let failed = 0;
const fail = (message) => { failed++; console.error(`FAILED: ${message}`); };


const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const problems = [];
  page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
  if (process.env.EXPLORER_ASSETS) {
    const csp = (await fetch(`${base}/review`)).headers.get('content-security-policy');
    const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
    const own = (url) => url.pathname === '/review' || (url.pathname.startsWith('/explorer/') && !url.pathname.startsWith('/explorer/vendor/'));
    await page.route(own, async (route) => {
      const path = new URL(route.request().url()).pathname;
      const file = path === '/review' ? 'review.html' : path.slice('/explorer/'.length);
      const body = readFileSync(join(process.env.EXPLORER_ASSETS, file));
      const headers = file.endsWith('.html') && csp ? { 'content-security-policy': csp } : {};
      await route.fulfill({ body, headers, contentType: types[extname(file)] || 'application/octet-stream' });
    });
    console.log(`serving the review page's files from ${process.env.EXPLORER_ASSETS}`);
  }
  // The explorer links to the review page.
  await page.goto(`${base}/`);
  if (!(await page.locator('header a[href="/review"]').isVisible())) fail('the explorer has no visible link to /review');
  // Let the explorer finish drawing its default view first: leaving while its /api/subgraph request
  // is in flight aborts that request, which the page's problem listener would count.
  await page.waitForFunction(() => window.cy && window.busy === 0 && window.cy.nodes().length > 0, null, { timeout: 20_000 });

  await page.goto(`${base}/review`);
  await page.fill('#token', token);
  // Upload the report: the id and title come from the file; the rest is typed.
  await page.setInputFiles('#file', fixture);
  await page.waitForFunction(() => document.getElementById('text').value.length > 100);
  const autoId = await page.inputValue('#doc-id');
  const autoTitle = await page.inputValue('#doc-title');
  console.log(`uploaded: id «${autoId}», title «${autoTitle}»`);
  if (autoId !== 'ningbo-2025') fail(`the id taken from the file name is «${autoId}»`);
  if ((await page.inputValue('#text')) !== fixtureText.replace(/^\uFEFF/, '')) fail('the uploaded text differs from the file');
  await page.fill('#doc-id', 'ningbo-2025-e2e');
  await page.fill('#doc-title', '宁波市科技局2025年工作总结和2026年工作思路');
  await page.fill('#doc-publisher', '宁波市科技局');
  await page.fill('#doc-date', '2025-12');
  await page.fill('#doc-region', '宁波市');
  await page.click('#extract');
  await page.waitForSelector('#proposals .item', { timeout: 15_000 });
  await page.waitForFunction(() => window.busy === 0);

  // Structure: every proposal listed and grouped, every relation's quote highlighted in the text.
  const seen = await page.evaluate(() => {
    const items = [...document.querySelectorAll('#proposals .item')].map((el) => ({ ...el.dataset,
      name: el.querySelector('.name')?.textContent, link: el.querySelector('a.entity-link')?.getAttribute('href'),
      quote: el.querySelector('blockquote.quote')?.textContent, unmentionedNote: el.querySelector('.not-mentioned')?.textContent }));
    const marks = [...document.querySelectorAll('#text-view mark.hl')];
    const marked = new Set(marks.flatMap((m) => m.dataset.items.split(' ')));
    return {
      items, groups: [...document.querySelectorAll('#proposals h3[data-group]')].map((h) => h.dataset.group),
      marks: marks.length, unmarked: items.filter((i) => !marked.has(i.key)).map((i) => i.key),
      text: document.getElementById('text-view').textContent,
    };
  });
  const entities = seen.items.filter((i) => i.type === 'entity');
  const relations = seen.items.filter((i) => i.type === 'relation');
  const existing = entities.filter((e) => e.status === 'existing');
  const fresh = entities.filter((e) => e.status === 'new');
  console.log(`proposed: ${entities.length} entities (${existing.length} existing, ${fresh.length} new), ${relations.length} relations; ${seen.marks} highlights; groups ${seen.groups.join(' ')}`);
  console.log(`  existing: ${existing.map((e) => `${e.name}=${e.id}`).join(', ')}`);
  console.log(`  new: ${fresh.map((e) => `${e.name}=${e.id} (${e.kind}${e.duplicateOf ? `, duplicate of ${e.duplicateOf}` : ''})`).join(', ')}`);
  console.log(`  relations: ${relations.map((r) => `${r.source} ${r.kind} ${r.target}`).join(', ')}`);
  if (seen.text !== fixtureText) fail('the text pane does not show the report verbatim');
  if (!relations.length) fail('no relation proposed');
  if (!seen.marks) fail('no quote highlighted');
  // Every relation's quote is verbatim in the text (`[…]` elides within a line), so every relation has a
  // highlight. An entity may be proposed without being named in the text (e.g. the reporting region at
  // the end of a REGION relation): it has no highlight and says so; one that is named has one.
  const unmarked = new Set(seen.unmarked);
  const unmarkedRelations = relations.filter((r) => unmarked.has(r.key));
  if (unmarkedRelations.length) fail(`relations whose quote is not highlighted: ${unmarkedRelations.map((r) => `${r.key} «${r.quote}»`).join(', ')}`);
  const unmentioned = entities.filter((e) => unmarked.has(e.key));
  if (unmentioned.length) console.log(`  not mentioned in the text: ${unmentioned.map((e) => `${e.name}=${e.id}`).join(', ')}`);
  for (const e of unmentioned) {
    if (e.mentioned !== 'no' || !e.unmentionedNote) fail(`${e.key} (${e.name}) has no highlight and is not shown as not mentioned in the text`);
    if (seen.text.includes(e.name)) fail(`${e.key} (${e.name}) is named in the text but not highlighted`);
  }
  for (const e of entities.filter((x) => !unmarked.has(x.key))) {
    if (e.mentioned !== 'yes' || e.unmentionedNote) fail(`${e.key} (${e.name}) is highlighted but shown as not mentioned`);
  }
  // An entity the text does not name is shown through its relations' quotes.
  const unnamedEnd = unmentioned.find((e) => relations.some((r) => r.source === e.id || r.target === e.id));
  if (unnamedEnd) {
    await page.click(`.item[data-key="${unnamedEnd.key}"] .name`);
    const shown = await page.evaluate(() => [...document.querySelectorAll('#text-view mark.hl-selected')].map((m) => m.dataset.items));
    if (!shown.length) fail(`selecting ${unnamedEnd.id}, not named in the text, highlights none of its relations' quotes`);
  }
  // Existing entities are links to the explorer; the clearest: 浙江大学.
  for (const e of existing) if (e.link !== `/?entity=${e.id}`) fail(`the existing ${e.id} links to ${e.link}`);
  if (!existing.some((e) => e.id === 'zhejiang-university')) fail('浙江大学 is not proposed as the existing zhejiang-university');
  for (const e of entities) {
    if (e.duplicateOf && e.status === 'new' && !(await page.locator(`.item[data-key="${e.key}"] .badge.duplicate`).count())) {
      fail(`${e.id} (duplicate of ${e.duplicateOf}) is not flagged`);
    }
  }
  // The clearest case: the institute named after 浙江大学 is new and co-built by zhejiang-university.
  const institute = fresh.find((e) => e.name && e.name.includes('浙江大学宁波研究院'));
  const coBuilt = institute && relations.find((r) => r.kind === 'CO_BUILT_BY' && r.source === institute.id && r.target === 'zhejiang-university');
  if (!institute) fail('浙江大学宁波研究院 is not proposed as a new entity');
  else if (institute.kind !== 'RESEARCH_INSTITUTE') fail(`浙江大学宁波研究院 is proposed as a ${institute.kind}`);
  if (institute && !coBuilt) fail(`no CO_BUILT_BY from ${institute.id} to zhejiang-university`);
  if (!institute || !coBuilt) throw new Error('the fixture\'s clearest case is missing; the rest of the test needs it');

  // Click a proposal: its quote is selected and flashes in the text. Click a highlight: its proposal is selected.
  await page.click(`.item[data-key="${coBuilt.key}"] blockquote`);
  const flashed = await page.evaluate((key) => [...document.querySelectorAll('#text-view mark.flash.hl-selected')]
    .some((m) => m.dataset.items.split(' ').includes(key)), coBuilt.key);
  if (!flashed) fail('clicking the CO_BUILT_BY proposal does not flash its quote');
  // A highlight may stand for several proposals (an entity's name, the quote of a relation implied by
  // that name, a longer sentence around it): the first click selects the narrowest, each further click
  // the next, round and round. Reach each relation through the text, the CO_BUILT_BY one included (its
  // quote is the institute's name, which starts with 浙江大学's).
  const marksOfKey = (key) => page.evaluate((key) => [...document.querySelectorAll('#text-view mark.hl')]
    .map((m, index) => ({ index, items: m.dataset.items.split(' ') })).filter((m) => m.items.includes(key)), key);
  const selectedKey = () => page.evaluate(() => document.querySelector('#proposals .item.selected')?.dataset.key);
  await page.click('#text-pane h2'); // clicking outside the highlights changes nothing
  for (const relation of [coBuilt, ...relations.filter((r) => r.key !== coBuilt.key)]) {
    const marks = await marksOfKey(relation.key);
    if (!marks.length) { fail(`no highlight of ${relation.key} to click`); continue; }
    // The piece shared with the most other proposals is the hardest to reach.
    const mark = marks.reduce((a, b) => (b.items.length > a.items.length ? b : a));
    const reached = [];
    for (let n = 0; n < mark.items.length + 1; n++) {
      await page.locator('#text-view mark.hl').nth(mark.index).click();
      reached.push(await selectedKey());
    }
    if (!reached.includes(relation.key)) fail(`clicking the highlight «${mark.items.join(' ')}» never selects ${relation.key} (${reached.join(' ')})`);
    if (new Set(reached).size !== mark.items.length || !mark.items.every((k) => reached.includes(k))) {
      fail(`repeated clicks on the highlight of ${mark.items.join(' ')} select ${reached.join(' ')}`);
    }
    if (reached[mark.items.length] !== reached[0]) fail(`repeated clicks on ${mark.items.join(' ')} do not come round again: ${reached.join(' ')}`);
  }
  const shared = await marksOfKey(coBuilt.key);
  if (!shared.some((m) => m.items.length > 1)) console.log(`  note: the CO_BUILT_BY quote shares no highlight (${JSON.stringify(shared)})`);

  // Accept everything, then reject one new entity (not the institute), preferably one a relation uses.
  await page.click('#accept-all');
  const candidates = fresh.filter((e) => e.key !== institute.key && !e.duplicateOf);
  const rejected = candidates.find((e) => relations.some((r) => r.source === e.id || r.target === e.id)) || candidates[0];
  if (!rejected) fail('only one new entity proposed: nothing else to reject');
  else await page.click(`.item[data-key="${rejected.key}"] button[data-act="reject"]`);
  const rejectedRelations = rejected ? relations.filter((r) => r.source === rejected.id || r.target === rejected.id) : [];

  // Rename the institute: its relations follow the new id.
  const newId = 'zju-ningbo-institute-e2e';
  await page.click(`.item[data-key="${institute.key}"] button[data-act="edit"]`);
  await page.fill(`.item[data-key="${institute.key}"] input[data-field="id"]`, newId);
  await page.press(`.item[data-key="${institute.key}"] input[data-field="id"]`, 'Enter');
  await page.click(`.item[data-key="${institute.key}"] button[data-act="edit"]`);
  const followed = await page.getAttribute(`.item[data-key="${coBuilt.key}"]`, 'data-source');
  if (followed !== newId) fail(`the CO_BUILT_BY relation's source is ${followed} after renaming the institute`);

  // A broken edit: the institute LOCATED_IN a university; the validator's error comes back next to it.
  await page.click(`.item[data-key="${coBuilt.key}"] button[data-act="edit"]`);
  await page.selectOption(`.item[data-key="${coBuilt.key}"] select[data-field="kind"]`, 'LOCATED_IN');
  await page.click('#add-accepted');
  await page.waitForSelector('#result.failure', { timeout: 15_000 });
  await page.waitForFunction(() => window.busy === 0);
  const brokenErrors = await page.locator(`.item[data-key="${coBuilt.key}"] ul.errors li`).allTextContents();
  console.log(`broken edit (LOCATED_IN a university): errors next to it: ${JSON.stringify(brokenErrors)}`);
  if (!brokenErrors.some((m) => m.includes('LOCATED_IN'))) fail('the validator\'s error is not shown next to the broken relation');
  for (const r of rejectedRelations) {
    const note = await page.locator(`.item[data-key="${r.key}"] .note`).textContent().catch(() => '');
    if (!note) fail(`the relation ${r.key} of the rejected ${rejected.id} has no note saying it is left out`);
  }
  const stray = await graphql('query($id: ID!) { entity(id: $id) { id } }', { id: newId }, { lookup: true });
  if (stray.entity) fail('the refused batch wrote the renamed institute');

  // Fix it and add the accepted ones. Should other proposals be refused, reject them as a curator would.
  await page.selectOption(`.item[data-key="${coBuilt.key}"] select[data-field="kind"]`, 'CO_BUILT_BY');
  await page.click(`.item[data-key="${coBuilt.key}"] button[data-act="edit"]`);
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.click('#add-accepted');
    await page.waitForSelector('#result.success, #result.failure', { timeout: 15_000 });
    await page.waitForFunction(() => window.busy === 0);
    if (await page.locator('#result.success').count()) break;
    const refused = await page.evaluate(() => [...document.querySelectorAll('.item.has-errors')]
      .map((el) => ({ key: el.dataset.key, errors: [...el.querySelectorAll('ul.errors li')].map((li) => li.textContent) })));
    console.log(`attempt ${attempt + 1} refused: ${JSON.stringify(refused)}; ${await page.textContent('#result')}`);
    if (refused.some((r) => [institute.key, coBuilt.key].includes(r.key)) || !refused.length) break;
    for (const r of refused) await page.click(`.item[data-key="${r.key}"] button[data-act="reject"]`);
  }
  const summary = (await page.textContent('#result .summary').catch(() => '')) || '';
  const created = await page.locator('#result a[data-created]').evaluateAll((as) => as.map((a) => a.dataset.created));
  console.log(`summary: «${summary}»; created entities: ${created.join(', ')}`);
  const counts = summary.match(/imported 1 documents, (\d+) entities, (\d+) relations/);
  if (!counts) fail(`no success summary (result: «${(await page.textContent('#result')).trim()}»)`);
  else if (Number(counts[1]) !== created.length) fail(`the summary counts ${counts[1]} entities, the page lists ${created.length}`);
  if (!created.includes(newId)) fail(`${newId} is not listed as created`);

  // Through GraphQL: the accepted (renamed) institute exists and is co-built by 浙江大学; the rejected one does not.
  const check = await graphql(`query($id: ID!, $rejected: ID!) {
      entity(id: $id) { id name kind relations { kind source { id } target { id } } }
      rejected: entity(id: $rejected) { id } }`, { id: newId, rejected: rejected ? rejected.id : 'none' }, { lookup: true });
  console.log(`GraphQL: ${newId} → ${JSON.stringify(check.entity && { name: check.entity.name, kind: check.entity.kind })}; rejected ${rejected?.id} → ${JSON.stringify(check.rejected)}`);
  if (!check.entity) fail(`the accepted ${newId} is not in the graph`);
  else if (!check.entity.relations.some((r) => r.kind === 'CO_BUILT_BY' && r.target.id === 'zhejiang-university')) fail(`${newId} is not CO_BUILT_BY zhejiang-university`);
  if (rejected && check.rejected) fail(`the rejected ${rejected.id} was created`);
  // A second round: the curator changes their mind about the rejected entity and adds it too, with the
  // relations left out before; the document is not sent again, the items added before stay locked.
  if (rejected && counts) {
    await page.click(`.item[data-key="${rejected.key}"] button[data-act="accept"]`);
    await page.click('#add-accepted');
    await page.waitForFunction((before) => document.querySelector('#result .summary')?.textContent !== before, summary, { timeout: 15_000 })
      .catch(() => {});
    await page.waitForFunction(() => window.busy === 0);
    const second = (await page.textContent('#result')).trim().replace(/\s+/g, ' ');
    console.log(`second round: «${second.slice(0, 200)}»`);
    if (!/imported 0 documents, 1 entities, \d+ relations/.test(second)) fail('the second round did not add the entity rejected before');
    const again = await graphql('query($id: ID!) { entity(id: $id) { id relations { kind } } }', { id: rejected.id });
    if (!again.entity) fail(`${rejected.id} is not in the graph after the second round`);
    const expected = await page.locator(rejectedRelations.map((r) => `.item.added[data-key="${r.key}"]`).join(', ') || 'none').count();
    if (again.entity && again.entity.relations.length < expected) fail(`${rejected.id} has ${again.entity.relations.length} relations, expected ${expected}`);
    if (await page.locator(`.item[data-key="${institute.key}"] button[data-act]`).count()) fail('an added item can still be changed');
  }
  const stored = await page.evaluate(() => sessionStorage.getItem('innograph.review.token'));
  if (stored !== token) fail('the token is not kept in sessionStorage');

  await page.evaluate((key) => document.querySelector(`.item[data-key="${key}"]`)?.scrollIntoView({ block: 'center' }), coBuilt.key);
  await page.click(`.item[data-key="${coBuilt.key}"] blockquote`);
  await page.waitForTimeout(400);
  await page.screenshot({ path: screenshot });
  console.log(`screenshot: ${screenshot}`);
  if (problems.length) fail(`page problems: ${problems.join('; ')}`);
} catch (error) {
  fail(error.stack || error);
  const page = browser.contexts()[0]?.pages()[0];
  if (page) await page.screenshot({ path: screenshot }).catch(() => {});
} finally {
  await browser.close();
  server.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(`${failed ? 0 : 1} passed, ${failed ? 1 : 0} failed`);
process.exit(failed ? 1 : 0);
