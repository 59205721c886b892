// Control subgraph resolvers: the canonical model as data.

import { MODEL } from '../../schema/model.js';
import { resolvedFields } from '../../schema/ownership.js';

export function dataModel() {
  return {
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
              owner: f.owner,
              description: f.description,
              sourceField: f.sourceField,
              writable: f.writable,
              validation: f.validation ?? null,
            })),
          },
    ),
  };
}

export const resolvers = {
  Query: { dataModel },
};
