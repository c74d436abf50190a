import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** Runs the CLI in-process with `args` and lists every CommonJS module the run loaded. */
function loadedModules(args: string[]): string[] {
  const src = `
    import { createRequire } from 'node:module';
    process.argv = [process.argv[0], ${JSON.stringify(MAIN)}, ...${JSON.stringify(args)}];
    await import(${JSON.stringify(MAIN)});
    // main() sets the exit code when its command has finished.
    while (process.exitCode === undefined) await new Promise((r) => setTimeout(r, 10));
    process.stderr.write(JSON.stringify(Object.keys(createRequire(${JSON.stringify(MAIN)}).cache)));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', src], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stderr) as string[];
}

const HEAVY = ['fastify', 'ws', 'hdr-histogram-js', 'msgpackr', '@trufflesuite/uws-js-unofficial', 'tinybench', 'ethers'];

test('version and --help load no subcommand dependency (fastify, ws, uWS, msgpackr, benchmark code)', () => {
  for (const args of [['version'], ['--help']]) {
    const loaded = loadedModules(args);
    for (const pkg of HEAVY) {
      assert.ok(!loaded.some((m) => m.includes(`/node_modules/${pkg}/`)), `${args.join(' ')} loaded ${pkg}`);
    }
    assert.equal(loaded.some((m) => m.endsWith('/native/index.cjs')), args[0] === 'version', `${args.join(' ')}: the addon loads for version only`);
  }
  // The control: a command that needs them loads them, so the check above can fail.
  const sim = loadedModules(['sim', '--help']);
  assert.ok(sim.some((m) => m.includes('/node_modules/ws/')), 'sim --help loads the simulator and ws');
});
