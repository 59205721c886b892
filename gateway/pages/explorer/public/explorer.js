// The explorer's behaviour: reads dataModel and introspection from /graphql at runtime and renders the five views from them.
// Nothing about the model is written here, so the page cannot disagree with what the gateway enforces.

const ENDPOINT = '/graphql';

const DATA_MODEL_QUERY = `query ExplorerDataModel {
  dataModel {
    types { name kind description owner sourceField
      fields { name type owner description sourceField writable validation }
      values { name description sourceValue } }
    systems { system api record fields { name description mapsTo } }
  }
}`;

/** Distinct, colour-blind-friendlier hues in a fixed order; owners take them in the order the model first names them. */
const PALETTE = ['#64748b', '#e8590c', '#1c7ed6', '#ae3ec9', '#2f9e44', '#0c8599', '#c2255c', '#5f3dc4', '#d9480f', '#2b8a3e'];

/** Example operations for the console: illustrations of how to ask, not model data. */
const EXAMPLES = [
  {
    name: 'First customers, one field from each owner',
    query: `query FirstCustomers($first: Int) {
  customers(first: $first) {
    edges {
      node {
        id
        name          # crm
        email         # crm
        phone         # crm, E.164
        legalName     # erp
        creditLimit { amount currency }  # erp, read-only
        emailConsent  # marketing
        supportPlan   # support
        openTickets   # support
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}`,
    variables: { first: 5 },
  },
  { name: 'Two customers, id and name', query: '{ customers(first: 2) { edges { node { id name } } } }', variables: {} },
  {
    name: 'Customer by a native id and its source ids',
    query: `query BySourceId($system: System!, $id: ID!) {
  customerBySourceId(system: $system, id: $id) {
    id
    name
    sourceIds { crm erp marketing support }
    crmVersion
    erpVersion
  }
}`,
    variables: { system: 'ERP', id: '1000001' },
  },
  {
    name: 'Refused write: creditLimit is read-only (nothing is written)',
    query: `mutation RefusedWrite($id: ID!) {
  updateCustomer(id: $id, input: { creditLimit: { amount: "1", currency: "EUR" } }) {
    customer { id }
  }
}`,
    variables: { id: 'any' },
  },
  {
    name: 'The model itself: who owns what',
    query: `{
  dataModel {
    types { name fields { name owner writable sourceField } }
  }
}`,
    variables: {},
  },
];

// ---------------------------------------------------------------- helpers

/** Builds an element; children may be strings (always inserted as text, never as HTML), nodes, arrays or null. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'style') for (const [p, val] of Object.entries(v)) el.style.setProperty(p, val);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const $ = (sel) => document.querySelector(sel);

async function graphql(query, variables, headers) {
  const started = performance.now();
  const res = await fetch(ENDPOINT, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = { errors: [{ message: `The gateway answered ${res.status} with a body that is not JSON: ${text.slice(0, 300)}` }] };
  }
  return { status: res.status, ms: Math.round(performance.now() - started), body };
}

// ---------------------------------------------------------------- owners and colours

const colours = new Map();

function owners(dm) {
  const seen = [];
  const add = (o) => o && !seen.includes(o) && seen.push(o);
  for (const t of dm.types) {
    add(t.owner);
    for (const f of t.fields) add(f.owner);
  }
  for (const s of dm.systems) add(s.system);
  return seen;
}

const colourOf = (owner) => colours.get(owner) ?? '#868e96';

/** crm → CRM, marketing → Marketing: system names as people say them, the raw name stays in data-owner. */
const ownerLabel = (owner) => (owner.length <= 3 ? owner.toUpperCase() : owner[0].toUpperCase() + owner.slice(1));

function ownerBadge(owner) {
  return h('span', { class: 'owner', style: { '--c': colourOf(owner) }, dataset: { owner }, title: `Owned by ${ownerLabel(owner)}` }, ownerLabel(owner));
}

function renderLegend(all) {
  const legend = $('#legend');
  legend.replaceChildren(
    h('span', { class: 'label' }, 'Owners'),
    ...all.map((o) => h('span', { class: 'item', dataset: { owner: o } }, h('span', { class: 'swatch', style: { '--c': colourOf(o) } }), ownerLabel(o))),
  );
}

