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
    names: '名称', aliases: '简称', kind: '类型', description: '简介', descriptionEn: '简介（英文）', established: '成立', legalForm: '性质',
    area: '面积', focus: '领域', code: '区划代码', relations: '关系', evidence: '证据', year: '年份',
    pathStart: '路径模式：点击起点', pathEnd: '再点击终点', noPath: '6 步之内没有路径', pathFound: '最短路径',
    expand: '展开', collapse: '收起', loading: '加载中…', nothing: '没有结果',
    layers: '图层', policyLayer: '政策层', policyLayerHidden: (n) => `政策层（隐藏 ${n} 个）`,
    layer: '图层', ECOSYSTEM: '生态层', POLICY: '政策层', basis: '依据', inferred: '推断',
    inferredTitle: '没有原文直接陈述，由名称、参考表或所属地区推断',
    dashedLegend: '虚线：推断的关系（原文未直接陈述）', policyShown: '已显示政策层',
    more: (n, kind) => `+${n} 个${kind}`, moreTitle: '点击展开更多', steps: '步骤', from: '起点', to: '终点',
    forward: '正向', backward: '反向', showEvidence: '全部证据', capped: (shown, total) => `显示 ${shown} / ${total} 个邻居（点击 “+N” 节点展开更多）`,
    examples: '示例问题', defaultView: '高校共建网络：高校及其共建的研究院', loadingDefault: '加载高校共建网络…',
    exNetwork: '高校与它们共建的研究院', exZju: '浙江大学共建了哪些机构？', exPath: '天津大学如何连到绍兴市？',
    exShaoxing: '绍兴市有哪些创新平台？', toggleFilters: '筛选', togglePanel: '详情', districtLevel: '行政级别',
    linkCopied: '链接已复制',
  },
  en: {
    subtitle: 'innovation ecosystem knowledge graph', searchPlaceholder: 'Search organisations, places, platforms… (Chinese, English, abbreviations)',
    pathMode: 'Path', fit: 'Fit', clear: 'Clear', entityKinds: 'Entity kinds', relationKinds: 'Relation kinds',
    hint: 'Click a node to expand or collapse it; click a link to read its evidence.',
    panelHint: 'Search for an entity to start, e.g. Zhejiang University.',
    names: 'Names', aliases: 'Aliases', kind: 'Kind', description: 'Description', descriptionEn: 'Description', established: 'Established',
    legalForm: 'Legal form', area: 'Area', focus: 'Focus', code: 'Division code', relations: 'Relations',
    evidence: 'Evidence', year: 'Year', pathStart: 'Path mode: click the start', pathEnd: 'now click the end',
    noPath: 'no path within 6 hops', pathFound: 'Shortest path', expand: 'expand', collapse: 'collapse',
    loading: 'loading…', nothing: 'nothing found',
    layers: 'Layers', policyLayer: 'Policy layer', policyLayerHidden: (n) => `Policy layer (${n} hidden)`,
    layer: 'Layer', ECOSYSTEM: 'Ecosystem', POLICY: 'Policy', basis: 'Basis', inferred: 'inferred',
    inferredTitle: 'no quote states it: implied by a name, a reference table or the reporting region',
    dashedLegend: 'Dashed: inferred relation (no quote states it)', policyShown: 'policy layer shown',
    more: (n, kind) => `+${n} more ${kind}`, moreTitle: 'click to show more', steps: 'Steps', from: 'from', to: 'to',
    forward: 'forward', backward: 'backward', showEvidence: 'all evidence', capped: (shown, total) => `showing ${shown} of ${total} neighbours (click a “+N” node for more)`,
    examples: 'Example questions', defaultView: 'Co-building network: universities and the institutes they co-built', loadingDefault: 'loading the co-building network…',
    exNetwork: 'Universities and the institutes they co-built', exZju: 'What did Zhejiang University co-build?', exPath: 'How is Tianjin University linked to Shaoxing?',
    exShaoxing: 'Which innovation platforms are in Shaoxing?', toggleFilters: 'Filters', togglePanel: 'Details', districtLevel: 'Level',
    linkCopied: 'link copied',
  },
};

// English for the attribute values the sources give in Chinese (legal forms, levels, fields); a value
// not listed here is shown as the sources state it.
const VALUES_EN = {
  事业单位: 'public institution', 民办非企业单位: 'private non-enterprise unit', 企业: 'enterprise',
  PROVINCE: 'province', PREFECTURE_CITY: 'prefecture-level city', DISTRICT: 'district', COUNTY: 'county',
  COUNTY_CITY: 'county-level city', MUNICIPALITY: 'municipality',
  人工智能: 'artificial intelligence', 集成电路: 'integrated circuits', 半导体材料: 'semiconductor materials',
  生物医药: 'biomedicine', 地理信息: 'geographic information', 车联网: 'connected vehicles', 储能: 'energy storage',
  黄酒: 'Huangjiu (yellow wine)', 先进封装技术: 'advanced packaging', 工业控制: 'industrial control',
  细胞基因治疗: 'cell and gene therapy', 现代医药: 'modern medicine', 精细化学品: 'fine chemicals', 新材料: 'new materials',
  化工新材料: 'new chemical materials', 生命健康: 'life and health', 长三角一体化: 'Yangtze River Delta integration',
  科技人才: 'S&T talent', 科技金融: 'S&T finance', 科创服务: 'innovation services', 镁材料: 'magnesium materials',
  惯性约束聚变: 'inertial confinement fusion', 激光驱动器: 'laser drivers', 聚变能源: 'fusion energy',
  工业废水: 'industrial wastewater', 近零排放: 'near-zero emissions', 资源化利用: 'resource recovery',
  航空航天: 'aerospace', 集成电路专用设备与零部件: 'IC equipment and components', 智能物流装备: 'smart logistics equipment',
  半导体光电: 'semiconductor optoelectronics', 新能源汽车: 'new-energy vehicles', 大数据中心: 'big-data centres',
  '5G设施': '5G infrastructure', 工业互联网: 'industrial internet', 超高清视频编解码芯片: 'UHD video codec chips',
  茶产业: 'tea industry', 数字文娱: 'digital entertainment', 化合物半导体: 'compound semiconductors',
  MEMS技术: 'MEMS technology', 高端生物医药: 'high-end biomedicine', 新能源装备: 'new-energy equipment',
  空间态势感知: 'space situational awareness', 第三代半导体: 'third-generation semiconductors', 催化: 'catalysis',
  精细化工: 'fine chemical engineering', 先进材料: 'advanced materials', 动物医药: 'veterinary medicine',
  智能制造: 'smart manufacturing', 县域创新发展: 'county innovation', 智能新能源汽车: 'smart new-energy vehicles',
  航空发动机: 'aero engines', 光电子技术: 'optoelectronics', 宽禁带半导体: 'wide-bandgap semiconductors',
  网络与数据安全: 'network and data security', 网络空间安全: 'cyberspace security', 安全专用芯片: 'security chips',
  氢能: 'hydrogen energy', 太阳能: 'solar energy', 新能源: 'new energy', 数字经济: 'digital economy',
  生物工程: 'bioengineering', 空天科技: 'aerospace technology', 物联网: 'internet of things', 茶叶: 'tea',
  半导体: 'semiconductors', 现代纺织: 'modern textiles', 铜材精密制造: 'precision copper manufacturing',
};

