// The innograph explorer: search, expand and collapse neighbourhoods, read the evidence of every tie,
// find paths, filter by kind, switch the policy layer on and off, export the view. Talks to this server's /graphql and /api/subgraph.
'use strict';

cytoscape.use(cytoscapeFcose);

const KINDS = {
  UNIVERSITY: { color: '#2f80ed', zh: '高校', en: 'University' },
  RESEARCH_INSTITUTE: { color: '#9b51e0', zh: '研究院/创新中心', en: 'Research institute' },
  LAB: { color: '#eb5757', zh: '实验室', en: 'Lab' },
  ENTERPRISE: { color: '#f2994a', zh: '企业', en: 'Enterprise' },
  GOVERNMENT: { color: '#4f4f4f', zh: '政府机构', en: 'Government' },
  DISTRICT: { color: '#27ae60', zh: '行政区', en: 'District' },
  PLATFORM: { color: '#00a3a3', zh: '平台', en: 'Platform' },
  FACILITY: { color: '#b8860b', zh: '大科学装置', en: 'Facility' },
  ALLIANCE: { color: '#d63384', zh: '联盟/联合体', en: 'Alliance' },
  // The policy layer (issue 12): muted colours, so that the ecosystem stays in front when both are shown.
  PROGRAM: { color: '#8d99ae', zh: '计划/项目', en: 'Programme' },
  POLICY: { color: '#b5a08a', zh: '政策', en: 'Policy' },
};
// Which kinds belong to the policy layer; the server also sends `layer` on every node.
const POLICY_LAYER_KINDS = new Set(['PROGRAM', 'POLICY']);
const RELATIONS = {
  CO_BUILT_BY: { color: '#2f80ed', zh: '共建', en: 'co-built by' },
  LOCATED_IN: { color: '#27ae60', zh: '位于', en: 'located in' },
  LEADS: { color: '#4f4f4f', zh: '牵头', en: 'leads' },
  PART_OF: { color: '#9b51e0', zh: '属于', en: 'part of' },
  RELIES_ON: { color: '#eb5757', zh: '依托', en: 'relies on' },
  COOPERATES_WITH: { color: '#f2994a', zh: '合作', en: 'cooperates with' },
  ORGANIZES: { color: '#00a3a3', zh: '主办', en: 'organizes' },
  MEMBER_OF: { color: '#d63384', zh: '成员', en: 'member of' },
  SUPPORTS: { color: '#b8860b', zh: '支持', en: 'supports' },
  PARTICIPATES_IN: { color: '#8d99ae', zh: '参与', en: 'participates in' },
  RESPONSIBLE_FOR: { color: '#6b7a8f', zh: '责任单位', en: 'responsible for' },
  ISSUED_BY: { color: '#a0826d', zh: '发布机关', en: 'issued by' },
  APPLIES_TO: { color: '#7fa37a', zh: '适用地区', en: 'applies to' },
};
// How an evidence item supports its relation; STATED (the quote says it) needs no note.
const BASES = {
  NAME: { zh: '名称推断', en: 'implied by name' },
  REFERENCE: { zh: '参考表', en: 'reference table' },
  REGION: { zh: '所属地区', en: 'reporting region' },
};
const TEXT = {
  zh: {
    subtitle: '创新生态知识图谱', searchPlaceholder: '搜索机构、地区、平台… (中文 / English / 简称)', pathMode: '路径',
    fit: '适应', clear: '清空', entityKinds: '实体类型', relationKinds: '关系类型',
    hint: '点击节点展开/收起；点击连线查看证据。', panelHint: '搜索一个实体开始，例如 浙江大学。',
    names: '名称', aliases: '简称', kind: '类型', description: '简介', established: '成立', legalForm: '性质',
    area: '面积', focus: '领域', code: '区划代码', relations: '关系', evidence: '证据', year: '年份',
    pathStart: '路径模式：点击起点', pathEnd: '再点击终点', noPath: '6 步之内没有路径', pathFound: '最短路径',
    expand: '展开', collapse: '收起', loading: '加载中…', nothing: '没有结果',
    layers: '图层', policyLayer: '政策层', policyLayerHidden: (n) => `政策层（隐藏 ${n} 个）`,
    layer: '图层', ECOSYSTEM: '生态层', POLICY: '政策层', basis: '依据', inferred: '推断',
    inferredTitle: '没有原文直接陈述，由名称、参考表或所属地区推断',
    dashedLegend: '虚线：推断的关系（原文未直接陈述）', policyShown: '已显示政策层',
  },
  en: {
    subtitle: 'innovation ecosystem knowledge graph', searchPlaceholder: 'Search organisations, places, platforms… (Chinese, English, abbreviations)',
    pathMode: 'Path', fit: 'Fit', clear: 'Clear', entityKinds: 'Entity kinds', relationKinds: 'Relation kinds',
    hint: 'Click a node to expand or collapse it; click a link to read its evidence.',
    panelHint: 'Search for an entity to start, e.g. Zhejiang University.',
    names: 'Names', aliases: 'Aliases', kind: 'Kind', description: 'Description', established: 'Established',
    legalForm: 'Legal form', area: 'Area', focus: 'Focus', code: 'Division code', relations: 'Relations',
    evidence: 'Evidence', year: 'Year', pathStart: 'Path mode: click the start', pathEnd: 'now click the end',
    noPath: 'no path within 6 hops', pathFound: 'Shortest path', expand: 'expand', collapse: 'collapse',
    loading: 'loading…', nothing: 'nothing found',
    layers: 'Layers', policyLayer: 'Policy layer', policyLayerHidden: (n) => `Policy layer (${n} hidden)`,
    layer: 'Layer', ECOSYSTEM: 'Ecosystem', POLICY: 'Policy', basis: 'Basis', inferred: 'inferred',
    inferredTitle: 'no quote states it: implied by a name, a reference table or the reporting region',
    dashedLegend: 'Dashed: inferred relation (no quote states it)', policyShown: 'policy layer shown',
  },
};

