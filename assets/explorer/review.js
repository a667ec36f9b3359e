// The innograph review page: paste or upload a report, `extract` its proposals, read each quote in the
// text, accept, edit or reject every proposal, and send the accepted ones as one `importBatch` with an
// editor's token. The validator's errors come back as `batch:LINE: …` and are shown next to the item
// whose line it was. Talks to this server's /graphql only.
'use strict';

const KINDS = {
  UNIVERSITY: { zh: '高校', en: 'University' },
  RESEARCH_INSTITUTE: { zh: '研究院/创新中心', en: 'Research institute' },
  LAB: { zh: '实验室', en: 'Lab' },
  ENTERPRISE: { zh: '企业', en: 'Enterprise' },
  GOVERNMENT: { zh: '政府机构', en: 'Government' },
  DISTRICT: { zh: '行政区', en: 'District' },
  PLATFORM: { zh: '平台', en: 'Platform' },
  FACILITY: { zh: '大科学装置', en: 'Facility' },
  ALLIANCE: { zh: '联盟/联合体', en: 'Alliance' },
  PROGRAM: { zh: '计划/项目', en: 'Programme' },
  POLICY: { zh: '政策', en: 'Policy' },
};
const RELATIONS = {
  CO_BUILT_BY: { zh: '共建', en: 'co-built by' },
  LOCATED_IN: { zh: '位于', en: 'located in' },
  LEADS: { zh: '牵头', en: 'leads' },
  PART_OF: { zh: '属于', en: 'part of' },
  RELIES_ON: { zh: '依托', en: 'relies on' },
  COOPERATES_WITH: { zh: '合作', en: 'cooperates with' },
  ORGANIZES: { zh: '主办', en: 'organizes' },
  MEMBER_OF: { zh: '成员', en: 'member of' },
  SUPPORTS: { zh: '支持', en: 'supports' },
  PARTICIPATES_IN: { zh: '参与', en: 'participates in' },
  RESPONSIBLE_FOR: { zh: '责任单位', en: 'responsible for' },
  ISSUED_BY: { zh: '发布机关', en: 'issued by' },
  APPLIES_TO: { zh: '适用地区', en: 'applies to' },
};
const BASES = {
  STATED: { zh: '原文陈述', en: 'stated' },
  NAME: { zh: '名称推断', en: 'implied by name' },
  REFERENCE: { zh: '参考表', en: 'reference table' },
  REGION: { zh: '所属地区', en: 'reporting region' },
};
const ELISION = '[…]';
const TOKEN_KEY = 'innograph.review.token';

