import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRANSPORT_ENV } from './uws.js';

const UWS = fileURLToPath(new URL('./uws.js', import.meta.url));

/** Runs a fresh process that creates two servers, listens on one port twice, and prints its transport. */
function probe(env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const src = `
    import { createApp, transport } from ${JSON.stringify(UWS)};
    const a = createApp();
    const b = createApp();
    a.any('/*', (res) => res.end('x'));
    const port = await a.listen('127.0.0.1', 0);
    const again = await b.listen('127.0.0.1', port);
    a.close();
    b.close();
    process.stdout.write(JSON.stringify({ name: transport().name, port, again }));
  `;
  const env2: Record<string, string> = { PATH: process.env.PATH ?? '', ...env };
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', src], { env: env2, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function uwsBinaryExists(): boolean {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('@trufflesuite/uws-js-unofficial/package.json'));
  return existsSync(join(pkg, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`));
}

test('default transport: uWS where its binary exists for this Node, else the fallback said in one line', () => {
  const r = probe({});
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { name: string; port: number; again: number | null };
  assert.ok(out.port > 0);
  assert.equal(out.again, null, 'a second server must not share a port');
  if (uwsBinaryExists()) {
    assert.equal(out.name, 'uws');
    assert.equal(r.stderr, '');
  } else {
    assert.equal(out.name, 'node');
    assert.match(r.stderr, new RegExp(`^venue simulator: uWebSockets.js has no binary for Node ${process.version}.*; serving with ws \\+ node:http\\n$`));
  }
});

test(`${TRANSPORT_ENV}=node: the fallback for every server of the process, said once, exclusive port`, () => {
  const r = probe({ [TRANSPORT_ENV]: 'node' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { name: string; port: number; again: number | null };
  assert.equal(out.name, 'node');
  assert.ok(out.port > 0);
  assert.equal(out.again, null, 'a second server must not share a port');
  assert.equal(r.stderr, `venue simulator: ${TRANSPORT_ENV}=node; serving with ws + node:http\n`);
});

test(`an unknown ${TRANSPORT_ENV} is refused with the key named`, () => {
  const r = probe({ [TRANSPORT_ENV]: 'uwebsockets' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, new RegExp(`PE_CONFIG_INVALID|${TRANSPORT_ENV} must be "uws" or "node", not "uwebsockets"`));
  assert.match(r.stderr, /must be "uws" or "node", not "uwebsockets"/);
});