const state = {
  lang: 'zh',
  expanded: new Set(),
  hiddenEntityKinds: new Set(),
  hiddenRelationKinds: new Set(),
  showPolicyLayer: false, // the policy layer is off by default (issue 12)
  pathMode: false,
  pathStart: null,
  documents: null,
};

const t = (key) => TEXT[state.lang][key] || key;
const $ = (id) => document.getElementById(id);

const cy = cytoscape({
  container: $('canvas'),
  wheelSensitivity: 0.3,
  style: [
    {
      selector: 'node',
      style: {
        label: 'data(display)', 'font-size': 11, 'text-valign': 'bottom', 'text-margin-y': 4,
        'text-wrap': 'ellipsis', 'text-max-width': 140, width: 22, height: 22,
        'background-color': (n) => (KINDS[n.data('kind')] || {}).color || '#999',
        'border-width': 0, color: '#1f2933', 'text-outline-color': '#fff', 'text-outline-width': 2,
      },
    },
    { selector: 'node[layer = "POLICY"]', style: { shape: 'round-rectangle', width: 20, height: 16 } },
    { selector: 'node.expanded', style: { 'border-width': 3, 'border-color': '#1f2933' } },
    { selector: 'node:selected', style: { 'border-width': 4, 'border-color': '#f2c94c' } },
    { selector: ':parent', style: { 'background-opacity': 0.08, 'text-valign': 'top', shape: 'round-rectangle' } },
    {
      selector: 'edge',
      style: {
        width: 2, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'arrow-scale': 0.9,
        'line-color': (e) => (RELATIONS[e.data('kind')] || {}).color || '#bbb',
        'target-arrow-color': (e) => (RELATIONS[e.data('kind')] || {}).color || '#bbb',
        label: 'data(display)', 'font-size': 9, color: '#52606d', 'text-rotation': 'autorotate',
        'text-background-color': '#fff', 'text-background-opacity': 0.8, 'text-background-padding': 1,
      },
    },
    // Undirected; no longer dashed, since dashes now mean "inferred".
    { selector: 'edge.COOPERATES_WITH', style: { 'target-arrow-shape': 'none' } },
    { selector: 'edge[?inferred]', style: { 'line-style': 'dashed', 'line-dash-pattern': [6, 4] } },
    { selector: 'edge:selected', style: { width: 4, 'line-color': '#f2c94c', 'target-arrow-color': '#f2c94c' } },
    { selector: '.path', style: { 'border-width': 4, 'border-color': '#f2c94c', width: 5, 'line-color': '#f2c94c', 'target-arrow-color': '#f2c94c' } },
    { selector: '.filtered', style: { display: 'none' } },
  ],
});
window.cy = cy; // for tests and for the curious in the console
requestAnimationFrame(() => cy.resize());

