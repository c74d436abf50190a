// CLI start-up as a user sees it: whole processes, `polyedge version` and
// `polyedge --help` against an empty `node -e 0`, interleaved in the same run
// so machine noise moves every side together. The difference is what the
// CLI's own module graph costs on top of Node's start.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { latencySummary, pushLatencyRows, type Suite } from './harness.js';

const CLI = fileURLToPath(new URL('../engine/cli/main.js', import.meta.url));

interface Side {
  readonly name: string;
  readonly args: readonly string[];
}

const SIDES: readonly Side[] = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'polyedge version', args: [CLI, 'version'] },
  { name: 'polyedge --help', args: [CLI, '--help'] },
];

function once(side: Side): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, side.args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 30_000 });
  const ns = Number(process.hrtime.bigint() - t0);
  if (r.status !== 0) throw new Error(`bench startup: ${side.name} exited ${String(r.status)}: ${r.stderr}`);
  return ns;
}

export const suite: Suite = {
  name: 'startup',
  baseline: 'node -e 0 (a whole process each, interleaved)',
  async run(ctx) {
    const rounds = ctx.quick ? 10 : 50;
    for (const side of SIDES) once(side); // warm the file cache
    const samples = SIDES.map(() => new Float64Array(rounds));
    for (let i = 0; i < rounds; i++) {
      // Rotate the order so no side always runs right after the same one.
      for (let k = 0; k < SIDES.length; k++) {
        const s = (i + k) % SIDES.length;
        samples[s]![i] = once(SIDES[s]!);
      }
    }
    const [base, ...rest] = SIDES.map((side, s) => latencySummary(side.name, samples[s]!));
    pushLatencyRows(ctx, 'startup', `whole process, ${rounds} runs each`, base!, rest);
    for (const r of rest) {
      ctx.log(`${r.name}: ${(r.p50Ns / base!.p50Ns).toFixed(2)}x node -e 0 at p50 (+${((r.p50Ns - base!.p50Ns) / 1e6).toFixed(1)} ms), p99 ${(r.p99Ns / 1e6).toFixed(1)} ms`);
    }
  },
};
