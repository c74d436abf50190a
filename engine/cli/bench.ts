// `polyedge bench`: runs the tinybench suites and prints one table of
// ratios against each suite's baseline. Reports; never fails on numbers.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatTable, type BenchContext } from '../../bench/harness.js';
import { SUITES } from '../../bench/suites.js';
import { PolyedgeError } from '../errors.js';
import type { Command } from './args.js';

export const benchCommand: Command = {
  name: 'bench',
  summary: 'Runs the benchmark suites side by side with their baselines and prints the ratios.',
  usage: 'bench [--quick] [--suite NAME[,NAME]] [--json FILE]',
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