async function graphql(query, variables) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(body.errors.map((e) => e.message).join('; '));
  return body.data;
}

function status(message) {
  const el = $('status');
  el.textContent = message;
  el.classList.toggle('visible', Boolean(message));
  if (message) setTimeout(() => { if (el.textContent === message) status(''); }, 3000);
}

function labelOf(data) {
  return state.lang === 'zh' ? data.label : (data.labelEn || data.label);
}

function relationLabel(kind) {
  const r = RELATIONS[kind];
  return r ? r[state.lang] : kind;
}

function decorate(element) {
  if (element.isNode()) element.data('display', labelOf(element.data()));
  else element.data('display', relationLabel(element.data('kind')));
}

function isPolicyLayer(node) {
  const layer = node.data('layer');
  return layer ? layer === 'POLICY' : POLICY_LAYER_KINDS.has(node.data('kind'));
}

// Nodes the policy-layer switch hides right now (a node on a found path stays visible).
function hiddenByLayer(node) {
  return !state.showPolicyLayer && isPolicyLayer(node) && !node.hasClass('path');
}

function applyFilters() {
  cy.batch(() => {
    cy.nodes().forEach((n) => {
      n.toggleClass('layer-hidden', hiddenByLayer(n));
      n.toggleClass('filtered', state.hiddenEntityKinds.has(n.data('kind')) || hiddenByLayer(n));
    });
    cy.edges().forEach((e) => e.toggleClass('filtered', state.hiddenRelationKinds.has(e.data('kind'))));
  });
  renderLayerToggle();
}

// The switch's label says how many nodes on the canvas it hides at this moment.
function renderLayerToggle() {
  const hidden = cy.nodes('.layer-hidden').length;
  $('policy-layer').checked = state.showPolicyLayer;
  $('policy-layer-text').textContent = hidden ? t('policyLayerHidden')(hidden) : t('policyLayer');
  $('policy-layer-toggle').classList.toggle('hiding', hidden > 0);
}

function setPolicyLayer(on) {
  state.showPolicyLayer = on;
  applyFilters();
}

// Adds Cytoscape elements ({nodes, edges}) that are not on the canvas yet; returns the new ones.
function addElements(elements) {
  const added = cy.collection();
  for (const group of ['nodes', 'edges']) {
    const fresh = [];
    for (const element of elements[group] || []) {
      if (cy.getElementById(element.data.id).nonempty()) continue;
      if (group === 'edges' && (cy.getElementById(element.data.source).empty() || cy.getElementById(element.data.target).empty())) continue;
      const { parent, ...data } = element.data;
      fresh.push({ group, data, classes: element.classes });
    }
    // Nodes go in first so that the edges between them find their ends.
    added.merge(cy.add(fresh));
  }
  added.forEach(decorate);
  applyFilters();
  return added;
}

function layout(focus) {
  cy.resize();
  const options = { name: 'fcose', animate: true, animationDuration: 400, randomize: false, nodeRepulsion: 6000, idealEdgeLength: 90, fit: true, padding: 40 };
  const run = cy.layout(options);
  const done = new Promise((resolve) => run.one('layoutstop', resolve));
  run.run();
  return done.then(() => { if (focus) cy.getElementById(focus).select(); });
}

// Places new nodes on a circle around `center` so that the incremental layout starts untangled.
function placeAround(center, nodes) {
  const origin = center.nonempty() ? center.position() : { x: 0, y: 0 };
  const fresh = nodes.filter((n) => n.id() !== center.id());
  const radius = 80 + 12 * fresh.length;
  fresh.forEach((node, i) => {
    const angle = (2 * Math.PI * i) / Math.max(fresh.length, 1);
    node.position({ x: origin.x + radius * Math.cos(angle), y: origin.y + radius * Math.sin(angle) });
  });
}

async function expand(id) {
  status(t('loading'));
  const response = await fetch(`/api/subgraph?ids=${encodeURIComponent(id)}&depth=1&limit=200&format=cytoscape`);
  const body = await response.json();
  if (!response.ok) { status(body.error ? body.error.message : response.statusText); return; }
  const added = addElements(body);
  placeAround(cy.getElementById(id), added.nodes());
  cy.getElementById(id).addClass('expanded');
  state.expanded.add(id);
  await layout(id);
  status(body.truncated ? body.reason : '');
}

