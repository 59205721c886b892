// The operations console's behaviour: lists the ledger through /graphql, shows one operation's steps, retries failed writes, and switches between its views (match review and customers are review.js).
// Everything shown comes from operations/operation/retryOperation and the served model at runtime; the page keeps no state the gateway does not.

import { $, colourOf, graphql, h, learnOwners, mountHeader, OWNERS_QUERY, systemBadge, systemLabel } from './shared/page.js';
import { setupReview, showCustomers, showReview } from './review.js';

const PAGE_SIZE = 20;
/** operations(first:) refuses more than this; a refresh reloads at most this many rows. */
const MAX_PAGE = 200;
const AUTO_REFRESH_MS = 5000;

const OPERATION_FIELDS = `fragment ConsoleOperationFields on Operation {
  id traceId name kind app idempotencyKey inputHash status createdAt updatedAt workflow mode progress { total done failed }
  error { code message retryable }
  steps { name startedAt system action status attempts durationMs idempotencyKey error { code message retryable } history { at attempts error { code message } } items { customerId nativeId status error { code message } } copies { nativeId sourceField value } }
  retry { possible reason steps { system idempotencyKey } }
}`;

const LIST_QUERY = `query ConsoleOperations($status: [OperationStatus!], $system: System, $app: String, $since: String, $first: Int, $after: String) {
  operations(status: $status, system: $system, app: $app, since: $since, first: $first, after: $after) {
    edges { cursor node { ...ConsoleOperationFields } }
    pageInfo { hasNextPage endCursor }
  }
}
${OPERATION_FIELDS}`;

const DETAIL_QUERY = `query ConsoleOperation($id: ID!) {
  operation(id: $id) { ...ConsoleOperationFields }
}
${OPERATION_FIELDS}`;

const RETRY_MUTATION = `mutation ConsoleRetryOperation($id: ID!) {
  retryOperation(id: $id) { ...ConsoleOperationFields }
}
${OPERATION_FIELDS}`;

/**
 * The quick status buttons. "Failed" means failed work, so it includes PARTIAL: an operation where one owner
 * refused is as much an operator's problem as one where every owner did.
 */
const STATUS_FILTERS = {
  all: { statuses: null, note: 'Showing operations of every status.' },
  failed: { statuses: ['FAILED', 'PARTIAL'], note: 'Failed includes PARTIAL: every operation with at least one failed step.' },
  partial: { statuses: ['PARTIAL'], note: 'Showing PARTIAL operations: some steps succeeded, some failed.' },
  pending: { statuses: ['PENDING'], note: 'Showing PENDING operations: steps still running, or the gateway stopped while they ran.' },
  succeeded: { statuses: ['SUCCEEDED'], note: 'Showing SUCCEEDED operations.' },
};

/** System (as the System enum spells it: CRM) → its name as people say it; filled from the served model by loadSystems. */
const SYSTEM_LABELS = {};

// ---------------------------------------------------------------- helpers

/** Every request goes as the app whose key the operator entered (page.js), so its reads and retries are attributable like any app's. */
const request = (query, variables) => graphql(query, variables);

const pad = (n) => String(n).padStart(2, '0');

/** Local time as operators compare it with their logs: 2024-05-01 14:03:22. The ISO original stays in the tooltip. */
function formatTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const none = (text = '—') => h('span', { class: 'none' }, text);
// A step with no system is canon's own (onboarding's identity link).
const systemChip = (system) => systemBadge(system ?? 'IDENTITY', { class: 'sys', dataset: { system: system ?? 'IDENTITY' } });
const statusBadge = (status) => h('span', { class: 'status', dataset: { status } }, status);

/** Systems an operation called, in the order its steps name them, each once. */
const systemsOf = (op) => [...new Set(op.steps.map((s) => s.system).filter(Boolean))];

/**
 * The systems as the model serves them (`dataModel { systems }`), shown in the legend and offered in the system
 * filter; nothing here names a system by hand. Loaded once, with the first list that reaches the gateway.
 */
