// The identity matcher's public API: what the sync workflows and the review operations use; nothing else is for import.

export { Matcher, matchAll, refOf } from './matcher.js';
export { DEFAULT_WEIGHTS, VETO_RULES, type PairEvidence } from './rules.js';
export { fromCrmContact, fromErpPartner, fromMarketingMember, fromSupportOrganization } from './adapters.js';
export type { ErpPartnerForMatching, SupportOrganizationForMatching } from './adapters.js';
export { toKeys, blockingKeys, type MatchKeys } from './keys.js';
export type {
  Candidate, Cluster, Decision, Edge, Link, MatchChange, MatcherOptions, MatchInput, MatchResult, Ref, RuleHit, RuleName,
  RuleWeights,
} from './types.js';
