// Identity resolution over the store: the matcher kept in memory (rebuilt from the store on start), each change it makes written back as links between records and canonical customers; sync's records, reviewers' decisions, merges and unlinks.
//
// Terms:
//   cluster  — the records the matcher says are one customer (matching/types.ts); each live customer is one cluster.
//   assign   — giving each changed cluster a canonical id: the id most of its records had (so a customer keeps its
//              id as records join it), a customer it was merged from and is being unlinked again, or a new one.
//              An id left without records is retired into the customer that took them (`customer(id:)` follows).
//   sticky   — a linked record whose change makes it match nothing any more is kept with its customer (by a LINK
//              decision with reason `sticky`): canon never splits a customer on its own.
// Guarantees: every operation runs in one SQLite transaction (a record's snapshot, its link, the review
// candidates and the sync cursor land together or not at all); when one fails the matcher is rebuilt from the
// store, so memory never drifts from it. Operations are synchronous: two never interleave.

import { SYSTEMS, type SystemName } from '../../schema/model.js';
import { byNativeId, type IdentityStore, type MatchStatus } from './connector.js';
import { copyEvents, type PropagationEvent, type RecordChange } from './copies.js';
import { Matcher, refOf, type Cluster, type MatchChange, type MatcherOptions, type MatchInput, type Ref } from './matching/index.js';
import { inputOf, parseRef, ResolutionError, SKELETONS, type DeliveredRecord } from './records.js';

const now = () => new Date().toISOString();

export class IdentityResolution {
  private matcher!: Matcher;

  constructor(
    private readonly store: IdentityStore,
    private readonly options: MatcherOptions = {},
  ) {
    this.rebuild();
  }

  /** The matcher from the store's records and decisions; every cluster's link and every open candidate checked against it. */
  rebuild(): void {
    const matcher = new Matcher(this.options);
    for (const d of this.store.decisions()) matcher.decide(d.a, d.b, d.decision);
    const rows = this.store.allRecords();
    matcher.apply(rows.map((r) => inputOf(r.system, r.native_id, r.fields_json)));
    this.matcher = matcher;
    const { clusters, candidates } = matcher.snapshot();
    this.store.transaction(() => {
      this.assign(clusters);
      this.store.dropOpenCandidates();
      for (const c of candidates) this.store.openCandidate(c.id, c.score, c.rules, c.records[0], c.records[1], now());
    });
  }

  /**
   * Stores what a change feed delivered and links every record to a customer, together with the feed's cursor after
   * them (`complete`: the feed was read to its end, so a first full sync is done). A record delivered again unchanged
   * changes nothing but its `seen_at`.
   */
  applyRecords(system: SystemName, records: readonly DeliveredRecord[], cursor: string | null, complete: boolean): { changed: number; events: PropagationEvent[] } {
    const inputs = new Map<string, MatchInput>();
    for (const r of records) inputs.set(r.nativeId, inputOf(system, r.nativeId, r.fields));
    return this.run(() => {
      const at = now();
      const changed: MatchInput[] = [];
      const seenBefore: RecordChange[] = [];
      for (const r of records) {
        let before = this.store.record(system, r.nativeId)?.fields_json;
        // A record that moved in its system (a member whose address changed in Mailchimp) takes its old id's place
        // first, with the values it had, so that what changed on it is read as a change of that record.
        const former = before === undefined ? this.store.formerId(system, r.nativeId, r.fields) : null;
        if (former) {
          // (Only marketing members move, and their id is `id`.)
          before = JSON.stringify({ ...JSON.parse(this.store.record(system, former)!.fields_json), id: r.nativeId });
          this.moveIn(system, former, r.nativeId, before, at);
        }
        if (before === r.fields) {
          this.store.touchRecord(system, r.nativeId, at);
          continue;
        }
        if (before !== undefined) seenBefore.push({ nativeId: r.nativeId, before, after: r.fields }); // a first delivery is no change
        this.store.upsertRecord(system, r.nativeId, r.fields, at);
        changed.push(inputs.get(r.nativeId)!);
      }
      const unique = [...new Map(changed.map((c) => [c.nativeId, c])).values()];
      if (unique.length) {
        // Before the matcher sees the changes: one record each changed record shared its customer with.
        const mates = new Map<Ref, Ref>();
        for (const u of unique) {
          const ref = refOf(system, u.nativeId);
          const mate = this.matcher.cluster(ref)?.records.find((r) => r !== ref);
          if (mate) mates.set(ref, mate);
        }
        const changes = [this.matcher.apply(unique)];
        // Links are sticky: a record whose new values match its customer's other records no more (a copy's name edited
        // in its own system) stays with it; only unlinkRecord, or joining another customer's records, takes it away.
        for (const [ref, mate] of mates) {
          const now = this.matcher.cluster(ref);
          if (now && now.records.length === 1 && this.matcher.cluster(mate) !== now) changes.push(this.decide(ref, mate, 'LINK', 'sticky'));
        }
        this.commit(changes);
      }
      this.store.saveCursor(system, cursor, complete, records.length, at);
      return { changed: unique.length, events: copyEvents(this.store, this.store.copies, system, seenBefore, at) };
    });
  }

