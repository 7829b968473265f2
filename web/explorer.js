/*
 * The queryd explorer: reads /openapi.json, lists its resources and named
 * queries, and shows their rows. Every view lives in the URL hash
 * ("#/users?order=age.desc"), whose query string is the API's own.
 * Text from the server is only ever set as textContent, never parsed as HTML.
 */
'use strict';

const OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'in', 'is'];
const RESERVED = ['select', 'order', 'limit', 'after', 'offset', 'count'];
const STORE_KIND = 'queryd.credential-kind';
const STORE_VALUE = 'queryd.credential';

const state = { doc: null, entries: [], pending: 0, seq: 0, loads: 0, reload: null, loadedWith: '' };

function $(selector) {
  return document.querySelector(selector);
}

/* An element with attributes (a value of true sets an empty attribute) and children. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

/* ------------------------------------------------------------ requests */

function credentialHeaders() {
  const kind = $('#credential-kind').value;
  const value = $('#credential').value.trim();
  if (value === '') return {};
  return kind === 'api-key' ? { 'X-API-Key': value } : { Authorization: 'Bearer ' + value };
}

function setBusy(delta) {
  state.pending += delta;
  $('#status').textContent = state.pending > 0 ? 'loading' : '';
}

/* Fetches url; resolves to the Response, or throws a problem-shaped object. */
async function request(url, accept) {
  setBusy(1);
  try {
    const headers = Object.assign({ Accept: accept || 'application/json' }, credentialHeaders());
    const resp = await fetch(url, { headers, cache: 'no-store', credentials: 'omit' });
    if (!resp.ok) throw await problemOf(resp);
    return resp;
  } catch (err) {
    if (err && err.isProblem) throw err;
    throw { isProblem: true, status: 0, title: 'Request failed', detail: String(err) };
  } finally {
    setBusy(-1);
  }
}

async function problemOf(resp) {
  const problem = { isProblem: true, status: resp.status, title: resp.statusText, detail: '' };
  try {
    const body = await resp.json();
    if (body && typeof body === 'object') {
      if (typeof body.title === 'string') problem.title = body.title;
      if (typeof body.detail === 'string') problem.detail = body.detail;
    }
  } catch (ignored) {
    problem.detail = 'the answer was not a problem document';
  }
  return problem;
}

function showProblem(problem) {
  const box = $('#problem');
  box.querySelector('.status').textContent = problem.status ? String(problem.status) : '';
  box.querySelector('.title').textContent = problem.title || 'Error';
  box.querySelector('.detail').textContent = problem.detail || '';
  box.hidden = false;
}

function hideProblem() {
  $('#problem').hidden = true;
}

/* ------------------------------------------------------------ the OpenAPI document */

