// The identity matcher: native records in, customers (clusters) and review candidates out, kept up to date record by record.
//
// Guarantee: after any sequence of `apply`, `remove` and `decide`, the state equals what `matchAll` computes from the
// records and decisions present then (tested). A change re-scores only the records it touched (plus the members of a
// block that crossed a size that matters) and re-clusters only the components of the link graph they lie in.

import { BlockIndex } from './blocking.js';
import { clusterRegion, type LinkOffer } from './cluster.js';
import { blockingKeys, organisationBlock, refOf, toKeys, type MatchKeys } from './keys.js';
import { DEFAULT_WEIGHTS, scorePair, type PairEvidence, type ScoringContext } from './rules.js';
import type { Candidate, Cluster, Decision, Edge, Link, MatchChange, MatcherOptions, MatchInput, MatchResult, Ref } from './types.js';

interface Entry {
  keys: MatchKeys;
  blocks: string[];
}

const byRef = (x: Ref, y: Ref) => (x < y ? -1 : x > y ? 1 : 0);
const pairOf = (x: Ref, y: Ref): [Ref, Ref] => (x < y ? [x, y] : [y, x]);

export class Matcher {
  readonly linkThreshold: number;
  readonly reviewThreshold: number;
  private readonly scoring: ScoringContext;
  private readonly index: BlockIndex;
  private readonly entries = new Map<Ref, Entry>();
  /** Kept edges, both directions: pairs that could link, could be reviewed, or veto. */
  private readonly edges = new Map<Ref, Map<Ref, Edge>>();
  /** Reviewers' decisions, both directions; they may name records not (yet) present. */
  private readonly decisions = new Map<Ref, Map<Ref, Decision>>();
  private readonly clusterOf = new Map<Ref, Cluster>();
  /** Open candidates by the pair of cluster ids they join (`x|y`, x < y), and those keys by either cluster id. */
  private readonly candidates = new Map<string, Candidate>();
  private readonly candidatesOf = new Map<string, Set<string>>();

  constructor(options: MatcherOptions = {}) {
    this.linkThreshold = options.linkThreshold ?? 10;
    this.reviewThreshold = options.reviewThreshold ?? 7;
    if (!(this.reviewThreshold <= this.linkThreshold)) {
      throw new RangeError(`reviewThreshold must not exceed linkThreshold, got review ${this.reviewThreshold} and link ${this.linkThreshold}`);
    }
    const maxBlockSize = options.maxBlockSize ?? 60;
    const rareOrganisationMax = options.rareOrganisationMax ?? 5;
    this.index = new BlockIndex(maxBlockSize, (key) => (key.startsWith('o:') ? [rareOrganisationMax] : []));
    this.scoring = {
      weights: { ...DEFAULT_WEIGHTS, ...options.weights },
      organisationCount: (k) => (k.organisation ? this.index.size(organisationBlock(k.organisation)) : 0),
      rareOrganisationMax,
    };
  }

  get size(): number {
    return this.entries.size;
  }

  /** Adds records, or replaces those already present under the same system and native id. */
  apply(inputs: MatchInput | readonly MatchInput[]): MatchChange {
    const list = Array.isArray(inputs) ? (inputs as readonly MatchInput[]) : [inputs as MatchInput];
    const changed = new Set<Ref>();
    const crossed: string[] = [];
    for (const input of list) {
      const keys = toKeys(input);
      const blocks = blockingKeys(keys);
      const old = this.entries.get(keys.ref);
      if (old) {
        const kept = new Set(blocks);
        crossed.push(...this.index.remove(keys.ref, old.blocks.filter((b) => !kept.has(b))));
      }
      const had = new Set(old?.blocks ?? []);
      crossed.push(...this.index.add(keys.ref, blocks.filter((b) => !had.has(b))));
      this.entries.set(keys.ref, { keys, blocks });
      changed.add(keys.ref);
    }
    return this.update(changed, crossed, []);
  }

  /** Removes records; each of their clusters is re-formed from the records left. */
  remove(refs: Ref | readonly Ref[]): MatchChange {
    const list = typeof refs === 'string' ? [refs] : refs;
    const crossed: string[] = [];
    const gone: Ref[] = [];
    for (const ref of list) {
      const entry = this.entries.get(ref);
      if (!entry) continue;
      crossed.push(...this.index.remove(ref, entry.blocks));
      this.entries.delete(ref);
      gone.push(ref);
    }
    return this.update(new Set(), crossed, gone);
  }

  /** Records a reviewer's decision on a pair (null withdraws it); it holds from then on, and for records added later. */
  decide(a: Ref, b: Ref, decision: Decision | null): MatchChange {
    if (a === b) throw new RangeError(`a decision needs two different records, got ${a} twice`);
    for (const [x, y] of [[a, b], [b, a]] as const) {
      if (decision) {
        if (!this.decisions.has(x)) this.decisions.set(x, new Map());
        this.decisions.get(x)!.set(y, decision);
      } else this.decisions.get(x)?.delete(y);
    }
    return this.update(new Set(), [], [], [a, b]);
  }

