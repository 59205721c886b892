// The console's match review: the pairs of records canon's matcher could not decide, with their evidence, for an operator to link or keep apart; and a customer's linked records, each of which can be unlinked (undoing a merge). Everything goes through /graphql with the operator's key (admin).

import { $, graphql, h, OWNERS_QUERY, systemBadge, systemLabel } from './shared/page.js';

const PAGE_SIZE = 20;

const RECORD = 'records { system nativeId primary }';
const CANDIDATES = `query ReviewCandidates($status: MatchStatus, $first: Int, $after: String) {
  matchCandidates(status: $status, first: $first, after: $after) {
    edges { cursor node { id score status rules { name weight } records { system nativeId } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const RESOLVE = `mutation ReviewResolve($id: ID!, $decision: MatchDecision!) { resolveMatch(id: $id, decision: $decision) { id status } }`;
const UNLINK = `mutation ReviewUnlink($system: System!, $nativeId: ID!) { unlinkRecord(system: $system, nativeId: $nativeId) { id ${RECORD} } }`;
const BY_ID = `query ReviewCustomer($id: ID!) { customer(id: $id) { id ${RECORD} } }`;
const BY_SOURCE = `query ReviewCustomerBySource($system: System!, $id: ID!) { customerBySourceId(system: $system, id: $id) { id ${RECORD} } }`;

const review = { status: 'OPEN', after: null, shown: 0 };

/** One query for the customers of every record on a page of candidates: aliases r0, r1, … */
function customersQuery(records) {
  const vars = records.map((_, i) => `$s${i}: System!, $i${i}: ID!`).join(', ');
  const fields = records.map((_, i) => `r${i}: customerBySourceId(system: $s${i}, id: $i${i}) { id ${RECORD} }`).join('\n  ');
  const variables = Object.fromEntries(records.flatMap((r, i) => [[`s${i}`, r.system], [`i${i}`, r.nativeId]]));
  return { query: `query ReviewRecordCustomers(${vars}) {\n  ${fields}\n}`, variables };
}

function showError(where, err) {
  const box = $(where);
  box.textContent = err.message;
  box.hidden = false;
}

function clearError(where) {
  $(where).hidden = true;
}

const recordLabel = (r) => h('span', { class: 'record', dataset: { system: r.system, native: r.nativeId } }, systemBadge(r.system, { class: 'sys' }), ' ', h('code', {}, r.nativeId));

/** A record of a candidate, with the customer it belongs to now and that customer's other records. */
function recordCell(record, customer) {
  const others = customer ? customer.records.filter((r) => !(r.system === record.system && r.nativeId === record.nativeId)) : [];
  return h(
    'td',
    { class: 'candidate-record' },
    recordLabel(record),
    customer
      ? h('div', { class: 'belongs', dataset: { customer: customer.id } }, 'in ', h('code', {}, customer.id), others.length ? h('span', { class: 'muted' }, ` with ${others.map((r) => `${r.system.toLowerCase()} ${r.nativeId}`).join(', ')}`) : h('span', { class: 'muted' }, ' alone'))
      : h('div', { class: 'muted' }, 'in no customer'),
  );
}

function candidateRow(c, customers) {
  const row = h(
    'tr',
    { dataset: { candidate: c.id, status: c.status } },
    h('td', { class: 'score' }, c.score.toFixed(1)),
    h('td', { class: 'evidence' }, h('ul', {}, ...c.rules.map((r) => h('li', { dataset: { rule: r.name } }, h('code', {}, r.name), ' ', h('span', { class: r.weight < 0 ? 'weight against' : 'weight' }, `${r.weight > 0 ? '+' : ''}${r.weight}`))))),
    recordCell(c.records[0], customers[0]),
    recordCell(c.records[1], customers[1]),
    h('td', { class: 'decision' }),
  );
  renderDecision(row, c.status);
  return row;
}

function renderDecision(row, status) {
  row.dataset.status = status;
  const cell = row.querySelector('td.decision');
  if (status !== 'OPEN') {
    cell.replaceChildren(h('span', { class: 'status', dataset: { status } }, status));
    return;
  }
  cell.replaceChildren(
    h('button', { type: 'button', class: 'primary link-button', title: 'One customer: link the two records', onclick: () => decide(row, 'LINK') }, 'Link'),
    ' ',
    h('button', { type: 'button', class: 'secondary distinct-button', title: 'Two customers: never link them', onclick: () => decide(row, 'DISTINCT') }, 'Keep apart'),
  );
}

async function decide(row, decision) {
  clearError('#review-error');
  for (const b of row.querySelectorAll('button')) b.disabled = true;
  try {
    const data = await graphql(RESOLVE, { id: row.dataset.candidate, decision });
    renderDecision(row, data.resolveMatch.status);
  } catch (e) {
    for (const b of row.querySelectorAll('button')) b.disabled = false;
    showError('#review-error', e);
  }
}

/** Loads a page of candidates of the chosen status: the first (replacing the table), or the next. */
async function loadCandidates({ more = false } = {}) {
  clearError('#review-error');
  const section = $('#review');
  section.dataset.state = 'loading';
  try {
    const data = await graphql(CANDIDATES, { status: review.status, first: PAGE_SIZE, after: more ? review.after : null });
    const nodes = data.matchCandidates.edges.map((e) => e.node);
    const records = nodes.flatMap((n) => n.records);
    const lookup = customersQuery(records);
    const found = records.length ? await graphql(lookup.query, lookup.variables) : {};
    const rows = nodes.map((n, i) => candidateRow(n, [found[`r${2 * i}`], found[`r${2 * i + 1}`]]));
    if (more) $('#review-rows').append(...rows);
    else $('#review-rows').replaceChildren(...rows);
    review.after = data.matchCandidates.pageInfo.endCursor;
    review.shown = (more ? review.shown : 0) + nodes.length;
    $('#review-more').hidden = !data.matchCandidates.pageInfo.hasNextPage;
    $('#review-empty').hidden = review.shown > 0;
    $('#review-count').textContent = `Showing ${review.shown} ${review.status.toLowerCase()} candidate${review.shown === 1 ? '' : 's'}`;
    section.dataset.state = 'loaded';
  } catch (e) {
    section.dataset.state = 'error';
    showError('#review-error', e);
  }
}

function setStatus(status) {
  review.status = status;
  for (const b of document.querySelectorAll('[data-review-status]')) b.setAttribute('aria-pressed', String(b.dataset.reviewStatus === status));
  void loadCandidates();
}

/** A customer's records, each with Unlink. */
function renderCustomer(customer, note) {
  const box = $('#customer-result');
  if (!customer) {
    box.dataset.state = 'none';
    box.replaceChildren(h('p', { class: 'muted' }, 'No such customer.'));
    return;
  }
  box.dataset.state = 'loaded';
  box.dataset.customer = customer.id;
  box.replaceChildren(
    h('p', {}, 'Customer ', h('code', { id: 'customer-id' }, customer.id), note ? h('span', { class: 'muted', id: 'customer-note' }, ` — ${note}`) : null),
    h(
      'ul',
      { id: 'customer-records' },
      ...customer.records.map((r) =>
        h(
          'li',
          { dataset: { system: r.system, native: r.nativeId, primary: String(r.primary) } },
          recordLabel(r),
          r.primary ? h('span', { class: 'muted' }, ' primary') : h('span', { class: 'muted' }, ' duplicate'),
          ' ',
          customer.records.length > 1 ? h('button', { type: 'button', class: 'secondary unlink-button', title: 'Take this record out of the customer: it becomes a customer of its own', onclick: () => unlink(r) }, 'Unlink') : null,
        ),
      ),
    ),
  );
}

async function unlink(record) {
  clearError('#customer-error');
  try {
    const data = await graphql(UNLINK, { system: record.system, nativeId: record.nativeId });
    const left = await graphql(BY_ID, { id: $('#customer-result').dataset.customer });
    renderCustomer(left.customer, `${record.system.toLowerCase()} ${record.nativeId} is now customer ${data.unlinkRecord.id}`);
  } catch (e) {
    showError('#customer-error', e);
  }
}

async function lookUp(e) {
  e.preventDefault();
  clearError('#customer-error');
  const id = $('#lookup-id').value.trim();
  const system = $('#lookup-system').value;
  try {
    const data = system ? await graphql(BY_SOURCE, { system, id }) : await graphql(BY_ID, { id });
    renderCustomer(system ? data.customerBySourceId : data.customer);
  } catch (err) {
    showError('#customer-error', err);
  }
}

/** The lookup's systems, from the served model: a record is found by `<system> id`. */
async function loadLookupSystems() {
  try {
    const data = await graphql(OWNERS_QUERY, {});
    $('#lookup-system').append(...data.dataModel.systems.map((s) => h('option', { value: s.system.toUpperCase() }, `${systemLabel(s.system)} id`)));
  } catch (e) {
    showError('#customer-error', e);
  }
}

function init() {
  if (!$('#review')) return;
  void loadLookupSystems();
  for (const b of document.querySelectorAll('[data-review-status]')) b.addEventListener('click', () => setStatus(b.dataset.reviewStatus));
  $('#review-more').addEventListener('click', () => loadCandidates({ more: true }));
  $('#customer-lookup').addEventListener('submit', lookUp);
  void loadCandidates();
}

init();