const TEXT = {
  zh: {
    subtitle: '报告审阅：提取、核对、添加', token: '编辑令牌', explorer: '图谱浏览',
    docId: '文档 id', docTitle: '标题', docPublisher: '发布机构', docDate: '日期', docRegion: '所属地区',
    titlePlaceholder: '宁波市科技局2025年工作总结', publisherPlaceholder: '宁波市科技局', regionPlaceholder: '宁波市',
    upload: '上传 UTF-8 文本', pasteHint: '或把报告全文粘贴到下面', extract: '提取', editText: '修改原文',
    textPlaceholder: '粘贴报告全文…', textHeading: '原文', textHint: '高亮为各项提议的引文；点击高亮选中提议，重叠处再次点击切换到下一项',
    acceptAll: '全部接受', resetAll: '全部待定', addAccepted: '添加已接受',
    entities: '实体', relations: '关系', existing: '已有', new: '新', duplicate: '疑似重复',
    duplicateOf: (id) => `与已有实体 ${id} 同名，可能重复`, accept: '接受', reject: '拒绝', edit: '编辑', done: '完成',
    accepted: '已接受', rejected: '已拒绝', added: '已添加到图谱', pending: '待定', edited: '已修改',
    kind: '类型', name: '名称', id: 'id', source: '起点', target: '终点', relationKind: '关系类型',
    aliases: '文中名称', confidence: '置信度', rule: '规则', basis: '依据', openInExplorer: '在图谱中查看',
    counts: (a, r, p) => `已接受 ${a} · 已拒绝 ${r} · 待定 ${p}`,
    dropped: (n) => `提取时被拦下的提议（${n}）`,
    extracting: '提取中…', extracted: (e, r) => `提议 ${e} 个实体、${r} 条关系`, nothingProposed: '没有提议',
    needText: '请先粘贴或上传报告', notUtf8: (name) => `${name} 不是 UTF-8 文本；请先转换，例如 iconv -f GB18030 -t UTF-8`,
    loaded: (name, n) => `已读入 ${name}（${n} 字）`,
    needToken: '请填写编辑令牌（editor 角色）', nothingAccepted: '没有可添加的已接受项',
    sending: '添加中…', created: '已添加', createdEntities: '新实体', createdRelations: '新关系',
    failed: '导入被拒绝，未写入任何内容；请按各项旁的错误修改后重试', otherErrors: '其他错误',
    leftOutRejected: (name) => `不会添加：${name} 已被拒绝`,
    leftOutPending: (name) => `不会添加：${name} 尚未接受`,
    leftOutSummary: (n) => `${n} 条已接受的关系因端点未接受而未添加`,
    documentLine: '文档', noEnds: '—',
    notMentioned: '文中未直接出现', notMentionedRelations: '文中未直接出现；选中时高亮其关系的引文',
    nextOnClick: '再次点击切换到下一项',
  },
  en: {
    subtitle: 'report review: extract, check, add', token: 'Editor token', explorer: 'Explorer',
    docId: 'Document id', docTitle: 'Title', docPublisher: 'Publisher', docDate: 'Date', docRegion: 'Region',
    titlePlaceholder: 'Ningbo S&T Bureau 2025 work summary', publisherPlaceholder: '宁波市科技局', regionPlaceholder: '宁波市',
    upload: 'Upload a UTF-8 text', pasteHint: 'or paste the whole report below', extract: 'Extract', editText: 'Edit text',
    textPlaceholder: 'Paste the report…', textHeading: 'Text', textHint: 'highlights are the proposals\' quotes; click one to select its proposal, again to step to the next one there',
    acceptAll: 'Accept all', resetAll: 'Reset all', addAccepted: 'Add accepted',
    entities: 'Entities', relations: 'Relations', existing: 'existing', new: 'new', duplicate: 'likely duplicate',
    duplicateOf: (id) => `same name as the existing entity ${id}: likely a duplicate`, accept: 'Accept', reject: 'Reject',
    edit: 'Edit', done: 'Done', accepted: 'accepted', rejected: 'rejected', added: 'added to the graph', pending: 'pending', edited: 'edited',
    kind: 'Kind', name: 'Name', id: 'Id', source: 'Source', target: 'Target', relationKind: 'Relation kind',
    aliases: 'Names in the text', confidence: 'Confidence', rule: 'Rule', basis: 'Basis', openInExplorer: 'open in the explorer',
    counts: (a, r, p) => `${a} accepted · ${r} rejected · ${p} pending`,
    dropped: (n) => `Proposals the gate refused (${n})`,
    extracting: 'extracting…', extracted: (e, r) => `${e} entities and ${r} relations proposed`, nothingProposed: 'nothing proposed',
    needText: 'Paste or upload a report first', notUtf8: (name) => `${name} is not UTF-8 text; convert it first, e.g. iconv -f GB18030 -t UTF-8`,
    loaded: (name, n) => `read ${name} (${n} characters)`,
    needToken: 'Enter an editor token first', nothingAccepted: 'Nothing accepted to add',
    sending: 'adding…', created: 'Added', createdEntities: 'New entities', createdRelations: 'New relations',
    failed: 'The import was refused and nothing was written; fix the items marked below and try again',
    otherErrors: 'Other errors',
    leftOutRejected: (name) => `left out: ${name} is rejected`,
    leftOutPending: (name) => `left out: ${name} is not accepted`,
    leftOutSummary: (n) => `${n} accepted relations left out because an end is not accepted`,
    documentLine: 'document', noEnds: '—',
    notMentioned: 'not mentioned in the text', notMentionedRelations: 'not mentioned in the text; selecting it highlights its relations\' quotes',
    nextOnClick: 'click again for the next one',
  },
};

const state = {
  lang: 'zh',
  text: '',
  documentLine: null, // line 1 of the proposals' JSON Lines: the document with its text
  documentAdded: false, // once a batch went in, later ones cite the document without re-creating it
  entities: [], // { key, proposal, id, kind, name, aliases, status, duplicateOf, decision, edited, mentioned }
  relations: [], // { key, proposal, kind, source (entity key), target (entity key), quote, basis, decision, edited }
  dropped: [],
  selected: null,
  editing: null,
  errors: new Map(), // item key → messages from the validator
  notes: new Map(), // item key → why it was left out of the last batch
  lineOf: new Map(), // item key → its line in the last batch
};

const t = (key) => TEXT[state.lang][key] ?? key;
const $ = (id) => document.getElementById(id);
const label = (table, key) => (table[key] ? table[key][state.lang] : key);