  /** Merges `merged` into `survivor`: its records move over, and the matcher holds them as one from then on. Answers the survivor's id. */
  merge(survivorId: string, mergedId: string): string {
    return this.run(() => {
      const survivor = this.live(survivorId);
      const merged = this.live(mergedId);
      if (survivor === merged) throw new ResolutionError('BAD_USER_INPUT', `${survivorId} and ${mergedId} are one customer (${survivor}) already`);
      const keep = this.refsOf(survivor);
      const moving = this.refsOf(merged);
      this.store.saveMerge(merged, survivor, moving, now());
      for (const ref of moving) {
        const r = parseRef(ref);
        this.store.setCustomer(r.system, r.nativeId, survivor);
      }
      this.store.retire(merged, survivor);
      const changes: MatchChange[] = [];
      const kept = new Set(keep);
      // A merge overrides earlier decisions that kept the two apart.
      for (const ref of moving) {
        for (const d of this.store.decisionsOf(ref)) {
          const other = d.a === ref ? d.b : d.a;
          if (d.decision === 'DISTINCT' && kept.has(other)) changes.push(this.decide(d.a, d.b, null, 'merge'));
        }
      }
      changes.push(this.decide(keep[0]!, moving[0]!, 'LINK', 'merge'));
      this.commit(changes);
      return this.customerOf(keep[0]!);
    });
  }

  /**
   * Unlinks a record from its customer: it becomes a customer of its own, together with the records it was merged in
   * with (so unlinking undoes a merge, giving back the merged customer's id); the matcher keeps them apart from then
   * on. Answers the record's customer.
   */
  unlink(system: SystemName, nativeId: string): string {
    return this.run(() => {
      const record = this.store.record(system, nativeId);
      if (!record?.customer_id) throw new ResolutionError('NOT_FOUND', `identity knows no ${system} record ${nativeId}`);
      const ref = refOf(system, nativeId);
      const cluster = this.matcher.cluster(ref)?.records ?? [ref];
      const merge = this.store.mergesInto(record.customer_id).find((m) => m.refs.includes(ref));
      const group = new Set(merge ? merge.refs.filter((r) => cluster.includes(r)) : [ref]);
      const apart = cluster.filter((r) => !group.has(r));
      const changes: MatchChange[] = [];
      for (const g of group) {
        for (const d of this.store.decisionsOf(g)) {
          const other = d.a === g ? d.b : d.a;
          if (d.decision === 'LINK' && !group.has(other)) changes.push(this.decide(d.a, d.b, null, 'unlink'));
        }
        for (const other of apart) changes.push(this.decide(g, other, 'DISTINCT', 'unlink'));
      }
      this.commit(changes);
      return this.customerOf(ref);
    });
  }

  /**
   * Links native records into one customer, as a workflow that just created them does (before their feeds deliver
   * them): the customer holding any of them, or a new one. Records not seen yet are stored with their id only, until
   * their feed brings them. Refused when they belong to different customers (merge those instead).
   */
  link(records: readonly { system: SystemName; nativeId: string }[]): string {
    if (!records.length) throw new ResolutionError('BAD_USER_INPUT', `identityLinkRecords needs at least one native record (${SYSTEMS.join(', ')}).`);
    return this.run(() => {
      const held = records.map((r) => ({ ...r, customer: this.store.record(r.system, r.nativeId)?.customer_id ?? null }));
      const customers = [...new Set(held.flatMap((r) => (r.customer ? [r.customer] : [])))];
      if (customers.length > 1) {
        const owners = held.filter((r) => r.customer).map((r) => `${r.system} ${r.nativeId} → ${r.customer}`).join(', ');
        throw new ResolutionError('BAD_USER_INPUT', `These records belong to different customers (${owners}); merge the customers instead of linking.`);
      }
      const at = now();
      const fresh = held.filter((r) => !r.customer).map((r) => {
        const fields = JSON.stringify(SKELETONS[r.system](r.nativeId));
        this.store.upsertRecord(r.system, r.nativeId, fields, at);
        return inputOf(r.system, r.nativeId, fields);
      });
      const changes: MatchChange[] = fresh.length ? [this.matcher.apply(fresh)] : [];
      const refs = records.map((r) => refOf(r.system, r.nativeId));
      for (const ref of refs.slice(1)) if (this.matcher.cluster(ref) !== this.matcher.cluster(refs[0]!)) changes.push(this.decide(refs[0]!, ref, 'LINK', 'merge'));
      this.commit(changes);
      return this.customerOf(refs[0]!);
    });
  }