async function loadSystems() {
  const data = await request(OWNERS_QUERY, {});
  learnOwners(data.dataModel);
  const systems = data.dataModel.systems.map((s) => s.system.toUpperCase());
  for (const s of systems) SYSTEM_LABELS[s] = systemLabel(s);
  $('#legend-systems').replaceChildren(...systems.map((s) => h('span', { class: 'item' }, h('span', { class: 'swatch', dataset: { system: s }, style: { '--c': colourOf(s) } }), systemLabel(s))));
  $('#filter-system').append(...systems.map((s) => h('option', { value: s }, systemLabel(s))));
  $('#lookup-system').append(...systems.map((s) => h('option', { value: s }, systemLabel(s))));
  state.systemsLoaded = true;
}

let systemsLoading = null;
/** loadSystems once for every view that needs the systems, however many ask at the same time; a failure lets the next one try again. */
function ensureSystems() {
  systemsLoading ??= loadSystems().catch((e) => {
    systemsLoading = null;
    throw e;
  });
  return systemsLoading;
}

// ---------------------------------------------------------------- state

const state = {
  filter: 'all',
  system: '',
  app: '',
  since: '',
  /** Loaded operations in list order; the detail and the rows render from these. */
  ops: [],
  endCursor: null,
  hasNextPage: false,
  /** Bumped by every list load, so an answer to an older request never overwrites a newer one. */
  listSeq: 0,
  detailSeq: 0,
  selectedId: null,
  retrying: false,
  autoTimer: null,
  systemsLoaded: false,
};

function listVariables() {
  let since = null;
  if (state.since) {
    const d = new Date(state.since);
    if (!Number.isNaN(d.getTime())) since = d.toISOString();
  }
  return {
    status: STATUS_FILTERS[state.filter].statuses,
    system: state.system || null,
    app: state.app || null,
    since,
  };
}

// ---------------------------------------------------------------- list

function traceCell(traceId) {
  if (!traceId) return none();
  const btn = h(
    'button',
    {
      type: 'button',
      class: 'link copy',
      title: `${traceId} (click to copy)`,
      'aria-label': `Copy trace id ${traceId}`,
      dataset: { trace: traceId },
      onclick: (e) => {
        // Copying is not opening: the row's own click would replace the detail the operator is reading.
        e.stopPropagation();
        copyText(traceId, btn);
      },
    },
    h('code', {}, `${traceId.slice(0, 8)}…`),
  );
  return btn;
}

async function copyText(text, el) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Clipboard access can be denied (permissions, unfocused page); selecting the text still lets the operator copy it.
    const range = document.createRange();
    range.selectNodeContents(el);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    return;
  }
  el.classList.add('copied');
  el.title = `${text} (copied)`;
}

function rowFor(op) {
  const systems = systemsOf(op);
  const tr = h(
    'tr',
    {
      tabindex: '0',
      'aria-selected': String(op.id === state.selectedId),
      dataset: { opId: op.id, status: op.status },
      onclick: () => selectOperation(op.id),
      onkeydown: (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          selectOperation(op.id);
        }
      },
    },
    h('td', { class: 'time', title: op.createdAt }, formatTime(op.createdAt)),
    h('td', { class: 'name' }, h('code', {}, op.name)),
    h('td', { class: 'kind' }, op.kind),
    h('td', { class: 'app' }, op.app ?? none()),
    h('td', { class: 'status-cell' }, statusBadge(op.status)),
    h('td', { class: 'systems-cell' }, systems.length ? h('span', { class: 'systems' }, systems.map(systemChip)) : none('none called')),
    h('td', { class: 'trace' }, traceCell(op.traceId)),
    h('td', { class: 'key' }, op.idempotencyKey ? h('code', {}, op.idempotencyKey) : none()),
  );
  return tr;
}