function escape(text) {
  return String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

// `window.busy` counts requests in flight; tests wait for it to be 0.
window.busy = 0;
async function track(work) {
  window.busy += 1;
  try { return await work(); } finally { window.busy -= 1; }
}

function status(message) {
  const el = $('status');
  el.textContent = message;
  el.classList.toggle('visible', Boolean(message));
  if (message) setTimeout(() => { if (el.textContent === message) status(''); }, 3500);
}

function formError(message) {
  $('form-error').textContent = message;
  $('form-error').hidden = !message;
}

class GraphQLError extends Error {
  constructor(messages) { super(messages.join('\n')); this.messages = messages; }
}

async function graphql(query, variables, token) {
  const headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  let body;
  try { body = await response.json(); } catch { throw new GraphQLError([`${response.status} ${response.statusText}`]); }
  if (body.errors && body.errors.length) throw new GraphQLError(body.errors.map((e) => e.message));
  return body.data;
}

// ------------------------------------------------------------------ input: metadata, text, file

$('token').value = sessionStorage.getItem(TOKEN_KEY) || '';
$('token').addEventListener('input', () => {
  const token = $('token').value.trim();
  if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
});

$('file').addEventListener('change', async () => {
  const file = $('file').files[0];
  if (!file) return;
  const bytes = await file.arrayBuffer();
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes); // drops a BOM
  } catch {
    formError(t('notUtf8')(file.name));
    return;
  }
  formError('');
  $('text').value = text;
  // A file named like an id gives the document its id, unless one is typed already.
  const stem = file.name.replace(/\.[^.]*$/, '').toLowerCase();
  if (!$('doc-id').value && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(stem)) $('doc-id').value = stem;
  if (!$('doc-title').value) {
    const first = text.split('\n').map((l) => l.trim()).find(Boolean);
    if (first && first.length <= 80) $('doc-title').value = first;
  }
  status(t('loaded')(file.name, [...text].length));
});

$('report').addEventListener('submit', (event) => {
  event.preventDefault();
  formError('');
  track(extract).catch((e) => formError(e.message));
});

$('edit-text').addEventListener('click', () => {
  $('text').hidden = false;
  $('edit-text').hidden = true;
  $('text').focus();
});

async function extract() {
  const text = $('text').value;
  if (!text.trim()) { status(t('needText')); return; }
  const value = (id) => $(id).value.trim() || null;
  const document = {
    id: value('doc-id'), title: value('doc-title'), publisher: value('doc-publisher'),
    date: value('doc-date'), region: value('doc-region'),
  };
  status(t('extracting'));
  $('extract').disabled = true;
  let data;
  try {
    data = await graphql(`query($text: String!, $document: DocumentInput!) { extract(text: $text, document: $document) {
        entities { id kind name aliases status confidence rule offset duplicateOf }
        relations { kind source target quote basis confidence rule }
        dropped { what why } jsonl } }`, { text, document });
  } finally {
    $('extract').disabled = false;
  }
  load(text, data.extract);
  status(data.extract.entities.length + data.extract.relations.length
    ? t('extracted')(data.extract.entities.length, data.extract.relations.length) : t('nothingProposed'));
}

function load(text, proposals) {
  state.text = text;
  state.documentLine = JSON.parse(proposals.jsonl.split('\n')[0]);
  const keyOfId = new Map();
  state.entities = proposals.entities.map((p, i) => {
    const key = `e${i}`;
    keyOfId.set(p.id, key);
    return {
      key, proposal: p, id: p.id, kind: p.kind, name: p.name, aliases: p.aliases, status: p.status,
      duplicateOf: p.duplicateOf,
      // Existing entities are links to the graph: accepted unless the curator says the link is wrong.
      decision: p.status === 'existing' ? 'accepted' : 'pending',
      edited: false,
    };
  });
  state.relations = proposals.relations.map((p, i) => ({
    key: `r${i}`, proposal: p, kind: p.kind, quote: p.quote, basis: p.basis,
    source: keyOfId.get(p.source) ?? p.source, target: keyOfId.get(p.target) ?? p.target,
    decision: 'pending', edited: false,
  }));
  state.dropped = proposals.dropped;
  state.documentAdded = false;
  state.selected = null;
  state.editing = null;
  state.errors.clear();
  state.notes.clear();
  state.lineOf.clear();
  $('result').innerHTML = '';
  $('workspace').hidden = false;
  $('actions').hidden = false;
  $('text').hidden = true;
  $('edit-text').hidden = false;
  renderText();
  renderProposals();
}

const entityByKey = (key) => state.entities.find((e) => e.key === key);
const itemByKey = (key) => entityByKey(key) || state.relations.find((r) => r.key === key);
const entityName = (key) => { const e = entityByKey(key); return e ? e.name : key; };
const entityId = (key) => { const e = entityByKey(key); return e ? e.id : key; };