// ---------------------------------------------------------------- model view

const modelState = { text: '', owner: 'all' };

function fieldRow(type, f) {
  const path = `${type.name}.${f.name}`;
  return h(
    'tr',
    {
      dataset: {
        field: path,
        owner: f.owner,
        writable: String(f.writable),
        search: [path, f.type, f.description, f.sourceField, f.validation ?? ''].join('\n').toLowerCase(),
      },
    },
    h('td', { class: 'field' }, h('code', {}, f.name), h('span', { class: 'type' }, f.type)),
    h('td', { class: 'owner-cell' }, ownerBadge(f.owner)),
    h('td', { class: 'meaning' }, f.description),
    h('td', { class: 'source' }, h('code', {}, f.sourceField)),
    h('td', { class: 'writable' }, f.writable ? h('span', { class: 'badge yes', title: 'Apps may change it through updateCustomer' }, 'Writable') : h('span', { class: 'badge no', title: `Maintained in ${ownerLabel(f.owner)} only` }, 'Read-only')),
    h('td', { class: 'validation' }, f.validation ? f.validation : h('span', { class: 'none' }, '—')),
  );
}

function objectCard(t) {
  return h(
    'article',
    { class: 'card type-card', id: `type-${t.name}`, dataset: { type: t.name } },
    h('div', { class: 'card-head', style: { '--c': colourOf(t.owner) } }, h('h2', {}, t.name), h('span', { class: 'kind-tag' }, 'type'), h('span', { class: 'muted' }, 'default owner'), ownerBadge(t.owner), h('p', { class: 'desc' }, t.description)),
    h(
      'table',
      {},
      h('colgroup', {}, ...['field', 'owner', 'meaning', 'source', 'write', 'valid'].map((c) => h('col', { class: `c-${c}` }))),
      h('thead', {}, h('tr', {}, ...['Field', 'Owner', 'Meaning', 'Native source field', 'Apps may write', 'Validation'].map((c) => h('th', {}, c)))),
      h('tbody', {}, ...t.fields.map((f) => fieldRow(t, f))),
    ),
  );
}

function enumCard(t) {
  const search = [t.name, t.description, t.sourceField ?? '', ...t.values.flatMap((v) => [v.name, v.description, v.sourceValue])].join('\n').toLowerCase();
  return h(
    'article',
    { class: 'card enum-card', id: `type-${t.name}`, dataset: { type: t.name, owner: t.owner, search } },
    h('div', { class: 'card-head', style: { '--c': colourOf(t.owner) } }, h('h3', {}, t.name), h('span', { class: 'kind-tag' }, 'enum'), ownerBadge(t.owner), h('p', { class: 'desc' }, t.description, ' Native field: ', h('code', {}, t.sourceField ?? '—'))),
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Value'), h('th', {}, 'Native'), h('th', {}, 'Meaning'))),
      h('tbody', {}, ...t.values.map((v) => h('tr', {}, h('td', {}, h('code', {}, v.name)), h('td', { class: 'source' }, v.sourceValue === '' ? h('span', { class: 'none' }, '(empty)') : h('code', {}, v.sourceValue)), h('td', {}, v.description)))),
    ),
  );
}

function renderModel(dm, all) {
  const filter = $('#model-filter');
  const chip = (value, label, colour) =>
    h('button', { type: 'button', class: 'chip', 'aria-pressed': String(modelState.owner === value), dataset: { owner: value }, style: colour ? { '--c': colour } : undefined, onclick: () => setModelFilter({ owner: value }) }, colour ? h('span', { class: 'swatch', style: { '--c': colour } }) : null, label);
  filter.replaceChildren(chip('all', 'All owners'), ...all.map((o) => chip(o, ownerLabel(o), colourOf(o))));
  $('#model-types').replaceChildren(...dm.types.filter((t) => t.kind === 'object').map(objectCard));
  $('#model-enums').replaceChildren(...dm.types.filter((t) => t.kind === 'enum').map(enumCard));
  $('#model-search').addEventListener('input', (e) => setModelFilter({ text: e.target.value }));
  applyModelFilter();
}

