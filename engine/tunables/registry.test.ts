// The registry is the single source of every tunable set: its route names, its
// config tables, and, for a plug-in strategy registered at run time, the
// config file's [strategy] table and engine.strategies choice, the reload
// route and its OpenAPI entry on a running session.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { configSchema } from '../config/config.js';
import { parseConfigText } from '../config/load.js';
import { number, object, toJsonSchema, validate, type Infer, type JsonSchema } from '../config/schema.js';
import { CONTROL_TOKEN_ENV } from '../control/server.js';
import { PolyedgeError } from '../errors.js';
import { bundledVenues } from '../sim/offline.js';
import { startSession, type Session } from '../runtime/session.js';
import { registerStrategy } from '../strategy/registry.js';
import type { Strategy } from '../strategy/types.js';
import { tunableNames, tunables } from './registry.js';

const TOKEN = 'tunables-registry-token';

/** The JSON Schema (or value) at a dotted config path. */
function at<T>(root: T, path: string, step: (node: T, key: string) => T | undefined): T {
  let node = root;
  for (const key of path.split('.')) {
    const next = step(node, key);
    assert.ok(next !== undefined, `config has nothing at ${path} (stopped at ${key})`);
    node = next;
  }
  return node;
}

test('every set once, named after what it reloads; each config place holds exactly its schema and defaults', () => {
  assert.deepEqual(tunableNames(), ['strategy/maker', 'strategy/complete_set', 'strategy/directional', 'allocator', 'risk', 'toxicity', 'fusion', 'exit', 'perf']);
  const file = toJsonSchema(configSchema);
  const defaults = validate(configSchema, {});
  assert.ok(defaults.ok);
  for (const t of tunables()) {
    assert.ok(t.description.length > 0, t.name);
    if (t.config === undefined) continue;
    const table = at(file, t.config, (s, k) => s.properties?.[k]);
    const own = t.schema.jsonSchema().properties!;
    // [engine] holds the perf keys beside others; every other set has its table to itself.
    if (t.config === 'engine') for (const k of Object.keys(own)) assert.deepEqual(table.properties![k], own[k], `${t.name}: ${t.config}.${k}`);
    else assert.deepEqual(table.properties, own, `${t.name}: [${t.config}]`);
    const fileDefaults = at<unknown>(defaults.value, t.config, (v, k) => (v as Record<string, unknown>)[k]) as Record<string, unknown>;
    const setDefaults = t.schema.defaultValue as Record<string, unknown>;
    assert.deepEqual(Object.fromEntries(Object.keys(setDefaults).map((k) => [k, fileDefaults[k]])), setDefaults, `${t.name}: defaults`);
  }
});

const levelSchema = object({ level: number({ integer: true, min: 0, max: 9, default: 3, description: 'how level' }) });
type LevelParams = Infer<typeof levelSchema>;

class Level implements Strategy<LevelParams> {
  readonly name = 'level';
  constructor(private p: Readonly<LevelParams>) {}
  params(): Readonly<LevelParams> {
    return this.p;
  }
  setParams(p: LevelParams): void {
    this.p = Object.freeze({ ...p });
  }
  decide(): void {}
}

test('a plug-in strategy registered at run time is in the config schema, the reload routes, the allocator and OpenAPI', async () => {
  const before = toJsonSchema(configSchema);
  assert.equal(before.properties!.strategy!.properties!.level, undefined);
  assert.ok(!before.properties!.engine!.properties!.strategies!.items!.enum!.includes('level'));
  assert.throws(() => parseConfigText('[strategy.level]\nlevel = 5', 'early.toml'), (e: unknown) => e instanceof PolyedgeError && e.field === 'strategy.level');

  registerStrategy({ name: 'level', description: 'a plug-in that keeps a level', paramsSchema: levelSchema, create: (p) => new Level(p) });
  assert.ok(tunableNames().includes('strategy/level'));
  const file = toJsonSchema(configSchema);
  assert.deepEqual(file.properties!.strategy!.properties!.level, levelSchema.jsonSchema());
  assert.deepEqual(file.properties!.engine!.properties!.strategies!.items!.enum, ['maker', 'complete_set', 'directional', 'level']);
  assert.throws(() => parseConfigText('[strategy.level]\nlevel = 10', 'bad.toml'), (e: unknown) => e instanceof PolyedgeError && e.field === 'strategy.level.level');
  assert.throws(() => parseConfigText('[engine]\nstrategies = ["levle"]', 'typo.toml'), (e: unknown) => e instanceof PolyedgeError && e.field === 'engine.strategies[0]');

  const cfg = parseConfigText('[cpu]\npin = false\n[engine]\nstrategies = ["maker", "level"]\n[strategy.level]\nlevel = 5', 'plugin.toml');
  assert.deepEqual(cfg.strategy.level, { level: 5 });
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-tunables-'));
  const envBefore = process.env[CONTROL_TOKEN_ENV];
  process.env[CONTROL_TOKEN_ENV] = TOKEN;
  let s: Session | undefined;
  try {
    s = await startSession({ cfg, offline: bundledVenues(), speed: 30, seed: 7, journalPath: join(dir, 'j'), controlPort: 0, log: () => {} });
    const url = `${s.control.url}/control/reload/strategy/level`;
    const post = (body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });
    assert.deepEqual(await (await fetch(url)).json(), { level: 5 }, 'the running strategy started from [strategy.level]');
    const ok = await post({ level: 7 });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { level: 7 });
    assert.deepEqual(s.engine.strategies.find((x) => x.name === 'level')!.params(), { level: 7 });
    const bad = await post({ level: 10 });
    assert.equal(bad.status, 400);
    assert.deepEqual(((await bad.json()) as { error: { fields: { path: string }[] } }).error.fields.map((f) => f.path), ['level']);
    assert.deepEqual(s.engine.strategies.find((x) => x.name === 'level')!.params(), { level: 7 }, 'a refused reload changes nothing');

    // The allocator follows the registry too: the plug-in has its switch.
    const allocator = (await (await fetch(`${s.control.url}/control/reload/allocator`)).json()) as Record<string, unknown>;
    assert.deepEqual(allocator.level, { enabled: true });
    const off = await fetch(`${s.control.url}/control/reload/allocator`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ level: { enabled: false } }) });
    assert.equal(off.status, 200);
    assert.equal(s.engine.allocator.level?.enabled, false);

    type Op = { summary: string; requestBody?: { content: Record<string, { schema: JsonSchema }> } };
    const doc = (await (await fetch(`${s.control.url}/openapi.json`)).json()) as { paths: Record<string, { get?: Op; post?: Op }> };
    const item = doc.paths['/control/reload/strategy/level']!;
    assert.deepEqual(item.post!.requestBody!.content['application/json']!.schema, toJsonSchema(levelSchema));
    assert.match(item.get!.summary, /^a plug-in that keeps a level/);
    const reloadPaths = Object.keys(doc.paths).filter((p) => p.startsWith('/control/reload'));
    assert.deepEqual(reloadPaths.sort(), tunableNames().map((n) => `/control/reload/${n}`).sort(), 'one route per set, no other reload route');
  } finally {
    await s?.stop();
    if (envBefore === undefined) delete process.env[CONTROL_TOKEN_ENV];
    else process.env[CONTROL_TOKEN_ENV] = envBefore;
  }
});