// ------------------------------------------------------------------ the text with its highlights

// Offsets from the server count Unicode characters; JavaScript strings count UTF-16 units.
function utf16Index(text, characters) {
  let index = 0;
  for (let n = 0; n < characters && index < text.length; n++) {
    const code = text.charCodeAt(index);
    index += code >= 0xd800 && code <= 0xdbff ? 2 : 1;
  }
  return index;
}

// Where a quote lies in the text, as [start, end) ranges: verbatim, or with `[…]` elisions whose parts
// occur in order on one line (the server's rule).
function quoteRanges(quote, text) {
  if (!quote) return [];
  if (!quote.includes(ELISION)) {
    const at = text.indexOf(quote);
    return at < 0 ? [] : [[at, at + quote.length]];
  }
  const parts = quote.split(ELISION).filter((p) => p.length);
  let lineStart = 0;
  for (const line of text.split('\n')) {
    const ranges = [];
    let from = 0;
    for (const part of parts) {
      const at = line.indexOf(part, from);
      if (at < 0) break;
      ranges.push([lineStart + at, lineStart + at + part.length]);
      from = at + part.length;
    }
    if (ranges.length === parts.length) return ranges;
    lineStart += line.length + 1;
  }
  return [];
}

// Where an entity is first mentioned: its offset, under its name or one of the names the text uses.
function mentionRanges(entity, text) {
  const at = utf16Index(text, entity.proposal.offset);
  const names = [entity.proposal.name, ...entity.proposal.aliases].sort((a, b) => b.length - a.length);
  const name = names.find((n) => text.startsWith(n, at));
  if (name) return [[at, at + name.length]];
  const anywhere = names.map((n) => [text.indexOf(n), n]).find(([i]) => i >= 0);
  return anywhere ? [[anywhere[0], anywhere[0] + anywhere[1].length]] : [];
}

function renderText() {
  const text = state.text;
  const covers = []; // [start, end, key, type]
  for (const e of state.entities) {
    // An entity may be proposed without being named in the text (e.g. the reporting region, as the end
    // of a REGION relation): it has no highlight of its own; its relations' quotes stand for it.
    const ranges = mentionRanges(e, text);
    e.mentioned = ranges.length > 0;
    for (const [s, end] of ranges) covers.push([s, end, e.key, 'entity']);
  }
  for (const r of state.relations) for (const [s, end] of quoteRanges(r.quote, text)) covers.push([s, end, r.key, 'relation']);
  // Cut the text where any highlight starts or ends; each piece carries the items covering it.
  const cuts = new Set([0, text.length]);
  for (const [s, e] of covers) { cuts.add(s); cuts.add(e); }
  const points = [...cuts].sort((a, b) => a - b);
  const html = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const [from, to] = [points[i], points[i + 1]];
    const piece = escape(text.slice(from, to));
    const here = covers.filter(([s, e]) => s <= from && to <= e);
    if (!here.length) { html.push(piece); continue; }
    // Narrowest first: a click picks the most specific proposal, further clicks the next ones (an
    // entity before a relation whose quote is just its name).
    here.sort((a, b) => (a[1] - a[0]) - (b[1] - b[0]) || (a[3] === b[3] ? 0 : a[3] === 'entity' ? -1 : 1));
    const types = new Set(here.map((c) => c[3]));
    const classes = ['hl', ...[...types].map((type) => `hl-${type}`)];
    html.push(`<mark class="${classes.join(' ')}" data-items="${here.map((c) => c[2]).join(' ')}">${piece}</mark>`);
  }
  $('text-view').innerHTML = html.join('');
  markDecisions();
}

// Highlights follow the decisions: a rejected proposal's quote fades unless another proposal uses it.
// Each highlight's title names the proposals it stands for, in the order clicks step through them.
function markDecisions() {
  const selected = new Set(state.selected ? marksFor(state.selected) : []);
  for (const mark of $('text-view').querySelectorAll('mark.hl')) {
    const items = mark.dataset.items.split(' ').map(itemByKey).filter(Boolean);
    mark.classList.toggle('hl-rejected', items.every((item) => item.decision === 'rejected'));
    mark.classList.toggle('hl-accepted', items.some((item) => item.decision === 'accepted'));
    mark.classList.toggle('hl-selected', selected.has(mark));
    mark.classList.toggle('hl-several', items.length > 1);
    const names = items.map(describe);
    mark.title = items.length > 1 ? `${names.map((n, i) => `${i + 1}. ${n}`).join('\n')}\n(${t('nextOnClick')})` : names.join('');
  }
}