function setModelFilter(change) {
  Object.assign(modelState, change);
  if (change.text !== undefined && $('#model-search').value !== change.text) $('#model-search').value = change.text;
  for (const b of document.querySelectorAll('#model-filter .chip')) b.setAttribute('aria-pressed', String(b.dataset.owner === modelState.owner));
  applyModelFilter();
}

/** Hides rows, then whole cards left empty; counts what remains so a filtered review never silently misses fields. */
function applyModelFilter() {
  const words = modelState.text.toLowerCase().split(/\s+/).filter(Boolean);
  const matches = (el) => (modelState.owner === 'all' || el.dataset.owner === modelState.owner) && words.every((w) => el.dataset.search.includes(w));
  let shown = 0;
  let total = 0;
  for (const card of document.querySelectorAll('#model-types .type-card')) {
    let any = false;
    for (const row of card.querySelectorAll('tbody tr')) {
      const ok = matches(row);
      row.hidden = !ok;
      any ||= ok;
      total += 1;
      shown += ok ? 1 : 0;
    }
    card.hidden = !any;
  }
  let enums = 0;
  for (const card of document.querySelectorAll('#model-enums .enum-card')) {
    card.hidden = !matches(card);
    enums += card.hidden ? 0 : 1;
  }
  $('#enum-title').hidden = enums === 0;
  $('#model-empty').hidden = shown + enums > 0;
  $('#model-count').textContent = shown === total ? `${total} fields` : `Showing ${shown} of ${total} fields`;
}

// ---------------------------------------------------------------- systems view

function renderSystems(dm) {
  const fieldOwner = new Map();
  for (const t of dm.types) for (const f of t.fields) fieldOwner.set(`${t.name}.${f.name}`, f.owner);

  const cards = dm.systems.map((s) => {
    const mapped = s.fields.filter((f) => f.mapsTo.length > 0).length;
    const fed = new Set(s.fields.flatMap((f) => f.mapsTo));
    const ownedNotFed = [...fieldOwner].filter(([path, o]) => o === s.system && !fed.has(path)).map(([path]) => path);
    return h(
      'article',
      { class: 'card system-card', id: `system-${s.system}`, dataset: { system: s.system } },
      h(
        'div',
        { class: 'card-head', style: { '--c': colourOf(s.system) } },
        ownerBadge(s.system),
        h('h2', {}, h('code', {}, s.record)),
        h('span', { class: 'muted' }, s.api),
        h('p', { class: 'desc stats' }, h('span', {}, h('b', {}, s.fields.length), ' native fields'), h('span', {}, h('b', {}, mapped), ' feed canonical fields'), h('span', {}, h('b', {}, s.fields.length - mapped), ' not exposed')),
      ),
      h(
        'table',
        {},
        h('colgroup', {}, h('col', { style: { width: '24%' } }), h('col', { style: { width: '36%' } }), h('col', {})),
        h('thead', {}, h('tr', {}, h('th', {}, 'Native field'), h('th', {}, 'Meaning'), h('th', {}, 'Canonical fields it feeds'))),
        h(
          'tbody',
          {},
          ...s.fields.map((f) =>
            h(
              'tr',
              { class: f.mapsTo.length ? 'mapped' : 'unmapped', dataset: { native: f.name, mapped: String(f.mapsTo.length > 0) } },
              h('td', { class: 'field' }, h('code', {}, f.name)),
              h('td', {}, f.description),
              h(
                'td',
                { class: 'maps-to' },
                f.mapsTo.length
                  ? h('div', { class: 'maps' }, ...f.mapsTo.map((p) => h('a', { href: `#model`, style: { '--c': colourOf(fieldOwner.get(p) ?? s.system) }, title: `Show ${p} in the model`, onclick: () => showField(p) }, p)))
                  : h('span', { class: 'not-exposed', title: 'The system holds this; canon does not serve it' }, 'not exposed'),
              ),
            ),
          ),
        ),
      ),
      h('div', { class: 'card-foot' }, ownedNotFed.length ? ['Canonical fields owned by ', ownerLabel(s.system), ' that no native field here feeds: ', ownedNotFed.join(', ')] : ['Every canonical field owned by ', ownerLabel(s.system), ' is fed by this record.']),
    );
  });
  $('#systems-list').replaceChildren(...cards);
}