function collapse(id) {
  const node = cy.getElementById(id);
  node.removeClass('expanded');
  state.expanded.delete(id);
  // Remove neighbours that nothing else expanded keeps on the canvas.
  node.neighborhood('node').forEach((other) => {
    if (state.expanded.has(other.id())) return;
    const keptBy = other.neighborhood('node').filter((n) => n.id() !== id && state.expanded.has(n.id()));
    if (keptBy.empty()) other.remove();
  });
  renderLayerToggle();
}

// `window.busy` counts UI work in flight (fetches, layouts, animations); tests wait for it to be 0.
window.busy = 0;
async function track(work) {
  window.busy += 1;
  try { return await work(); } finally { window.busy -= 1; }
}

async function show(id) {
  return track(async () => {
    if (cy.getElementById(id).empty()) await expand(id);
    cy.elements().unselect();
    const node = cy.getElementById(id);
    // Asked for by name: a policy-layer entity cannot stay hidden, so switch its layer on.
    if (hiddenByLayer(node)) { setPolicyLayer(true); status(t('policyShown')); }
    node.select();
    await cy.animation({ fit: { eles: node.closedNeighborhood(), padding: 50 }, duration: 300 }).play().promise();
    await showEntity(id);
  });
}

// ------------------------------------------------------------------ side panel

