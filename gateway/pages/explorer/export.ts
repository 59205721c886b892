// The review export of the canonical model as Markdown and CSV, computed from the same dataModel() value the gateway serves.

import type { DataModel } from '../../../schema/data-model.js';

export type { DataModel };
type ModelType = DataModel['types'][number];
type ModelField = ModelType['fields'][number];

/** One canonical field as a review row; `field` is `Type.field`, the spelling used everywhere in canon (mapsTo, errors). */
export interface ModelRow {
  field: string;
  type: string;
  meaning: string;
  owner: string;
  sourceField: string;
  writable: boolean;
  validation: string;
}

/** Every field of every object type, once, in the order the model declares them. Enums have values, not fields. */
export function modelRows(dm: DataModel): ModelRow[] {
  return dm.types.flatMap((t: ModelType) =>
    t.kind === 'object'
      ? t.fields.map((f: ModelField) => ({
          field: `${t.name}.${f.name}`,
          type: f.type,
          meaning: f.description,
          owner: f.owner,
          sourceField: f.sourceField,
          writable: f.writable,
          validation: f.validation ?? '',
        }))
      : [],
  );
}

export const CSV_COLUMNS = ['field', 'type', 'meaning', 'owner', 'source field', 'writable', 'validation'] as const;

/**
 * Spreadsheets run a cell starting with = + - @ as a formula; a model text that ever starts so is shown, not run.
 * (Nothing in the model does today, so the export equals dataModel exactly.)
 */
function defuseFormula(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
}

/** RFC 4180: quote a cell holding a comma, quote or line break (or edge spaces a spreadsheet would trim), doubling inner quotes. */
function csvCell(value: string): string {
  const cell = defuseFormula(value);
  return /[",\r\n]|^\s|\s$/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

/** One row per canonical field, CRLF line ends as RFC 4180 and Excel expect. */
export function modelCsv(dm: DataModel): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of modelRows(dm)) {
    lines.push([r.field, r.type, r.meaning, r.owner, r.sourceField, r.writable ? 'yes' : 'no', r.validation].map(csvCell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** A table cell: pipes would end the cell and line breaks the row. */
function mdCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** Inline code, except where the text holds a backtick that would close the span early. */
function mdCode(text: string): string {
  if (!text) return '';
  return text.includes('`') ? mdCell(text) : `\`${mdCell(text)}\``;
}

function mdTable(head: string[], rows: string[][]): string[] {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

/**
 * The model for a review meeting: a section per object type with one table row per field (`Type.field` in the first
 * column, exactly once in the document), the enums with their native values, and each system's native record with
 * what every native field feeds.
 */
export function modelMarkdown(dm: DataModel): string {
  const rows = modelRows(dm);
  const owners = [...new Set(rows.map((r) => r.owner))];
  const out: string[] = [
    '# canon data model',
    '',
    `Generated from the gateway's \`dataModel\`: ${rows.length} canonical fields across ${dm.types.filter((t) => t.kind === 'object').length} object types. ` +
      `Owners: ${owners.map((o) => `\`${o}\` (${rows.filter((r) => r.owner === o).length})`).join(', ')}. ` +
      'Each field is read from, and written only to, its owner; "writable" says whether apps may change it through canon.',
    '',
  ];

  for (const t of dm.types.filter((t) => t.kind === 'object')) {
    out.push(`## ${t.name}`, '', `${mdCell(t.description)} Default owner: \`${t.owner}\`.`, '');
    out.push(
      ...mdTable(
        ['Field', 'Type', 'Meaning', 'Owner', 'Source field', 'Writable', 'Validation'],
        rows
          .filter((r) => r.field.startsWith(`${t.name}.`))
          .map((r) => [mdCode(r.field), mdCode(r.type), mdCell(r.meaning), r.owner, mdCode(r.sourceField), r.writable ? 'yes' : 'no', mdCell(r.validation)]),
      ),
      '',
    );
  }

  const enums = dm.types.filter((t) => t.kind === 'enum');
  if (enums.length) {
    out.push('## Enumerations', '');
    for (const t of enums) {
      out.push(`### ${t.name}`, '', `${mdCell(t.description)} Owner: \`${t.owner}\`; native field: ${mdCode(t.sourceField ?? '')}.`, '');
      out.push(...mdTable(['Value', 'Meaning', 'Native value'], t.values.map((v) => [mdCode(v.name), mdCell(v.description), v.sourceValue === '' ? '(empty)' : mdCode(v.sourceValue)])), '');
    }
  }

  if (dm.systems.length) {
    out.push('## Native records', '', 'What each system holds and which canonical fields each native field feeds. "not exposed": data the system has that canon does not serve.', '');
    for (const s of dm.systems) {
      out.push(`### ${s.system}: ${s.record}`, '', `${mdCell(s.api)}.`, '');
      out.push(...mdTable(['Native field', 'Meaning', 'Feeds'], s.fields.map((f) => [mdCode(f.name), mdCell(f.description), f.mapsTo.length ? f.mapsTo.join(', ') : '*not exposed*'])), '');
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}