function showField(path) {
  setModelFilter({ owner: 'all', text: path });
  selectTab('model');
}

// ---------------------------------------------------------------- graph view

let graphStarted = false;

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = h('script', { src });
    s.onload = resolve;
    s.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(s);
  });
}

/** Voyager's 1.6 MB bundle is fetched only when the graph is first opened; the other views never pay for it. */
async function startGraph() {
  if (graphStarted) return;
  graphStarted = true;
  const host = $('#voyager');
  const status = $('#graph-status');
  host.replaceChildren(h('div', { class: 'message' }, 'Loading the graph…'));
  try {
    document.head.append(h('link', { rel: 'stylesheet', href: '/explorer/vendor/voyager.css' }));
    await loadScript('/explorer/vendor/voyager.standalone.js');
    const { GraphQLVoyager } = window;
    const { body } = await graphql(GraphQLVoyager.voyagerIntrospectionQuery, {});
    if (!body.data?.__schema) throw new Error(body.errors?.map((e) => e.message).join('; ') || 'no introspection result');
    host.replaceChildren();
    GraphQLVoyager.renderVoyager(host, { introspection: body, displayOptions: { rootType: 'Query' }, hideVoyagerLogo: true });
    status.textContent = `${body.data.__schema.types.filter((t) => !t.name.startsWith('__')).length} types`;
  } catch (e) {
    graphStarted = false;
    host.replaceChildren(h('div', { class: 'message error' }, `The graph could not be drawn: ${e.message}. Introspection must be enabled on the gateway.`));
  }
}

// ---------------------------------------------------------------- console view

const escapeHtml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Colours JSON tokens; input is escaped first and only our own spans are added, so server text can never become markup. */
function highlightJson(value) {
  const text = escapeHtml(JSON.stringify(value, null, 2));
  return text.replace(/("(?:\\u[0-9a-fA-F]{4}|\\[^u]|[^\\"])*")(\s*:)?|\b(true|false|null)\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g, (m, str, colon, lit) => {
    if (str) return colon ? `<span class="k">${str}</span>${colon}` : `<span class="s">${str}</span>`;
    if (lit) return `<span class="b">${m}</span>`;
    return `<span class="n">${m}</span>`;
  });
}

