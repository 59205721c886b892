// Test support: `canon …` (bin/canon.mjs) as a child process configured only by its environment, as a deployment runs it; started, read for the URL it prints, killed or stopped.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AllSystemCredentials } from '../../subgraphs/kit/credentials.js';

const BIN = fileURLToPath(new URL('../../bin/canon.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CanonProcess {
  pid: number;
  /** What it printed first: its base URL (without /graphql). */
  url: string;
  /** Everything it wrote to stdout and stderr so far. */
  output: string[];
  /** SIGKILL: nothing it holds is closed, as when a machine dies. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed). */
  stop(graceMs?: number): Promise<number | null>;
  /** Whether it has exited. */
  exited(): boolean;
}

/** The environment variables that give every canon service the systems' credentials (the way a Secret does). */
export function credentialEnv(c: AllSystemCredentials): Record<string, string> {
  return {
    CRM_TOKEN: c.crm.token,
    ERP_USER: c.erp.user,
    ERP_PASSWORD: c.erp.password,
    MARKETING_API_KEY: c.marketing.apiKey,
    SUPPORT_EMAIL: c.support.email,
    SUPPORT_TOKEN: c.support.token,
  };
}

/** Runs `canon <args>` to its end (seed, compose): its exit code and output. */
export async function runCanon(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c) => (output += String(c)));
  child.stderr.on('data', (c) => (output += String(c)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, output };
}

/**
 * Starts `canon <args>` with `env` over this process's environment (PORT=0 unless given: the OS picks), and resolves
 * once it printed the line naming its URL; rejects with its output if it exits first or takes over `timeoutMs`.
 */
export async function startCanon(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CanonProcess> {
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`canon ${args.join(' ')} printed no URL in ${timeoutMs} ms:\n${output.join('')}`)), timeoutMs);
    const read = (chunk: Buffer) => {
      output.push(String(chunk));
      const m = /^canon [a-z ]+?\s+(http:\/\/[^\s/]+)/m.exec(output.join(''));
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', (c: Buffer) => output.push(String(c)));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`canon ${args.join(' ')} exited (code ${code}) before it served:\n${output.join('')}`));
    });
  });
  return {
    pid: child.pid!,
    url,
    output,
    exited: () => exitCode !== undefined,
    async kill() {
      if (exitCode !== undefined) return;
      child.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 15_000) {
      if (exitCode !== undefined) return exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
