#!/usr/bin/env node
// polyedge command-line entry: dispatches to subcommands and turns every
// failure into `error: CODE message` on stderr with the catalog's exit code.

import { readFileSync } from 'node:fs';
import { asPolyedgeError, PolyedgeError } from '../errors.js';
import { runCommand, type Command } from './args.js';

// Each subcommand's module is imported only when that command runs: `version`
// and `--help` must not pay for fastify, the simulator, the journal or the
// benchmark suites (see "CLI" in the README for the start-up figures).

const versionCommand: Command = {
  name: 'version',
  summary: 'Prints the polyedge version, the Node.js version and the native addon build it loaded.',
  usage: 'version',
  options: {},
  help: {},
  async run() {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const { native } = await import('../native.js');
    process.stdout.write(`polyedge ${pkg.version} (node ${process.version}, ${native.__napiBindingTarget} addon ${process.platform}-${process.arch})\n`);
    return 0;
  },
};

interface Entry {
  summary: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, Entry> = {
  version: { summary: versionCommand.summary, run: (a) => runCommand(versionCommand, a) },
  sign: { summary: 'sign NDJSON orders from stdin', run: async (a) => runCommand((await import('./sign.js')).signCommand, a) },
  order: { summary: 'order build|post|cancel|cancel-all|list: sign orders, send them to the CLOB, cancel, list', run: async (a) => (await import('./order.js')).orderCommand(a) },
  trades: { summary: 'list the API key\'s trades on the CLOB', run: async (a) => runCommand((await import('./order.js')).tradesCommand, a) },
  balance: { summary: 'show the CLOB\'s view of the wallet balance and allowances', run: async (a) => runCommand((await import('./order.js')).balanceCommand, a) },
  keys: { summary: 'keys derive|create: L2 API credentials from the wallet key, as .env lines', run: async (a) => (await import('./keys.js')).keysMain(a) },
  sim: { summary: 'venue simulator: Polymarket, Binance, RTDS and Deribit on loopback, with fault injection', run: async (a) => (await import('../sim/cli.js')).simCommand(a) },
  run: { summary: 'run the engine in paper mode (npm start): the bundled offline session, or --feeds live', run: async (a) => runCommand((await import('./run.js')).runCommand, a) },
  record: { summary: 'record raw feed frames and REST snapshots to rotated .pedrec files', run: async (a) => runCommand((await import('./record.js')).recordCommand, a) },
  replay: { summary: 'replay a recording through the live parse and book code', run: async (a) => runCommand((await import('./replay.js')).replayCommand, a) },
  relay: { summary: 'UDP price relay: send Binance bookTicker as packets, receive them on a native thread', run: async (a) => (await import('./relay.js')).relayCommand(a) },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length)) + 3;
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`);
  return ['usage: polyedge <command> [options]', '', 'commands:', ...lines, '', 'Every command takes --help.'].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') return COMMANDS.version!.run([]);
  const cmd = COMMANDS[name];
  if (!cmd) throw new PolyedgeError('PE_USAGE', `unknown command "${name}"\n\n${usage()}`);
  return cmd.run(rest);
}

/**
 * After a failure the process ends on its own once nothing is pending; a
 * handle left open (a socket, a timer, a worker a failed start did not stop)
 * must not keep a process alive that will never serve, so it ends anyway
 * after this grace. The session undoes its own start; this is the backstop.
 */
const FAILURE_EXIT_GRACE_MS = 500;

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = asPolyedgeError(err);
    // Writes to stderr as a file or a pipe are synchronous on Linux: the line is out before any exit.
    process.stderr.write(`error: ${e.format()}\n`);
    process.exitCode = e.exitCode;
    setTimeout(() => process.exit(e.exitCode), FAILURE_EXIT_GRACE_MS).unref();
  },
);
