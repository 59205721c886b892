// The console's identity views: match review (identity's candidates with their evidence, the customer each record belongs to now, and resolveMatch) and one customer's records with unlinkRecord, to undo a merge.
// Everything is read from /graphql as the operator's app, which needs admin; every error the gateway answers is shown where it happened, with its code.

import { $, h, post, systemBadge, systemLabel } from './shared/page.js';

const PAGE_SIZE = 20;

const CANDIDATE_FIELDS = 'id score rules { name weight } records { system nativeId } status';
const CUSTOMER_FIELDS = 'id records { system nativeId primary }';

const CANDIDATES_QUERY = `query ConsoleMatchCandidates($status: MatchStatus, $first: Int, $after: String) {
  matchCandidates(status: $status, first: $first, after: $after) { edges { cursor node { ${CANDIDATE_FIELDS} } } pageInfo { hasNextPage endCursor } }
}`;
/** The customers a candidate's two records belong to now: one request per candidate, the same text every time. */
const OWNERS_QUERY = `query ConsoleCandidateCustomers($sa: System!, $na: ID!, $sb: System!, $nb: ID!) {
  a: customerBySourceId(system: $sa, id: $na) { ${CUSTOMER_FIELDS} }
  b: customerBySourceId(system: $sb, id: $nb) { ${CUSTOMER_FIELDS} }
}`;
const RESOLVE_MUTATION = `mutation ConsoleResolveMatch($id: ID!, $decision: MatchDecision!) { resolveMatch(id: $id, decision: $decision) { ${CANDIDATE_FIELDS} } }`;
const CUSTOMER_QUERY = `query ConsoleCustomer($id: ID!) { customer(id: $id) { ${CUSTOMER_FIELDS} } }`;
const BY_SOURCE_QUERY = `query ConsoleCustomerBySource($system: System!, $id: ID!) { customerBySourceId(system: $system, id: $id) { ${CUSTOMER_FIELDS} } }`;
const UNLINK_MUTATION = `mutation ConsoleUnlinkRecord($system: System!, $nativeId: ID!) { unlinkRecord(system: $system, nativeId: $nativeId) { ${CUSTOMER_FIELDS} } }`;

/** What the status chips say under the list. */
const STATUS_NOTES = {
  OPEN: 'Showing OPEN candidates: pairs the matcher scored between its review and link thresholds (or a link a veto refused), waiting for a decision.',
  LINKED: 'Showing LINKED candidates: a reviewer made their two customers one.',
  DISTINCT: 'Showing DISTINCT candidates: a reviewer kept them apart, and the matcher never links them.',
};

// ---------------------------------------------------------------- talking to /graphql

/** Every error of one answer, kept whole (code, system, message), so the page can show each as the gateway said it. */
export class ApiError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join('; '));
    this.errors = errors;
  }
}

/** The answer's data; rejects with an ApiError carrying every error the gateway answered, or page.js's RequestError when nothing answered. */
async function ask(query, variables) {
  const { body } = await post(query, variables);
  if (body.errors?.length) throw new ApiError(body.errors);
  return body.data;
}

/** An error as the operator reads it: what was being done, then each error's code, system and message. */
export function errorBox(what, err) {
  const errors = err.errors ?? [{ message: err.unreachable ? `${err.message} Check that the gateway is running.` : err.message, extensions: {} }];
  return h(
    'div',
    { class: 'op-error api-error', role: 'alert', dataset: { code: errors[0].extensions?.code ?? '' } },
    h('strong', {}, what),
    ...errors.map((e) =>
      h(
        'p',
        {},
        e.extensions?.code ? h('code', { class: 'error-code' }, e.extensions.code) : null,
        e.extensions?.system ? h('span', { class: 'error-system' }, ` ${e.extensions.system}`) : null,
        ' ',
        h('span', { class: 'error-message' }, e.message),
      ),
    ),
  );
}

// ---------------------------------------------------------------- shared pieces

