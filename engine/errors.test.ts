import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERRORS } from './errors.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

// The published codes. Adding one means adding it here; removing or renaming
// one breaks users' scripts and must not happen.
const STABLE = [
  'PE_USAGE', 'PE_BATCH_INPUT', 'PE_CONFIG_READ', 'PE_CONFIG_INVALID', 'PE_ENV_MISSING', 'PE_KEY_INVALID', 'PE_INPUT_JSON',
  'PE_ORDER_FIELD', 'PE_ORDER_PRICE_RANGE', 'PE_ORDER_PRICE_TICK', 'PE_ORDER_SIZE_MIN', 'PE_ORDER_TICK', 'PE_ORDER_TYPE',
  'PE_ORDER_EXPIRATION', 'PE_EXCHANGE_UNKNOWN', 'PE_PACKET_TOO_SHORT', 'PE_PACKET_BAD_MAGIC', 'PE_PACKET_BAD_VERSION',
  'PE_PACKET_BAD_LENGTH', 'PE_PACKET_BAD_VALUE', 'PE_PACKET_FIELDS', 'PE_PACKET_OUT_TOO_SMALL', 'PE_INTERNAL',
  'PE_CONTROL_AUTH', 'PE_CONTROL_REQUEST', 'PE_SNAPSHOT_INVALID', 'PE_JOURNAL_CORRUPT',
  'PE_JOURNAL_UNSLOTTED', 'PE_JOURNAL_OPEN', 'PE_JOURNAL_FOREIGN', 'PE_IO', 'PE_PACKET_BAD_FLAGS',
  'PE_CLOB_REQUEST', 'PE_CLOB_AUTH', 'PE_CLOB_NOT_FOUND', 'PE_CLOB_NOT_READY', 'PE_CLOB_RATE_LIMIT', 'PE_CLOB_SERVER',
  'PE_CLOB_HTTP', 'PE_CLOB_RESPONSE', 'PE_CLOB_TIMEOUT', 'PE_CLOB_UNREACHABLE', 'PE_CLOB_REJECTED', 'PE_CLOB_UNCERTAIN',
  'PE_CLOB_HEARTBEAT_LOST',
];

function sources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'fixtures' ? [] : sources(p);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts') ? [p] : [];
  });
}

test('the catalog keeps every published code, each with an exit code and a title', () => {
  for (const code of STABLE) assert.ok(code in ERRORS, `${code} was removed from the catalog`);
  assert.deepEqual(Object.keys(ERRORS).sort(), [...STABLE].sort(), 'a new code must be added to STABLE in this test');
  for (const [code, e] of Object.entries(ERRORS)) {
    assert.match(code, /^PE_[A-Z0-9_]+$/);
    assert.ok(Number.isInteger(e.exit) && e.exit > 0 && e.exit < 126, code);
    assert.ok(e.title.length > 0, code);
  }
});

test('every error code used in the source is in the catalog', () => {
  const used = new Set<string>();
  for (const file of [...sources(join(REPO, 'engine')), ...sources(join(REPO, 'workers')), ...sources(join(REPO, 'bench'))]) {
    for (const m of readFileSync(file, 'utf8').matchAll(/'(PE_[A-Z0-9_]+)'/g)) used.add(m[1]!);
  }
  assert.ok(used.size > 10);
  for (const code of used) assert.ok(code in ERRORS, `${code} is used but not in the catalog`);
});
