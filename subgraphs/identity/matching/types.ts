// The matcher's vocabulary: what goes in (one native record, as typed), what comes out (clusters, links, review candidates).
//
// Terms:
//   ref       — `<system>:<nativeId>`, the one name of a native record inside the matcher.
//   rule      — a named, weighted piece of evidence about a pair of records; a pair's score is the sum of its rules' weights.
//   edge      — a scored pair of records that share a block; kept when it could link, could be reviewed, or forbids a link.
//   veto      — an edge (or a DISTINCT decision) saying two records are different customers; no cluster ever holds both.
//   link      — an edge the clustering accepted: it joined two clusters.
//   cluster   — the records the matcher says are one customer; its id is its smallest ref.
//   candidate — two clusters whose best edge scored between the review and link thresholds (or was refused by a veto).

import type { SystemName } from '../../../schema/model.js';

/** One native record in the matcher's terms: what a system holds about a customer, as typed there. Absent means unknown. */
export interface MatchInput {
  system: SystemName;
  nativeId: string;
  /** canon's own id written back into the system (`canon_external_id`, `ExternalID`, `external_id`). */
  externalId?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  /** As typed; parsed to E.164 with `country` as the region for national formats. */
  phone?: string | null;
  /** The organisation's name as this system holds it: a trade name ("Acme") or a legal name ("ACME Holdings GmbH"). */
  organisation?: string | null;
  taxId?: string | null;
  /** ISO 3166-1 alpha-2 or alpha-3 code, or an English country name. */
  country?: string | null;
  postalCode?: string | null;
  city?: string | null;
  /** Email domains the organisation uses (Zendesk's `domain_names`). */
  domains?: readonly string[] | null;
}

export type Ref = string;

/** One piece of evidence about a pair, as served in `matchCandidates { rules { name weight } }`. */
export interface RuleHit {
  name: RuleName;
  weight: number;
}

export type RuleName =
  | 'externalId' | 'taxId' | 'taxIdDiffers' | 'email' | 'roleEmail' | 'emailSimilar' | 'emailDomain' | 'organisationDomain' | 'phone'
  | 'name' | 'nameSimilar' | 'nameDiffers' | 'organisation' | 'rareOrganisation' | 'organisationSimilar'
  | 'organisationContained' | 'organisationDiffers' | 'country' | 'countryDiffers' | 'postalCode' | 'city';

/** The weight of every rule; a rule with weight 0 still shows in the evidence (e.g. `roleEmail`: seen, and ignored). */
export type RuleWeights = Record<RuleName, number>;

/** A scored pair: a < b, score = the sum of the rules' weights; `veto` when a rule says they are different customers. */
export interface Edge {
  a: Ref;
  b: Ref;
  score: number;
  rules: RuleHit[];
  veto: boolean;
}

/** A reviewer's decision on a pair: LINK joins their clusters, DISTINCT keeps them apart for good. */
export type Decision = 'LINK' | 'DISTINCT';

/** A link the clustering accepted; `decided` when a reviewer's LINK made it. */
export interface Link {
  a: Ref;
  b: Ref;
  score: number;
  rules: RuleHit[];
  decided: boolean;
}

/** The records the matcher says are one customer, with the links that joined them (a spanning tree). */
export interface Cluster {
  /** The smallest ref among its records. */
  id: string;
  records: Ref[];
  links: Link[];
}

/** Two clusters that may be one customer: the best edge between them, for a reviewer to decide. */
export interface Candidate {
  /** `<a>|<b>` of the pair that carries the evidence. */
  id: string;
  score: number;
  rules: RuleHit[];
  records: [Ref, Ref];
  clusters: [string, string];
  /** True when the pair scored above the link threshold but a veto elsewhere in the two clusters refused the link. */
  refused: boolean;
}

export interface MatchResult {
  clusters: Cluster[];
  candidates: Candidate[];
}

/** What one change did: clusters, links and candidates that are new or gone (a changed cluster is one gone, one new). */
export interface MatchChange {
  clusters: { added: Cluster[]; removed: Cluster[] };
  links: { added: Link[]; removed: Link[] };
  candidates: { added: Candidate[]; removed: Candidate[] };
}

export interface MatcherOptions {
  /** Rule weights, merged over `DEFAULT_WEIGHTS`. */
  weights?: Partial<RuleWeights>;
  /** A pair scoring at least this links automatically. Default 10. */
  linkThreshold?: number;
  /**
   * A pair scoring at least this (and below `linkThreshold`) becomes a review candidate. Default 7: a person's name
   * and country alone (6) are shared by too many strangers in a large set to be worth a reviewer's time.
   */
  reviewThreshold?: number;
  /**
   * Blocks with more records than this are not used to find pairs (a stop-word for blocking), so one common value
   * cannot make the cost quadratic. Default 60.
   */
  maxBlockSize?: number;
  /** An organisation name carried by at most this many records is rare enough for `rareOrganisation`. Default 5. */
  rareOrganisationMax?: number;
}