  /** Every cluster and open candidate, sorted: the same for the same records and decisions, however they arrived. */
  snapshot(): MatchResult {
    const clusters = [...new Set(this.clusterOf.values())].sort((x, y) => byRef(x.id, y.id));
    const candidates = [...this.candidates.values()].sort((x, y) => byRef(x.id, y.id));
    return { clusters, candidates };
  }

  cluster(ref: Ref): Cluster | undefined {
    return this.clusterOf.get(ref);
  }

  /** The evidence for any two records present, blocked together or not: what a reviewer asks for. */
  explain(a: Ref, b: Ref): PairEvidence {
    const [ea, eb] = [this.entries.get(a), this.entries.get(b)];
    if (!ea || !eb) throw new RangeError(`no record ${ea ? b : a}`);
    return scorePair(ea.keys, eb.keys, this.scoring);
  }

  // One change, from what it touched to what it did. `changed`: records added or replaced; `crossed`: blocks whose
  // members need re-scoring; `gone`: records removed; `decided`: records a decision names.
  private update(changed: Set<Ref>, crossed: string[], gone: Ref[], decided: Ref[] = []): MatchChange {
    const rescore = new Set(changed);
    for (const key of crossed) for (const ref of this.index.members(key)) rescore.add(ref);
    const seeds = new Set<Ref>([...rescore, ...decided]);
    const oldClusters = new Set<Cluster>();
    for (const ref of [...rescore, ...gone, ...decided]) {
      for (const other of this.edges.get(ref)?.keys() ?? []) seeds.add(other);
      const cluster = this.clusterOf.get(ref);
      if (cluster) oldClusters.add(cluster);
    }
    for (const cluster of oldClusters) for (const ref of cluster.records) seeds.add(ref);
    for (const ref of [...rescore, ...gone]) this.dropEdges(ref);
    const scored = new Set<Ref>();
    for (const ref of rescore) this.scoreEdges(ref, scored);

    const region = this.region(seeds);
    for (const ref of region) {
      const cluster = this.clusterOf.get(ref);
      if (cluster) oldClusters.add(cluster);
    }
    const { clusters } = clusterRegion(region, this.offers(region), (r) => this.vetoesOf(r), (r) => this.distinctOf(r));
    for (const ref of gone) this.clusterOf.delete(ref);
    for (const cluster of clusters) for (const ref of cluster.records) this.clusterOf.set(ref, cluster);
    return this.diff([...oldClusters], clusters, this.updateCandidates(oldClusters, region));
  }

  private dropEdges(ref: Ref): void {
    for (const other of this.edges.get(ref)?.keys() ?? []) this.edges.get(other)?.delete(ref);
    this.edges.delete(ref);
  }

  /** Scores `ref` against its neighbours but those in `scored` (whose pairs with it this change scored already). */
  private scoreEdges(ref: Ref, scored: Set<Ref>): void {
    scored.add(ref);
    const entry = this.entries.get(ref);
    if (!entry) return;
    for (const other of this.index.neighbours(ref, entry.blocks)) {
      if (scored.has(other)) continue;
      const [a, b] = pairOf(ref, other);
      const evidence = scorePair(this.entries.get(a)!.keys, this.entries.get(b)!.keys, this.scoring);
      if (evidence.score < this.reviewThreshold && !evidence.veto) {
        this.edges.get(ref)?.delete(other);
        this.edges.get(other)?.delete(ref);
        continue;
      }
      const edge: Edge = { a, b, ...evidence };
      for (const [x, y] of [[a, b], [b, a]] as const) {
        if (!this.edges.has(x)) this.edges.set(x, new Map());
        this.edges.get(x)!.set(y, edge);
      }
    }
  }

  private linksAcross(edge: Edge): boolean {
    return !edge.veto && edge.score >= this.linkThreshold;
  }

  private decidedLinks(ref: Ref): Ref[] {
    const out: Ref[] = [];
    for (const [other, d] of this.decisions.get(ref) ?? []) if (d === 'LINK' && this.entries.has(other)) out.push(other);
    return out;
  }

  /** The records reachable from `seeds` over links and reviewers' LINKs: whole components of the link graph. */
  private region(seeds: Iterable<Ref>): Set<Ref> {
    const region = new Set<Ref>();
    const queue = [...seeds].filter((r) => this.entries.has(r));
    while (queue.length > 0) {
      const ref = queue.pop()!;
      if (region.has(ref)) continue;
      region.add(ref);
      for (const [other, edge] of this.edges.get(ref) ?? []) if (this.linksAcross(edge) && !region.has(other)) queue.push(other);
      for (const other of this.decidedLinks(ref)) if (!region.has(other)) queue.push(other);
    }
    return region;
  }

