import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { Prng } from '../../workers/prng.js';
import { configSchema } from './config.js';
import { array, boolean, number, object, oneOf, string, toJsonSchema, validate, type JsonSchema, type Schema } from './schema.js';

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
  assert.deepEqual(p.mode, { enum: ['paper', 'live'], default: 'paper' });
  assert.deepEqual(p.control!.properties!.port, { type: 'integer', minimum: 0, maximum: 65535, default: 7420 });
  assert.deepEqual(p.control!.default, { host: '127.0.0.1', port: 7420 });
  assert.deepEqual(p.risk!.properties!.max_position, { type: 'number', exclusiveMinimum: 0, default: 500, description: 'shares per token' });
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
      const ours = validate(schema, input);
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
