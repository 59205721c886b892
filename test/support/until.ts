// Test support: waiting for something another process or a background loop makes true.

/** Polls `probe` until it gives a value (`everyMs` between tries, at most `tries`), and answers it; fails naming `what`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, tries = 600, everyMs = 50): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await probe();
    if (v) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`gave up waiting for ${what}`);
}