const refOf = (r) => `${r.system}:${r.nativeId}`;
const recordChip = (r) => h('span', { class: 'record', dataset: { system: r.system, native: r.nativeId } }, systemBadge(r.system), ' ', h('code', {}, r.nativeId), r.primary === false ? h('span', { class: 'muted' }, ' (duplicate)') : null);
const statusBadge = (status) => h('span', { class: 'status', dataset: { status } }, status);
const customerLink = (id) => h('a', { class: 'customer-link', href: `#customer=${encodeURIComponent(id)}`, dataset: { customer: id } }, h('code', {}, id));

let ensureSystems = async () => undefined;

// ---------------------------------------------------------------- match review

const review = {
  status: 'OPEN',
  /** Loaded candidates in list order, each `{ node, owners: { a, b } | null, ownersError, error, busy }`. */
  rows: [],
  endCursor: null,
  hasNextPage: false,
  /** Bumped by every load from the top, so an older answer never overwrites a newer one. */
  seq: 0,
  started: false,
};

/** The customer each of the candidate's records belongs to now (null when identity knows none). */
async function loadOwners(row) {
  const [a, b] = row.node.records;
  try {
    row.owners = await ask(OWNERS_QUERY, { sa: a.system, na: a.nativeId, sb: b.system, nb: b.nativeId });
    row.ownersError = null;
  } catch (e) {
    row.owners = null;
    row.ownersError = e;
  }
}

function ownerCell(row, record, owner) {
  const others = owner ? owner.records.filter((r) => refOf(r) !== refOf(record)) : [];
  return h(
    'td',
    { class: 'candidate-record', dataset: { system: record.system, native: record.nativeId, customer: owner?.id ?? '' } },
    h('div', {}, recordChip(record)),
    row.ownersError
      ? errorBox('Could not read its customer', row.ownersError)
      : !row.owners
        ? h('div', { class: 'muted' }, 'Loading its customer…')
        : owner
          ? h(
              'div',
              { class: 'owner-customer' },
              'Customer ',
              customerLink(owner.id),
              others.length ? h('div', { class: 'other-records' }, h('span', { class: 'muted' }, 'with '), ...others.map(recordChip)) : h('div', { class: 'other-records muted' }, 'no other records'),
            )
          : h('div', { class: 'muted' }, 'No customer holds this record.'),
  );
}

function candidateRow(row) {
  const c = row.node;
  const owners = row.owners;
  const same = owners?.a && owners?.b && owners.a.id === owners.b.id;
  const actions =
    c.status === 'OPEN'
      ? h(
          'div',
          { class: 'decide' },
          h('button', { type: 'button', class: 'primary', dataset: { decision: 'LINK' }, disabled: row.busy, onclick: () => decide(row, 'LINK') }, 'Link'),
          h('button', { type: 'button', class: 'secondary', dataset: { decision: 'DISTINCT' }, disabled: row.busy, onclick: () => decide(row, 'DISTINCT') }, 'Keep apart'),
        )
      : null;
  return h(
    'tr',
    { dataset: { candidate: c.id, status: c.status }, class: row.updated ? 'updated' : undefined },
    h('td', { class: 'score' }, h('b', {}, String(c.score))),
    h('td', { class: 'evidence' }, h('ul', { class: 'rules' }, ...c.rules.map((r) => h('li', { dataset: { rule: r.name, weight: String(r.weight) } }, h('code', {}, r.name), ' ', h('span', { class: r.weight < 0 ? 'weight negative' : 'weight' }, r.weight > 0 ? `+${r.weight}` : String(r.weight)))))),
    ownerCell(row, c.records[0], owners?.a),
    ownerCell(row, c.records[1], owners?.b),
    h(
      'td',
      { class: 'decision' },
      statusBadge(c.status),
      same ? h('div', { class: 'muted same' }, 'One customer now') : null,
      actions,
      row.error ? errorBox(row.error.what, row.error.err) : null,
    ),
  );
}

function renderReview() {
  const body = $('#review-rows');
  body.replaceChildren(...review.rows.map(candidateRow));
  const n = review.rows.length;
  $('#review-table').hidden = n === 0;
  $('#review-empty').hidden = n !== 0 || $('#review-list').dataset.state === 'error';
  $('#review-more').hidden = !review.hasNextPage;
  $('#review-count').textContent = n ? `${n} ${review.status} candidate${n === 1 ? '' : 's'} shown${review.hasNextPage ? ' · more available' : ''}` : '';
  $('#review-note').textContent = STATUS_NOTES[review.status];
}