function describe(item) {
  if (entityByKey(item.key)) return `${item.name} (${item.id})`;
  return `${entityName(item.source)} → ${label(RELATIONS, item.kind)} → ${entityName(item.target)}`;
}

function marksOf(key) {
  return [...$('text-view').querySelectorAll('mark.hl')].filter((m) => m.dataset.items.split(' ').includes(key));
}

// The highlights that show an item: its own, or for an entity the text does not name, its relations'.
function marksFor(key) {
  const own = marksOf(key);
  if (own.length || !entityByKey(key)) return own;
  const related = new Set(state.relations.filter((r) => r.source === key || r.target === key).map((r) => r.key));
  return [...$('text-view').querySelectorAll('mark.hl')].filter((m) => m.dataset.items.split(' ').some((k) => related.has(k)));
}

function flash(key) {
  const marks = marksFor(key);
  if (!marks.length) return;
  marks[0].scrollIntoView({ block: 'center', behavior: 'smooth' });
  for (const mark of marks) {
    mark.classList.remove('flash');
    void mark.offsetWidth; // restart the animation
    mark.classList.add('flash');
  }
}

function select(key, { scrollText = true, scrollList = true } = {}) {
  state.selected = key;
  for (const el of $('proposals').querySelectorAll('.item')) el.classList.toggle('selected', el.dataset.key === key);
  markDecisions();
  if (scrollText) flash(key);
  if (scrollList) {
    const el = $('proposals').querySelector(`.item[data-key="${key}"]`);
    if (el) el.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }
}

$('text-view').addEventListener('click', (event) => {
  const mark = event.target.closest('mark.hl');
  if (!mark) return;
  const keys = mark.dataset.items.split(' ');
  // Clicking the same piece again steps to the next proposal covering it.
  const at = keys.indexOf(state.selected);
  const key = keys[(at + 1) % keys.length];
  select(key, { scrollText: false });
  for (const m of marksOf(key)) { m.classList.remove('flash'); void m.offsetWidth; m.classList.add('flash'); }
});

// ------------------------------------------------------------------ the proposals

function decisionTag(item) {
  if (item.added) return `<span class="decision added">${t('added')}</span>`;
  return `<span class="decision ${item.decision}">${t(item.decision)}</span>${item.edited ? ` <span class="decision edited">${t('edited')}</span>` : ''}`;
}

function buttons(item) {
  if (item.added) return '';
  return `<div class="buttons">
    <button type="button" data-act="accept" class="${item.decision === 'accepted' ? 'on' : ''}">${t('accept')}</button>
    <button type="button" data-act="reject" class="${item.decision === 'rejected' ? 'on' : ''}">${t('reject')}</button>
    <button type="button" data-act="edit" class="${state.editing === item.key ? 'on' : ''}">${state.editing === item.key ? t('done') : t('edit')}</button>
  </div>`;
}

function messages(item) {
  const notes = state.notes.get(item.key);
  const errors = state.errors.get(item.key) || [];
  return `${notes ? `<div class="note">${escape(notes)}</div>` : ''}${errors.length
    ? `<ul class="errors">${errors.map((m) => `<li>${escape(m)}</li>`).join('')}</ul>` : ''}`;
}

function options(table, selected) {
  return Object.keys(table).map((k) => `<option value="${k}"${k === selected ? ' selected' : ''}>${escape(label(table, k))} · ${k}</option>`).join('');
}