function renderList() {
  const tbody = $('#op-rows');
  tbody.replaceChildren(...state.ops.map(rowFor));
  const empty = state.ops.length === 0;
  $('#list-empty').hidden = !empty || $('#list').dataset.state === 'error';
  $('#op-table').hidden = empty;
  $('#load-more').hidden = !state.hasNextPage;
  const n = state.ops.length;
  $('#list-count').textContent = empty ? '' : `${n} operation${n === 1 ? '' : 's'} shown${state.hasNextPage ? ' · more available' : ''}`;
  $('#list-foot').hidden = empty && !state.hasNextPage;
}

function renderFilterNote() {
  const parts = [STATUS_FILTERS[state.filter].note];
  const v = listVariables();
  if (v.system) parts.push(`Only operations that called ${systemLabel(v.system)}.`);
  if (v.app) parts.push(`Only app "${v.app}".`);
  if (v.since) parts.push(`Created at or after ${formatTime(v.since)}.`);
  $('#filter-note').textContent = parts.join(' ');
}

function showListError(err) {
  const banner = $('#list-error');
  banner.replaceChildren(
    h('strong', {}, err.unreachable ? 'Gateway unreachable' : 'The gateway refused the request'),
    err.unreachable ? `${err.message} Check that the gateway is running, then press Refresh.` : err.message,
  );
  banner.hidden = false;
  $('#list').dataset.state = 'error';
  $('#list-empty').hidden = true;
  $('#list-count').textContent = state.ops.length ? 'Showing the last rows loaded; they may be out of date.' : '';
  $('#list-foot').hidden = state.ops.length === 0;
}

/**
 * Loads the list from the top. A refresh reloads as many rows as are shown (up to the API's maximum), so an operator
 * who paged down does not lose their place every five seconds.
 */
async function loadList({ keepCount = false } = {}) {
  const seq = ++state.listSeq;
  const first = keepCount ? Math.min(Math.max(state.ops.length, PAGE_SIZE), MAX_PAGE) : PAGE_SIZE;
  $('#list').dataset.state = 'loading';
  $('#refresh').disabled = true;
  renderFilterNote();
  try {
    if (!state.systemsLoaded) await ensureSystems();
    const data = await request(LIST_QUERY, { ...listVariables(), first });
    if (seq !== state.listSeq) return;
    const conn = data.operations;
    state.ops = conn.edges.map((e) => e.node);
    state.endCursor = conn.pageInfo.endCursor;
    state.hasNextPage = conn.pageInfo.hasNextPage;
    $('#list-error').hidden = true;
    $('#list').dataset.state = state.ops.length ? 'ready' : 'empty';
    renderList();
  } catch (err) {
    if (seq !== state.listSeq) return;
    renderList();
    showListError(err);
  } finally {
    if (seq === state.listSeq) $('#refresh').disabled = false;
    document.body.dataset.ready = 'true';
  }
}

async function loadMore() {
  if (!state.hasNextPage || !state.endCursor) return;
  const seq = ++state.listSeq;
  const button = $('#load-more');
  button.disabled = true;
  button.textContent = 'Loading…';
  $('#list').dataset.state = 'loading';
  try {
    const data = await request(LIST_QUERY, { ...listVariables(), first: PAGE_SIZE, after: state.endCursor });
    if (seq !== state.listSeq) return;
    const conn = data.operations;
    // An operation can appear twice only if the ledger changed under the cursor; show it once.
    const seen = new Set(state.ops.map((o) => o.id));
    state.ops.push(...conn.edges.map((e) => e.node).filter((o) => !seen.has(o.id)));
    state.endCursor = conn.pageInfo.endCursor;
    state.hasNextPage = conn.pageInfo.hasNextPage;
    $('#list-error').hidden = true;
    $('#list').dataset.state = 'ready';
    renderList();
  } catch (err) {
    if (seq === state.listSeq) showListError(err);
  } finally {
    button.disabled = false;
    button.textContent = 'Load more';
  }
}

