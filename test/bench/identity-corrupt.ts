// The identity bench's corruptions, FEBRL-style: typos, transpositions, missing values, and the ways systems re-type one value.

import libphonenumber from 'google-libphonenumber';

const util = libphonenumber.PhoneNumberUtil.getInstance();
const PNF = libphonenumber.PhoneNumberFormat;

/** The seeded draws a generator makes; one PRNG, so one seed replays every choice. */
export interface Draw {
  next(): number;
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  digits(n: number): string;
}

export function drawer(next: () => number): Draw {
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
    digits: (n) => Array.from({ length: n }, () => String(int(0, 9))).join(''),
  };
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
// Keys next to each other on a QWERTY keyboard: what a slipped finger types instead.
const NEIGHBOURS: Record<string, string> = {
  a: 'qsz', b: 'vgn', c: 'xdv', d: 'sfe', e: 'wrd', f: 'dgr', g: 'fht', h: 'gjy', i: 'uok', j: 'hku', k: 'jli', l: 'ko',
  m: 'nj', n: 'bmh', o: 'ipl', p: 'ol', q: 'wa', r: 'etf', s: 'adw', t: 'ryg', u: 'yij', v: 'cbf', w: 'qes', x: 'zsc',
  y: 'tuh', z: 'xa',
};

const keepCase = (orig: string, ch: string) => (orig === orig.toUpperCase() && orig !== orig.toLowerCase() ? ch.toUpperCase() : ch);

/** One typo at a letter not the first (people rarely mistype the first letter): a neighbour key, an extra or a lost letter. */
export function typo(d: Draw, s: string): string {
  const positions = [...s].map((c, i) => (i > 0 && /\p{L}/u.test(c) ? i : -1)).filter((i) => i >= 0);
  if (positions.length === 0) return s;
  const i = d.pick(positions);
  const c = s[i]!;
  switch (d.int(0, 2)) {
    case 0: return s.slice(0, i) + keepCase(c, d.pick([...(NEIGHBOURS[c.toLowerCase()] ?? LETTERS)])) + s.slice(i + 1);
    case 1: return s.slice(0, i) + keepCase(c, d.pick([...LETTERS])) + s.slice(i);
    default: return s.slice(0, i) + s.slice(i + 1);
  }
}

/** Two adjacent letters swapped ("Schmidt" → "Schmdit"), never the first. */
export function transpose(d: Draw, s: string): string {
  const positions = [...s].map((c, i) => (i > 0 && i < s.length - 1 && /\p{L}/u.test(c) && /\p{L}/u.test(s[i + 1]!) && c !== s[i + 1] ? i : -1)).filter((i) => i >= 0);
  if (positions.length === 0) return s;
  const i = d.pick(positions);
  return s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2);
}

/** An address as data entry types it: capitalised parts, all capitals, surrounding or stray spaces. */
export function messyEmail(d: Draw, email: string): string {
  const [local, domain] = email.split('@') as [string, string];
  const cased = d.chance(0.5)
    ? local.split('.').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('.') + '@' + domain
    : d.chance(0.3) ? email.toUpperCase() : email;
  return d.pick([` ${cased}`, `${cased} `, cased, cased.replace('@', ' @')]);
}

/** The ways one legal form is written ("GmbH", "G.m.b.H.", "Gmbh"), the first being the registered one. */
export const LEGAL_FORM_VARIANTS: Record<string, string[]> = {
  GmbH: ['GmbH', 'G.m.b.H.', 'Gmbh', 'GMBH'],
  AG: ['AG', 'A.G.'],
  'GmbH & Co. KG': ['GmbH & Co. KG', 'GmbH & Co KG', 'GmbH und Co. KG'],
  SARL: ['SARL', 'S.A.R.L.', 'Sarl'],
  SAS: ['SAS', 'S.A.S.'],
  SA: ['SA', 'S.A.'],
  Ltd: ['Ltd', 'Ltd.', 'Limited'],
  PLC: ['PLC', 'plc', 'Public Limited Company'],
  LLP: ['LLP', 'L.L.P.'],
  'Inc.': ['Inc.', 'Inc', 'Incorporated'],
  LLC: ['LLC', 'L.L.C.'],
  'Corp.': ['Corp.', 'Corporation', 'Corp'],
  'B.V.': ['B.V.', 'BV'],
  'N.V.': ['N.V.', 'NV'],
  'S.L.': ['S.L.', 'SL'],
  'S.A.': ['S.A.', 'SA'],
  'S.r.l.': ['S.r.l.', 'Srl', 'SRL'],
  'S.p.A.': ['S.p.A.', 'SpA', 'SPA'],
  AB: ['AB', 'Aktiebolag'],
};

/** A valid number of `country`, drawn from its common geographic ranges, or null after a few invalid draws. */
export function drawPhone(d: Draw, country: string): libphonenumber.PhoneNumber | null {
  const national: Record<string, () => string> = {
    DE: () => d.pick(['30', '40', '89', '69', '221']) + String(d.int(2, 9)) + d.digits(6),
    FR: () => String(d.int(1, 5)) + d.digits(8),
    GB: () => d.pick(['20', '161', '121', '113']) + (d.chance(0.5) ? '7' : '3') + d.digits(6),
    US: () => d.pick(['415', '212', '312', '617', '206', '512', '303', '404']) + String(d.int(2, 9)) + d.digits(2) + d.digits(4),
    NL: () => d.pick(['20', '10', '30']) + String(d.int(2, 9)) + d.digits(6),
    ES: () => d.pick(['91', '93', '96']) + String(d.int(2, 8)) + d.digits(6),
    IT: () => d.pick(['02', '06']) + d.digits(8),
    SE: () => '8' + String(d.int(2, 7)) + d.digits(6),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    const digits = national[country]!();
    try {
      const parsed = util.parse(`+${util.getCountryCodeForRegion(country)}${digits}`, country);
      if (util.isValidNumber(parsed)) return parsed;
    } catch {
      // an invalid draw: draw again
    }
  }
  return null;
}

/** The number as people type it: E.164, international, national, with 00, without spaces, with dashes. */
export function formatPhone(d: Draw, n: libphonenumber.PhoneNumber): string {
  const e164 = util.format(n, PNF.E164);
  switch (d.int(0, 5)) {
    case 0: return e164;
    case 1: return util.format(n, PNF.INTERNATIONAL);
    case 2: return util.format(n, PNF.NATIONAL);
    case 3: return '00' + e164.slice(1);
    case 4: return util.format(n, PNF.NATIONAL).replace(/[^\d+]/g, '');
    default: return util.format(n, PNF.INTERNATIONAL).replace(/ /g, '-');
  }
}

/** A tax id as an ERP clerk may have typed it: as registered, spaced, lower case, or without the country prefix. */
export function messyTaxId(d: Draw, taxId: string): string {
  switch (d.int(0, 5)) {
    case 0: return taxId.replace(/^([A-Z]{2})(\d{3})(\d{3})/, '$1 $2 $3 ');
    case 1: return taxId.toLowerCase();
    case 2: return /^[A-Z]{2}\d/.test(taxId) ? taxId.slice(2) : taxId;
    default: return taxId;
  }
}