function parseJsonField(id, what) {
  const raw = $(id).value.trim();
  if (!raw) return {};
  const value = JSON.parse(raw);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${what} must be a JSON object`);
  return value;
}

function showErrors(errors) {
  const box = $('#console-errors');
  if (!errors?.length) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.hidden = false;
  box.replaceChildren(
    h('strong', {}, errors.length === 1 ? '1 error' : `${errors.length} errors`),
    h(
      'ol',
      {},
      ...errors.map((e) => {
        const ext = e.extensions ?? {};
        const meta = [ext.code, ext.system && `system ${ext.system}`, e.path && `at ${e.path.join('.')}`, ext.traceId && `trace ${ext.traceId}`].filter(Boolean).join(' · ');
        return h('li', {}, e.message, meta ? h('div', { class: 'meta' }, meta) : null);
      }),
    ),
  );
}

async function runConsole() {
  const button = $('#console-run');
  const status = $('#console-status');
  const result = $('#console-result');
  let variables;
  let headers;
  try {
    variables = parseJsonField('#console-variables', 'Variables');
    headers = parseJsonField('#console-headers', 'Headers');
  } catch (e) {
    status.className = 'bad';
    status.textContent = 'not sent';
    showErrors([{ message: `Fix the JSON first: ${e.message}` }]);
    return;
  }
  button.disabled = true;
  status.className = '';
  status.textContent = 'running…';
  try {
    const { status: code, ms, body } = await graphql($('#console-query').value, variables, headers);
    const failed = code >= 400 || Boolean(body.errors?.length);
    status.className = failed ? 'bad' : 'ok';
    status.textContent = `HTTP ${code} · ${ms} ms${body.errors?.length ? ` · ${body.errors.length} error${body.errors.length > 1 ? 's' : ''}` : ''}`;
    showErrors(body.errors);
    result.innerHTML = highlightJson(body);
    // The errors block of the JSON gets the same red as the list above, so it stands out in long results.
    const errKey = [...result.querySelectorAll('.k')].find((k) => k.textContent === '"errors"');
    if (errKey) errKey.classList.add('err');
    result.dataset.state = failed ? 'error' : 'ok';
  } catch (e) {
    status.className = 'bad';
    status.textContent = 'request failed';
    showErrors([{ message: `Could not reach ${ENDPOINT}: ${e.message}` }]);
  } finally {
    button.disabled = false;
  }
}

function pickExample(i) {
  const ex = EXAMPLES[i];
  $('#console-query').value = ex.query;
  $('#console-variables').value = JSON.stringify(ex.variables, null, 2);
}

function setupConsole() {
  const select = $('#console-example');
  select.replaceChildren(...EXAMPLES.map((ex, i) => h('option', { value: String(i) }, ex.name)));
  select.addEventListener('change', () => pickExample(Number(select.value)));
  pickExample(0);
  $('#console-run').addEventListener('click', runConsole);
  for (const id of ['#console-query', '#console-variables', '#console-headers']) {
    $(id).addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        runConsole();
      }
      // Tab indents instead of leaving the editor, as in any code editor.
      if (e.key === 'Tab' && !e.shiftKey) {
        e.preventDefault();
        const t = e.target;
        t.setRangeText('  ', t.selectionStart, t.selectionEnd, 'end');
      }
    });
  }
}

// ---------------------------------------------------------------- export view

let previewLoaded = false;

async function loadPreview() {
  if (previewLoaded) return;
  previewLoaded = true;
  const res = await fetch('/explorer/model.md');
  $('#export-preview').textContent = res.ok ? await res.text() : `Could not load the preview: HTTP ${res.status}`;
}

// ---------------------------------------------------------------- tabs

const TABS = ['model', 'systems', 'graph', 'console', 'export'];

function selectTab(name) {
  const tab = TABS.includes(name) ? name : 'model';
  for (const b of document.querySelectorAll('.tabs [role="tab"]')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
  for (const v of document.querySelectorAll('.view')) v.hidden = v.dataset.view !== tab;
  document.body.dataset.tab = tab;
  if (location.hash !== `#${tab}`) history.replaceState(null, '', `#${tab}`);
  if (tab === 'graph') startGraph();
  if (tab === 'export') loadPreview().catch(() => undefined);
  window.scrollTo(0, 0);
}

// ---------------------------------------------------------------- start

async function main() {
  for (const b of document.querySelectorAll('.tabs [role="tab"]')) b.addEventListener('click', () => selectTab(b.dataset.tab));
  window.addEventListener('hashchange', () => selectTab(location.hash.slice(1)));
  setupConsole();
  selectTab(location.hash.slice(1));

  const endpoint = $('#endpoint');
  try {
    const { body } = await graphql(DATA_MODEL_QUERY, {});
    if (!body.data?.dataModel) throw new Error(body.errors?.map((e) => e.message).join('; ') || 'no dataModel in the answer');
    const dm = body.data.dataModel;
    const all = owners(dm);
    all.forEach((o, i) => colours.set(o, PALETTE[i % PALETTE.length]));
    renderLegend(all);
    renderModel(dm, all);
    renderSystems(dm);
    endpoint.className = 'endpoint ok';
    $('#endpoint-text').textContent = `live from ${ENDPOINT}`;
    document.body.dataset.ready = 'true';
  } catch (e) {
    endpoint.className = 'endpoint bad';
    $('#endpoint-text').textContent = `${ENDPOINT} unreachable`;
    $('#model-types').replaceChildren(h('p', { class: 'empty' }, `Could not read the model from ${ENDPOINT}: ${e.message}`));
    document.body.dataset.ready = 'error';
  }
}

main();
