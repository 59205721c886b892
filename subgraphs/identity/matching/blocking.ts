// Blocking: which records share a key, so each record is compared with a few others instead of all of them.
//
// Guarantee: the pairs compared depend only on the records present, never on the order they arrived in. A block over
// `maxBlockSize` records finds no pairs (a value that common is no evidence, and comparing all its pairs is quadratic);
// when a change moves a block across a size that matters, the index says so, and the matcher re-scores its members.

import type { Ref } from './types.js';

export class BlockIndex {
  private readonly blocks = new Map<string, Set<Ref>>();

  /**
   * @param maxBlockSize  blocks larger than this are not used to find pairs.
   * @param sizesThatMatter  for a key, further sizes across which its members' scores change (e.g. "rare" names).
   */
  constructor(
    private readonly maxBlockSize: number,
    private readonly sizesThatMatter: (key: string) => readonly number[],
  ) {}

  size(key: string): number {
    return this.blocks.get(key)?.size ?? 0;
  }

  /** Adds `ref` under `keys`; answers the keys whose block crossed a size that matters (their members need re-scoring). */
  add(ref: Ref, keys: readonly string[]): string[] {
    const crossed: string[] = [];
    for (const key of keys) {
      let block = this.blocks.get(key);
      if (!block) this.blocks.set(key, (block = new Set()));
      const before = block.size;
      block.add(ref);
      if (this.crosses(key, before, block.size)) crossed.push(key);
    }
    return crossed;
  }

  /** Removes `ref` from `keys`; answers the keys whose block crossed a size that matters. */
  remove(ref: Ref, keys: readonly string[]): string[] {
    const crossed: string[] = [];
    for (const key of keys) {
      const block = this.blocks.get(key);
      if (!block?.delete(ref)) continue;
      if (this.crosses(key, block.size + 1, block.size)) crossed.push(key);
      if (block.size === 0) this.blocks.delete(key);
    }
    return crossed;
  }

  members(key: string): ReadonlySet<Ref> {
    return this.blocks.get(key) ?? new Set();
  }

  /** Every other record sharing a usable block with `ref`. */
  neighbours(ref: Ref, keys: readonly string[]): Set<Ref> {
    const out = new Set<Ref>();
    for (const key of keys) {
      const block = this.blocks.get(key);
      if (!block || block.size > this.maxBlockSize) continue;
      for (const other of block) if (other !== ref) out.add(other);
    }
    return out;
  }

  private crosses(key: string, before: number, after: number): boolean {
    for (const size of [this.maxBlockSize, ...this.sizesThatMatter(key)]) {
      if (before <= size !== after <= size) return true;
    }
    return false;
  }
}
