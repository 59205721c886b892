// Bench phase 2b: every contender must answer what canon answers, for every shape of the mix and for the identical query, before any of them is timed.

import { isDeepStrictEqual } from 'node:util';
import type { Child } from '../children.js';
import { log, post } from '../load.js';
import type { MixRequest } from '../mix.js';
import type { GatewayReady } from '../protocol.js';
import type { Answers, ContenderName } from '../report.js';

/**
 * Sends `requests` to canon, then to each contender, and compares the data (not the extensions: each answer
 * carries its own trace id). canon answering any of them with errors stops the bench: the figures would be of a
 * broken gateway.
 */
export async function compareAnswers(gateways: Map<ContenderName, Child<GatewayReady>>, requests: MixRequest[]): Promise<Partial<Record<ContenderName, Answers>>> {
  const canon = gateways.get('canon')!;
  const reference: unknown[] = [];
  for (const r of requests) {
    const answer = await post(canon.ready.url, JSON.parse(r.body));
    if (answer.json.errors || !answer.json.data) throw new Error(`canon answered ${r.shape} with errors: ${JSON.stringify(answer.json).slice(0, 800)}\nrequest: ${r.body}`);
    reference.push(answer.json.data);
  }
  const out: Partial<Record<ContenderName, Answers>> = {};
  for (const [name, g] of gateways) {
    const differing: string[] = [];
    for (let i = 0; i < requests.length; i++) {
      const answer = await post(g.ready.url, JSON.parse(requests[i]!.body));
      if (!isDeepStrictEqual(answer.json.data, reference[i])) differing.push(requests[i]!.shape);
    }
    out[name] = { same: requests.length - differing.length, of: requests.length, differing: [...new Set(differing)] };
    if (differing.length) log(`  ${name} answers ${differing.length} of ${requests.length} requests differently from canon: ${out[name]!.differing.join(', ')}`);
  }
  return out;
}