function redrawRow(row) {
  const old = document.querySelector(`#review-rows tr[data-candidate="${CSS.escape(row.node.id)}"]`);
  if (old) old.replaceWith(candidateRow(row));
}

/** Loads candidates of the chosen status: from the top, or the next page after the last one shown. */
async function loadCandidates({ more = false } = {}) {
  const seq = more ? review.seq : ++review.seq;
  const list = $('#review-list');
  list.dataset.state = 'loading';
  $('#review-error').replaceChildren();
  $('#review-more').disabled = true;
  try {
    await ensureSystems().catch(() => undefined);
    const data = await ask(CANDIDATES_QUERY, { status: review.status, first: PAGE_SIZE, after: more ? review.endCursor : null });
    if (seq !== review.seq) return;
    const conn = data.matchCandidates;
    const seen = new Set(more ? review.rows.map((r) => r.node.id) : []);
    const rows = conn.edges.map((e) => ({ node: e.node, owners: null, ownersError: null, error: null, busy: false })).filter((r) => !seen.has(r.node.id));
    review.rows = more ? [...review.rows, ...rows] : rows;
    review.endCursor = conn.pageInfo.endCursor;
    review.hasNextPage = conn.pageInfo.hasNextPage;
    renderReview();
    await Promise.all(rows.map(loadOwners));
    if (seq !== review.seq) return;
    renderReview();
    list.dataset.state = review.rows.length ? 'ready' : 'empty';
  } catch (e) {
    if (seq !== review.seq) return;
    list.dataset.state = 'error';
    $('#review-error').replaceChildren(errorBox('The gateway did not list the candidates', e));
    renderReview();
  } finally {
    $('#review-more').disabled = false;
  }
}

/** LINK or DISTINCT on one candidate; its row then shows the status the gateway answered and the customers as they are now. */
async function decide(row, decision) {
  if (row.busy) return;
  row.busy = true;
  row.error = null;
  redrawRow(row);
  try {
    const data = await ask(RESOLVE_MUTATION, { id: row.node.id, decision });
    row.node = data.resolveMatch;
    row.updated = true;
    await loadOwners(row);
  } catch (e) {
    row.error = { what: decision === 'LINK' ? 'Link was refused' : 'Keep apart was refused', err: e };
  } finally {
    row.busy = false;
    redrawRow(row);
  }
}

function setStatus(status) {
  review.status = status;
  for (const b of document.querySelectorAll('[data-match-status]')) b.setAttribute('aria-pressed', String(b.dataset.matchStatus === status));
  return loadCandidates();
}

/** Opens the review view; the first time, loads the open candidates. */
export function showReview() {
  if (review.started) return;
  review.started = true;
  void loadCandidates();
}

// ---------------------------------------------------------------- one customer

const lookup = { seq: 0, customer: null, message: null };

function renderCustomer(customer, { notFound } = {}) {
  const box = $('#customer-result');
  lookup.customer = customer;
  if (!customer) {
    box.dataset.state = 'missing';
    box.replaceChildren(h('p', { class: 'empty', id: 'customer-missing' }, notFound));
    return;
  }
  box.dataset.state = 'ready';
  box.dataset.customer = customer.id;
  const only = customer.records.length === 1;
  box.replaceChildren(
    h('div', { class: 'customer-head' }, h('h2', {}, 'Customer ', h('code', { id: 'customer-id' }, customer.id)), h('span', { class: 'muted' }, `${customer.records.length} record${only ? '' : 's'}`)),
    lookup.message,
    h(
      'table',
      { id: 'customer-records' },
      h('thead', {}, h('tr', {}, h('th', {}, 'System'), h('th', {}, 'Native id'), h('th', {}, 'Read by canon'), h('th', {}, ''))),
      h(
        'tbody',
        {},
        ...customer.records.map((r) =>
          h(
            'tr',
            { dataset: { system: r.system, native: r.nativeId, primary: String(r.primary) } },
            h('td', {}, systemBadge(r.system)),
            h('td', {}, h('code', {}, r.nativeId)),
            h('td', {}, r.primary ? 'primary' : h('span', { class: 'muted' }, 'duplicate')),
            h(
              'td',
              { class: 'unlink-cell' },
              h('button', { type: 'button', class: 'secondary unlink', disabled: only, title: only ? "The customer's only record: there is nothing to unlink it from" : 'Makes this record a customer of its own; the matcher keeps it apart from then on', onclick: (e) => unlink(r, e.currentTarget) }, 'Unlink'),
            ),
          ),
        ),
      ),
    ),
  );
}

