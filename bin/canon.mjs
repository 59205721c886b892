#!/usr/bin/env node
// The `canon` command: loads tsx (a dependency) into this process and runs canon's TypeScript command line, gateway/services/cli.ts.

import { register } from 'tsx/esm/api';

register();
const { runCanon } = await import('../gateway/services/cli.ts');
await runCanon(process.argv.slice(2));