/** Replaces one operation in the list (if loaded) without reloading it, and flashes the row so the change is seen. */
function updateListRow(op) {
  const i = state.ops.findIndex((o) => o.id === op.id);
  if (i < 0) return;
  // Opening a row re-reads it; only a real change (a retry, a step finishing) is worth drawing the eye to.
  const changed = state.ops[i].status !== op.status || state.ops[i].updatedAt !== op.updatedAt;
  state.ops[i] = op;
  if (!changed) return;
  const old = document.querySelector(`#op-rows tr[data-op-id="${CSS.escape(op.id)}"]`);
  if (!old) return;
  const row = rowFor(op);
  row.classList.add('updated');
  old.replaceWith(row);
}

// ---------------------------------------------------------------- detail

function opIdFromHash() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  return params.get('op');
}

function selectOperation(id) {
  // The hash is the single source of the open operation: links, Back and reloads all land on the same view.
  const hash = `#op=${encodeURIComponent(id)}`;
  if (location.hash === hash) openDetail(id);
  else location.hash = hash;
}

function closeDetail() {
  history.pushState(null, '', `${location.pathname}${location.search}`);
  showDetail(null);
}

function markSelected() {
  for (const tr of document.querySelectorAll('#op-rows tr')) tr.setAttribute('aria-selected', String(tr.dataset.opId === state.selectedId));
}

function showDetail(id) {
  state.selectedId = id;
  const panel = $('#detail');
  panel.hidden = !id;
  $('#layout').classList.toggle('with-detail', Boolean(id));
  if (!id) {
    panel.replaceChildren();
    for (const k of ['opId', 'status', 'state', 'retry']) delete panel.dataset[k];
  }
  markSelected();
}

/** Shows what the list already holds at once, then the operation as the ledger has it now. */
async function openDetail(id) {
  if (!id) return showDetail(null);
  const seq = ++state.detailSeq;
  const changed = state.selectedId !== id;
  showDetail(id);
  const panel = $('#detail');
  const cached = state.ops.find((o) => o.id === id);
  if (changed) {
    delete panel.dataset.retry;
    if (cached) renderDetail(cached, { fresh: false });
    else renderDetailMessage(id, 'loading', 'Loading operation…');
  }
  try {
    const data = await request(DETAIL_QUERY, { id });
    // A retry in flight renders its own answer; an older read must not put an enabled Retry button back meanwhile.
    if (seq !== state.detailSeq || state.selectedId !== id || state.retrying) return;
    if (!data.operation) return renderDetailMessage(id, 'missing', `No operation with id ${id} is in the ledger (it may have been pruned).`);
    renderDetail(data.operation, { fresh: true });
    updateListRow(data.operation);
  } catch (err) {
    if (seq !== state.detailSeq || state.selectedId !== id) return;
    renderDetailMessage(id, 'error', err.unreachable ? `${err.message} The operation cannot be shown until the gateway answers.` : err.message);
  }
}

function detailHead(title, status) {
  return h(
    'div',
    { class: 'detail-head' },
    h('h2', {}, title),
    status ? statusBadge(status) : null,
    h('button', { type: 'button', class: 'link close', id: 'detail-close', title: 'Close', 'aria-label': 'Close detail', onclick: closeDetail }, '×'),
  );
}

function renderDetailMessage(id, stateName, message) {
  const panel = $('#detail');
  panel.dataset.opId = id;
  panel.dataset.state = stateName;
  delete panel.dataset.status;
  panel.replaceChildren(detailHead('Operation', null), h('div', { class: 'detail-body' }, h('p', { class: stateName === 'loading' ? 'muted' : 'op-error', id: 'detail-message' }, message)));
}

/**
 * Whether Retry means anything, as the gateway says: `op.retry` is computed by the rule retryOperation follows, so
 * the page offers exactly what a retry would do. Only the wording is the page's own.
 */
function retryPlan(op) {
  const plan = op.retry;
  if (!plan.possible) return { ok: false, why: plan.reason };
  const systems = [...new Set(plan.steps.map((s) => SYSTEM_LABELS[s.system] ?? s.system))].join(', ');
  const n = plan.steps.length === 1 ? 'the failed step' : `the ${plan.steps.length} failed steps`;
  // Steps sent without a key get one derived from the operation id on retry, so the system can still recognise a repeat.
  const keys = plan.steps.every((s) => s.idempotencyKey) ? 'with the idempotency keys they carried' : 'under a key derived from this operation';
  return { ok: true, why: `Re-sends ${n} (${systems}) ${keys}; succeeded steps are not sent again.` };
}