function deref(node) {
  let seen = 0;
  while (node && typeof node.$ref === 'string' && node.$ref.startsWith('#/') && seen++ < 32) {
    node = node.$ref.slice(2).split('/').reduce(
      (at, part) => (at ? at[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined),
      state.doc);
  }
  return node || {};
}

function parametersOf(item) {
  const byName = new Map();
  for (const p of [...(item.parameters || []), ...((item.get || {}).parameters || [])]) {
    const param = deref(p);
    byName.set(param.in + ' ' + param.name, param);
  }
  return [...byName.values()];
}

/* The row schema of an entry: its 200 JSON answer's data items. */
function rowSchema(item) {
  const ok = deref(((item.get || {}).responses || {})['200']);
  const json = ((ok.content || {})['application/json'] || {}).schema;
  const page = deref(json);
  const data = deref((page.properties || {}).data);
  if (data.type !== 'array') return null;
  const items = deref(data.items);
  /* A collection's items are its rows or, with aggregates, its groups: rows first. */
  return Array.isArray(items.anyOf) ? deref(items.anyOf[0]) : items;
}

/* An operation that serves something: not one the document lists only to say
 * the path refuses the method (405). */
function usable(op) {
  return !!op && Object.keys(op.responses || {}).some((status) => status !== '405');
}

/* Entries: paths whose GET answers {data: [rows]}; a resource's has "after". */
function readEntries(doc) {
  const entries = [];
  for (const [path, item] of Object.entries(doc.paths || {})) {
    if (!usable(item.get)) continue;
    const row = rowSchema(item);
    if (!row) continue;
    const params = parametersOf(item);
    const kind = params.some((p) => p.in === 'query' && p.name === 'after') ? 'resource' : 'query';
    entries.push({ path, kind, item, params, row, columns: Object.keys(row.properties || {}) });
  }
  return entries;
}

/* (Re)reads the document as the current credential may see it; the list
 * is replaced only once the new one is in. */
async function loadEntries() {
  const load = ++state.loads;
  let doc;
  try {
    doc = await (await request('/openapi.json')).json();
  } catch (problem) {
    if (load !== state.loads) return;
    state.doc = null;
    state.entries = [];
    $('#entries').replaceChildren();
    $('#view').replaceChildren();
    showProblem(problem);
    return;
  }
  if (load !== state.loads) return;
  state.doc = doc;
  state.entries = readEntries(doc);
  $('#entries').replaceChildren(...state.entries.map((entry) =>
    el('a', { href: '#' + entry.path, 'data-entry': entry.path, 'data-kind': entry.kind }, entry.path)));
  route();
}

/* ------------------------------------------------------------ the hash */

function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch (ignored) {
    return text;
  }
}

/* The hash's path (as written, still encoded) and its query string (null: none). */
function parseHash() {
  const hash = location.hash.slice(1);
  const q = hash.indexOf('?');
  return q < 0 ? { path: hash, query: null } : { path: hash.slice(0, q), query: hash.slice(q + 1) };
}

/* A query string value: the API's punctuation (, . * ( ) :) stays readable. */
function enc(value) {
  return encodeURIComponent(value).replace(/%2C/gi, ',').replace(/%3A/gi, ':');
}

function queryString(pairs) {
  return pairs.map(([name, value]) => enc(name) + '=' + enc(value)).join('&');
}

function pairsOf(query) {
  return [...new URLSearchParams((query || '').replace(/\+/g, '%2B'))];
}

function go(path, pairs) {
  const target = '#' + path + (pairs ? '?' + queryString(pairs) : '');
  if (location.hash === target) route();
  else location.hash = target;
}

/* The path's values of the template's {name} segments, or null when it does not match. */
function matchTemplate(template, path) {
  const t = template.split('/');
  const p = path.split('/').map(safeDecode);
  if (t.length !== p.length) return null;
  const params = {};
  for (let i = 0; i < t.length; i++) {
    const m = /^\{(.+)\}$/.exec(t[i]);
    if (m) params[m[1]] = p[i] === t[i] ? '' : p[i];
    else if (t[i] !== p[i]) return null;
  }
  return params;
}

function route() {
  if (!state.doc) return;
  hideProblem();
  const { path, query } = parseHash();
  for (const a of document.querySelectorAll('#entries a')) a.classList.remove('current');
  if (path === '' || path === '/') {
    $('#view').replaceChildren(el('p', { id: 'hint' }, 'Choose a resource or a named query.'));
    return;
  }
  const resource = state.entries.find((e) => e.kind === 'resource' && e.path === safeDecode(path));
  if (resource) {
    markCurrent(resource);
    showCollection(resource, query || '');
    return;
  }
  for (const entry of state.entries) {
    const params = entry.kind === 'query' ? matchTemplate(entry.path, path) : null;
    if (params) {
      markCurrent(entry);
      showQuery(entry, path, params, query);
      return;
    }
  }
  $('#view').replaceChildren();
  showProblem({ status: 404, title: 'Not Found', detail: 'no entry at ' + safeDecode(path) });
}

