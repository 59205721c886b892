// The explorer's behaviour: reads dataModel and introspection from /graphql at runtime and renders the six views from them (the data-quality view is quality.js).
// Nothing about the model is written here, so the page cannot disagree with what the gateway enforces.

import { $, colourOf, ENDPOINT, h, learnOwners, mountHeader, post, setEndpoint, systemBadge, systemLabel } from './shared/page.js';
import { loadQuality } from './quality.js';

const DATA_MODEL_QUERY = `query ExplorerDataModel {
  dataModel {
    types { name kind description owner sourceField
      fields { name type owner description sourceField writable validation scope writeScope copies { system sourceField policy } }
      values { name description sourceValue } }
    systems { system api record fields { name description mapsTo } }
  }
}`;

/** Example operations for the console that name no owner or system: illustrations of how to ask. */
const FIXED_EXAMPLES = {
  twoCustomers: { name: 'Two customers, id and name', query: '{ customers(first: 2) { edges { node { id name } } } }', variables: {} },
  refusedWrite: {
    name: 'Refused write: creditLimit is read-only (nothing is written)',
    query: `mutation RefusedWrite($id: ID!) {
  updateCustomer(id: $id, input: { creditLimit: { amount: "1", currency: "EUR" } }) {
    customer { id }
  }
}`,
    variables: { id: 'any' },
  },
  model: {
    name: 'The model itself: who owns what',
    query: `{
  dataModel {
    types { name fields { name owner writable sourceField } }
  }
}`,
    variables: {},
  },
};

const baseType = (type) => type.replace(/[!\[\]]/g, '');

/** One page of customers with the first plain fields of each owner, each commented with its owner, as the model says today. */
function ownersExample(dm, owners) {
  const objects = new Set(dm.types.filter((t) => t.kind === 'object').map((t) => t.name));
  const customer = dm.types.find((t) => t.name === 'Customer');
  const lines = owners.flatMap((owner) =>
    customer.fields
      .filter((f) => f.owner === owner && !objects.has(baseType(f.type)))
      .slice(0, 2)
      .map((f) => `        ${`${f.name} `.padEnd(18)}# ${owner}${f.writable ? '' : ', read-only'}`),
  );
  return {
    name: 'First customers, one field from each owner',
    query: `query FirstCustomers($first: Int) {\n  customers(first: $first) {\n    edges {\n      node {\n${lines.join('\n')}\n      }\n    }\n    pageInfo { hasNextPage endCursor }\n  }\n}`,
    variables: { first: 5 },
  };
}

/** A lookup by native id, selecting the customer's id in every system the model lists. */
function bySourceIdExample(dm) {
  const sourceIds = dm.types.find((t) => t.name === baseType(dm.types.find((t) => t.name === 'Customer').fields.find((f) => f.name === 'sourceIds').type));
  return {
    name: 'Customer by a native id and its source ids',
    query: `query BySourceId($system: System!, $id: ID!) {\n  customerBySourceId(system: $system, id: $id) {\n    id\n    name\n    sourceIds { ${sourceIds.fields.map((f) => f.name).join(' ')} }\n  }\n}`,
    // An ERP business partner number as the seeded sandbox has it: a sample value, as an app would send one.
    variables: { system: 'ERP', id: '1000001' },
  };
}

/** The console's examples: those naming owners and systems are written from the served model, so they cannot go stale. */
function examples(dm, owners) {
  const { twoCustomers, refusedWrite, model } = FIXED_EXAMPLES;
  return dm ? [ownersExample(dm, owners), twoCustomers, bySourceIdExample(dm), refusedWrite, model] : [twoCustomers, refusedWrite, model];
}

// ---------------------------------------------------------------- owners

function ownerBadge(owner) {
  return systemBadge(owner, { dataset: { owner }, title: `Owned by ${systemLabel(owner)}` });
}

