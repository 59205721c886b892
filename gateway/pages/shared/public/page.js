// What canon's pages share: building elements, the one way they talk to /graphql (with the app key the operator gives, kept for the tab only), the page header, and the systems' names and colours as the model serves them.
// Served under each page's prefix (/explorer/shared/page.js, /console/shared/page.js), so every page keeps its same-origin policy.

export const ENDPOINT = '/graphql';

/** Builds an element; children may be strings (always inserted as text, never parsed as HTML), nodes, arrays or null. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    // Through the CSSOM, not a style attribute, so pages whose policy has no 'unsafe-inline' styles may use it too.
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

export const $ = (sel) => document.querySelector(sel);

// ---------------------------------------------------------------- the app key

/**
 * The pages call /graphql as an app, like any other: with a key the operator types in. It is kept in sessionStorage
 * (this tab, until it closes), never in localStorage, a cookie or the URL, and sent only as `Authorization: Bearer`.
 */
const KEY_ITEM = 'canon.appKey';

export function appKey() {
  try {
    return sessionStorage.getItem(KEY_ITEM);
  } catch {
    return null;
  }
}

function authorization() {
  const key = appKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}

/**
 * Shows the key form below the header, saying why: the gateway's reason when it refused the request (`refused`: a
 * key was sent), or, opened from the header's button, which key the tab sends. Saving stores the key for this tab
 * and reloads the page, which then starts over with it.
 */
export function askForKey(reason, refused) {
  let form = $('#key-form');
  if (!form) {
    const input = h('input', { type: 'password', id: 'key-input', autocomplete: 'off', spellcheck: 'false', placeholder: 'canon_…', 'aria-label': 'App key', required: true });
    form = h(
      'form',
      { id: 'key-form', class: 'key-form', 'aria-label': 'App key' },
      h('p', { id: 'key-reason', role: 'alert' }),
      h('div', { class: 'key-row' }, input, h('button', { type: 'submit', class: 'primary', id: 'key-save' }, 'Use key'), appKey() ? h('button', { type: 'button', class: 'secondary', id: 'key-forget', onclick: forgetKey }, 'Forget key') : null),
      h('p', { class: 'muted' }, 'Kept in this tab only (sessionStorage) and sent as Authorization: Bearer. `npm run apps -- create NAME --scopes …` makes a key; a fresh checkout has one in data/dev-key.'),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const key = input.value.trim();
      if (!key) return;
      sessionStorage.setItem(KEY_ITEM, key);
      location.reload();
    });
    $('header.top').after(form);
  }
  form.hidden = false;
  const state = refused === undefined ? 'change' : refused ? 'refused' : 'missing';
  form.dataset.state = state;
  $('#key-reason').textContent = {
    refused: `The gateway refused this page's key: ${reason}`,
    missing: `This page reads canon through /graphql as an app: enter an app key. ${reason ?? ''}`.trim(),
    change: appKey() ? 'This tab sends the key you gave; enter another to use that one instead.' : 'This tab sends no key yet: enter one.',
  }[state];
  $('#key-input').focus();
  if (state === 'refused' && $('#key-button')) $('#key-button').textContent = 'Key refused';
}

function forgetKey() {
  sessionStorage.removeItem(KEY_ITEM);
  location.reload();
}

// ---------------------------------------------------------------- /graphql

/** A failure a page can explain: the gateway did not answer (`unreachable`), or it answered with GraphQL errors (`code`). */
export class RequestError extends Error {
  constructor(message, { unreachable = false, code = null } = {}) {
    super(message);
    this.unreachable = unreachable;
    this.code = code;
  }
}

/**
 * Posts one operation and hands back the whole answer, errors included: `{ status, ms, body, json }`. A body that is
 * not JSON (a proxy's error page) comes back as one error in `body.errors` with `json: false`. Rejects with an
 * unreachable RequestError only when nothing answered. Every call updates the header's connection light.
 */
export async function post(query, variables, headers = {}) {
  const started = performance.now();
  let res;
  try {
    res = await fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...authorization(), ...headers },
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    setEndpoint(false);
    throw new RequestError(`${ENDPOINT} did not answer (${e.message}).`, { unreachable: true });
  }
  const text = await res.text();
  const ms = Math.round(performance.now() - started);
  try {
    const body = JSON.parse(text);
    setEndpoint(true);
    // The gateway answered, but not to this page without a (valid) key: say so where the key is entered.
    if (res.status === 401) askForKey(body.errors?.[0]?.message ?? 'no reason given.', appKey() !== null);
    return { status: res.status, ms, body, json: true };
  } catch {
    // A gateway shutting down or a proxy in between: for the page's purposes the gateway is not there.
    setEndpoint(false);
    return { status: res.status, ms, body: { errors: [{ message: `The gateway answered ${res.status} with a body that is not JSON: ${text.slice(0, 300)}` }] }, json: false };
  }
}