// A value in the current language: English where known (areas by pattern), otherwise as stated.
function valueText(value) {
  if (value == null || state.lang === 'zh') return value;
  if (VALUES_EN[value]) return VALUES_EN[value];
  const area = String(value).match(/^(总建筑面积|占地面积|面积)?约?([\d.]+)(平方米|平方公里|亩)$/);
  if (area) {
    const unit = { 平方米: 'm²', 平方公里: 'km²', 亩: 'mu' }[area[3]];
    return `${area[1] === '总建筑面积' ? 'total floor area ' : ''}${area[0].includes('约') ? 'about ' : ''}${area[2]} ${unit}`;
  }
  return value;
}

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

// Labels wider than this (model pixels at the label's 11 px) take two lines; a second line still too
// long ends in an ellipsis, and the whole label shows on hover. English names are long (half of them
// over 47 characters): they get wider lines than Chinese ones.
const LABEL_WIDTH = { latin: 165, cjk: 132 };
const measureText = (() => {
  const context = document.createElement('canvas').getContext('2d');
  // Cytoscape's default family, at the weight of an expanded node's label (the widest drawn).
  context.font = '600 11px "Helvetica Neue", Helvetica, sans-serif';
  return (text) => context.measureText(text).width;
})();

// A label on at most two lines of LABEL_WIDTH, as even as they can be: broken between words, or between
// characters in Chinese text (which has no spaces), never before a closing bracket or a comma nor after
// an opening bracket.
function wrapLabel(text) {
  const width = /[\u3400-\u9fff]/.test(text || '') ? LABEL_WIDTH.cjk : LABEL_WIDTH.latin;
  if (!text || measureText(text) <= width) return text;
  let units = text.match(/[(（「“]*(?:[A-Za-z0-9'’.&\-]+|[^\s(（「“)）」”、，。：；])[)）」”、，。：；]*\s*|\s+/g) || [];
  if (units.join('') !== text) units = [...text]; // punctuation where the pattern does not expect it
  let best = null;
  for (let k = 1; k < units.length; k++) {
    const first = units.slice(0, k).join('').trimEnd();
    const second = units.slice(k).join('').trim();
    const widest = Math.max(measureText(first), measureText(second));
    if (widest <= width && (!best || widest < best.widest)) best = { first, second, widest };
  }
  if (best) return `${best.first}\n${best.second}`;
  // Longer than two lines: the first line full, the second cut.
  let first = '';
  let i = 0;
  while (i < units.length && measureText((first + units[i]).trimEnd()) <= width) first += units[i++];
  let rest = units.slice(i).join('');
  if (!first) {
    // One word longer than a line: cut it.
    const chars = [...rest];
    let j = 0;
    while (j < chars.length && measureText(first + chars[j]) <= width) first += chars[j++];
    rest = chars.slice(j).join('');
  }
  const chars = [...rest.trim()];
  while (chars.length && measureText(`${chars.join('').trimEnd()}…`) > width) chars.pop();
  return `${first.trimEnd()}\n${chars.join('').trimEnd()}…`;
}

const cy = cytoscape({
  container: $('canvas'),
  wheelSensitivity: 0.3,
  style: [
    {
      selector: 'node',
      style: {
        label: 'data(display)', 'font-size': 11, 'text-valign': 'bottom', 'text-margin-y': 4,
        // Long labels take two lines (wrapLabel breaks them, the full text shows on hover); labels hide
        // when zoomed out so far that they would be unreadable.
        'text-wrap': 'wrap', 'text-max-width': LABEL_WIDTH.latin + 40, width: 22, height: 22, 'min-zoomed-font-size': 8,
        'background-color': (n) => (KINDS[n.data('kind')] || {}).color || '#999',
        'border-width': 0, color: '#1f2933', 'text-outline-color': '#fff', 'text-outline-width': 2,
      },
    },
    { selector: 'node[layer = "POLICY"]', style: { shape: 'round-rectangle', width: 20, height: 16 } },
    // Minor nodes (leaves of a crowded view) show their label only when zoomed in.
    { selector: 'node.minor', style: { 'min-zoomed-font-size': 13 } },
    // A label moved off its default place below the node (declutterLabels): centred on the node plus
    // an offset, so that any side can be chosen.
    { selector: 'node.placed', style: { 'text-valign': 'center', 'text-halign': 'center', 'text-margin-x': 'data(lx)', 'text-margin-y': 'data(ly)' } },
    { selector: 'node.label-hidden', style: { 'text-opacity': 0 } },
    { selector: 'node.expanded', style: { 'border-width': 3, 'border-color': '#1f2933', 'min-zoomed-font-size': 0, 'font-weight': 600 } },
    {
      selector: 'node.group',
      style: {
        shape: 'round-rectangle', width: 'label', height: 18, padding: 6, 'background-color': '#fff',
        'border-width': 2, 'border-style': 'dashed', 'border-color': (n) => (KINDS[n.data('kind')] || {}).color || '#999',
        'text-valign': 'center', 'text-margin-y': 0, 'font-size': 10, color: '#334e68', 'text-outline-width': 0,
        'min-zoomed-font-size': 0, 'text-max-width': 200,
      },
    },
    { selector: 'node:selected', style: { 'border-width': 4, 'border-color': '#f2c94c', 'text-opacity': 1, 'min-zoomed-font-size': 0 } },
    { selector: ':parent', style: { 'background-opacity': 0.08, 'text-valign': 'top', shape: 'round-rectangle' } },
    {
      selector: 'edge',
      style: {
        width: 2, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'arrow-scale': 0.9,
        'line-color': (e) => (RELATIONS[e.data('kind')] || {}).color || '#bbb',
        'target-arrow-color': (e) => (RELATIONS[e.data('kind')] || {}).color || '#bbb',
        label: 'data(display)', 'font-size': 9, color: '#52606d', 'text-rotation': 'autorotate', 'min-zoomed-font-size': 10,
        'text-background-color': '#fff', 'text-background-opacity': 0.8, 'text-background-padding': 1,
      },
    },
    // Undirected; no longer dashed, since dashes now mean "inferred".
    { selector: 'edge.COOPERATES_WITH', style: { 'target-arrow-shape': 'none' } },
    { selector: 'edge[?inferred]', style: { 'line-style': 'dashed', 'line-dash-pattern': [6, 4] } },
    { selector: 'edge:selected', style: { width: 4, 'line-color': '#f2c94c', 'target-arrow-color': '#f2c94c' } },
    { selector: 'edge.quiet', style: { 'text-opacity': 0 } },
    { selector: 'edge.quiet:selected', style: { 'text-opacity': 1 } },
    { selector: 'edge.group-link', style: { 'line-style': 'dotted', 'line-color': '#bcccdc', 'target-arrow-shape': 'none', width: 1.5, label: '' } },
    // A found path: its nodes larger with a thick amber ring, its edges thick and amber, labels always on.
    {
      selector: 'node.path',
      style: {
        width: 34, height: 34, 'border-width': 5, 'border-color': '#e6a700', 'z-index': 20,
        'min-zoomed-font-size': 0, 'font-size': 12, 'font-weight': 700,
      },
    },
    {
      selector: 'edge.path',
      style: {
        width: 6, 'line-color': '#e67e22', 'target-arrow-color': '#e67e22', 'arrow-scale': 1.3, 'z-index': 20,
        'min-zoomed-font-size': 0, 'font-size': 11, color: '#8a4b08', 'text-opacity': 1,
      },
    },
    // Hovered: the full label, above everything, whatever the zoom.
    {
      selector: 'node.hover',
      style: {
        label: 'data(full)', 'text-wrap': 'wrap', 'text-max-width': 260, 'min-zoomed-font-size': 0, 'z-index': 99, 'text-opacity': 1,
        'text-valign': 'bottom', 'text-halign': 'center', 'text-margin-x': 0, 'text-margin-y': 4,
        'font-size': 12, 'text-background-color': '#fff', 'text-background-opacity': 0.95, 'text-background-padding': 2,
      },
    },
    { selector: 'edge.hover', style: { 'min-zoomed-font-size': 0, 'z-index': 99, width: 4, 'text-opacity': 1 } },
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
  if (element.hasClass('group')) {
    const kind = KINDS[element.data('kind')] || {};
    const text = t('more')(element.data('count'), kind[state.lang] || element.data('kind'));
    element.data({ display: text, full: text });
  } else if (element.isNode()) {
    element.data({ display: wrapLabel(labelOf(element.data())), full: labelOf(element.data()) });
  } else if (element.hasClass('group-link')) {
    element.data('display', '');
  } else {
    element.data('display', relationLabel(element.data('kind')));
  }
}

// Keeps every label clear of the other labels and of the other nodes: each label, the most important
// first (path, expanded, selected, then by degree), takes the first free place around its node (below,
// above, right, left, then below or above shifted sideways); a label with no free place hides (it shows
// on hover), except on a path, an expanded or a selected node, which keep theirs below. "+N" group nodes
// hold their label inside and count as nodes. Labels scale with the zoom, so where they fit depends on
// the layout only: this runs after each layout, drag, selection and change of language.
function declutterLabels() {
  const mustShow = (n) => n.hasClass('path') || n.hasClass('expanded') || n.selected();
  const rank = (n) => (n.hasClass('path') ? 4e6 : 0) + (n.hasClass('expanded') ? 2e6 : 0) + (n.selected() ? 1e6 : 0)
    + n.degree(false);
  cy.batch(() => cy.nodes().removeClass('label-hidden placed'));
  const shown = cy.nodes().filter((n) => n.style('display') !== 'none');
  const bodies = shown.map((n) => ({
    id: n.id(),
    box: n.boundingBox({ includeNodes: true, includeEdges: false, includeLabels: n.hasClass('group'), includeOverlays: false }),
  }));
  const labelled = shown.filter((n) => !n.hasClass('group') && n.data('display'))
    .sort((a, b) => rank(b) - rank(a) || a.id().localeCompare(b.id()));
  const clear = (box, id, placed) => !placed.some((p) => overlaps(box, p))
    && !bodies.some((b) => b.id !== id && overlaps(box, b.box));
  const placed = [];
  const hidden = [];
  const moved = [];
  labelled.forEach((n) => {
    const label = n.boundingBox({ includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false });
    if (!label.w) return;
    const body = n.boundingBox({ includeNodes: true, includeEdges: false, includeLabels: false, includeOverlays: false });
    const p = n.position();
    const { w, h } = label;
    const [hw, hh] = [body.w / 2, body.h / 2];
    const gap = 3;
    const below = (label.y1 + label.y2) / 2 - p.y;
    const side = Math.max(0, w / 2 - hw);
    const offsets = [
      [(label.x1 + label.x2) / 2 - p.x, below], // where Cytoscape puts it: below
      [0, -(hh + gap + h / 2)], [hw + gap + w / 2, 0], [-(hw + gap + w / 2), 0],
      [side, below], [-side, below], [side, -(hh + gap + h / 2)], [-side, -(hh + gap + h / 2)],
    ];
    const boxAt = ([dx, dy]) => ({ x1: p.x + dx - w / 2, x2: p.x + dx + w / 2, y1: p.y + dy - h / 2, y2: p.y + dy + h / 2 });
    const free = offsets.findIndex((o) => clear(boxAt(o), n.id(), placed));
    if (free === 0) placed.push(boxAt(offsets[0]));
    else if (free > 0) { placed.push(boxAt(offsets[free])); moved.push([n, offsets[free]]); }
    else if (mustShow(n)) placed.push(boxAt(offsets[0]));
    else hidden.push(n);
  });
  cy.batch(() => {
    hidden.forEach((n) => n.addClass('label-hidden'));
    moved.forEach(([n, [dx, dy]]) => { n.data({ lx: dx, ly: dy }); n.addClass('placed'); });
  });
}

function overlaps(a, b) {
  return a.x1 < b.x2 && a.x2 > b.x1 && a.y1 < b.y2 && a.y2 > b.y1;
}

// Selecting changes a node's ring and whether its label must show: place the labels again once the
// selection settles (counted in window.busy, so that tests wait for it).
let declutterPending = false;
function declutterSoon() {
  if (declutterPending) return;
  declutterPending = true;
  window.busy += 1;
  requestAnimationFrame(() => {
    declutterPending = false;
    try { declutterLabels(); } finally { window.busy -= 1; }
  });
}
cy.on('free', 'node', () => declutterLabels());
cy.on('select unselect', 'node', () => declutterSoon());

// In a crowded view, leaves (one tie on the canvas) are minor: their labels wait for the zoom.
function markMinor() {
  const crowded = cy.nodes(':visible').length > 25;
  cy.batch(() => cy.nodes().forEach((n) => {
    // a satellite: one tie, to a node with many
    const satellite = n.degree(false) <= 1 && n.neighborhood('node').some((m) => m.degree(false) > 3);
    n.toggleClass('minor', crowded && satellite && !n.hasClass('group') && !state.expanded.has(n.id()));
  }));
  // Many edges: their labels show on hover, on selection and on a path only.
  const quiet = cy.edges(':visible').length > 20;
  cy.batch(() => cy.edges().forEach((e) => e.toggleClass('quiet', quiet)));
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
  markMinor();
  syncUrl();
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

// Every edge fetched so far, by id: an edge joins the canvas as soon as both its ends are on it.
const knownEdges = new Map();
// The neighbours an expansion held back, by group node id: { hub, kind, layer, nodes: [element] }.
const heldBack = new Map();
// How many new neighbours one expansion (or one click on a "+N" group) adds, per layer.
const EXPANSION_CAP = 15;
window.EXPANSION_CAP = EXPANSION_CAP;

// Adds Cytoscape elements ({nodes, edges}) that are not on the canvas yet; returns the new ones.
function addElements(elements) {
  for (const edge of elements.edges || []) knownEdges.set(edge.data.id, edge);
  const added = cy.collection();
  const fresh = [];
  for (const element of elements.nodes || []) {
    if (cy.getElementById(element.data.id).nonempty()) continue;
    const { parent, ...data } = element.data;
    fresh.push({ group: 'nodes', data, classes: element.classes });
    releaseHeld(element.data.id);
  }
  added.merge(cy.add(fresh));
  // Nodes go in first so that the edges between them find their ends.
  const edges = [];
  for (const element of knownEdges.values()) {
    if (cy.getElementById(element.data.id).nonempty()) continue;
    if (cy.getElementById(element.data.source).empty() || cy.getElementById(element.data.target).empty()) continue;
    const { parent, ...data } = element.data;
    edges.push({ group: 'edges', data, classes: element.classes });
  }
  added.merge(cy.add(edges));
  added.forEach(decorate);
  applyFilters();
  return added;
}

// A node that joins the canvas leaves any "+N" group that held it back.
function releaseHeld(id) {
  for (const [groupId, group] of heldBack) {
    const before = group.nodes.length;
    group.nodes = group.nodes.filter((n) => n.data.id !== id);
    if (group.nodes.length !== before) updateGroup(groupId);
  }
}

function updateGroup(groupId) {
  const group = heldBack.get(groupId);
  const node = cy.getElementById(groupId);
  if (!group || !group.nodes.length) { heldBack.delete(groupId); node.remove(); return; }
  if (node.nonempty()) { node.data('count', group.nodes.length); decorate(node); }
}

function layerOf(element) {
  return element.data.layer || (POLICY_LAYER_KINDS.has(element.data.kind) ? 'POLICY' : 'ECOSYSTEM');
}

// Splits the new neighbours of `hub` into those shown now (per layer, the EXPANSION_CAP with most ties
// in the fetched neighbourhood, then by id) and those held back in one "+N" group node per kind.
function capExpansion(hub, body) {
  const ties = new Map();
  for (const e of body.edges || []) {
    ties.set(e.data.source, (ties.get(e.data.source) || 0) + 1);
    ties.set(e.data.target, (ties.get(e.data.target) || 0) + 1);
  }
  const fresh = (body.nodes || []).filter((n) => n.data.id !== hub && cy.getElementById(n.data.id).empty());
  const shown = (body.nodes || []).filter((n) => n.data.id === hub);
  const held = [];
  const byLayer = new Map();
  for (const n of fresh) byLayer.set(layerOf(n), [...(byLayer.get(layerOf(n)) || []), n]);
  for (const nodes of byLayer.values()) {
    nodes.sort((x, y) => (ties.get(y.data.id) || 0) - (ties.get(x.data.id) || 0) || x.data.id.localeCompare(y.data.id));
    shown.push(...nodes.slice(0, EXPANSION_CAP));
    held.push(...nodes.slice(EXPANSION_CAP));
  }
  return { shown, held, total: fresh.length };
}

function addGroups(hub, held) {
  const byKind = new Map();
  for (const n of held) byKind.set(n.data.kind, [...(byKind.get(n.data.kind) || []), n]);
  const groups = [];
  for (const [kind, nodes] of byKind) {
    const id = `more/${hub}/${kind}`;
    heldBack.set(id, { hub, kind, nodes });
    if (cy.getElementById(id).nonempty()) { updateGroup(id); continue; }
    groups.push({ group: 'nodes', data: { id, kind, layer: layerOf(nodes[0]), count: nodes.length, hub, isGroup: true }, classes: 'group' });
    groups.push({ group: 'edges', data: { id: `${id}/link`, source: hub, target: id, kind: 'MORE' }, classes: 'group-link' });
  }
  const added = cy.add(groups);
  added.forEach(decorate);
  applyFilters();
  return added.nodes();
}

// Lays out only `fresh` nodes: the others stay where they are (fcose's fixed-node constraint), so
// that adding nodes never reshuffles the view. Without `fresh`, lays out everything.
function layout(focus, fresh) {
  cy.resize();
  const eles = cy.elements().not('.filtered');
  const options = { name: 'fcose', animate: true, animationDuration: 400, nodeRepulsion: 9000, idealEdgeLength: 110, padding: 40 };
  if (fresh) {
    const movable = new Set(fresh.map((n) => n.id()));
    const fixed = eles.nodes().filter((n) => !movable.has(n.id()))
      .map((n) => ({ nodeId: n.id(), position: { ...n.position() } }));
    Object.assign(options, { randomize: false, fit: false, fixedNodeConstraint: fixed.length ? fixed : undefined });
  } else {
    Object.assign(options, { randomize: true, fit: true });
  }
  const run = eles.layout(options);
  const done = new Promise((resolve) => run.one('layoutstop', resolve));
  run.run();
  return done.then(async () => {
    declutterLabels();
    if (fresh) {
      const view = fresh.union(focus ? cy.getElementById(focus) : cy.collection()).filter(':visible');
      const all = cy.elements(':visible');
      // Fit everything if it still reads well, otherwise the new part.
      const target = all.nodes().length <= 60 ? all : view.closedNeighborhood();
      if (target.nonempty()) await cy.animation({ fit: { eles: target, padding: 40 }, duration: 250 }).play().promise();
    }
    if (focus) cy.getElementById(focus).select();
  });
}

// Places new nodes on a ring around `center`, on the side away from the rest of the view, so that the
// incremental layout starts untangled.
function placeAround(center, nodes) {
  const origin = center.nonempty() ? { ...center.position() } : { x: 0, y: 0 };
  const fresh = nodes.filter((n) => n.id() !== center.id());
  if (!fresh.length) return;
  const others = cy.nodes().not(fresh).not(center);
  let away = 0;
  let arc = 2 * Math.PI;
  if (others.nonempty()) {
    const box = others.boundingBox();
    const mid = { x: (box.x1 + box.x2) / 2, y: (box.y1 + box.y2) / 2 };
    if (Math.hypot(origin.x - mid.x, origin.y - mid.y) > 20) { away = Math.atan2(origin.y - mid.y, origin.x - mid.x); arc = 1.4 * Math.PI; }
  }
  const radius = 90 + 6 * fresh.length;
  fresh.forEach((node, i) => {
    const angle = away - arc / 2 + arc * (fresh.length === 1 ? 0.5 : (arc < 2 * Math.PI ? i / (fresh.length - 1) : i / fresh.length));
    node.position({ x: origin.x + radius * Math.cos(angle), y: origin.y + radius * Math.sin(angle) });
  });
}

async function expand(id) {
  status(t('loading'));
  const response = await fetch(`/api/subgraph?ids=${encodeURIComponent(id)}&depth=1&limit=200&format=cytoscape`);
  const body = await response.json();
  if (!response.ok) { status(body.error ? body.error.message : response.statusText); return; }
  const { shown, held } = capExpansion(id, body);
  const added = addElements({ nodes: shown, edges: body.edges });
  for (const n of held) releaseHeld(n.data.id);
  const groups = addGroups(id, held);
  const fresh = added.nodes().union(groups).filter((n) => n.id() !== id);
  const hub = cy.getElementById(id);
  const wasThere = hub.nonempty() && !added.contains(hub);
  const rest = cy.nodes().not(fresh).not(hub);
  if (!wasThere && rest.nonempty()) {
    // A new hub goes beside what is already drawn.
    const box = rest.boundingBox();
    hub.position({ x: box.x2 + 260, y: (box.y1 + box.y2) / 2 });
  }
  placeAround(hub, fresh);
  hub.addClass('expanded');
  state.expanded.add(id);
  markMinor();
  // Only the new neighbours move; a new hub stays where it was put, beside the rest.
  await layout(id, cy.nodes().length > fresh.length + 1 ? fresh : undefined);
  // Counted over what the layer switch lets through, so that the numbers match what is drawn.
  const through = (n) => state.showPolicyLayer || layerOf(n) !== 'POLICY';
  const shownCount = shown.filter((n) => n.data.id !== id && through(n)).length;
  const heldCount = held.filter(through).length;
  status(heldCount ? t('capped')(shownCount, shownCount + heldCount) : (body.truncated ? body.reason : ''));
}

// A click on a "+N" group node shows the next EXPANSION_CAP of the neighbours it holds.
async function expandGroup(groupId) {
  const group = heldBack.get(groupId);
  if (!group) return;
  const next = group.nodes.slice(0, EXPANSION_CAP);
  const node = cy.getElementById(groupId);
  const anchor = { ...node.position() };
  const added = addElements({ nodes: next, edges: [] }).nodes();
  added.positions(() => ({ x: anchor.x + (Math.random() - 0.5) * 60, y: anchor.y + (Math.random() - 0.5) * 60 }));
  placeAround(cy.getElementById(group.hub), added);
  markMinor();
  await layout(undefined, added);
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
  for (const [groupId, group] of heldBack) if (group.hub === id) { heldBack.delete(groupId); cy.getElementById(groupId).remove(); }
  renderLayerToggle();
  markMinor();
}

// `window.busy` counts UI work in flight (fetches, layouts, animations); tests wait for it to be 0.
window.busy = 0;
async function track(work) {
  window.busy += 1;
  try { return await work(); } finally { window.busy -= 1; }
}

async function show(id) {
  return track(async () => {
    if (!state.expanded.has(id)) await expand(id);
    state.focus = id;
    state.path = null;
    cy.elements().unselect();
    const node = cy.getElementById(id);
    // Asked for by name: a policy-layer entity cannot stay hidden, so switch its layer on.
    if (hiddenByLayer(node)) { setPolicyLayer(true); status(t('policyShown')); }
    node.select();
    await cy.animation({ fit: { eles: node.closedNeighborhood(), padding: 50 }, duration: 300 }).play().promise();
    await showEntity(id);
    syncUrl();
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
    [t('aliases'), e.aliases.join(state.lang === 'zh' ? '、' : ', ')],
    // The descriptions are written in English: in Chinese mode the row says so.
    [state.lang === 'zh' && isEnglish(e.description) ? t('descriptionEn') : t('description'), e.description],
    [t('established'), e.established],
    [t('legalForm'), valueText(e.legalForm)],
    [t('area'), valueText(e.area)],
    [t('focus'), e.focus.map(valueText).join(state.lang === 'zh' ? '、' : ', ')],
    [t('code'), e.districtCode],
    [t('districtLevel'), e.districtLevel ? (state.lang === 'zh' ? ({ PROVINCE: '省级', PREFECTURE_CITY: '地级市', DISTRICT: '市辖区', COUNTY: '县', COUNTY_CITY: '县级市', MUNICIPALITY: '直辖市' }[e.districtLevel] || e.districtLevel) : valueText(e.districtLevel)) : ''],
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
    <h3>${escape(state.lang === 'zh' ? e.name : (e.nameEn || e.name))}</h3><div class="en">${escape(state.lang === 'zh' ? (e.nameEn || '') : e.name)}</div>
    <dl>${rows.map(([k, v]) => `<dt>${escape(k)}</dt><dd${isEnglish(v) && state.lang === 'zh' ? ' lang="en"' : ''}>${escape(v)}</dd>`).join('')}</dl>
    <h2>${t('relations')} (${e.relations.length})</h2><ul>${relations}</ul>`;
  $('panel').scrollTop = 0;
}

// A document as an evidence item cites it: title, publisher (in English mode its English name, which
// the server finds when the publisher is an entity of the graph, and nothing rather than Chinese when
// it has none), date. The title stays as published when there is no English one.
function sourceLine(document) {
  const english = state.lang === 'en';
  const title = english ? (document.titleEn || document.title) : document.title;
  const publisher = english ? (document.publisherEn || (hasCjk(document.publisher) ? '' : document.publisher)) : document.publisher;
  return [
    `<span class="doc-title">${escape(title)}</span>`,
    publisher ? `<span class="doc-publisher">${escape(publisher)}</span>` : '',
    document.date ? `<span class="doc-date">${escape(document.date)}</span>` : '',
  ].filter(Boolean).join(' · ');
}

const hasCjk = (text) => /[\u3400-\u9fff\uf900-\ufaff]/.test(text || '');
// Text written in English: more Latin letters than Chinese characters (English descriptions cite
// Chinese names in brackets).
const isEnglish = (text) => {
  const latin = (String(text || '').match(/[A-Za-z]/g) || []).length;
  const chinese = (String(text || '').match(/[\u3400-\u9fff]/g) || []).length;
  return latin > 3 * chinese;
};

function inferredTag(relation) {
  return relation.inferred ? ` <span class="inferred" title="${escape(t('inferredTitle'))}">${t('inferred')}</span>` : '';
}

// A reference-table row arrives tab-separated; show its fields apart.
function quoteText(evidence) {
  return evidence.basis === 'REFERENCE' ? evidence.quote.split('\t').filter(Boolean).join(' · ') : evidence.quote;
}

function basisNote(evidence) {
  const basis = BASES[evidence.basis];
  return basis ? `<div class="basis" data-basis="${escape(evidence.basis)}">${t('basis')}${state.lang === 'zh' ? '：' : ': '}${escape(basis[state.lang])}</div>` : '';
}

async function showRelation(id) {
  const request = ++panelRequest;
  const data = await graphql(`query($id: ID!) { relation(id: $id) {
      id kind year inferred source { id name nameEn } target { id name nameEn }
      evidence { quote basis document { id title titleEn date publisher publisherEn } } } }`, { id });
  const r = data.relation;
  if (!r || request !== panelRequest) return;
  const name = (x) => (state.lang === 'zh' ? x.name : (x.nameEn || x.name));
  const evidence = r.evidence.map((ev) => `${basisNote(ev)}
    <blockquote class="evidence${ev.basis && ev.basis !== 'STATED' ? ' inferred-evidence' : ''}">${escape(quoteText(ev))}</blockquote>
    <div class="source">${sourceLine(ev.document)}</div>`).join('');
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
  if (event.target.hasClass('group')) { await expandGroup(id); return; }
  if (state.pathMode) { await choosePathEnd(id); return; }
  if (state.expanded.has(id)) collapse(id);
  else await expand(id);
  state.focus = id;
  state.path = null;
  syncUrl();
  await showEntity(id);
}).catch((e) => status(e.message)));
cy.on('tap', 'edge', (event) => {
  if (event.target.hasClass('group-link')) return;
  track(() => showRelation(event.target.id())).catch((e) => status(e.message));
});
cy.on('mouseover', 'node, edge', (event) => event.target.addClass('hover'));
cy.on('mouseout', 'node, edge', (event) => event.target.removeClass('hover'));

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
  const from = state.pathStart;
  state.pathStart = null;
  state.pathMode = false;
  $('path-mode').classList.remove('active');
  await findPath(from, id);
}

// Draws the shortest path between two entities and lists each step with its relation and evidence.
async function findPath(from, to) {
  const data = await graphql(`query($from: ID!, $to: ID!) { shortestPath(from: $from, to: $to, maxDepth: 6) {
      length entities { id kind layer name nameEn }
      relations { id kind inferred year source { id } target { id }
        evidence { quote basis document { id title titleEn date publisher publisherEn } } } } }`,
  { from, to });
  const path = data.shortestPath;
  state.path = [from, to];
  state.focus = null;
  syncUrl();
  if (!path) { status(t('noPath')); return; }
  const before = new Set(cy.nodes().map((n) => n.id()));
  const added = addElements({
    nodes: path.entities.map((e) => ({ data: { id: e.id, label: e.name, labelEn: e.nameEn, kind: e.kind, layer: e.layer }, classes: e.kind })),
    edges: path.relations.map((r) => ({ data: { id: r.id, source: r.source.id, target: r.target.id, kind: r.kind, label: r.kind, inferred: r.inferred }, classes: r.kind })),
  });
  cy.elements().removeClass('path');
  path.entities.forEach((e) => cy.getElementById(e.id).addClass('path'));
  path.relations.forEach((r) => cy.getElementById(r.id).addClass('path'));
  applyFilters(); // a path through the policy layer stays visible while the layer is off
  const fresh = added.nodes();
  // New path nodes start next to the path neighbour already drawn.
  path.entities.forEach((e, i) => {
    const node = cy.getElementById(e.id);
    if (before.has(e.id)) return;
    const near = path.entities.slice(0, i).reverse().concat(path.entities.slice(i + 1)).find((x) => before.has(x.id));
    const p = near ? cy.getElementById(near.id).position() : { x: 0, y: 0 };
    node.position({ x: p.x + 120 + 40 * i, y: p.y + 60 * ((i % 2) ? 1 : -1) });
  });
  if (before.size) await layout(undefined, fresh);
  else await layout();
  const pathEles = cy.elements('.path');
  await cy.animation({ fit: { eles: pathEles, padding: 60 }, duration: 250 }).play().promise();
  if (cy.zoom() > 1.3) { cy.zoom(1.3); cy.center(pathEles); }
  status(`${t('pathFound')}: ${path.length}`);
  renderPath(path);
}

function renderPath(path) {
  const name = (x) => (state.lang === 'zh' ? x.name : (x.nameEn || x.name));
  const entity = (e) => `<a data-entity="${escape(e.id)}" class="step-entity">${escape(name(e))}</a>
    <span class="kind-tag" style="background:${(KINDS[e.kind] || {}).color}">${escape((KINDS[e.kind] || {})[state.lang] || e.kind)}</span>`;
  const steps = path.relations.map((r, i) => {
    const forward = r.source.id === path.entities[i].id;
    const arrow = forward ? '↓' : '↑';
    const evidence = r.evidence.slice(0, 2).map((ev) => `${basisNote(ev)}
      <blockquote class="evidence${ev.basis && ev.basis !== 'STATED' ? ' inferred-evidence' : ''}">${escape(quoteText(ev))}</blockquote>
      <div class="source">${sourceLine(ev.document)}</div>`).join('');
    return `<li class="step-relation" data-step="${i}">
      <div class="relation-line"><span class="arrow">${arrow}</span>
        <b>${escape(relationLabel(r.kind))}</b> <code>${escape(r.kind)}</code>
        <span class="direction">${forward ? t('forward') : t('backward')}: ${escape(name(forward ? path.entities[i] : path.entities[i + 1]))} —${escape(relationLabel(r.kind))}→ ${escape(name(forward ? path.entities[i + 1] : path.entities[i]))}</span>${r.year ? ` · ${r.year}` : ''}${inferredTag(r)}
        · <a data-relation="${escape(r.id)}">${t('showEvidence')} (${r.evidence.length})</a></div>
      ${evidence}</li>
      <li class="step-node">${entity(path.entities[i + 1])}</li>`;
  }).join('');
  $('panel').innerHTML = `<h2>${t('pathFound')} (${path.length})</h2>
    <ol class="path-steps"><li class="step-node">${entity(path.entities[0])}</li>${steps}</ol>`;
  $('panel').scrollTop = 0;
  state.lastPath = path;
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
    // Shown nodes find places among the others, which stay where they are; hidden ones leave room.
    if (event.target.checked) {
      const shown = cy.nodes().filter((n) => isPolicyLayer(n) && !n.hasClass('filtered'));
      if (shown.nonempty() && shown.length < cy.nodes(':visible').length) track(() => layout(undefined, shown)).catch((e) => status(e.message));
    }
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
  declutterLabels();
  renderFilters();
  renderLayerToggle();
}

$('language').addEventListener('click', () => {
  state.lang = state.lang === 'zh' ? 'en' : 'zh';
  renderLanguage();
  syncUrl();
  if ($('panel').querySelector('.path-steps') && state.lastPath) { renderPath(state.lastPath); return; }
  if ($('panel').querySelector('.examples')) { renderExamples(); return; }
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
$('clear').addEventListener('click', () => {
  cy.elements().remove(); state.expanded.clear(); heldBack.clear(); state.focus = null; state.path = null;
  renderLayerToggle(); syncUrl(); renderExamples();
});

// ------------------------------------------------------------------ default view and examples

// The co-building network: universities and what they co-built (CO_BUILT_BY), without the
// universities that co-built nothing.
async function defaultView() {
  status(t('loadingDefault'));
  const data = await graphql('{ entities(kinds: [UNIVERSITY], first: 200) { edges { node { id } } } }');
  const ids = data.entities.edges.map((e) => e.node.id);
  if (!ids.length) { status(''); return; }
  const response = await fetch(`/api/subgraph?ids=${ids.map(encodeURIComponent).join(',')}&depth=1&relations=CO_BUILT_BY&limit=400&format=cytoscape`);
  const body = await response.json();
  if (!response.ok) { status(body.error ? body.error.message : response.statusText); return; }
  const tied = new Set(body.edges.flatMap((e) => [e.data.source, e.data.target]));
  addElements({ nodes: body.nodes.filter((n) => tied.has(n.data.id)), edges: body.edges });
  state.focus = null;
  state.path = null;
  markMinor();
  await layout();
  status(t('defaultView'));
  syncUrl();
}

const EXAMPLES = [
  { key: 'exNetwork', run: () => { cy.elements().remove(); state.expanded.clear(); heldBack.clear(); return defaultView(); } },
  { key: 'exZju', run: () => show('zhejiang-university') },
  { key: 'exPath', run: () => findPath('tianjin-university', 'shaoxing-city') },
  { key: 'exShaoxing', run: () => show('shaoxing-city') },
];

function renderExamples() {
  $('panel').innerHTML = `<p class="hint">${escape(t('panelHint'))}</p>
    <h2>${escape(t('examples'))}</h2>
    <ul class="examples">${EXAMPLES.map((x, i) => `<li><button type="button" data-example="${i}">${escape(t(x.key))}</button></li>`).join('')}</ul>
    <p class="hint">${escape(t('hint'))}</p>`;
}

$('panel').addEventListener('click', (event) => {
  const button = event.target.closest('[data-example]');
  if (button) track(() => EXAMPLES[Number(button.dataset.example)].run()).catch((e) => status(e.message));
});

// ------------------------------------------------------------------ the view in the URL

// ?entity=id | ?path=a,b, plus lang=en, layers=policy, hide=KIND,… (entity kinds),
// hideRelations=KIND,… (relation kinds): a link reopens the same view.
function syncUrl() {
  if (!state.ready) return;
  const params = new URLSearchParams();
  if (state.path) params.set('path', state.path.join(','));
  else if (state.focus) params.set('entity', state.focus);
  if (state.lang !== 'zh') params.set('lang', state.lang);
  if (state.showPolicyLayer) params.set('layers', 'policy');
  if (state.hiddenEntityKinds.size) params.set('hide', [...state.hiddenEntityKinds].join(','));
  if (state.hiddenRelationKinds.size) params.set('hideRelations', [...state.hiddenRelationKinds].join(','));
  const query = params.toString().replace(/%2C/g, ',');
  const url = `${window.location.pathname}${query ? `?${query}` : ''}`;
  if (url !== `${window.location.pathname}${window.location.search}`) history.replaceState(null, '', url);
}

// ------------------------------------------------------------------ collapsible side panels

function setCollapsed(which, collapsed) {
  document.body.classList.toggle(`${which}-collapsed`, collapsed);
  $(`toggle-${which}`).classList.toggle('active', !collapsed);
  $(`toggle-${which}`).setAttribute('aria-pressed', String(!collapsed));
  cy.resize();
}
$('toggle-filters').addEventListener('click', () => setCollapsed('filters', !document.body.classList.contains('filters-collapsed')));
$('toggle-panel').addEventListener('click', () => setCollapsed('panel', !document.body.classList.contains('panel-collapsed')));
// On a laptop-sized window the filters start folded away, leaving the canvas most of the width.
setCollapsed('filters', window.innerWidth < 1200);
setCollapsed('panel', false);

// ------------------------------------------------------------------ start

{
  const params = new URLSearchParams(window.location.search);
  if (params.get('lang') === 'en') state.lang = 'en';
  if (params.get('layers') === 'policy') state.showPolicyLayer = true;
  const listed = (key, known) => (params.get(key) || '').split(',').filter((k) => known[k]);
  listed('hide', KINDS).forEach((k) => state.hiddenEntityKinds.add(k));
  listed('hideRelations', RELATIONS).forEach((k) => state.hiddenRelationKinds.add(k));
  renderLanguage();
  renderExamples();
  state.ready = true;
  const path = (params.get('path') || '').split(',').filter(Boolean);
  const entity = params.get('entity');
  const start = path.length === 2 ? () => findPath(path[0], path[1]) : entity ? () => show(entity) : () => defaultView();
  track(start).catch((e) => status(e.message));
}
