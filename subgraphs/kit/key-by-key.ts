// Batch reads for APIs that have none: one call per key, a bounded number in flight, one result or one Error per key.

/**
 * Runs `read` for every key, at most `concurrency` at once, and answers in key order. Never rejects: a key whose
 * call failed gets that call's error in its place, so one bad key fails only itself (DataLoader hands each key
 * its own entry, an Error included).
 */
export async function readKeyByKey<K, V>(keys: readonly K[], concurrency: number, read: (key: K) => Promise<V>): Promise<(V | Error)[]> {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new TypeError(`readKeyByKey needs a concurrency of at least 1, got ${concurrency}.`);
  const out: (V | Error)[] = new Array(keys.length);
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const i = next++;
      try {
        out[i] = await read(keys[i]!);
      } catch (e) {
        out[i] = e instanceof Error ? e : new Error(String(e));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
  return out;
}
