// The canonical model as data: what `dataModel` serves, and what the explorer and its review export are built from.

import { MODEL, SYSTEM_RECORDS } from './model.js';
import { readScopeOf, resolvedFields, writeScopeOf } from './ownership.js';

/**
 * Every canonical type with its fields (owner resolved, optional texts as null) or enum values, and each system's
 * native record with what every native field feeds. Takes no arguments, so it serves as the `Query.dataModel`
 * resolver as it is.
 */
export function dataModel() {
  return {
    systems: SYSTEM_RECORDS.map((r) => ({ ...r, fields: r.fields.map((f) => ({ ...f, mapsTo: f.mapsTo ?? [] })) })),
    types: MODEL.types.map((t) =>
      t.kind === 'enum'
        ? { name: t.name, kind: t.kind, description: t.description, owner: t.owner, sourceField: t.sourceField, fields: [], values: t.values.map((v) => ({ name: v.name, description: v.description, sourceValue: v.source })) }
        : {
            name: t.name,
            kind: t.kind,
            description: t.description,
            owner: t.owner,
            sourceField: null,
            values: [],
            fields: resolvedFields(t).map((f) => ({
              name: f.name,
              type: f.type,
              args: f.args ?? null,
              owner: f.owner,
              description: f.description,
              sourceField: f.sourceField,
              writable: f.writable,
              validation: f.validation ?? null,
              scope: readScopeOf(f.owner),
              writeScope: f.writable && f.owner !== 'identity' ? writeScopeOf(f.owner) : null,
              copies: (f.copies ?? []).map((c) => ({ system: c.system, sourceField: c.sourceField, policy: c.policy ?? 'REPORT' })),
            })),
          },
    ),
  };
}

/** The value `dataModel` answers with. */
export type DataModel = ReturnType<typeof dataModel>;