/** A bulk step's records its system refused, each named (the first 20). */
function failedItems(step) {
  const failed = (step.items ?? []).filter((i) => i.status === 'FAILED');
  if (!failed.length) return null;
  const shown = failed.slice(0, 20).map((i) => h('li', {}, h('code', {}, i.customerId), ` (${i.nativeId}) `, h('span', { class: 'error-code' }, i.error ? i.error.code : 'FAILED'), ' ', i.error ? i.error.message : ''));
  const more = failed.length > 20 ? [h('li', { class: 'muted' }, `and ${failed.length - 20} more`)] : [];
  return h('ol', { class: 'step-items' }, ...shown, ...more);
}

/** A propagate step's copy: the record and each native field it sets, with the value. */
function copyWrites(step) {
  if (!step.copies || !step.copies.length) return null;
  return h(
    'dl',
    { class: 'step-copies', dataset: { native: step.copies[0].nativeId } },
    h('dt', {}, 'Copy in record'),
    h('dd', {}, h('code', {}, step.copies[0].nativeId)),
    ...step.copies.flatMap((c) => [h('dt', {}, h('code', { class: 'source-field' }, c.sourceField)), h('dd', { class: 'copy-value' }, c.value)]),
  );
}

function stepItem(step, index) {
  return h(
    'li',
    { class: 'step', dataset: { system: step.system ?? 'IDENTITY', status: step.status, index: String(index) } },
    h('div', { class: 'step-head' }, systemChip(step.system), h('span', { class: 'action', title: step.name }, step.action), statusBadge(step.status)),
    h(
      'div',
      { class: 'step-meta' },
      h('span', {}, 'Attempts ', h('b', { class: 'attempts' }, String(step.attempts))),
      h('span', {}, 'Duration ', h('b', { class: 'duration' }, step.durationMs === null || step.durationMs === undefined ? '—' : `${step.durationMs} ms`)),
      h('span', {}, 'Key ', step.idempotencyKey ? h('code', { class: 'step-key' }, step.idempotencyKey) : none('none')),
    ),
    step.error
      ? h(
          'div',
          { class: 'step-error' },
          h('span', { class: 'error-code' }, step.error.code),
          h('span', { class: 'error-message' }, step.error.message),
          step.error.retryable ? h('span', { class: 'retryable' }, 'retryable') : null,
        )
      : null,
    copyWrites(step),
    failedItems(step),
    step.history && step.history.length
      ? h(
          'ol',
          { class: 'step-history' },
          ...step.history.map((run) =>
            h('li', {}, h('span', { class: 'error-code' }, run.error ? run.error.code : 'FAILED'), ` earlier run, ${run.attempts} attempt${run.attempts === 1 ? '' : 's'}, retried ${new Date(run.at).toLocaleString()}`),
          ),
        )
      : null,
  );
}