function markCurrent(entry) {
  const link = [...document.querySelectorAll('#entries a')].find((a) => a.dataset.entry === entry.path);
  if (link) link.classList.add('current');
}

/* ------------------------------------------------------------ cells */

function renderCell(column, value, schema) {
  const td = el('td', { 'data-column': column });
  if (value === null || value === undefined) {
    td.setAttribute('data-null', '');
    td.textContent = 'null';
  } else if (typeof value === 'object') {
    td.append(el('pre', {}, JSON.stringify(value, null, 2)));
  } else {
    if (schema && schema.contentEncoding === 'base64') td.setAttribute('data-binary', '');
    td.textContent = String(value);
  }
  return td;
}

function renderRows(tbody, columns, rows, row) {
  const props = (row && row.properties) || {};
  tbody.replaceChildren();
  for (const data of rows) {
    const tr = el('tr');
    for (const column of columns) tr.append(renderCell(column, data[column], deref(props[column])));
    tbody.append(tr);
  }
}

/* ------------------------------------------------------------ downloads */

function fileBase(path) {
  return path.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'rows';
}

function downloadLinks(url, path) {
  const base = fileBase(path);
  const make = (id, accept, ext, label) => {
    const link = el('a', { id, href: '#', download: base + '.' + ext }, label);
    link.addEventListener('click', async (event) => {
      event.preventDefault();
      try {
        const blob = await (await request(url, accept)).blob();
        const href = URL.createObjectURL(blob);
        const save = el('a', { href, download: base + '.' + ext, hidden: true });
        document.body.append(save);
        save.click();
        save.remove();
        setTimeout(() => URL.revokeObjectURL(href), 60000);
      } catch (problem) {
        showProblem(problem);
      }
    });
    return link;
  };
  return [make('download-csv', 'text/csv', 'csv', 'CSV'),
    make('download-ndjson', 'application/x-ndjson', 'ndjson', 'NDJSON')];
}

/* ------------------------------------------------------------ collections */

function filterable(entry, column) {
  return entry.params.some((p) => p.in === 'query' && p.name === column);
}

/* "gte.30" -> ["gte", "30"]; in.(a,b) -> ["in", "a,b"]. */
function splitFilter(value) {
  const dot = value.indexOf('.');
  const op = dot < 0 ? '' : value.slice(0, dot);
  if (!OPERATORS.includes(op)) return ['eq', value];
  let operand = value.slice(dot + 1);
  if (op === 'in' && /^\(.*\)$/.test(operand)) operand = operand.slice(1, -1);
  return [op, operand];
}

function joinFilter(op, operand) {
  if (op === 'in' && !/^\(.*\)$/.test(operand)) operand = '(' + operand + ')';
  return op + '.' + operand;
}

