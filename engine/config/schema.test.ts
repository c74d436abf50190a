import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { Prng } from '../../workers/prng.js';
import { configSchema } from './config.js';
import { PolyedgeError } from '../errors.js';
import { tunables } from '../tunables/registry.js';
import { array, boolean, number, object, oneOf, string, toJsonSchema, toUnits, validate, type JsonSchema, type Schema } from './schema.js';

test('the config schema publishes bounds, enums, patterns, defaults and closed objects', () => {
  const s = toJsonSchema(configSchema);
  assert.equal(s.type, 'object');
  assert.equal(s.additionalProperties, false);
  assert.equal(s.required, undefined, 'every top-level table has defaults');
  assert.equal(s.default, undefined, 'a document root is never absent, so it carries no default');
  const empty = validate(configSchema, {});
  assert.ok(empty.ok);
  assert.deepEqual(configSchema.jsonSchema().default, empty.value);
  const p = s.properties!;
  assert.deepEqual(p.mode, { enum: ['paper', 'dry-run', 'live'], default: 'paper' });
  assert.deepEqual(p.control!.properties!.port, { type: 'integer', minimum: 0, maximum: 65535, default: 7420, description: 'TCP port; 0 takes a free one' });
  assert.deepEqual(p.control!.default, { host: '127.0.0.1', port: 7420 });
  assert.deepEqual(p.risk!.properties!.max_position, {
    type: 'number',
    exclusiveMinimum: 0,
    maximum: 1_000_000,
    default: 500,
    description: 'shares per token; at most 1,000,000 (beyond any Polymarket book); at most 2 decimal places',
  });
  assert.match(p.risk!.description!, /max_position must be <= max_market_position/, 'object rules are published in the description');
  assert.deepEqual(p.cpu!.properties!.pin, { type: 'boolean', default: true });
  assert.deepEqual(p.markets!.properties!.tokens, {
    type: 'array',
    items: { type: 'string', pattern: '^\\d+$', description: 'must be a decimal token id' },
    default: [],
  });
  assert.equal(p.venue!.additionalProperties, false);
});

test('fields without defaults are required, and a table with one has no default of its own', () => {
  const s = toJsonSchema(
    object(
      {
        edge: number({ min: 0, max: 1, description: 'minimum edge' }),
        side: oneOf(['buy', 'sell'] as const),
        size: number({ integer: true, gt: 0, default: 10 }),
        tags: array(string(), { minItems: 1 }),
      },
      { description: 'test params' },
    ),
  );
  assert.deepEqual(s, {
    type: 'object',
    description: 'test params',
    properties: {
      edge: { type: 'number', minimum: 0, maximum: 1, description: 'minimum edge' },
      side: { enum: ['buy', 'sell'] },
      size: { type: 'integer', exclusiveMinimum: 0, default: 10 },
      tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
    },
    required: ['edge', 'side', 'tags'],
    additionalProperties: false,
  });
});

test('a pattern with flags JSON Schema cannot carry is refused rather than published wrong', () => {
  assert.throws(() => toJsonSchema(string({ pattern: /^abc$/i })), /flags/);
  assert.equal(toJsonSchema(string({ pattern: /^\p{L}+$/u })).pattern, '^\\p{L}+$');
});

// ---------------------------------------------------------------------------
// Agreement with an independent validator: ajv, as fastify ships it, configured
// to reject rather than repair (no coercion, no stripping of unknown keys) and
// to fill defaults as validate() does.

const JUNK: readonly unknown[] = [null, 'x', '', 1.5, -3, 0, true, false, [], {}, [1], { bogus: 1 }, 7, 1e9];
const STRINGS: readonly string[] = ['', '123', 'abc', 'paper', 'live', '0x' + 'ab'.repeat(20), 'https://a.b', 'ws://x', 'wss:// x', '10.0.0.1', '127.0.0.1:9870', 'BTCUSDT', 'btc', 'btc_usd', 'btc-updown-5m'];

function pick<T>(rng: Prng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)]!;
}

