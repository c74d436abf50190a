import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DOCUMENTED_LIMITS, RateLimiter, routeFamily, type BucketSpec, type RouteFamily } from './limiter.js';

test('routes map to their documented families', () => {
  const cases: Array<[string, string, RouteFamily]> = [
    ['POST', '/order', 'order'],
    ['DELETE', '/order', 'cancel'],
    ['POST', '/orders', 'orders'],
    ['DELETE', '/orders', 'cancel'],
    ['DELETE', '/cancel-all', 'cancel'],
    ['DELETE', '/cancel-market-orders', 'cancel'],
    ['GET', '/data/orders', 'data'],
    ['GET', '/data/trades', 'data'],
    ['GET', '/data/order/0xabc', 'data'],
    ['GET', '/balance-allowance', 'balance'],
    ['GET', '/balance-allowance/update', 'balance_update'],
    ['GET', '/auth/derive-api-key', 'auth'],
    ['POST', '/auth/api-key', 'auth'],
    ['GET', '/time', 'general'],
    ['POST', '/v1/heartbeats', 'general'],
  ];
  for (const [m, p, f] of cases) assert.equal(routeFamily(m, p), f, `${m} ${p}`);
  assert.deepEqual(DOCUMENTED_LIMITS.order, [{ limit: 3_500, windowMs: 10_000 }, { limit: 36_000, windowMs: 600_000 }]);
});

function small(overrides: Partial<Record<RouteFamily, BucketSpec[]>>): Record<RouteFamily, BucketSpec[]> {
  const big = [{ limit: 1_000_000, windowMs: 1_000 }];
  return { general: big, order: big, orders: big, cancel: big, data: big, balance: big, balance_update: big, auth: big, ...overrides };
}

test('a bucket gives its burst, then asks to wait until the next token, then refills at its rate', () => {
  const l = new RateLimiter(small({ data: [{ limit: 5, windowMs: 1_000 }] }), 0);
  for (let i = 0; i < 5; i++) assert.equal(l.tryTake('data', 0), 0);
  assert.equal(l.tryTake('data', 0), 200, 'one token per 200 ms');
  assert.equal(l.tryTake('data', 150), 50);
  assert.equal(l.tryTake('data', 200), 0);
  assert.equal(l.tryTake('data', 200), 200);
  // A long idle refills to the burst, never beyond.
  for (let i = 0; i < 5; i++) assert.equal(l.tryTake('data', 60_000), 0);
  assert.ok(l.tryTake('data', 60_000) > 0);
});

test('burst and sustained buckets both bind, and a waiting request takes nothing', () => {
  const l = new RateLimiter(small({ order: [{ limit: 3, windowMs: 100 }, { limit: 4, windowMs: 10_000 }] }), 0);
  for (let i = 0; i < 3; i++) assert.equal(l.tryTake('order', 0), 0);
  assert.ok(l.tryTake('order', 0) > 0, 'burst spent');
  assert.equal(l.tryTake('order', 100), 0, 'burst refilled: the fourth of the sustained four');
  const wait = l.tryTake('order', 200);
  assert.ok(wait > 2_000, `sustained bucket empty: ${wait} ms`);
  // The refused calls took nothing: a token is there exactly when the sustained wait is over.
  assert.equal(l.tryTake('order', 200 + wait), 0);
});

test('every family also draws from the general bucket', () => {
  const l = new RateLimiter(small({ general: [{ limit: 2, windowMs: 1_000 }] }), 0);
  assert.equal(l.tryTake('order', 0), 0);
  assert.equal(l.tryTake('data', 0), 0);
  assert.ok(l.tryTake('cancel', 0) > 0);
  assert.ok(l.tryTake('general', 0) > 0);
});

test('a clock stepping back neither drains nor refills a bucket', () => {
  const l = new RateLimiter(small({ auth: [{ limit: 2, windowMs: 1_000 }] }), 10_000);
  assert.equal(l.tryTake('auth', 10_000), 0);
  assert.equal(l.tryTake('auth', 10_000), 0);
  assert.equal(l.tryTake('auth', 5_000), 500);
  assert.equal(l.tryTake('auth', 10_500), 0);
});