function escape(text) {
  return String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

// Panel requests race (a slow answer can arrive after a newer click): only the latest one may write.
let panelRequest = 0;

async function showEntity(id) {
  const request = ++panelRequest;
  const data = await graphql(`query($id: ID!) { entity(id: $id) {
      id kind layer name nameEn aliases description established legalForm area focus districtCode districtLevel
      relations { id kind year inferred source { id name nameEn } target { id name nameEn } } } }`, { id });
  const e = data.entity;
  if (!e || request !== panelRequest) return;
  const kind = KINDS[e.kind] || {};
  const rows = [
    [t('kind'), kind[state.lang] || e.kind],
    [t('layer'), e.layer ? t(e.layer) : ''],
    [t('aliases'), e.aliases.join('、')],
    [t('description'), e.description],
    [t('established'), e.established],
    [t('legalForm'), e.legalForm],
    [t('area'), e.area],
    [t('focus'), e.focus.join('、')],
    [t('code'), e.districtCode],
  ].filter(([, v]) => v);
  const relations = e.relations.map((r) => {
    const outgoing = r.source.id === e.id;
    const other = outgoing ? r.target : r.source;
    const name = state.lang === 'zh' ? other.name : (other.nameEn || other.name);
    const arrow = outgoing ? '→' : '←';
    return `<li>${arrow} <span title="${escape(r.kind)}">${escape(relationLabel(r.kind))}</span>
      <a data-entity="${escape(other.id)}">${escape(name)}</a>${r.year ? ` (${r.year})` : ''}
      · <a data-relation="${escape(r.id)}">${t('evidence')}</a>${inferredTag(r)}</li>`;
  }).join('');
  $('panel').innerHTML = `
    <h3>${escape(e.name)}</h3><div class="en">${escape(e.nameEn || '')}</div>
    <dl>${rows.map(([k, v]) => `<dt>${escape(k)}</dt><dd>${escape(v)}</dd>`).join('')}</dl>
    <h2>${t('relations')} (${e.relations.length})</h2><ul>${relations}</ul>`;
  $('panel').scrollTop = 0;
}

function inferredTag(relation) {
  return relation.inferred ? ` <span class="inferred" title="${escape(t('inferredTitle'))}">${t('inferred')}</span>` : '';
}

// A reference-table row arrives tab-separated; show its fields apart.
function quoteText(evidence) {
  return evidence.basis === 'REFERENCE' ? evidence.quote.split('\t').filter(Boolean).join(' · ') : evidence.quote;
}

function basisNote(evidence) {
  const basis = BASES[evidence.basis];
  return basis ? `<div class="basis" data-basis="${escape(evidence.basis)}">${t('basis')}：${escape(basis[state.lang])}</div>` : '';
}

async function showRelation(id) {
  const request = ++panelRequest;
  const data = await graphql(`query($id: ID!) { relation(id: $id) {
      id kind year inferred source { id name nameEn } target { id name nameEn }
      evidence { quote basis document { id title titleEn date publisher } } } }`, { id });
  const r = data.relation;
  if (!r || request !== panelRequest) return;
  const name = (x) => (state.lang === 'zh' ? x.name : (x.nameEn || x.name));
  const evidence = r.evidence.map((ev) => `${basisNote(ev)}
    <blockquote class="evidence${ev.basis && ev.basis !== 'STATED' ? ' inferred-evidence' : ''}">${escape(quoteText(ev))}</blockquote>
    <div class="source">${escape(state.lang === 'zh' ? ev.document.title : (ev.document.titleEn || ev.document.title))}
      · ${escape(ev.document.publisher || '')} · ${escape(ev.document.date || '')}</div>`).join('');
  $('panel').innerHTML = `
    <h3><a data-entity="${escape(r.source.id)}">${escape(name(r.source))}</a></h3>
    <div class="en">${escape(relationLabel(r.kind))} (${escape(r.kind)}) →
      <a data-entity="${escape(r.target.id)}">${escape(name(r.target))}</a>${r.year ? ` · ${t('year')} ${r.year}` : ''}${inferredTag(r)}</div>
    <h2>${t('evidence')}</h2>${evidence}`;
  $('panel').scrollTop = 0;
}

$('panel').addEventListener('click', (event) => {
  const entity = event.target.closest('[data-entity]');
  const relation = event.target.closest('[data-relation]');
  if (entity) show(entity.dataset.entity);
  else if (relation) showRelation(relation.dataset.relation);
});

// ------------------------------------------------------------------ search

let searchTimer = null;
let suggestionIndex = -1;

async function suggest(text) {
  const list = $('suggestions');
  if (!text.trim()) { list.hidden = true; return; }
  const data = await graphql('query($text: String!) { search(text: $text, first: 12) { id name nameEn kind } }', { text });
  if ($('search').value !== text) return;
  suggestionIndex = -1;
  list.innerHTML = data.search.length
    ? data.search.map((e) => `<li role="option" data-id="${escape(e.id)}">
        <span class="kind" style="background:${(KINDS[e.kind] || {}).color}">${escape((KINDS[e.kind] || {})[state.lang] || e.kind)}</span>
        <span>${escape(e.name)}</span><span class="en">${escape(e.nameEn || '')}</span></li>`).join('')
    : `<li class="hint">${t('nothing')}</li>`;
  list.hidden = false;
}

$('search').addEventListener('input', (event) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => suggest(event.target.value).catch((e) => status(e.message)), 150);
});
$('search').addEventListener('keydown', (event) => {
  const items = [...$('suggestions').querySelectorAll('li[data-id]')];
  if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    event.preventDefault();
    suggestionIndex = (suggestionIndex + (event.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length;
    items.forEach((li, i) => li.classList.toggle('active', i === suggestionIndex));
  } else if (event.key === 'Enter' && items.length) {
    pick(items[Math.max(suggestionIndex, 0)].dataset.id);
  } else if (event.key === 'Escape') {
    $('suggestions').hidden = true;
  }
});
$('suggestions').addEventListener('click', (event) => {
  const li = event.target.closest('li[data-id]');
  if (li) pick(li.dataset.id);
});

function pick(id) {
  $('suggestions').hidden = true;
  if (state.pathMode) { choosePathEnd(id); return; }
  show(id).catch((e) => status(e.message));
}

// ------------------------------------------------------------------ canvas interaction

cy.on('tap', 'node', (event) => track(async () => {
  const id = event.target.id();
  if (state.pathMode) { await choosePathEnd(id); return; }
  if (state.expanded.has(id)) collapse(id);
  else await expand(id);
  await showEntity(id);
}).catch((e) => status(e.message)));
cy.on('tap', 'edge', (event) => track(() => showRelation(event.target.id())).catch((e) => status(e.message)));

// ------------------------------------------------------------------ path mode

$('path-mode').addEventListener('click', () => {
  state.pathMode = !state.pathMode;
  state.pathStart = null;
  $('path-mode').classList.toggle('active', state.pathMode);
  cy.elements().removeClass('path');
  applyFilters();
  if (state.pathMode) status(t('pathStart'));
});

async function choosePathEnd(id) {
  if (!state.pathStart) {
    state.pathStart = id;
    if (cy.getElementById(id).empty()) await expand(id);
    status(t('pathEnd'));
    return;
  }
  const data = await graphql(`query($from: ID!, $to: ID!) { shortestPath(from: $from, to: $to, maxDepth: 6) {
      length entities { id kind layer name nameEn } relations { id kind inferred source { id } target { id } } } }`,
  { from: state.pathStart, to: id });
  state.pathStart = null;
  state.pathMode = false;
  $('path-mode').classList.remove('active');
  const path = data.shortestPath;
  if (!path) { status(t('noPath')); return; }
  addElements({
    nodes: path.entities.map((e) => ({ data: { id: e.id, label: e.name, labelEn: e.nameEn, kind: e.kind, layer: e.layer }, classes: e.kind })),
    edges: path.relations.map((r) => ({ data: { id: r.id, source: r.source.id, target: r.target.id, kind: r.kind, label: r.kind, inferred: r.inferred }, classes: r.kind })),
  });
  cy.elements().removeClass('path');
  path.entities.forEach((e) => cy.getElementById(e.id).addClass('path'));
  path.relations.forEach((r) => cy.getElementById(r.id).addClass('path'));
  applyFilters(); // a path through the policy layer stays visible while the layer is off
  await layout();
  status(`${t('pathFound')}: ${path.length}`);
  $('panel').innerHTML = `<h2>${t('pathFound')} (${path.length})</h2><ol>${path.entities
    .map((e) => `<li><a data-entity="${escape(e.id)}">${escape(state.lang === 'zh' ? e.name : (e.nameEn || e.name))}</a></li>`)
    .join('')}</ol>`;
}

// ------------------------------------------------------------------ filters, legend, language, export

function renderFilters() {
  $('entity-kinds').innerHTML = Object.entries(KINDS).map(([kind, k]) => `<label>
      <input type="checkbox" data-entity-kind="${kind}" ${state.hiddenEntityKinds.has(kind) ? '' : 'checked'}>
      <span class="swatch" style="background:${k.color}"></span>${k[state.lang]}</label>`).join('');
  $('relation-kinds').innerHTML = Object.entries(RELATIONS).map(([kind, r]) => `<label>
      <input type="checkbox" data-relation-kind="${kind}" ${state.hiddenRelationKinds.has(kind) ? '' : 'checked'}>
      <span class="line-swatch" style="background:${r.color}"></span>${r[state.lang]}</label>`).join('');
}

$('filters').addEventListener('change', (event) => {
  if (event.target.id === 'policy-layer') {
    setPolicyLayer(event.target.checked);
    // Shown nodes need places among the others; hidden ones leave room.
    track(() => layout()).catch((e) => status(e.message));
    return;
  }
  const { entityKind, relationKind } = event.target.dataset;
  if (!entityKind && !relationKind) return;
  const set = entityKind ? state.hiddenEntityKinds : state.hiddenRelationKinds;
  const kind = entityKind || relationKind;
  if (event.target.checked) set.delete(kind); else set.add(kind);
  applyFilters();
});

function renderLanguage() {
  document.documentElement.lang = state.lang === 'zh' ? 'zh-Hans' : 'en';
  document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  $('language').textContent = state.lang === 'zh' ? 'EN' : '中文';
  cy.elements().forEach(decorate);
  renderFilters();
  renderLayerToggle();
}

$('language').addEventListener('click', () => {
  state.lang = state.lang === 'zh' ? 'en' : 'zh';
  renderLanguage();
  const selected = cy.$(':selected');
  if (selected.nonempty()) (selected.isNode() ? showEntity(selected.id()) : showRelation(selected.id()));
});

function download(name, url) {
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
}

$('export-png').addEventListener('click', () => download('innograph.png', cy.png({ full: true, scale: 2, bg: '#ffffff' })));
$('export-json').addEventListener('click', () => {
  const blob = new Blob([JSON.stringify(cy.json(), null, 2)], { type: 'application/json' });
  download('innograph.json', URL.createObjectURL(blob));
});
$('fit').addEventListener('click', () => { cy.resize(); cy.fit(undefined, 40); });
window.addEventListener('resize', () => cy.resize());
$('clear').addEventListener('click', () => { cy.elements().remove(); state.expanded.clear(); renderLayerToggle(); });

renderLanguage();
const start = new URLSearchParams(window.location.search).get('entity');
if (start) show(start).catch((e) => status(e.message));