  /**
   * A record whose native id changed in its system (a member moved to its new address's hash by propagation): `to`
   * takes the place of `from` in its customer, with its claims and drift; `changed` (JSON: its id, its address) is
   * set on the snapshot until the feed brings the record. Idempotent: once moved, `changed` is set again.
   */
  move(system: SystemName, from: string, to: string, changed: string): string {
    return this.run(() => {
      const old = this.store.record(system, from);
      const moved = this.store.record(system, to);
      const customer = old?.customer_id ?? moved?.customer_id;
      if (!customer) throw new ResolutionError('NOT_FOUND', `identity knows no ${system} record ${from}`);
      let fields: string;
      try {
        fields = JSON.stringify({ ...JSON.parse((moved ?? old)!.fields_json), ...JSON.parse(changed) });
      } catch {
        throw new ResolutionError('BAD_USER_INPUT', `${system} record ${from}: the changed fields must be a JSON object`);
      }
      const at = now();
      if (!old || from === to) {
        this.store.upsertRecord(system, to, fields, at);
        this.commit([this.matcher.apply([inputOf(system, to, fields)])]);
      } else this.moveIn(system, from, to, fields, at);
      return this.customerOf(refOf(system, to));
    });
  }

  /** Inside an operation: record `from` becomes `to` (snapshot `fields`), keeping its customer, decisions, claims and drift. */
  private moveIn(system: SystemName, from: string, to: string, fields: string, at: string): void {
    const customer = this.store.record(system, from)!.customer_id;
    const [fromRef, toRef] = [refOf(system, from), refOf(system, to)];
    const mate = this.matcher.cluster(fromRef)?.records.find((r) => r !== fromRef && r !== toRef);
    const changes: MatchChange[] = [];
    // Decisions that named the old id name the new one from now on.
    for (const d of this.store.decisionsOf(fromRef)) {
      const other = d.a === fromRef ? d.b : d.a;
      changes.push(this.decide(d.a, d.b, null, d.reason));
      if (other !== toRef) changes.push(this.decide(toRef, other, d.decision, d.reason));
    }
    changes.push(this.matcher.remove(fromRef));
    this.store.deleteRecord(system, from);
    this.store.copies.moveRecord(system, from, to);
    this.store.upsertRecord(system, to, fields, at);
    if (customer) this.store.setCustomer(system, to, customer);
    changes.push(this.matcher.apply([inputOf(system, to, fields)]));
    if (mate && this.matcher.cluster(toRef) !== this.matcher.cluster(mate)) changes.push(this.decide(toRef, mate, 'LINK', 'merge'));
    this.commit(changes);
  }

  /** A reviewer's decision on a candidate: LINK joins its two customers, DISTINCT keeps them apart for good. */
  resolve(candidateId: string, decision: 'LINK' | 'DISTINCT'): { id: string; status: MatchStatus } {
    return this.run(() => {
      const c = this.store.candidate(candidateId);
      if (!c) throw new ResolutionError('NOT_FOUND', `no match candidate ${candidateId}; candidates are named <refA>|<refB>, as matchCandidates lists them`);
      const status = decision === 'LINK' ? 'LINKED' : 'DISTINCT';
      // Closed before the change is committed: the matcher then drops the candidate, and only open ones are deleted.
      this.store.closeCandidate(candidateId, status, now());
      this.commit([this.decide(c.record_a, c.record_b, decision, 'review')]);
      return { id: candidateId, status };
    });
  }

  private run<T>(fn: () => T): T {
    try {
      return this.store.transaction(fn);
    } catch (e) {
      // The transaction rolled back; the matcher may hold what it undid.
      this.rebuild();
      throw e;
    }
  }

  private decide(a: Ref, b: Ref, decision: 'LINK' | 'DISTINCT' | null, reason: 'review' | 'merge' | 'unlink' | 'sticky'): MatchChange {
    this.store.decide(a, b, decision, reason, now());
    return this.matcher.decide(a, b, decision);
  }

  private live(id: string): string {
    const current = this.store.resolveIds([id]).get(id)!;
    const row = this.store.customer(current);
    if (!row || row.merged_into) throw new ResolutionError('NOT_FOUND', `no customer ${id}`);
    return current;
  }

