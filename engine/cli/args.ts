// Command-line parsing shared by every subcommand: strict (unknown flags are
// usage errors), with --help on each.

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
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

export function helpText(cmd: Command): string {
  const lines = [`usage: polyedge ${cmd.usage}`, '', cmd.summary, '', 'options:'];
  const names = Object.keys(cmd.help);
  const width = Math.max(...names.map((n) => n.length), 4) + 4;
  for (const name of names) lines.push(`  --${name.padEnd(width)}${cmd.help[name]}`);
  lines.push(`  --${'help'.padEnd(width)}show this help`);
  return lines.join('\n');
}

export async function runCommand(cmd: Command, argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
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
  return cmd.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals);
}

export function requireString(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new PolyedgeError('PE_USAGE', `--${name} is required`, name);
  return v;
}

export function optionalInt(values: Record<string, unknown>, name: string): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new PolyedgeError('PE_USAGE', `--${name} must be a non-negative integer, got ${JSON.stringify(v)}`, name);
  }
  return Number(v);
}