/** Looks a customer up by canon id (`{ id }`) or by a system's native id (`{ system, nativeId }`) and shows its records. */
async function openCustomer(target, { keepMessage = false } = {}) {
  const seq = ++lookup.seq;
  const box = $('#customer-result');
  box.hidden = false;
  box.dataset.state = 'loading';
  if (!keepMessage) lookup.message = null;
  try {
    await ensureSystems().catch(() => undefined);
    const customer = target.id
      ? (await ask(CUSTOMER_QUERY, { id: target.id })).customer
      : (await ask(BY_SOURCE_QUERY, { system: target.system, id: target.nativeId })).customerBySourceId;
    if (seq !== lookup.seq) return;
    renderCustomer(customer, { notFound: target.id ? `No customer has the id ${target.id}.` : `No customer holds the ${target.system} record ${target.nativeId}.` });
  } catch (e) {
    if (seq !== lookup.seq) return;
    box.dataset.state = 'error';
    box.replaceChildren(errorBox('The gateway did not answer the lookup', e));
  }
}

/**
 * Unlinks one record; shows the customer it is now, then the looked-up customer as it is without it, read through a
 * record that stayed: the unlinked record may take the shown customer's id with it (the id it had before a merge).
 */
async function unlink(record, button) {
  const shown = lookup.customer;
  button.disabled = true;
  button.textContent = 'Unlinking…';
  try {
    const data = await ask(UNLINK_MUTATION, { system: record.system, nativeId: record.nativeId });
    const now = data.unlinkRecord;
    lookup.message = h(
      'p',
      { class: 'unlink-result ok', id: 'unlink-result', role: 'status', dataset: { customer: now.id } },
      `Unlinked ${systemLabel(record.system)} ${record.nativeId}: it is now customer `,
      customerLink(now.id),
      now.records.length > 1 ? [' with ', ...now.records.filter((r) => refOf(r) !== refOf(record)).map(recordChip)] : ' on its own',
      '.',
    );
    const stayed = shown.records.find((r) => refOf(r) !== refOf(record));
    await openCustomer(stayed ? { system: stayed.system, nativeId: stayed.nativeId } : { id: shown.id }, { keepMessage: true });
  } catch (e) {
    button.disabled = false;
    button.textContent = 'Unlink';
    $('#unlink-result')?.remove();
    button.closest('td').append(errorBox('Unlink was refused', e));
  }
}

/** Opens the customers view, on the customer the hash names (`#customer=<id>`) when it names one. */
export function showCustomers(id) {
  if (!id) return;
  $('#lookup-id').value = id;
  void openCustomer({ id });
}

// ---------------------------------------------------------------- wiring

/** Wires both views; `systems` resolves once the served model's systems are known (their colours and names). */
export function setupReview({ systems }) {
  ensureSystems = systems;
  for (const b of document.querySelectorAll('[data-match-status]')) b.addEventListener('click', () => setStatus(b.dataset.matchStatus));
  $('#review-refresh').addEventListener('click', () => loadCandidates());
  $('#review-more').addEventListener('click', () => loadCandidates({ more: true }));
  $('#lookup-by-id').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = $('#lookup-id').value.trim();
    if (!id) return;
    // Through the hash, so Back and a reload land on the same customer.
    const hash = `#customer=${encodeURIComponent(id)}`;
    if (location.hash === hash) void openCustomer({ id });
    else location.hash = hash;
  });
  $('#lookup-by-source').addEventListener('submit', (e) => {
    e.preventDefault();
    const nativeId = $('#lookup-native').value.trim();
    if (!nativeId) return;
    void openCustomer({ system: $('#lookup-system').value, nativeId });
  });
}
