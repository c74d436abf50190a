// Test helpers: run `polyedge relay ...` as a real process (optionally
// inside a network namespace) and read its output line by line; receive the
// relay's datagrams; wait for a condition with a guard deadline that fails
// the test instead of hanging.

import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

/** A UDP socket on loopback keeping every datagram it receives. */
export async function listen(): Promise<{ sock: Socket; port: number; datagrams: Buffer[] }> {
  // One advance() relays hundreds of updates before this thread reads any: room for all of them.
  const sock = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  const datagrams: Buffer[] = [];
  sock.on('message', (m) => datagrams.push(m));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return { sock, port: sock.address().port, datagrams };
}

export interface CliRun {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the exit code (or the signal name) once the process ends. */
  exited: Promise<number | string>;
  /** Resolves with the first stderr line matching `re` (lines already seen count). */
  stderrLine(re: RegExp, guardMs?: number): Promise<string>;
  kill(): void;
}

function lines(stream: NodeJS.ReadableStream, into: string[], onLine: () => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    rest += chunk;
    let nl;
    while ((nl = rest.indexOf('\n')) >= 0) {
      into.push(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
      onLine();
    }
  });
}

/** Spawns the CLI with `args`; inside `netns` via `ip netns exec` when given. */
export function runCli(args: string[], netns?: string): CliRun {
  const argv = netns ? ['ip', 'netns', 'exec', netns, process.execPath, CLI, ...args] : [process.execPath, CLI, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  const poke = () => {
    for (const w of [...waiters]) w();
  };
  lines(child.stdout!, stdout, poke);
  lines(child.stderr!, stderr, poke);
  const exited = new Promise<number | string>((resolve) => {
    child.on('close', (code, signal) => {
      resolve(code ?? signal ?? 'unknown');
      poke();
    });
  });
  let ended = false;
  void exited.then(() => (ended = true));
  return {
    child,
    stdout,
    stderr,
    exited,
    stderrLine(re, guardMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = stderr.find((l) => re.test(l));
          if (hit !== undefined || ended) {
            waiters.delete(check);
            clearTimeout(timer);
            if (hit !== undefined) resolve(hit);
            else reject(new Error(`process ended without a stderr line matching ${re}:\n${stderr.join('\n')}`));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no stderr line matching ${re} within ${guardMs} ms:\n${stderr.join('\n')}`));
        }, guardMs);
        waiters.add(check);
        check();
      });
    },
    kill() {
      if (!ended) child.kill('SIGKILL');
    },
  };
}

/** Waits for a process to exit by itself; kills it and fails after the guard. */
export async function exitsByItself(run: CliRun, what: string, guardMs = 60_000): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      run.kill();
      reject(new Error(`${what} did not stop by itself within ${guardMs} ms:\n${run.stderr.join('\n')}`));
    }, guardMs);
  });
  try {
    return await Promise.race([run.exited, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** The JSON after "stopped (...): " on the process's last matching stderr line. */
export function stoppedSummary(run: CliRun): Record<string, unknown> {
  const line = [...run.stderr].reverse().find((l) => /: stopped \(/.test(l));
  if (line === undefined) throw new Error(`no "stopped" line on stderr:\n${run.stderr.join('\n')}`);
  return JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>;
}

/** Polls `cond` every few ms until it holds; throws after the guard (a hang guard, not a timing assertion). */
export async function until(cond: () => boolean, what: string | (() => string), guardMs = 10_000): Promise<void> {
  const deadline = Date.now() + guardMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
