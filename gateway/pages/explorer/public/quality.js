// The explorer's data-quality view: dataQuality from /graphql, as disagreements by field (owner's value against each differing copy), drift (copies changed in their own system) and issues (values canon cannot normalise).
// Loaded when its tab is first opened; needs an app key with quality:read (or admin).

import { $, h, post, systemBadge } from './shared/page.js';

const PAGE = 50;

const SUMMARY_QUERY = `query ExplorerQualitySummary { dataQuality { summary { field owner disagreements } } }`;
const DISAGREEMENTS_QUERY = `query ExplorerDisagreements($field: String, $first: Int, $after: String) {
  dataQuality { disagreements(field: $field, first: $first, after: $after) {
    edges { node { customer { id } field owner ownerValue copies { system sourceField value } } }
    pageInfo { hasNextPage endCursor } totalCount } }
}`;
const ISSUES_QUERY = `query ExplorerIssues($first: Int, $after: String) {
  dataQuality { issues(first: $first, after: $after) {
    edges { node { kind system nativeId field rawValue message } }
    pageInfo { hasNextPage endCursor } totalCount } }
}`;

const DRIFT_QUERY = `query ExplorerDrift($first: Int, $after: String) {
  dataQuality { drift(first: $first, after: $after) {
    edges { cursor node { customer { id } field system sourceField copyValue ownerValue seenAt } }
    pageInfo { hasNextPage endCursor } totalCount } }
}`;

const state = { loaded: false, field: null, after: null, issuesAfter: null, driftAfter: null };

const badge = (system) => systemBadge(system.toLowerCase(), { dataset: { owner: system.toLowerCase() } });

/** The answer's data, or throws with the errors' messages and codes (FORBIDDEN without quality:read). */
async function ask(query, variables) {
  const { body } = await post(query, variables);
  if (body.errors?.length) throw new Error(body.errors.map((e) => `${e.message}${e.extensions?.code ? ` (${e.extensions.code})` : ''}`).join('; '));
  return body.data.dataQuality;
}

function showError(where, e) {
  $(where).replaceChildren(h('p', { class: 'empty error' }, `Could not read dataQuality: ${e.message}`));
}

function renderSummary(summary) {
  const total = summary.reduce((n, s) => n + s.disagreements, 0);
  const chip = (field, label, count, owner) =>
    h('button', { type: 'button', class: 'chip', dataset: { field: field ?? 'all', count: String(count) }, 'aria-pressed': String(state.field === field), onclick: () => selectField(field) }, owner ? badge(owner) : null, ` ${label} `, h('b', {}, String(count)));
  $('#quality-fields').replaceChildren(chip(null, 'All fields', total), ...summary.map((s) => chip(s.field, s.field, s.disagreements, s.owner)));
}

function disagreementRow(d) {
  return h(
    'tr',
    { dataset: { customer: d.customer.id, field: d.field } },
    h('td', { class: 'field' }, h('code', {}, d.customer.id)),
    h('td', {}, h('code', {}, d.field)),
    h('td', { class: 'owner-value' }, badge(d.owner), ' ', h('span', { class: 'value' }, d.ownerValue)),
    h(
      'td',
      { class: 'copies' },
      ...d.copies.map((c) => h('div', { class: 'copy', dataset: { system: c.system.toLowerCase() } }, badge(c.system), ' ', h('span', { class: 'value' }, c.value), ' ', h('code', { class: 'source-field' }, c.sourceField))),
    ),
  );
}

async function loadDisagreements(append) {
  const tbody = $('#quality-disagreements tbody');
  if (!append) {
    state.after = null;
    tbody.replaceChildren();
  }
  try {
    const dq = await ask(DISAGREEMENTS_QUERY, { field: state.field, first: PAGE, after: state.after });
    const conn = dq.disagreements;
    tbody.append(...conn.edges.map((e) => disagreementRow(e.node)));
    state.after = conn.pageInfo.endCursor;
    $('#quality-more').hidden = !conn.pageInfo.hasNextPage;
    $('#quality-count').textContent = `Showing ${tbody.children.length} of ${conn.totalCount} disagreements`;
    $('#quality-disagreements').dataset.state = 'loaded';
  } catch (e) {
    showError('#quality-disagreements-note', e);
  }
}

async function loadIssues(append) {
  const tbody = $('#quality-issues tbody');
  try {
    const dq = await ask(ISSUES_QUERY, { first: PAGE, after: append ? state.issuesAfter : null });
    const conn = dq.issues;
    if (!append) tbody.replaceChildren();
    tbody.append(
      ...conn.edges.map(({ node: i }) =>
        h('tr', { dataset: { kind: i.kind, system: i.system.toLowerCase(), native: i.nativeId } }, h('td', {}, h('code', {}, i.kind)), h('td', {}, badge(i.system), ' ', h('code', {}, i.nativeId)), h('td', {}, h('code', {}, i.field)), h('td', { class: 'raw' }, h('code', {}, i.rawValue)), h('td', {}, i.message)),
      ),
    );
    state.issuesAfter = conn.pageInfo.endCursor;
    $('#quality-issues-more').hidden = !conn.pageInfo.hasNextPage;
    $('#quality-issues-count').textContent = `${conn.totalCount} values canon serves as null`;
    $('#quality-issues').dataset.state = 'loaded';
  } catch (e) {
    showError('#quality-issues-note', e);
  }
}

function driftRow(d) {
  return h(
    'tr',
    { dataset: { customer: d.customer.id, field: d.field, system: d.system.toLowerCase() } },
    h('td', { class: 'field' }, h('code', {}, d.customer.id)),
    h('td', {}, h('code', {}, d.field)),
    h('td', { class: 'copy-value' }, badge(d.system), ' ', h('span', { class: 'value' }, d.copyValue ?? '(cleared)'), ' ', h('code', { class: 'source-field' }, d.sourceField)),
    h('td', { class: 'owner-value' }, h('span', { class: 'value' }, d.ownerValue ?? '')),
    h('td', {}, h('time', { datetime: d.seenAt }, new Date(d.seenAt).toLocaleString())),
  );
}

async function loadDrift(append) {
  const tbody = $('#quality-drift tbody');
  try {
    const dq = await ask(DRIFT_QUERY, { first: PAGE, after: append ? state.driftAfter : null });
    const conn = dq.drift;
    if (!append) tbody.replaceChildren();
    tbody.append(...conn.edges.map((e) => driftRow(e.node)));
    state.driftAfter = conn.pageInfo.endCursor;
    $('#quality-drift-more').hidden = !conn.pageInfo.hasNextPage;
    $('#quality-drift-count').textContent = `${conn.totalCount} copies changed outside canon`;
    $('#quality-drift').dataset.state = 'loaded';
  } catch (e) {
    showError('#quality-drift-note', e);
  }
}

function selectField(field) {
  state.field = field;
  for (const c of document.querySelectorAll('#quality-fields .chip')) c.setAttribute('aria-pressed', String(c.dataset.field === (field ?? 'all')));
  return loadDisagreements(false);
}

/** Loads the view once; opening the tab again keeps what was shown. */
export async function loadQuality() {
  if (state.loaded) return;
  state.loaded = true;
  $('#quality-more').addEventListener('click', () => loadDisagreements(true));
  $('#quality-issues-more').addEventListener('click', () => loadIssues(true));
  $('#quality-drift-more').addEventListener('click', () => loadDrift(true));
  try {
    renderSummary((await ask(SUMMARY_QUERY, {})).summary);
  } catch (e) {
    showError('#quality-fields', e);
    return;
  }
  await Promise.all([loadDisagreements(false), loadDrift(false), loadIssues(false)]);
}