/** A value near the edges of `s`; each node is junk with probability `wrong`. */
function generate(rng: Prng, s: JsonSchema, wrong: number): unknown {
  if (rng.next() < wrong) return pick(rng, JUNK);
  if (s.default !== undefined && rng.int(3) === 0) return s.default;
  if (s.enum) return pick(rng, [...s.enum, ...(s.default === undefined ? [] : [s.default])]);
  switch (s.type) {
    case 'number':
    case 'integer': {
      const anchors = [s.minimum, s.maximum, s.exclusiveMinimum, s.default as number | undefined, 0].filter((x): x is number => x !== undefined);
      return pick(rng, anchors) + pick(rng, [-1, -0.5, 0, 0, 0, 0.5, 1, 3]);
    }
    case 'string': {
      // Half the time a string that fits the pattern, when one does: each patterned field
      // would otherwise make a valid document rarer, and the deep config would have too few.
      const fits = s.pattern === undefined ? [] : STRINGS.filter((x) => new RegExp(s.pattern!, 'u').test(x));
      return fits.length > 0 && rng.int(2) === 0 ? pick(rng, fits) : pick(rng, STRINGS);
    }
    case 'boolean':
      return rng.int(2) === 0;
    case 'array':
      return Array.from({ length: rng.int(4) }, () => generate(rng, s.items!, wrong));
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, sub] of Object.entries(s.properties ?? {})) {
        const omit = s.required?.includes(key) ? rng.next() < wrong : rng.int(3) === 0;
        if (!omit) out[key] = generate(rng, sub, wrong);
      }
      if (rng.next() < wrong / 2) out.unexpected = 1;
      return out;
    }
    default:
      return pick(rng, JUNK);
  }
}

async function agreement(schema: Schema<unknown>, cases: number, seed: number): Promise<{ valid: number; invalid: number }> {
  const app = Fastify({ ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true } } });
  app.post('/', { schema: { body: toJsonSchema(schema) } }, async (req) => ({ value: req.body }));
  await app.ready();
  const rng = new Prng(seed);
  const tally = { valid: 0, invalid: 0 };
  try {
    for (let i = 0; i < cases; i++) {
      // Two cases in three are mostly well-formed, so both verdicts get exercised on deep schemas
      // (the config has a few hundred fields: at one slip in 60 per field few documents stay valid).
      const input = generate(rng, toJsonSchema(schema), [1 / 8, 1 / 60, 1 / 600][i % 3]!);
      // JSON Schema cannot state object rules: ajv is compared with validate() without them.
      const ours = validate(schema, input, { rules: false });
      const res = await app.inject({ method: 'POST', url: '/', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(input) });
      const context = `case ${i}: ${JSON.stringify(input)} -> ours ${JSON.stringify(ours)}, ajv ${res.statusCode} ${res.body}`;
      if (ours.ok) {
        assert.equal(res.statusCode, 200, context);
        assert.deepEqual(res.json<{ value: unknown }>().value, ours.value, context);
        tally.valid++;
      } else {
        assert.equal(res.statusCode, 400, context);
        tally.invalid++;
      }
    }
  } finally {
    await app.close();
  }
  return tally;
}

test('ajv and validate() accept and reject the same values, and fill the same defaults (seeded)', async () => {
  const params = object({
    edge_bps: number({ min: 0, max: 500, default: 20 }),
    size: number({ integer: true, gt: 0 }),
    side: oneOf(['buy', 'sell', 3] as const, { default: 'buy' }),
    enabled: boolean({ default: true }),
    venues: array(string({ pattern: /^[a-z]+$/, hint: 'lowercase letters' }), { minItems: 1, default: ['abc'] }),
    nested: object({ k: number({ integer: true, min: -1, max: 1, default: 0 }), name: string() }),
  });
  // The config gets twice the cases: it is deep (a few hundred fields, more with each feature),
  // so a smaller share of its random documents comes out fully valid.
  for (const [schema, seed, cases] of [[params, 1, 1500], [configSchema, 2, 3000]] as const) {
    const tally = await agreement(schema, cases, seed);
    // The generator must exercise both sides, or agreement proves nothing.
    assert.ok(tally.valid > 20 && tally.invalid > 50, JSON.stringify(tally));
  }
});

// ---------------------------------------------------------------------------
// Ranges: every number a file or a reload can set is bounded on both sides.