function renderDetail(op, { fresh, retryMessage } = {}) {
  const panel = $('#detail');
  panel.dataset.opId = op.id;
  panel.dataset.status = op.status;
  panel.dataset.state = fresh ? 'ready' : 'cached';
  const plan = retryPlan(op);
  const field = (label, value) => [h('dt', {}, label), h('dd', {}, value ?? none())];
  const code = (v) => (v ? h('code', {}, v) : null);

  const retryBar =
    plan.ok || plan.why
      ? h(
          'div',
          { class: 'retry-bar' },
          plan.ok ? h('button', { type: 'button', class: 'primary', id: 'retry', onclick: () => retry(op.id) }, 'Retry failed steps') : null,
          plan.why ? h('span', { class: 'why' }, plan.why) : null,
        )
      : null;

  panel.replaceChildren(
    detailHead(op.name, op.status),
    h(
      'div',
      { class: 'detail-body' },
      retryBar,
      retryMessage ? h('p', { class: `retry-result ${retryMessage.ok ? 'ok' : 'bad'}`, id: 'retry-result', role: 'status' }, retryMessage.text) : null,
      op.error
        ? h(
            'div',
            { class: 'op-error', id: 'op-error' },
            'Refused before any system was called: ',
            h('code', { class: 'error-code' }, op.error.code),
            h('p', { class: 'error-message' }, op.error.message),
          )
        : null,
      h(
        'dl',
        {},
        field('Operation', code(op.id)),
        field('Kind', op.kind),
        field('Workflow', op.workflow),
        field('Mode', op.mode),
        field('Progress', op.progress ? h('span', { id: 'detail-progress' }, `${op.progress.done} of ${op.progress.total} done, ${op.progress.failed} failed`) : null),
        field('App', op.app),
        field('Created', h('span', { title: op.createdAt }, formatTime(op.createdAt))),
        field('Updated', h('span', { title: op.updatedAt }, formatTime(op.updatedAt))),
        field('Trace id', op.traceId ? h('button', { type: 'button', class: 'link copy', id: 'detail-trace', title: 'Click to copy', onclick: (e) => copyText(op.traceId, e.currentTarget) }, h('code', {}, op.traceId)) : null),
        field('Idempotency key', code(op.idempotencyKey)),
        field('Input hash', op.inputHash ? h('code', { title: op.inputHash }, `${op.inputHash.slice(0, 16)}…`) : null),
      ),
      h('h3', {}, `Steps (${op.steps.length})`),
      op.steps.length
        ? h('ol', { class: 'timeline', id: 'steps' }, op.steps.map(stepItem))
        : h('p', { class: 'no-steps', id: 'steps-empty' }, 'No system was called for this operation.'),
    ),
  );
}

