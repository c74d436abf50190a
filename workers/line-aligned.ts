// Shared buffers whose contents start on a cache line of the machine's
// memory, for layouts that place hot words on lines of their own (the ring's
// header blocks and 64-byte records, the books' seqlock words).
//
// Why this is needed: malloc hands out shared buffers aligned to 16 bytes
// only, and large ones always 16 bytes past a line. A layout aligned within
// the buffer is then misaligned in memory: a 64-byte ring record straddled
// two lines, so every hop moved two lines instead of one (measured by
// bench/ring.ts: 1.4-1.5x the cross-core floor before, 1.1-1.3x after).
//
//   buffer byte 0 | contentAt (Int32) ... padding | content (a line boundary) ...
//
// The creator asks the addon where the buffer starts within its line and
// records the content's buffer offset in word 0; any thread that attaches
// reads it from there (the memory, and so its alignment, is the same for all).

import { native } from '../engine/native.js';

/** Bytes before the content: word 0 and the padding up to the next line. */
export const LEAD_BYTES = 64;

/** A zeroed buffer with `contentBytes` usable bytes at a line boundary; returns it and the content's offset. */
export function createLineAligned(contentBytes: number): { sab: SharedArrayBuffer; contentAt: number } {
  const sab = new SharedArrayBuffer(LEAD_BYTES + contentBytes);
  const lineOffset = native.cacheLineOffset(new Uint8Array(sab, 0, 1));
  // Typed views need 8-byte offsets; memory not even 8-aligned (no malloc does that) keeps them valid, if unaligned.
  const contentAt = lineOffset % 8 === 0 ? LEAD_BYTES - lineOffset : LEAD_BYTES;
  new Int32Array(sab, 0, 1)[0] = contentAt;
  return { sab, contentAt };
}

/** The content offset a creator recorded, or undefined when word 0 cannot be one. */
export function contentOffsetOf(sab: SharedArrayBuffer): number | undefined {
  if (sab.byteLength < LEAD_BYTES) return undefined;
  const at = new Int32Array(sab, 0, 1)[0]!;
  return at >= 8 && at <= LEAD_BYTES && at % 8 === 0 ? at : undefined;
}
