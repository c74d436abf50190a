// Shared by the CLOB command tests: the CLI as a child process (async, so
// a simulator in the test's own process keeps serving it) and throwaway
// credentials.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HARDHAT_KEY } from '../venues/polymarket/order/fixtures/vectors.js';

const CLI = fileURLToPath(new URL('./main.js', import.meta.url));
const cwd = mkdtempSync(join(tmpdir(), 'polyedge-order-cli-'));
export const SECRET = 'c2VjcmV0LW5ldmVyLXByaW50ZWQtYW55d2hlcmU=';
export const PASSPHRASE = 'passphrase-never-printed';
export const CREDS = { POLY_PRIVATE_KEY: HARDHAT_KEY, POLY_API_KEY: '00000000-1111-4222-8333-444444444444', POLY_API_SECRET: SECRET, POLY_API_PASSPHRASE: PASSPHRASE };

export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