function entityCard(e) {
  const existing = e.status === 'existing';
  const idHtml = existing
    ? `<a class="entity-link" href="/?entity=${encodeURIComponent(e.id)}" target="_blank" rel="noopener" title="${escape(t('openInExplorer'))}">${escape(e.id)}</a>`
    : `<code class="proposed-id">${escape(e.id)}</code>`;
  const aliases = e.aliases && e.aliases.length ? `<div class="small">${t('aliases')}：${e.aliases.map(escape).join('、')}</div>` : '';
  const duplicate = !existing && e.duplicateOf
    ? `<div class="duplicate">⚠ ${escape(t('duplicateOf')(e.duplicateOf))} · <a href="/?entity=${encodeURIComponent(e.duplicateOf)}" target="_blank" rel="noopener">${escape(e.duplicateOf)}</a></div>` : '';
  const editor = state.editing === e.key ? `<div class="editor">
      ${existing ? '' : `<label>${t('kind')} <select data-field="kind">${options(KINDS, e.kind)}</select></label>
      <label>${t('name')} <input data-field="name" value="${escape(e.name)}"></label>`}
      <label>${t('id')} <input data-field="id" value="${escape(e.id)}" spellcheck="false"></label>
    </div>` : '';
  const hasRelations = state.relations.some((r) => r.source === e.key || r.target === e.key);
  const unmentioned = e.mentioned === false
    ? `<div class="not-mentioned">${escape(t(hasRelations ? 'notMentionedRelations' : 'notMentioned'))}</div>` : '';
  return `<li class="item entity ${e.decision}${e.added ? ' added' : ''}${e.edited ? ' edited' : ''}${state.errors.has(e.key) ? ' has-errors' : ''}"
      data-key="${e.key}" data-type="entity" data-id="${escape(e.id)}" data-kind="${e.kind}" data-status="${e.status}"
      data-mentioned="${e.mentioned === false ? 'no' : 'yes'}"${e.duplicateOf ? ` data-duplicate-of="${escape(e.duplicateOf)}"` : ''}>
    <div class="line1"><span class="badge ${existing ? 'existing' : (e.duplicateOf ? 'duplicate' : 'new')}">${existing ? t('existing') : (e.duplicateOf ? t('duplicate') : t('new'))}</span>
      <span class="name">${escape(e.name)}</span> ${idHtml} ${decisionTag(e)}</div>
    ${aliases}${duplicate}${unmentioned}
    <div class="small">${label(KINDS, e.kind)} · ${t('confidence')} ${e.proposal.confidence.toFixed(2)} · ${t('rule')} ${escape(e.proposal.rule)}</div>
    ${editor}${buttons(e)}${messages(e)}</li>`;
}

function relationCard(r) {
  const end = (key) => {
    const e = entityByKey(key);
    if (!e) return `<code>${escape(key)}</code>`;
    const cls = e.decision === 'rejected' ? ' class="end rejected"' : ' class="end"';
    return `<span${cls} data-end="${e.key}">${escape(e.name)}</span>`;
  };
  const endOptions = (selected) => state.entities.map((e) => `<option value="${e.key}"${e.key === selected ? ' selected' : ''}>${escape(e.name)} (${escape(e.id)})</option>`).join('');
  const editor = state.editing === r.key ? `<div class="editor">
      <label>${t('relationKind')} <select data-field="kind">${options(RELATIONS, r.kind)}</select></label>
      <label>${t('source')} <select data-field="source">${endOptions(r.source)}</select></label>
      <label>${t('target')} <select data-field="target">${endOptions(r.target)}</select></label>
    </div>` : '';
  const basis = r.basis && r.basis !== 'STATED' ? ` · ${t('basis')} ${label(BASES, r.basis)}` : '';
  return `<li class="item relation ${r.decision}${r.added ? ' added' : ''}${r.edited ? ' edited' : ''}${state.errors.has(r.key) ? ' has-errors' : ''}"
      data-key="${r.key}" data-type="relation" data-kind="${r.kind}" data-source="${escape(entityId(r.source))}" data-target="${escape(entityId(r.target))}">
    <div class="line1">${end(r.source)} <span class="rel-kind">→ ${escape(label(RELATIONS, r.kind))} <code>${r.kind}</code> →</span> ${end(r.target)} ${decisionTag(r)}</div>
    <blockquote class="quote">${escape(r.quote)}</blockquote>
    <div class="small">${t('confidence')} ${r.proposal.confidence.toFixed(2)} · ${t('rule')} ${escape(r.proposal.rule)}${basis}</div>
    ${editor}${buttons(r)}${messages(r)}</li>`;
}

function group(title, items, card, kindTable) {
  const byKind = new Map();
  for (const item of items) {
    if (!byKind.has(item.kind)) byKind.set(item.kind, []);
    byKind.get(item.kind).push(item);
  }
  const order = Object.keys(kindTable);
  const kinds = [...byKind.keys()].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  return `<section class="group"><h2>${title} (${items.length})</h2>${kinds.map((kind) => `
    <h3 data-group="${kind}">${escape(label(kindTable, kind))} <code>${kind}</code> (${byKind.get(kind).length})</h3>
    <ul class="items">${byKind.get(kind).map(card).join('')}</ul>`).join('')}</section>`;
}

