// `npm run bench`: runs the tinybench suites and prints one table of ratios
// against each suite's baseline. Reports; never fails on numbers. Not a
// subcommand of the shipped CLI: the suites need the development
// dependency tinybench, which an install for trading omits.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatTable, type BenchContext } from './harness.js';
import { SUITES } from './suites.js';
import { runCommand, type Command } from '../engine/cli/args.js';
import { asPolyedgeError, PolyedgeError } from '../engine/errors.js';

const benchCommand: Command = {
  name: 'bench',
  summary: 'Runs the benchmark suites side by side with their baselines and prints the ratios.',
  usage: 'npm run bench -- [--quick] [--suite NAME[,NAME]] [--json FILE]',
  options: { quick: { type: 'boolean' }, suite: { type: 'string' }, json: { type: 'string' } },
  help: {
    quick: 'short runs (every suite in under a minute in all)',
    suite: `only these suites: ${SUITES.map((s) => s.name).join(', ')}`,
    json: 'also write the rows as JSON to FILE',
  },
  async run(v) {
    const wanted = typeof v.suite === 'string' ? v.suite.split(',').map((s) => s.trim()) : undefined;
    for (const name of wanted ?? []) {
      if (!SUITES.some((s) => s.name === name)) throw new PolyedgeError('PE_USAGE', `--suite: unknown suite "${name}"`, 'suite');
    }
    const ctx: BenchContext = { quick: v.quick === true, rows: [], log: (line) => process.stdout.write(`${line}\n`) };
    for (const suite of SUITES) {
      if (wanted && !wanted.includes(suite.name)) continue;
      process.stdout.write(`# ${suite.name}: baseline = ${suite.baseline}\n`);
      const from = ctx.rows.length;
      await suite.run(ctx);
      process.stdout.write(`${formatTable(ctx.rows.slice(from))}\n\n`);
    }
    if (typeof v.json === 'string') {
      mkdirSync(dirname(v.json), { recursive: true });
      writeFileSync(v.json, `${JSON.stringify({ at: new Date().toISOString(), quick: ctx.quick, rows: ctx.rows }, null, 2)}\n`);
    }
    return 0;
  },
};

process.exitCode = await runCommand(benchCommand, process.argv.slice(2)).catch((err: unknown) => {
  const e = asPolyedgeError(err);
  process.stderr.write(`error: ${e.format()}\n`);
  return e.exitCode;
});
