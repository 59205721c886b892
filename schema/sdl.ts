// GraphQL input types derived from the canonical model: what apps may write, and the version tokens they send back.

import { MODEL, SYSTEMS, type CanonicalModel } from './model.js';
import { customerFields, objectTypes, resolvedFields } from './ownership.js';

function block(text: string): string {
  return `"""${text.replaceAll('"""', '\\"""')}"""`;
}

/**
 * `input UpdateCustomerInput` with exactly the writable Customer fields (each described with its owner and rule),
 * plus the input types those fields need and `ExpectedVersionsInput`. Nothing here is written by hand.
 */
export function writeInputsSDL(model: CanonicalModel = MODEL): string {
  const writable = [...customerFields(model).values()].filter((f) => f.writable);
  const nested = new Set(writable.filter((f) => f.inputType).map((f) => f.type.replace(/[!\[\]]/g, '')));
  const parts: string[] = [];
  parts.push(block('The Customer fields apps may change. Each is written only to its owning system; fields of several owners are split into one write per owner.'));
  parts.push('input UpdateCustomerInput {');
  for (const f of writable) {
    parts.push(`  ${block(`${f.description} Owner: ${f.owner}. ${f.validation ?? ''}`.trim())}`);
    parts.push(`  ${f.name}: ${(f.inputType ?? f.type).replace(/!$/, '')}`);
  }
  parts.push('}');
  for (const t of objectTypes(model).filter((o) => nested.has(o.name))) {
    parts.push(block(`${t.description} (input form; replaces the whole value).`));
    parts.push(`input ${t.name}Input {`);
    for (const f of resolvedFields(t).filter((x) => x.writable)) {
      parts.push(`  ${block(f.description)}`);
      parts.push(`  ${f.name}: ${f.type}`);
    }
    parts.push('}');
  }
  parts.push(block("The version tokens an app read (crmVersion, erpVersion, …). A write to an owner whose record changed since is refused with STALE_WRITE."));
  parts.push('input ExpectedVersionsInput {');
  for (const s of SYSTEMS) parts.push(`  ${s}: String`);
  parts.push('}');
  return parts.join('\n');
}
