// The `canon` command (bin/canon.mjs): help for every command, and a clear refusal of a command, name or setting it cannot run.

import { describe, expect, it } from 'vitest';
import { runCanon } from './support/canon-process.js';

describe('canon', () => {
  it('lists its commands with --help, and each command says what it takes', async () => {
    const top = await runCanon(['--help'], {});
    expect(top.code).toBe(0);
    for (const c of ['start', 'gateway', 'subgraph NAME', 'sandbox SYSTEM', 'seed', 'compose', 'apps']) expect(top.output).toContain(`  ${c} `);
    const help = await Promise.all(['start', 'gateway', 'subgraph', 'sandbox', 'seed', 'compose', 'apps'].map((c) => runCanon([c, '--help'], {})));
    expect(help.map((h) => [h.code, h.output.split('\n')[0]!.split(' ').slice(0, 3).join(' ')])).toEqual([
      [0, 'usage: canon start'],
      [0, 'usage: canon gateway'],
      [0, 'usage: canon subgraph'],
      [0, 'usage: canon sandbox'],
      [0, 'usage: canon seed'],
      [0, 'usage: canon compose'],
      [0, 'usage: canon apps'],
    ]);
  });

  it('refuses an unknown command, subgraph or system with exit code 2, naming what it accepts', async () => {
    const [command, subgraph, system] = await Promise.all([runCanon(['serve'], {}), runCanon(['subgraph', 'billing'], {}), runCanon(['sandbox', 'identity'], {})]);
    expect([command.code, command.output.split('\n')[0]]).toEqual([2, 'canon: unknown command "serve"; one of start, gateway, subgraph, sandbox, seed, compose, apps']);
    expect([subgraph.code, subgraph.output.split('\n')[0]]).toEqual([2, 'canon: unknown subgraph "billing" for canon subgraph; one of identity, crm, erp, marketing, support, control']);
    expect([system.code, system.output.split('\n')[0]]).toEqual([2, 'canon: unknown system "identity" for canon sandbox; one of crm, erp, marketing, support']);
  });

  it('will not serve a subgraph on its own without CANON_SERVICE_TOKEN, nor take a subgraph URL with credentials in it', async () => {
    const [noToken, badUrl] = await Promise.all([
      runCanon(['subgraph', 'identity'], { CANON_SERVICE_TOKEN: '', DATA_DIR: '/nonexistent/never-created' }),
      runCanon(['gateway'], { CRM_SUBGRAPH_URL: 'http://user:secret@crm:4000/graphql' }),
    ]);
    expect(noToken.code).toBe(1);
    expect(noToken.output).toContain('Set CANON_SERVICE_TOKEN');
    expect([badUrl.code, badUrl.output.trim()]).toEqual([1, 'canon gateway: CRM_SUBGRAPH_URL must not carry credentials; canon\'s services present CANON_SERVICE_TOKEN.']);
    expect(badUrl.output).not.toContain('secret');
  });
});