  private offers(region: Set<Ref>): LinkOffer[] {
    const offers: LinkOffer[] = [];
    for (const ref of region) {
      for (const [other, edge] of this.edges.get(ref) ?? []) {
        if (ref === edge.a && this.linksAcross(edge) && this.decisions.get(ref)?.get(other) !== 'DISTINCT') offers.push({ ...edge, decided: false });
      }
      for (const other of this.decidedLinks(ref)) {
        if (ref > other) continue;
        const evidence = this.explain(ref, other);
        offers.push({ a: ref, b: other, ...evidence, decided: true });
      }
    }
    return offers;
  }

  private *vetoesOf(ref: Ref): Iterable<Ref> {
    for (const [other, edge] of this.edges.get(ref) ?? []) if (edge.veto) yield other;
    yield* this.distinctOf(ref);
  }

  private *distinctOf(ref: Ref): Iterable<Ref> {
    for (const [other, d] of this.decisions.get(ref) ?? []) if (d === 'DISTINCT') yield other;
  }

  private keptApart(x: Cluster, y: Cluster): boolean {
    const [small, other] = x.records.length <= y.records.length ? [x, y] : [y, x];
    for (const ref of small.records) for (const v of this.distinctOf(ref)) if (this.clusterOf.get(v) === other) return true;
    return false;
  }

  /** Drops the candidates of the clusters a change replaced and finds those of the region's new clusters. */
  private updateCandidates(oldClusters: Set<Cluster>, region: Set<Ref>): { added: Candidate[]; removed: Candidate[] } {
    const removed: Candidate[] = [];
    for (const cluster of oldClusters) {
      for (const key of this.candidatesOf.get(cluster.id) ?? []) {
        const candidate = this.candidates.get(key);
        if (!candidate) continue;
        removed.push(candidate);
        this.candidates.delete(key);
        for (const id of candidate.clusters) this.candidatesOf.get(id)?.delete(key);
      }
      this.candidatesOf.delete(cluster.id);
    }
    const found = new Map<string, Candidate>();
    for (const ref of region) {
      const here = this.clusterOf.get(ref)!;
      for (const [other, edge] of this.edges.get(ref) ?? []) {
        const there = this.clusterOf.get(other);
        if (!there || there === here || edge.score < this.reviewThreshold) continue;
        const [x, y] = here.id < there.id ? [here, there] : [there, here];
        const key = `${x.id}|${y.id}`;
        const best = found.get(key);
        const id = `${edge.a}|${edge.b}`;
        if (best && (best.score > edge.score || (best.score === edge.score && best.id <= id))) continue;
        found.set(key, { id, score: edge.score, rules: edge.rules, records: [edge.a, edge.b], clusters: [x.id, y.id], refused: this.linksAcross(edge) });
      }
    }
    const added: Candidate[] = [];
    for (const [key, candidate] of found) {
      const [x, y] = [this.clusterOf.get(candidate.clusters[0] as Ref)!, this.clusterOf.get(candidate.clusters[1] as Ref)!];
      if (this.keptApart(x, y)) continue;
      this.candidates.set(key, candidate);
      for (const id of candidate.clusters) {
        if (!this.candidatesOf.has(id)) this.candidatesOf.set(id, new Set());
        this.candidatesOf.get(id)!.add(key);
      }
      added.push(candidate);
    }
    return cancel(removed, added, (c) => JSON.stringify(c));
  }

  private diff(before: Cluster[], after: Cluster[], candidates: { added: Candidate[]; removed: Candidate[] }): MatchChange {
    const clusters = cancel(before, after, (c) => JSON.stringify(c));
    const linkKey = (l: Link) => JSON.stringify(l);
    const links = cancel(before.flatMap((c) => c.links), after.flatMap((c) => c.links), linkKey);
    return { clusters: { added: clusters.added, removed: clusters.removed }, links, candidates };
  }
}

/** What is in `after` and not `before` (added), and the reverse (removed), by a key. */
function cancel<T>(before: T[], after: T[], key: (t: T) => string): { added: T[]; removed: T[] } {
  const was = new Set(before.map(key));
  const is = new Set(after.map(key));
  return { added: after.filter((t) => !was.has(key(t))), removed: before.filter((t) => !is.has(key(t))) };
}

/** Matches a whole set at once: the clusters and candidates an incremental matcher reaches with the same records. */
export function matchAll(inputs: readonly MatchInput[], options?: MatcherOptions, decisions: readonly [Ref, Ref, Decision][] = []): MatchResult {
  const matcher = new Matcher(options);
  for (const [a, b, d] of decisions) matcher.decide(a, b, d);
  matcher.apply(inputs);
  return matcher.snapshot();
}

export { refOf };