function showCollection(entry, query) {
  const pairs = pairsOf(query);
  const get = (name) => (pairs.find(([n]) => n === name) || [])[1];
  const selected = get('select');
  const columns = selected ? selected.split(',').filter((c) => c !== '') : entry.columns;
  const order = get('order') || '';

  const headRow = el('tr');
  const filterRow = el('tr', { id: 'filters' });
  for (const column of columns) {
    const th = el('th', { 'data-column': column, title: 'sort by ' + column }, column);
    const current = order.split(',')[0];
    if (current === column || current === column + '.asc') th.className = 'asc';
    if (current === column + '.desc') th.className = 'desc';
    th.addEventListener('click', () => {
      const next = th.className === 'asc' ? column + '.desc' : column + '.asc';
      const kept = pairs.filter(([n]) => !['order', 'after', 'offset'].includes(n));
      go(entry.path, [['order', next], ...kept]);
    });
    headRow.append(th);
    filterRow.append(filterCell(entry, column, pairs));
  }
  const tbody = el('tbody');
  const table = el('table', { id: 'rows' }, el('thead', {}, headRow, filterRow), tbody);

  const boxes = entry.columns.map((column) => el('label', {},
    el('input', { type: 'checkbox', 'data-select': column, checked: columns.includes(column) }), column));
  const fieldset = el('fieldset', { id: 'columns' }, el('legend', {}, 'Columns'), ...boxes);
  const apply = el('button', { id: 'apply', type: 'button' }, 'Apply');
  apply.addEventListener('click', () => applyCollection(entry, pairs, columns));

  const nextButton = el('button', { id: 'next', type: 'button', disabled: true }, 'Next page');
  const countButton = el('button', { id: 'count', type: 'button' }, 'Count rows');
  const countValue = el('span', { id: 'count-value' });
  const url = entry.path + (query ? '?' + query : '');
  countButton.addEventListener('click', () => countRows(entry, pairs, countValue));

  const toolbar = el('div', { class: 'toolbar' }, apply, nextButton, countButton, countValue,
    ...downloadLinks(url, entry.path));
  $('#view').replaceChildren(el('h2', {}, entry.path), fieldset, toolbar, table);

  const seq = ++state.seq;
  request(url).then((resp) => resp.json()).then((body) => {
    if (seq !== state.seq) return;
    renderRows(tbody, columns, body.data || [], entry.row);
    if (typeof body.count === 'number') countValue.textContent = String(body.count);
    if (typeof body.next === 'string') {
      nextButton.disabled = false;
      nextButton.addEventListener('click', () => {
        const q = body.next.indexOf('?');
        location.hash = '#' + entry.path + (q < 0 ? '?' : body.next.slice(q));
      });
    }
  }).catch((problem) => {
    if (seq === state.seq) showProblem(problem);
  });
}

function filterCell(entry, column, pairs) {
  const th = el('th');
  if (!filterable(entry, column)) return th;
  const current = pairs.find(([n]) => n === column);
  const [op, operand] = current ? splitFilter(current[1]) : ['eq', ''];
  const select = el('select', { 'data-op-for': column, title: 'operator for ' + column });
  for (const name of OPERATORS) select.append(el('option', { value: name, selected: name === op }, name));
  const input = el('input', { 'data-filter-for': column, value: operand, placeholder: 'filter' });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') $('#apply').click();
  });
  th.append(select, input);
  return th;
}

/* Filters and columns from the controls: everything else of the query stays. */
function applyCollection(entry, pairs, shown) {
  const replaced = new Set(shown.filter((c) => filterable(entry, c)));
  const kept = pairs.filter(([n]) => !replaced.has(n) && !['select', 'after', 'offset'].includes(n));
  const filters = [];
  for (const column of replaced) {
    const input = document.querySelector(`input[data-filter-for="${CSS.escape(column)}"]`);
    const op = document.querySelector(`select[data-op-for="${CSS.escape(column)}"]`);
    if (input && op && input.value.trim() !== '') filters.push([column, joinFilter(op.value, input.value.trim())]);
  }
  const checked = [...document.querySelectorAll('#columns input[data-select]')]
    .filter((box) => box.checked).map((box) => box.dataset.select);
  const order = [...shown.filter((c) => checked.includes(c)), ...checked.filter((c) => !shown.includes(c))];
  const result = [...kept, ...filters];
  if (order.length > 0 && order.join(',') !== entry.columns.join(',')) result.push(['select', order.join(',')]);
  go(entry.path, result);
}

async function countRows(entry, pairs, output) {
  /* The count does not depend on the page: ask for the smallest one. */
  const q = pairs.filter(([n]) => !['count', 'after', 'offset', 'limit'].includes(n));
  q.push(['count', 'exact'], ['limit', '1']);
  try {
    const body = await (await request(entry.path + '?' + queryString(q))).json();
    output.textContent = String(body.count);
  } catch (problem) {
    showProblem(problem);
  }
}

/* ------------------------------------------------------------ named queries */

