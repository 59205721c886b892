// The ERP sandbox's OData `$filter` parser: the small subset of OData v4 filter expressions the sandbox answers, and a refusal naming that subset for anything else.

import { ERP_PROPERTIES } from './store.js';
import type { ErpCondition, ErpProperty } from './store.js';

const PROPERTY_SET = new Set<string>(ERP_PROPERTIES);

type Token = { kind: 'ident'; text: string } | { kind: 'string'; text: string } | { kind: 'punct'; text: string } | { kind: 'datetime'; text: string };

/** An OData DateTimeOffset literal, written bare: 2026-01-01T00:00:00Z, with optional fraction and offset. */
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})/;
/** The comparison operators the sandbox answers besides eq and in. */
const COMPARISONS = new Set(['gt', 'ge', 'lt', 'le']);

/** Private: tokenizes the small `$filter` subset; returns an error message for anything else. */
function tokenize(filter: string): Token[] | string {
  const tokens: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const ch = filter[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ kind: 'punct', text: ch });
      i++;
    } else if (ch === "'") {
      // OData escapes a quote inside a string literal by doubling it.
      let text = '';
      i++;
      for (;;) {
        if (i >= filter.length) return 'unterminated string literal in $filter';
        if (filter[i] === "'") {
          if (filter[i + 1] === "'") {
            text += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        text += filter[i];
        i++;
      }
      tokens.push({ kind: 'string', text });
    } else if (DATETIME.test(filter.slice(i))) {
      const text = DATETIME.exec(filter.slice(i))![0];
      tokens.push({ kind: 'datetime', text });
      i += text.length;
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(filter.slice(i));
      if (!m) return `unexpected character ${JSON.stringify(ch)} at position ${i} in $filter`;
      tokens.push({ kind: 'ident', text: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

const FILTER_CONTRACT =
  "the sandbox supports only `<Property> eq '<value>'`, `<Property> in ('a','b',...)`, `<Property> gt|ge|lt|le <value>` (a quoted string, or a DateTimeOffset such as 2026-01-01T00:00:00Z) and `and` between them";

/** Parses `$filter` into conditions ANDed together; returns an error message on anything outside the subset. */
export function parseFilter(filter: string): ErpCondition[] | string {
  const tokens = tokenize(filter);
  if (typeof tokens === 'string') return tokens;
  const conditions: ErpCondition[] = [];
  let i = 0;
  const expectString = (): string | null => {
    const t = tokens[i];
    if (t?.kind !== 'string') return null;
    i++;
    return t.text;
  };
  for (;;) {
    const prop = tokens[i++];
    if (prop?.kind !== 'ident' || !PROPERTY_SET.has(prop.text)) {
      return `expected a BusinessPartner property at token ${i} of $filter; ${FILTER_CONTRACT}`;
    }
    const op = tokens[i++];
    if (op?.kind === 'ident' && op.text === 'eq') {
      const value = expectString();
      if (value === null) return `expected a quoted string after "${prop.text} eq"; ${FILTER_CONTRACT}`;
      conditions.push({ property: prop.text as ErpProperty, op: 'eq', value });
    } else if (op?.kind === 'ident' && op.text === 'in') {
      if (tokens[i]?.text !== '(' || tokens[i]?.kind !== 'punct') return `expected "(" after "${prop.text} in"`;
      i++;
      const values: string[] = [];
      for (;;) {
        const value = expectString();
        if (value === null) return `expected a quoted string in the "in" list of ${prop.text}`;
        values.push(value);
        const sep = tokens[i++];
        if (sep?.kind === 'punct' && sep.text === ',') continue;
        if (sep?.kind === 'punct' && sep.text === ')') break;
        return `expected "," or ")" in the "in" list of ${prop.text}`;
      }
      conditions.push({ property: prop.text as ErpProperty, op: 'in', values });
    } else if (op?.kind === 'ident' && COMPARISONS.has(op.text)) {
      const t = tokens[i++];
      if (t?.kind !== 'string' && t?.kind !== 'datetime') return `expected a quoted string or a DateTimeOffset after "${prop.text} ${op.text}"; ${FILTER_CONTRACT}`;
      let value = t.text;
      if (prop.text === 'LastChangeDateTime') {
        // Stored as toISOString() text, so a comparison of normalised text is a comparison of instants.
        const ms = Date.parse(t.text);
        if (Number.isNaN(ms)) return `${JSON.stringify(t.text)} is not a DateTimeOffset`;
        value = new Date(ms).toISOString();
      }
      conditions.push({ property: prop.text as ErpProperty, op: op.text as 'gt' | 'ge' | 'lt' | 'le', value });
    } else {
      return `unsupported operator ${JSON.stringify(op?.text ?? '')}; ${FILTER_CONTRACT}`;
    }
    if (i === tokens.length) return conditions;
    const and = tokens[i++];
    if (and?.kind !== 'ident' || and.text !== 'and') {
      return `expected "and" or end of $filter, got ${JSON.stringify(and?.text)}; ${FILTER_CONTRACT}`;
    }
  }
}