  private refsOf(customerId: string): Ref[] {
    return this.store.recordsOf([customerId])[0]!.map((r) => refOf(r.system, r.nativeId));
  }

  private customerOf(ref: Ref): string {
    const r = parseRef(ref);
    return this.store.record(r.system, r.nativeId)!.customer_id!;
  }

  /** Writes what the matcher's changes did: candidates opened and dropped in order, then the clusters they left, assigned. */
  private commit(changes: readonly MatchChange[]): void {
    const at = now();
    const touched = new Set<Ref>();
    for (const change of changes) {
      for (const c of change.candidates.removed) this.store.dropCandidate(c.id);
      for (const c of change.candidates.added) this.store.openCandidate(c.id, c.score, c.rules, c.records[0], c.records[1], at);
      for (const cl of [...change.clusters.added, ...change.clusters.removed]) for (const ref of cl.records) touched.add(ref);
    }
    const clusters = new Map<string, Cluster>();
    for (const ref of touched) {
      const cl = this.matcher.cluster(ref);
      if (cl) clusters.set(cl.id, cl);
    }
    this.assign([...clusters.values()]);
  }

  /** Gives each cluster its canonical id (see `assign` at the top) and fixes the primaries of the customers it touched. */
  private assign(clusters: readonly Cluster[]): void {
    const at = now();
    const ownerOf = new Map<Ref, string | null>();
    for (const cl of clusters) for (const ref of cl.records) {
      const r = parseRef(ref);
      ownerOf.set(ref, this.store.record(r.system, r.nativeId)?.customer_id ?? null);
    }
    const counts = new Map<Cluster, Map<string, number>>();
    const best = new Map<string, { cluster: Cluster; n: number }>();
    for (const cl of clusters) {
      const here = new Map<string, number>();
      for (const ref of cl.records) {
        const owner = ownerOf.get(ref);
        if (owner) here.set(owner, (here.get(owner) ?? 0) + 1);
      }
      counts.set(cl, here);
      for (const [cid, n] of here) {
        const b = best.get(cid);
        if (!b || n > b.n || (n === b.n && cl.id < b.cluster.id)) best.set(cid, { cluster: cl, n });
      }
    }
    const seqOf = (cid: string) => this.store.customer(cid)?.seq ?? Infinity;
    const assigned = new Map<Cluster, string>();
    const taken = new Set<string>();
    for (const cl of [...clusters].sort((x, y) => (x.id < y.id ? -1 : 1))) {
      const won = [...counts.get(cl)!].filter(([cid]) => best.get(cid)!.cluster === cl).sort(([a, n], [b, m]) => m - n || seqOf(a) - seqOf(b));
      const cid = won[0]?.[0] ?? this.revived(cl, ownerOf, taken) ?? this.store.newCustomer(at);
      taken.add(cid);
      assigned.set(cl, cid);
      for (const ref of cl.records) {
        if (ownerOf.get(ref) === cid) continue;
        const r = parseRef(ref);
        this.store.setCustomer(r.system, r.nativeId, cid);
      }
    }
    for (const [cid, b] of best) {
      if (taken.has(cid) || this.store.recordsOf([cid])[0]!.length > 0) continue;
      this.store.retire(cid, assigned.get(b.cluster)!);
    }
    for (const cid of taken) this.fixPrimaries(cid);
  }

  /** A customer merged away whose records this cluster holds again (an unlink undoing a merge), made live again. */
  private revived(cluster: Cluster, ownerOf: Map<Ref, string | null>, taken: Set<string>): string | null {
    for (const ref of cluster.records) {
      const owner = ownerOf.get(ref);
      if (!owner) continue;
      for (const m of this.store.mergesInto(owner)) {
        if (taken.has(m.merged) || !m.refs.includes(ref) || !this.store.customer(m.merged)?.merged_into) continue;
        this.store.retire(m.merged, null);
        return m.merged;
      }
    }
    return null;
  }

  /** One primary per system: the one it had if still linked, else the oldest record (smallest native id). */
  private fixPrimaries(customerId: string): void {
    const records = this.store.recordsOf([customerId])[0]!;
    for (const system of SYSTEMS) {
      const mine = records.filter((r) => r.system === system);
      if (!mine.length) continue;
      const primaries = mine.filter((r) => r.primary);
      const keep = primaries.length === 1 ? primaries[0]! : [...mine].sort((a, b) => byNativeId(a.nativeId, b.nativeId))[0]!;
      for (const r of mine) if (r.primary !== (r === keep)) this.store.setPrimary(system, r.nativeId, r === keep);
    }
  }
}
