// `npm start`: the whole stack on loopback, stopped cleanly on Ctrl-C (the `canon start` command).

import { runCanon } from './services/cli.js';

await runCanon(['start', ...process.argv.slice(2)]);
