// Command-line parsing shared by every subcommand: strict (unknown flags and
// stray arguments are usage errors), with --help on each.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PolyedgeError } from '../errors.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: OptionSpec;
  /** One line per option, in the order they appear in help. */
  help: Record<string, string>;
  run(values: Record<string, string | boolean | undefined>): Promise<number>;
}

export function helpText(cmd: Command): string {
  const lines = [`usage: polyedge ${cmd.usage}`, '', cmd.summary, '', 'options:'];
  const names = Object.keys(cmd.help);
  const width = Math.max(...names.map((n) => n.length), 4) + 4;
  for (const name of names) lines.push(`  --${name.padEnd(width)}${cmd.help[name]}`);
  lines.push(`  --${'help'.padEnd(width)}show this help`);
  return lines.join('\n');
}

/**
 * `--port -1` as `--port=-1`: parseArgs takes a value starting with a dash for
 * a forgotten value, but a negative number is a value, and the flag's own
 * check then names the flag and its range.
 */
function joinNegativeValues(argv: string[], options: OptionSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d|^-\.\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

export async function runCommand(cmd: Command, argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv, cmd.options),
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
      // No command takes positional arguments: a stray word is a typo or a flag missing its dashes.
      allowPositionals: false,
      strict: true,
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new PolyedgeError('PE_USAGE', `${message}\n\n${helpText(cmd)}`);
  }
  if (parsed.values.help) {
    process.stdout.write(`${helpText(cmd)}\n`);
    return 0;
  }
  return cmd.run(parsed.values as Record<string, string | boolean | undefined>);
}

export function requireString(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new PolyedgeError('PE_USAGE', `--${name} is required`, name);
  return v;
}

/** An integer flag in [min, max] (default [0, 2^53 - 1]); anything else is a usage error naming the flag and its range. */
export function optionalInt(values: Record<string, unknown>, name: string, range: { min?: number; max?: number } = {}): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const want = max === Number.MAX_SAFE_INTEGER ? (min === 0 ? 'a non-negative integer' : `an integer >= ${min}`) : `an integer in [${min}, ${max}]`;
    throw new PolyedgeError('PE_USAGE', `--${name} must be ${want}, got ${JSON.stringify(v)}`, name);
  }
  return n;
}