/** Posts one operation; resolves to its `data`, or rejects with a RequestError saying what went wrong and where. */
export async function graphql(query, variables, headers) {
  const { status, body, json } = await post(query, variables, headers);
  const first = body.errors?.[0];
  if (!json) throw new RequestError(first.message, { unreachable: status >= 500 });
  if (first) {
    const code = first.extensions?.code ?? null;
    throw new RequestError(`${first.message}${code ? ` (${code})` : ''}`, { code });
  }
  return body.data;
}

// ---------------------------------------------------------------- header

/** canon's pages, linked from every page's header. */
const PAGES = [
  { path: '/explorer', name: 'Schema explorer' },
  { path: '/console', name: 'Operations' },
];

/**
 * Completes the page's `header.top`: the brand (its subtitle from `data-subtitle`) before the page's own navigation,
 * links to canon's other pages and the connection light after it.
 */
export function mountHeader() {
  const top = $('header.top');
  const here = location.pathname.replace(/\/+$/, '') || '/';
  top.prepend(h('div', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, '◆'), h('span', { class: 'name' }, 'canon'), h('span', { class: 'sub' }, top.dataset.subtitle ?? '')));
  top.append(
    h('nav', { class: 'pages', 'aria-label': 'Pages' }, ...PAGES.map((p) => h('a', { href: p.path, 'aria-current': p.path === here ? 'page' : undefined }, p.name))),
    h('button', { type: 'button', class: 'key-button', id: 'key-button', title: 'The app key this tab sends to /graphql', onclick: () => askForKey() }, appKey() ? 'Key ✓' : 'Key'),
    h('div', { class: 'endpoint', id: 'endpoint', title: "Everything on this page is read from the gateway's /graphql" }, h('span', { class: 'dot' }), h('span', { id: 'endpoint-text' }, `connecting to ${ENDPOINT}…`)),
  );
}

/** The header's connection light: whether the gateway answered the page's latest request. */
export function setEndpoint(ok) {
  const el = $('#endpoint');
  if (!el) return;
  el.classList.toggle('ok', ok);
  el.classList.toggle('bad', !ok);
  $('#endpoint-text').textContent = ok ? `${ENDPOINT} · connected` : `${ENDPOINT} · unreachable`;
}

// ---------------------------------------------------------------- owners and systems

/** Enough of `dataModel` to know every owner in the order the model first names it. */
export const OWNERS_QUERY = `query PageOwners { dataModel { types { owner fields { owner } } systems { system } } }`;

/** Distinct, colour-blind-friendlier hues in a fixed order; owners take them in the order the model first names them. */
const PALETTE = ['#64748b', '#e8590c', '#1c7ed6', '#ae3ec9', '#2f9e44', '#0c8599', '#c2255c', '#5f3dc4', '#d9480f', '#2b8a3e'];
const colours = new Map();

/**
 * Every owner (identity, crm, erp, …) in the order the model first names it, and gives each its colour: every page
 * derives the order from the same served model, so a system has one colour on all of them.
 */
export function learnOwners(dm) {
  const seen = [];
  const add = (o) => o && !seen.includes(o) && seen.push(o);
  for (const t of dm.types) {
    add(t.owner);
    for (const f of t.fields ?? []) add(f.owner);
  }
  for (const s of dm.systems) add(s.system);
  colours.clear();
  seen.forEach((o, i) => colours.set(o, PALETTE[i % PALETTE.length]));
  return seen;
}

/** A system's colour, whichever spelling names it (lower case in the model, upper case in the System enum). */
export const colourOf = (system) => colours.get(String(system).toLowerCase()) ?? '#868e96';

/** crm → CRM, marketing → Marketing: system names as people say them, from either spelling. */
export function systemLabel(system) {
  const s = String(system).toLowerCase();
  return s.length <= 3 ? s.toUpperCase() : s[0].toUpperCase() + s.slice(1);
}

/** A system's badge in its colour; `attrs` adds the page's own class, title and data attributes. */
export function systemBadge(system, attrs = {}) {
  return h('span', { ...attrs, class: `owner ${attrs.class ?? ''}`.trim(), style: { '--c': colourOf(system) } }, systemLabel(system));
}