function typeText(param) {
  const schema = deref(param.schema);
  let type = Array.isArray(schema.type) ? schema.type.join(' | ') : schema.type || 'value';
  if (schema.format) type += ' (' + schema.format + ')';
  if (schema.enum) type += ': ' + schema.enum.join(', ');
  if (schema.minimum !== undefined || schema.maximum !== undefined)
    type += ' [' + (schema.minimum ?? '') + '..' + (schema.maximum ?? '') + ']';
  return type;
}

function showQuery(entry, path, pathValues, query) {
  const given = new Map(pairsOf(query));
  const form = el('form', { id: 'query-form' });
  for (const param of entry.params) {
    if (param.in !== 'path' && param.in !== 'query') continue;
    const schema = deref(param.schema);
    let value = param.in === 'path' ? pathValues[param.name] : given.get(param.name);
    if ((value === undefined || (value === '' && query === null)) && schema.default !== undefined) value = String(schema.default);
    const type = typeText(param);
    const input = el('input', { name: param.name, value: value || '', placeholder: type,
      title: (param.description ? param.description + ' ' : '') + '(' + type + ')',
      required: param.required === true });
    form.append(el('label', {}, el('span', {}, param.name + (param.in === 'path' ? ' (path)' : '')), input));
  }
  form.append(el('button', { id: 'run', type: 'submit' }, 'Run'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    let target = entry.path;
    const pairs = [];
    for (const param of entry.params) {
      const input = form.elements.namedItem(param.name);
      if (!input) continue;
      if (param.in === 'path') target = target.replace('{' + param.name + '}', encodeURIComponent(input.value));
      else if (input.value !== '') pairs.push([param.name, input.value]);
    }
    go(target, pairs);
  });

  const view = $('#view');
  view.replaceChildren(el('h2', {}, entry.path), form);
  if (query === null) return; /* the form alone until it is run */
  const url = path + (query ? '?' + query : '');
  const tbody = el('tbody');
  const headRow = el('tr');
  view.append(el('div', { class: 'toolbar' }, ...downloadLinks(url, entry.path)),
    el('table', { id: 'rows' }, el('thead', {}, headRow), tbody));
  const seq = ++state.seq;
  request(url).then((resp) => resp.json()).then((body) => {
    if (seq !== state.seq) return;
    const rows = body.data || [];
    const columns = entry.columns.length > 0 ? entry.columns : Object.keys(rows[0] || {});
    for (const column of columns) headRow.append(el('th', { 'data-column': column }, column));
    renderRows(tbody, columns, rows, entry.row);
  }).catch((problem) => {
    if (seq === state.seq) showProblem(problem);
  });
}

/* ------------------------------------------------------------ start */

function setupCredentials() {
  const kind = $('#credential-kind');
  const value = $('#credential');
  kind.value = sessionStorage.getItem(STORE_KIND) || 'bearer';
  value.value = sessionStorage.getItem(STORE_VALUE) || '';
  state.loadedWith = kind.value + ' ' + value.value.trim();
  /* Every request reads the fields; the entry list follows once typing pauses. */
  const changed = (delay) => {
    sessionStorage.setItem(STORE_KIND, kind.value);
    if (value.value.trim() === '') sessionStorage.removeItem(STORE_VALUE);
    else sessionStorage.setItem(STORE_VALUE, value.value.trim());
    const key = kind.value + ' ' + value.value.trim();
    if (key === state.loadedWith) return;
    if (state.reload === null) setBusy(1); /* a reload is coming: "loading" already */
    clearTimeout(state.reload);
    state.reload = setTimeout(() => {
      state.reload = null;
      setBusy(-1);
      state.loadedWith = key;
      hideProblem();
      loadEntries();
    }, delay);
  };
  kind.addEventListener('change', () => changed(0));
  value.addEventListener('input', () => changed(300));
  value.addEventListener('change', () => changed(0));
}

document.addEventListener('DOMContentLoaded', () => {
  setupCredentials();
  window.addEventListener('hashchange', route);
  loadEntries();
});