function renderProposals() {
  const scroll = $('proposals-pane').scrollTop;
  $('proposals').innerHTML = group(t('entities'), state.entities, entityCard, KINDS)
    + group(t('relations'), state.relations, relationCard, RELATIONS);
  for (const el of $('proposals').querySelectorAll('.item')) el.classList.toggle('selected', el.dataset.key === state.selected);
  $('proposals-pane').scrollTop = scroll;
  const all = [...state.entities, ...state.relations];
  const count = (d) => all.filter((i) => i.decision === d).length;
  $('counts').textContent = t('counts')(count('accepted'), count('rejected'), count('pending'));
  const dropped = $('dropped');
  dropped.hidden = !state.dropped.length;
  dropped.querySelector('summary').textContent = t('dropped')(state.dropped.length);
  dropped.querySelector('ul').innerHTML = state.dropped.map((d) => `<li><b>${escape(d.what)}</b>: ${escape(d.why)}</li>`).join('');
  markDecisions();
}

$('proposals').addEventListener('click', (event) => {
  const el = event.target.closest('.item');
  if (!el) return;
  const item = itemByKey(el.dataset.key);
  const act = item.added ? null : event.target.closest('button[data-act]');
  if (event.target.closest('a, select, input')) return;
  if (!act) {
    const end = event.target.closest('[data-end]');
    select(end ? end.dataset.end : item.key);
    return;
  }
  if (act.dataset.act === 'accept') item.decision = item.decision === 'accepted' ? 'pending' : 'accepted';
  else if (act.dataset.act === 'reject') item.decision = item.decision === 'rejected' ? 'pending' : 'rejected';
  else if (act.dataset.act === 'edit') state.editing = state.editing === item.key ? null : item.key;
  state.selected = item.key;
  renderProposals();
});

// Edits apply as they are made. An entity's new id is what its relations will point to.
$('proposals').addEventListener('change', (event) => {
  const field = event.target.dataset.field;
  const el = event.target.closest('.item');
  if (!field || !el) return;
  const item = itemByKey(el.dataset.key);
  const value = event.target.value.trim();
  if (!value || item[field] === value) return;
  item[field] = value;
  item.edited = true;
  // An edited item is one the curator has looked at: accept it unless they rejected it.
  if (item.decision === 'pending') item.decision = 'accepted';
  state.errors.delete(item.key);
  renderProposals();
});

$('accept-all').addEventListener('click', () => {
  for (const item of [...state.entities, ...state.relations]) if (item.decision === 'pending' && !item.added) item.decision = 'accepted';
  renderProposals();
});
$('reset-all').addEventListener('click', () => {
  for (const item of state.entities) if (!item.added) item.decision = item.status === 'existing' ? 'accepted' : 'pending';
  for (const item of state.relations) if (!item.added) item.decision = 'pending';
  renderProposals();
});

// ------------------------------------------------------------------ add accepted: one importBatch

// The JSON Lines of the accepted items: the document first, new entities, the existing entities the
// relations use (their lines only say which entity of the graph is meant; importers skip them), then
// the relations whose both ends are accepted. Records which item each line came from.
function buildBatch() {
  const lines = [];
  const lineOf = new Map();
  const notes = new Map();
  const itemOfLine = [null];
  if (!state.documentAdded) { lines.push(state.documentLine); itemOfLine.push('document'); }
  const relations = [];
  for (const r of state.relations) {
    if (r.decision !== 'accepted' || r.added) continue;
    const ends = [r.source, r.target].map(entityByKey);
    const rejected = ends.find((e) => e && e.decision === 'rejected');
    const pending = ends.find((e) => e && e.decision !== 'accepted');
    if (rejected) { notes.set(r.key, t('leftOutRejected')(rejected.name)); continue; }
    if (pending) { notes.set(r.key, t('leftOutPending')(pending.name)); continue; }
    relations.push(r);
  }
  const used = new Set(relations.flatMap((r) => [r.source, r.target]));
  for (const e of state.entities) {
    if (e.decision !== 'accepted') continue;
    // Entities of the graph, including those an earlier batch added, only name what relations mean.
    const inGraph = e.status === 'existing' || e.added;
    if (inGraph && !used.has(e.key)) continue;
    const line = { type: 'entity', id: e.id, kind: e.kind, name: e.name };
    const aliases = (e.aliases || []).filter((a) => a !== e.name);
    if (aliases.length && !inGraph) line.aliases = aliases;
    if (inGraph) line.status = 'existing';
    lines.push(line);
    lineOf.set(e.key, lines.length);
    itemOfLine[lines.length] = e.key;
  }
  for (const r of relations) {
    lines.push({
      type: 'relation', kind: r.kind, source: entityId(r.source), target: entityId(r.target),
      evidence: [{ document: state.documentLine.id, quote: r.quote, basis: r.basis }],
    });
    lineOf.set(r.key, lines.length);
    itemOfLine[lines.length] = r.key;
  }
  return { jsonl: `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`, lineOf, itemOfLine, notes, relations, lines };
}
window.buildBatch = buildBatch; // for tests and the curious

