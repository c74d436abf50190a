// The native relay receiver writes workers/shared-memory/ring.ts rings of
// workers/shared-memory/event-layout.ts records from Rust, with the layout mirrored in
// constants (native/src/relay_recv.rs). The compiled addon reports the
// values it was built with; each must equal the TypeScript definition of the
// same name, so a layout change that one side does not follow fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native } from '../../native.js';
import { RING_LAYOUT } from '../../../workers/shared-memory/ring.js';
import {
  EVENT_BYTES,
  EVENT_STAMP_BYTE,
  EventKind,
  F64_AUX0,
  F64_AUX1,
  F64_EXCH_TS_MS,
  F64_RECV_NS,
  F64_SEQ,
  F64_SIZE,
  Flag,
  I32_PRICE,
  I32_PRICE2,
  I32_TOKEN,
  U8_FLAGS,
  U8_KIND,
  U8_SOURCE,
} from '../../../workers/shared-memory/event-layout.js';

/** The TypeScript side under the names relay_recv.rs uses; event fields as byte offsets. */
const TS: Record<string, number> = {
  ...RING_LAYOUT,
  EVENT_BYTES,
  OFF_RECV_NS: F64_RECV_NS * 8,
  OFF_EXCH_TS_MS: F64_EXCH_TS_MS * 8,
  OFF_SEQ: F64_SEQ * 8,
  OFF_SIZE: F64_SIZE * 8,
  OFF_AUX0: F64_AUX0 * 8,
  OFF_AUX1: F64_AUX1 * 8,
  OFF_KIND: U8_KIND,
  OFF_FLAGS: U8_FLAGS,
  OFF_SOURCE: U8_SOURCE,
  OFF_STAMP: EVENT_STAMP_BYTE,
  OFF_TOKEN: I32_TOKEN * 4,
  OFF_PRICE: I32_PRICE * 4,
  OFF_PRICE2: I32_PRICE2 * 4,
  KIND_EXTERNAL_PRICE: EventKind.ExternalPrice,
  FLAG_LAST_IN_MESSAGE: Flag.LastInMessage,
};

test('relay receiver: every ring header and event record constant of the addon equals its TypeScript definition', () => {
  const rust = native.relayRingLayout();
  const names = rust.map(([name]) => name);
  assert.equal(new Set(names).size, names.length, 'a constant is reported twice');
  // The receiver depends on all of these; losing one from its table would hide drift.
  for (const must of ['RING_MAGIC', 'RING_VERSION', 'H_WRITE', 'H_READ', 'H_CONSUMER_PARKED', 'HEADER_BYTES', 'LEAD_BYTES', 'EVENT_BYTES', 'OFF_STAMP', 'OFF_PRICE2']) {
    assert.ok(names.includes(must), `addon does not report ${must}`);
  }
  for (const [name, value] of rust) {
    assert.ok(Object.hasOwn(TS, name), `addon constant ${name} has no TypeScript counterpart`);
    assert.equal(value, TS[name], `${name}: addon ${value}, TypeScript ${TS[name]}`);
  }
});

test('relay receiver: the event fields it writes tile the 64-byte record without overlap and leave the stamp byte to the ring', () => {
  const widths: Array<[string, number]> = [
    ['OFF_RECV_NS', 8],
    ['OFF_EXCH_TS_MS', 8],
    ['OFF_SEQ', 8],
    ['OFF_SIZE', 8],
    ['OFF_AUX0', 8],
    ['OFF_AUX1', 8],
    ['OFF_KIND', 1],
    ['OFF_FLAGS', 1],
    ['OFF_SOURCE', 1],
    ['OFF_STAMP', 1],
    ['OFF_TOKEN', 4],
    ['OFF_PRICE', 4],
    ['OFF_PRICE2', 4],
  ];
  const rust = new Map(native.relayRingLayout());
  const owner = new Array<string | undefined>(EVENT_BYTES).fill(undefined);
  for (const [name, width] of widths) {
    const at = rust.get(name);
    assert.ok(at !== undefined, name);
    assert.equal(at % width, 0, `${name} is not aligned to its ${width}-byte width`);
    for (let b = at; b < at + width; b++) {
      assert.ok(b < EVENT_BYTES && owner[b] === undefined, `${name} overlaps ${owner[b]} at byte ${b}`);
      owner[b] = name;
    }
  }
  assert.deepEqual(owner.filter((o) => o === undefined), [], 'every byte of the record has a field');
});
