import { test } from 'node:test';
import assert from 'node:assert/strict';
import { float64FromString, parseFloat64, parseTicks, parseUint, ticksFromString } from './decimal.js';
import { prng } from './testing/data.js';
import { refFloat, refTicks } from './testing/reference.js';

const enc = new TextEncoder();

test('prices from the recorded messages land on exact integer ticks', () => {
  assert.equal(ticksFromString('0.55', 4), 5500);
  assert.equal(ticksFromString('.48', 4), 4800);
  assert.equal(ticksFromString('0.550', 4), 5500);
  assert.equal(ticksFromString('0.514', 4), 5140);
  assert.equal(ticksFromString('0.999', 4), 9990);
  assert.equal(ticksFromString('0', 4), 0);
  assert.equal(ticksFromString('1', 4), 10000);
  assert.equal(ticksFromString('61800.30', 1), 618003);
  assert.equal(ticksFromString('58710.20', 1), 587102);
  assert.equal(ticksFromString('61837.63000000', 2), 6183763);
  assert.equal(ticksFromString('1130.78', 2), 113078);
  // 0.29 * 1e4 is 2899.9999999999995 in float arithmetic; ticks must not be.
  assert.equal(ticksFromString('0.29', 4), 2900);
  assert.equal(ticksFromString('0.57', 4), 5700);
});

test('"0.50", ".5" and "0.500" are the same level', () => {
  const a = ticksFromString('0.50', 4);
  assert.equal(a, 5000);
  assert.equal(ticksFromString('.5', 4), a);
  assert.equal(ticksFromString('0.500', 4), a);
  assert.equal(ticksFromString('0.5000000', 4), a);
});

test('malformed or off-grid decimals give NaN', () => {
  for (const bad of ['', '.', '-', '5.', '1.2.3', 'abc', ' 1', '1 ', '1e5', '+1', '--1', '0x10', '1,5', '0.5"', 'NaN', 'Infinity']) {
    assert.ok(Number.isNaN(ticksFromString(bad, 4)), `ticks ${JSON.stringify(bad)}`);
  }
  assert.ok(Number.isNaN(ticksFromString('0.55001', 4)), 'finer than the grid');
  assert.ok(Number.isNaN(ticksFromString('61800.35', 1)), 'off the 0.1 grid');
  assert.ok(Number.isNaN(ticksFromString('99999999999999999', 4)), 'beyond 2^53 ticks');
  for (const bad of ['', '.', '-', '5.', '1.2.3', 'abc', '1e', '1e+', '+1', ' 1', '0x1', 'NaN']) {
    assert.ok(Number.isNaN(float64FromString(bad)), `float ${JSON.stringify(bad)}`);
  }
});

test('sizes parse to the same float64 as Number()', () => {
  assert.equal(float64FromString('1130.78'), 1130.78);
  assert.equal(float64FromString('21574.08'), 21574.08);
  assert.equal(float64FromString('9000023.58'), 9000023.58);
  assert.equal(float64FromString('0.014'), 0.014);
  assert.equal(float64FromString('0'), 0);
  assert.equal(float64FromString('.5'), 0.5);
  assert.equal(float64FromString('110872.64000000'), 110872.64);
  // Chainlink's 18-decimal fixed point: 24 digits, trailing zeros fold into the exponent.
  assert.equal(float64FromString('110941221874000000000000'), 110941221874e12);
  assert.equal(float64FromString('3.4e2'), 340);
  assert.equal(float64FromString('-0.25'), -0.25);
  assert.ok(Object.is(float64FromString('-0'), -0));
});

test('parseUint: millisecond timestamps and update ids', () => {
  const t = enc.encode('1729084877448');
  assert.equal(parseUint(t, 0, t.length), 1729084877448);
  const u = enc.encode('5123107852948');
  assert.equal(parseUint(u, 0, u.length), 5123107852948);
  for (const bad of ['', '-1', '1.0', '12a', '9007199254740993']) {
    const b = enc.encode(bad);
    assert.ok(Number.isNaN(parseUint(b, 0, b.length)), bad);
  }
});

test('seeded random decimals agree with BigInt ticks and Number()', () => {
  const rnd = prng(0xdec1a1);
  const digits = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += String(Math.floor(rnd() * 10));
    return s;
  };
  const alphabet = '0123456789.-eE+ x';
  for (let k = 0; k < 20000; k++) {
    let s: string;
    const r = rnd();
    if (r < 0.45) s = `${rnd() < 0.1 ? '-' : ''}${digits(Math.floor(rnd() * 8))}.${digits(1 + Math.floor(rnd() * 10))}`;
    else if (r < 0.6) s = digits(1 + Math.floor(rnd() * 25)); // long integers: slow path and trailing-zero folding
    else if (r < 0.75) s = `${digits(1 + Math.floor(rnd() * 3))}${'0'.repeat(Math.floor(rnd() * 20))}.${'0'.repeat(Math.floor(rnd() * 5))}`;
    else if (r < 0.85) s = `${digits(1 + Math.floor(rnd() * 4))}.${digits(Math.floor(rnd() * 4) + 1)}e${rnd() < 0.5 ? '-' : ''}${Math.floor(rnd() * 30)}`;
    else {
      s = '';
      const n = Math.floor(rnd() * 8);
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    }
    const b = enc.encode(s);
    const exp = Math.floor(rnd() * 9);
    assert.ok(Object.is(parseTicks(b, 0, b.length, exp), refTicks(s, exp)), `ticks(${JSON.stringify(s)}, ${exp})`);
    assert.ok(Object.is(parseFloat64(b, 0, b.length), refFloat(s)), `float(${JSON.stringify(s)})`);
  }
});

test('parses in place at an offset inside a larger buffer', () => {
  const b = enc.encode('{"price":"0.54","size":"1130.78"}');
  assert.equal(parseTicks(b, 10, 14, 4), 5400);
  assert.equal(parseFloat64(b, 24, 31), 1130.78);
});