$('add-accepted').addEventListener('click', () => track(addAccepted).catch((e) => showErrors(e, null)));

async function addAccepted() {
  const token = $('token').value.trim();
  if (!token) { status(t('needToken')); $('token').focus(); return; }
  const batch = buildBatch();
  state.notes = batch.notes;
  state.errors.clear();
  state.lineOf = batch.lineOf;
  const created = batch.lines.filter((l) => l.type === 'relation' || (l.type === 'entity' && l.status !== 'existing'));
  if (!created.length) { renderProposals(); status(t('nothingAccepted')); return; }
  status(t('sending'));
  $('add-accepted').disabled = true;
  try {
    const data = await graphql('mutation($jsonl: String!) { importBatch(jsonl: $jsonl) }', { jsonl: batch.jsonl }, token);
    showCreated(data.importBatch, batch);
    // What went in is now in the graph: locked, and left out of later batches.
    state.documentAdded = true;
    for (const [key] of batch.lineOf) { const item = itemByKey(key); if (item.status !== 'existing') item.added = true; }
    status(`${t('created')}: ${data.importBatch}`);
  } catch (error) {
    showErrors(error, batch);
  } finally {
    $('add-accepted').disabled = false;
  }
  renderProposals();
}

function showCreated(summary, batch) {
  const entities = batch.lines.filter((l) => l.type === 'entity' && l.status !== 'existing');
  const relations = batch.lines.filter((l) => l.type === 'relation');
  const name = (id) => { const e = state.entities.find((x) => x.id === id); return e ? e.name : id; };
  const left = batch.notes.size ? `<p class="note">${escape(t('leftOutSummary')(batch.notes.size))}</p>` : '';
  $('result').className = 'success';
  $('result').innerHTML = `<p><b>${t('created')}</b>: <span class="summary">${escape(summary)}</span></p>${left}
    ${entities.length ? `<h3>${t('createdEntities')} (${entities.length})</h3><ul class="created-entities">${entities.map((e) => `<li>
      <a href="/?entity=${encodeURIComponent(e.id)}" target="_blank" rel="noopener" data-created="${escape(e.id)}">${escape(e.name)}</a>
      <code>${escape(e.id)}</code> · ${escape(label(KINDS, e.kind))}</li>`).join('')}</ul>` : ''}
    ${relations.length ? `<h3>${t('createdRelations')} (${relations.length})</h3><ul class="created-relations">${relations.map((r) => `<li>
      ${escape(name(r.source))} → ${escape(label(RELATIONS, r.kind))} → ${escape(name(r.target))}</li>`).join('')}</ul>` : ''}`;
}

// The validator's messages are `batch:LINE: error: …`; each goes next to the item of that line. A
// message naming no line but an id in backticks goes to the entity with that id.
function showErrors(error, batch) {
  const messages = (error.messages || [error.message]).flatMap((m) => String(m).split('\n')).filter(Boolean);
  const other = [];
  for (const message of messages) {
    const match = message.match(/^batch:(\d+):\s*(?:error:\s*)?(.*)$/);
    let key = match && batch ? batch.itemOfLine[Number(match[1])] : null;
    if (!key && batch) {
      const ids = [...message.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]);
      const hit = state.entities.find((e) => batch.lineOf.has(e.key) && ids.includes(e.id));
      if (hit) key = hit.key;
    }
    if (key && key !== 'document') {
      if (!state.errors.has(key)) state.errors.set(key, []);
      state.errors.get(key).push(match ? match[2] : message);
    } else {
      other.push(key === 'document' ? `${t('documentLine')}: ${match[2]}` : message);
    }
  }
  $('result').className = 'failure';
  $('result').innerHTML = `${batch ? `<p><b>${escape(t('failed'))}</b></p>` : ''}${other.length
    ? `${batch ? `<h3>${t('otherErrors')}</h3>` : ''}<ul class="errors">${other.map((m) => `<li>${escape(m)}</li>`).join('')}</ul>` : ''}`;
  renderProposals();
  const first = $('proposals').querySelector('.item.has-errors');
  if (first) first.scrollIntoView({ block: 'center' });
}

// ------------------------------------------------------------------ language

function renderLanguage() {
  document.documentElement.lang = state.lang === 'zh' ? 'zh-Hans' : 'en';
  document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  $('language').textContent = state.lang === 'zh' ? 'EN' : '中文';
  if (state.documentLine) renderProposals();
}

$('language').addEventListener('click', () => {
  state.lang = state.lang === 'zh' ? 'en' : 'zh';
  renderLanguage();
});

renderLanguage();
