// `npm start`: the whole stack on loopback, stopped cleanly on Ctrl-C (the `canon start` command).
//
// Why `node --import tsx` and not the `tsx` command: tsx's command runs the program as a child process and relays
// Ctrl-C to it, and a child that has not acknowledged the signal within 30 ms gets SIGKILL; a loaded gateway
// (seen in a full test run) was killed mid-shutdown that way, before it had closed its stores.

import { runCanon } from './services/cli.js';

await runCanon(['start', ...process.argv.slice(2)]);
