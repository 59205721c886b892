// What canon's pages share: building elements, the one way they talk to /graphql, the page header, and the systems' names and colours as the model serves them.
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
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
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