function renderLegend(all) {
  const legend = $('#legend');
  legend.replaceChildren(
    h('span', { class: 'label' }, 'Owners'),
    ...all.map((o) => h('span', { class: 'item', dataset: { owner: o } }, h('span', { class: 'swatch', style: { '--c': colourOf(o) } }), systemLabel(o))),
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
        search: [path, f.type, f.description, f.sourceField, f.validation ?? '', f.scope ?? '', f.writeScope ?? '', ...f.copies.map((c) => `${c.system} ${c.sourceField}`)].join('\n').toLowerCase(),
      },
    },
    h('td', { class: 'field' }, h('code', {}, f.name), h('span', { class: 'type' }, f.type)),
    h(
      'td',
      { class: 'owner-cell' },
      ownerBadge(f.owner),
      // The scopes an app needs for it: what the gateway enforces, as dataModel serves it.
      h('div', { class: 'scopes' }, h('code', { class: 'scope', title: 'Scope an app needs to read it' }, f.scope ?? 'any app'), f.writeScope ? h('code', { class: 'scope write', title: 'Scope an app needs to write it' }, f.writeScope) : null),
    ),
    h('td', { class: 'meaning' }, f.description),
    h(
      'td',
      { class: 'source' },
      h('code', {}, f.sourceField),
      // Copies other systems keep of it: never read as the value, compared with it (and, under ENFORCE, set back to it).
      ...f.copies.map((c) =>
        h('div', { class: 'copy', dataset: { system: c.system, policy: c.policy }, title: c.policy === 'ENFORCE' ? `Copy in ${systemLabel(c.system)}, set back to the owner's value when it differs` : `Copy in ${systemLabel(c.system)}, reported by data quality when it differs` }, 'copy ', systemBadge(c.system, { class: 'copy-system', title: `Kept by ${systemLabel(c.system)}, not its owner` }), ' ', h('code', {}, c.sourceField), ' ', h('span', { class: 'policy' }, c.policy)),
      ),
    ),
    h('td', { class: 'writable' }, f.writable ? h('span', { class: 'badge yes', title: 'Apps may change it through updateCustomer' }, 'Writable') : h('span', { class: 'badge no', title: `Maintained in ${systemLabel(f.owner)} only` }, 'Read-only')),
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
  filter.replaceChildren(chip('all', 'All owners'), ...all.map((o) => chip(o, systemLabel(o), colourOf(o))));
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
      h('div', { class: 'card-foot' }, ownedNotFed.length ? ['Canonical fields owned by ', systemLabel(s.system), ' that no native field here feeds: ', ownedNotFed.join(', ')] : ['Every canonical field owned by ', systemLabel(s.system), ' is fed by this record.']),
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
    const { body } = await post(GraphQLVoyager.voyagerIntrospectionQuery, {});
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
    const { status: code, ms, body } = await post($('#console-query').value, variables, headers);
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
    showErrors([{ message: e.message }]);
  } finally {
    button.disabled = false;
  }
}

let shownExamples = [];

function pickExample(i) {
  const ex = shownExamples[i];
  $('#console-query').value = ex.query;
  $('#console-variables').value = JSON.stringify(ex.variables, null, 2);
}

/** Offers `list` in the picker; the editor takes the first one unless the reader has already changed what it holds. */
function setExamples(list) {
  const untouched = !shownExamples.length || $('#console-query').value === shownExamples[Number($('#console-example').value)]?.query;
  shownExamples = list;
  $('#console-example').replaceChildren(...list.map((ex, i) => h('option', { value: String(i) }, ex.name)));
  if (untouched) pickExample(0);
}

function setupConsole() {
  const select = $('#console-example');
  select.addEventListener('change', () => pickExample(Number(select.value)));
  setExamples(examples(null));
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

/** The views, as the page's tabs name them; the first is the default. */
const tabs = () => [...document.querySelectorAll('.tabs [role="tab"]')].map((b) => b.dataset.tab);

function selectTab(name) {
  const tab = tabs().includes(name) ? name : tabs()[0];
  for (const b of document.querySelectorAll('.tabs [role="tab"]')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
  for (const v of document.querySelectorAll('.view')) v.hidden = v.dataset.view !== tab;
  document.body.dataset.tab = tab;
  if (location.hash !== `#${tab}`) history.replaceState(null, '', `#${tab}`);
  if (tab === 'graph') startGraph();
  if (tab === 'export') loadPreview().catch(() => undefined);
  if (tab === 'quality') loadQuality();
  window.scrollTo(0, 0);
}

// ---------------------------------------------------------------- start

async function main() {
  mountHeader();
  for (const b of document.querySelectorAll('.tabs [role="tab"]')) b.addEventListener('click', () => selectTab(b.dataset.tab));
  window.addEventListener('hashchange', () => selectTab(location.hash.slice(1)));
  setupConsole();
  selectTab(location.hash.slice(1));

  try {
    const { body } = await post(DATA_MODEL_QUERY, {});
    if (!body.data?.dataModel) throw new Error(body.errors?.map((e) => e.message).join('; ') || 'no dataModel in the answer');
    const dm = body.data.dataModel;
    const all = learnOwners(dm);
    renderLegend(all);
    renderModel(dm, all);
    renderSystems(dm);
    setExamples(examples(dm, all));
    document.body.dataset.ready = 'true';
  } catch (e) {
    // Without the model the page has nothing to show, whatever the reason: the light says so too.
    setEndpoint(false);
    $('#model-types').replaceChildren(h('p', { class: 'empty' }, `Could not read the model from ${ENDPOINT}: ${e.message}`));
    document.body.dataset.ready = 'error';
  }
}

main();