const RELOAD_SCHEMAS: Record<string, Schema<unknown>> = Object.fromEntries(tunables().map((t) => [t.name, t.schema]));

/** Every numeric leaf of a JSON Schema by dotted path. */
function numbers(s: JsonSchema, path: string, out: [string, JsonSchema][]): [string, JsonSchema][] {
  if (s.type === 'number' || s.type === 'integer') out.push([path, s]);
  for (const [k, sub] of Object.entries(s.properties ?? {})) numbers(sub, path ? `${path}.${k}` : k, out);
  if (s.items) numbers(s.items, `${path}[]`, out);
  return out;
}

test('every number of the config and of every reload route has a minimum and a maximum; timer keys fit a Node timer', () => {
  const all = [['config', configSchema] as const, ...Object.entries(RELOAD_SCHEMAS)].flatMap(([name, schema]) => numbers(toJsonSchema(schema), name, []));
  assert.ok(all.length > 60, `only ${all.length} numbers found`);
  for (const [path, s] of all) {
    assert.ok(s.minimum !== undefined || s.exclusiveMinimum !== undefined, `${path} has no minimum`);
    assert.ok(s.maximum !== undefined && Number.isFinite(s.maximum), `${path} has no maximum`);
    if (/(_ms|Ms)$/.test(path)) assert.ok(s.maximum! <= 2 ** 31 - 1, `${path}: maximum ${s.maximum} overflows a Node timer`);
  }
});

test('object rules: reported at the field, with the object path; skipped while a field is invalid; off on request', () => {
  const limits = object(
    { per_token: number({ min: 0, max: 10 }), per_market: number({ min: 0, max: 20, default: 10 }) },
    { rules: [{ field: 'per_token', message: 'must be <= per_market', holds: (v) => v.per_token <= v.per_market }] },
  );
  const doc = object({ risk: limits });
  assert.deepEqual(validate(doc, { risk: { per_token: 10, per_market: 10 } }), { ok: true, value: { risk: { per_token: 10, per_market: 10 } } });
  assert.deepEqual(validate(doc, { risk: { per_token: 10, per_market: 5 } }), { ok: false, violations: [{ path: 'risk.per_token', message: 'must be <= per_market' }] });
  assert.deepEqual(validate(doc, { risk: { per_token: 11, per_market: 5 } }), { ok: false, violations: [{ path: 'risk.per_token', message: 'must be <= 10' }] });
  assert.equal(validate(doc, { risk: { per_token: 10, per_market: 5 } }, { rules: false }).ok, true);
  assert.match(toJsonSchema(limits).description!, /per_token must be <= per_market/);
  assert.throws(
    () => object({ a: number({ min: 0, max: 9, default: 5 }), b: number({ min: 0, max: 9, default: 1 }) }, { rules: [{ field: 'a', message: 'must be <= b', holds: (v) => v.a <= v.b }] }),
    /defaults break a rule: a must be <= b/,
  );
});

test('decimals: a value the engine unit cannot hold is refused, not rounded; toUnits refuses what would round to 0 or Infinity', () => {
  const pusd = number({ min: 0, max: 1e7, decimals: 6 });
  for (const ok of [0, 1e-6, 0.1, 0.29, 100, 123.456789, 9_999_999.999999]) assert.equal(validate(pusd, ok).ok, true, String(ok));
  for (const bad of [1e-7, 0.0000015, 1.0000001]) {
    assert.deepEqual(validate(pusd, bad), { ok: false, violations: [{ path: '', message: `must have at most 6 decimal places, got ${bad}` }] });
  }
  assert.match(toJsonSchema(pusd).description!, /at most 6 decimal places/);
  assert.equal(toUnits(0.29, 1e6, 'x'), 290_000);
  assert.equal(toUnits(1_000_000, 1e6, 'x'), 1e12);
  for (const [v, scale] of [[1e-7, 1e6], [1e303, 1e6], [Infinity, 1e6], [NaN, 1e6], [0.00015, 1e4], [2 ** 53, 1e6]] as const) {
    assert.throws(() => toUnits(v, scale, 'risk.daily_loss_limit'), (e: unknown) => e instanceof PolyedgeError && e.field === 'risk.daily_loss_limit' && e.code === 'PE_CONFIG_INVALID', `${v}`);
  }
});