async function retry(id) {
  if (state.retrying) return;
  state.retrying = true;
  const panel = $('#detail');
  panel.dataset.retry = 'running';
  const button = $('#retry');
  if (button) {
    button.disabled = true;
    button.replaceChildren(h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Retrying…');
  }
  const before = panel.dataset.status;
  try {
    const data = await request(RETRY_MUTATION, { id });
    const op = data.retryOperation;
    updateListRow(op);
    if (state.selectedId === id) {
      const ok = op.status === 'SUCCEEDED';
      const text = ok ? `Retried: ${before} → SUCCEEDED; every step has now succeeded.` : `Retried: the operation is still ${op.status}; see the failed steps below.`;
      renderDetail(op, { fresh: true, retryMessage: { ok, text } });
      panel.dataset.retry = 'done';
    }
  } catch (err) {
    if (state.selectedId === id) {
      panel.dataset.retry = 'error';
      if (button) {
        button.disabled = false;
        button.textContent = 'Retry failed steps';
      }
      const msg = h('p', { class: 'retry-result bad', id: 'retry-result', role: 'alert' }, `Retry failed: ${err.message}`);
      $('#retry-result')?.remove();
      $('.retry-bar')?.after(msg);
    }
  } finally {
    state.retrying = false;
  }
}

// ---------------------------------------------------------------- wiring

function setFilter(name) {
  state.filter = name;
  for (const b of document.querySelectorAll('[data-status-filter]')) b.setAttribute('aria-pressed', String(b.dataset.statusFilter === name));
  loadList();
}

function setAutoRefresh(on) {
  clearInterval(state.autoTimer);
  state.autoTimer = null;
  if (!on) return;
  state.autoTimer = setInterval(() => {
    // A tick never overlaps a load or a retry in flight: those answers would be overwritten or raced.
    if ($('#list').dataset.state === 'loading' || state.retrying) return;
    loadList({ keepCount: true });
    if (state.selectedId) openDetail(state.selectedId);
  }, AUTO_REFRESH_MS);
}

const WORKFLOWS_QUERY = '{ workflows { name description defaultMode steps { name after precondition } } }';

/** The workflow definitions, as the server declares them: each one's steps in order and what each waits for. */
async function loadWorkflows() {
  const box = $('#workflow-list');
  if (!box) return;
  try {
    const data = await request(WORKFLOWS_QUERY, {});
    box.replaceChildren(
      ...data.workflows.map((w) =>
        h(
          'li',
          { class: 'workflow', dataset: { workflow: w.name } },
          h('b', {}, w.name),
          ` (${w.defaultMode}) `,
          h('span', { class: 'muted' }, w.description),
          h('ol', {}, ...w.steps.map((st) => h('li', {}, h('code', {}, st.name), st.after.length ? ` after ${st.after.join(', ')}` : '', st.precondition ? h('span', { class: 'muted' }, ` — ${st.precondition}`) : ''))),
        ),
      ),
    );
  } catch (e) {
    box.replaceChildren(h('li', { class: 'muted' }, `Could not load the workflows: ${e.message}`));
  }
}

// ---------------------------------------------------------------- views

/** The view the hash names: `#review`, `#customers` or `#customer=<id>`; anything else (`#op=<id>`, none) is the operations list. */
function viewFromHash() {
  const hash = location.hash.replace(/^#/, '');
  if (hash === 'review') return { view: 'review' };
  if (hash === 'customers') return { view: 'customers' };
  const customer = new URLSearchParams(hash).get('customer');
  if (customer) return { view: 'customers', customer };
  return { view: 'operations' };
}

/** Shows the view the hash names, like every link into the console: the hash is the one source of what is open. */
function route() {
  const { view, customer } = viewFromHash();
  for (const b of document.querySelectorAll('.tabs [role="tab"]')) b.setAttribute('aria-selected', String(b.dataset.tab === view));
  for (const v of document.querySelectorAll('.view')) v.hidden = v.dataset.view !== view;
  document.body.dataset.view = view;
  // The status colours are the operations'; the other views show candidates' and customers' own.
  $('#legend-operations').hidden = view !== 'operations';
  if (view === 'review') showReview();
  else if (view === 'customers') showCustomers(customer);
  else openDetail(opIdFromHash());
}

function selectTab(tab) {
  if (tab === 'operations') {
    // Back to the list with the operation that was open, if any.
    const hash = state.selectedId ? `#op=${encodeURIComponent(state.selectedId)}` : '';
    history.pushState(null, '', `${location.pathname}${location.search}${hash}`);
    route();
  } else if (viewFromHash().view !== tab) location.hash = tab;
}

function init() {
  mountHeader();
  setupReview({ systems: ensureSystems });
  for (const b of document.querySelectorAll('.tabs [role="tab"]')) b.addEventListener('click', () => selectTab(b.dataset.tab));
  void loadWorkflows();
  for (const b of document.querySelectorAll('[data-status-filter]')) b.addEventListener('click', () => setFilter(b.dataset.statusFilter));
  $('#filter-system').addEventListener('change', (e) => {
    state.system = e.target.value;
    loadList();
  });
  let appTimer = null;
  const applyApp = () => {
    clearTimeout(appTimer);
    const value = $('#filter-app').value.trim();
    if (value === state.app) return;
    state.app = value;
    loadList();
  };
  $('#filter-app').addEventListener('input', () => {
    clearTimeout(appTimer);
    appTimer = setTimeout(applyApp, 300);
  });
  $('#filter-app').addEventListener('change', applyApp);
  $('#filter-since').addEventListener('change', (e) => {
    state.since = e.target.value;
    loadList();
  });
  $('#filters').addEventListener('submit', (e) => {
    e.preventDefault();
    state.app = $('#filter-app').value.trim();
    loadList({ keepCount: true });
    if (state.selectedId && !state.retrying) openDetail(state.selectedId);
  });
  $('#auto-refresh').checked = false;
  $('#auto-refresh').addEventListener('change', (e) => setAutoRefresh(e.target.checked));
  $('#load-more').addEventListener('click', loadMore);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state.selectedId && document.body.dataset.view === 'operations') closeDetail();
  });
  window.addEventListener('hashchange', route);

  loadList();
  route();
}

init();
