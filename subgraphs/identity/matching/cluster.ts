// Clustering: links accepted strongest first, each joining two clusters unless a veto between them forbids it.
//
// Guarantee: the result for a set of records closed under links (whole components of the link graph) depends only on
// those records' edges and decisions: the order is total (reviewer's links first, then score, then refs), and no step
// looks outside the set. So re-clustering the components a change touched gives what clustering everything would.

import type { Cluster, Edge, Link, Ref } from './types.js';

/** A link to consider: an edge above the link threshold, or a reviewer's LINK (which only a reviewer's DISTINCT stops). */
export interface LinkOffer extends Edge {
  decided: boolean;
}

export interface RegionClustering {
  clusters: Cluster[];
  /** Offers a veto refused: the two clusters stay apart, and a reviewer sees why. */
  refused: LinkOffer[];
}

const byRef = (x: Ref, y: Ref) => (x < y ? -1 : x > y ? 1 : 0);

export function clusterRegion(
  refs: Iterable<Ref>,
  offers: LinkOffer[],
  /** Records that may never share a cluster with `ref`: rule vetoes and reviewers' DISTINCT decisions. */
  vetoesOf: (ref: Ref) => Iterable<Ref>,
  /** Only reviewers' DISTINCT decisions: what stops a reviewer's LINK. */
  distinctOf: (ref: Ref) => Iterable<Ref>,
): RegionClustering {
  const parent = new Map<Ref, Ref>();
  const members = new Map<Ref, Ref[]>();
  const links = new Map<Ref, Link[]>();
  for (const ref of refs) {
    parent.set(ref, ref);
    members.set(ref, [ref]);
    links.set(ref, []);
  }
  const find = (ref: Ref): Ref => {
    let root = ref;
    while (parent.get(root) !== root) root = parent.get(root)!;
    for (let r = ref; r !== root; ) {
      const next = parent.get(r)!;
      parent.set(r, root);
      r = next;
    }
    return root;
  };
  // Would joining the clusters of x and y put two records a veto keeps apart into one?
  const conflict = (rx: Ref, ry: Ref, against: (ref: Ref) => Iterable<Ref>): boolean => {
    const [small, other] = members.get(rx)!.length <= members.get(ry)!.length ? [rx, ry] : [ry, rx];
    for (const m of members.get(small)!) {
      for (const v of against(m)) if (parent.has(v) && find(v) === other) return true;
    }
    return false;
  };

  const ordered = [...offers].sort(
    (x, y) => Number(y.decided) - Number(x.decided) || y.score - x.score || byRef(x.a, y.a) || byRef(x.b, y.b),
  );
  const refused: LinkOffer[] = [];
  for (const offer of ordered) {
    const [ra, rb] = [find(offer.a), find(offer.b)];
    if (ra === rb) continue;
    if (conflict(ra, rb, offer.decided ? distinctOf : vetoesOf)) {
      refused.push(offer);
      continue;
    }
    const [root, child] = members.get(ra)!.length >= members.get(rb)!.length ? [ra, rb] : [rb, ra];
    parent.set(child, root);
    members.get(root)!.push(...members.get(child)!);
    links.get(root)!.push(...links.get(child)!, { a: offer.a, b: offer.b, score: offer.score, rules: offer.rules, decided: offer.decided });
    members.delete(child);
    links.delete(child);
  }

  const clusters: Cluster[] = [];
  for (const [root, refsOf] of members) {
    const records = [...refsOf].sort(byRef);
    const linksOf = links.get(root)!.sort((x, y) => byRef(x.a, y.a) || byRef(x.b, y.b));
    clusters.push({ id: records[0]!, records, links: linksOf });
  }
  clusters.sort((x, y) => byRef(x.id, y.id));
  return { clusters, refused };
}
