// JS view of the native relay packet codec (layouts drawn in
// native/src/packet.rs). Slot numbers mirror the Rust constants; a test
// round-trips every slot so the two cannot drift apart silently.

import { PolyedgeError, type ErrorCode } from '../../errors.js';
import { native } from '../../native.js';

export const LEGACY_LEN = 24;
export const EXTENDED_LEN = 72;
/** Flags byte (offset 5) bit: a 16-byte MAC follows the 72 bytes (native/src/mac.rs). */
export const FLAG_MAC = 0x01;
export const MAC_LEN = 16;
/** An extended frame with its MAC: the longest valid datagram. */
export const EXTENDED_MAC_LEN = EXTENDED_LEN + MAC_LEN;

export const F_FORMAT = 0;
export const F_STREAM = 1;
export const F_SEQ = 2;
export const F_EXCHANGE_TS_NS = 3;
export const F_RECV_TS_NS = 4;
/** Sender's send stamp; a legacy packet's ts_micros × 1000. */
export const F_SEND_TS_NS = 5;
export const F_BID = 6;
export const F_ASK = 7;
export const F_BID_SIZE = 8;
export const F_ASK_SIZE = 9;
/** Packet length: input of decodeScratch, output of the scratch encoders. */
export const F_LEN = 10;
export const FIELD_COUNT = 11;

export const FORMAT_LEGACY = 1;
export const FORMAT_EXTENDED = 2;

const ERROR_BY_RESULT: Record<number, ErrorCode> = {
  [-1]: 'PE_PACKET_TOO_SHORT',
  [-2]: 'PE_PACKET_BAD_MAGIC',
  [-3]: 'PE_PACKET_BAD_VERSION',
  [-4]: 'PE_PACKET_BAD_LENGTH',
  [-5]: 'PE_PACKET_BAD_VALUE',
  [-6]: 'PE_PACKET_FIELDS',
  [-7]: 'PE_PACKET_OUT_TOO_SMALL',
  [-8]: 'PE_PACKET_BAD_FLAGS',
};

/** Catalog code for a negative codec result. */
export function packetErrorCode(result: number): ErrorCode {
  return ERROR_BY_RESULT[result] ?? 'PE_INTERNAL';
}

export interface PricePacket {
  format: 'legacy' | 'extended';
  stream: number;
  seq: number;
  exchangeTsNs: number;
  recvTsNs: number;
  sendTsNs: number;
  bid: number;
  ask: number;
  bidSize: number;
  askSize: number;
}

/** Checked decode for tools and tests; hot paths use the scratch API. */
export function decodePacket(packet: Uint8Array): PricePacket {
  const f = new Float64Array(FIELD_COUNT);
  const result = native.decodePacket(packet, f);
  if (result < 0) {
    const code = packetErrorCode(result);
    throw new PolyedgeError(code, `packet of ${packet.length} bytes: ${code}`);
  }
  return {
    format: result === FORMAT_LEGACY ? 'legacy' : 'extended',
    stream: f[F_STREAM]!,
    seq: f[F_SEQ]!,
    exchangeTsNs: f[F_EXCHANGE_TS_NS]!,
    recvTsNs: f[F_RECV_TS_NS]!,
    sendTsNs: f[F_SEND_TS_NS]!,
    bid: f[F_BID]!,
    ask: f[F_ASK]!,
    bidSize: f[F_BID_SIZE]!,
    askSize: f[F_ASK_SIZE]!,
  };
}

export function encodePacket(p: Omit<PricePacket, 'format'>, format: 'legacy' | 'extended'): Buffer {
  const f = new Float64Array(FIELD_COUNT);
  f[F_STREAM] = p.stream;
  f[F_SEQ] = p.seq;
  f[F_EXCHANGE_TS_NS] = p.exchangeTsNs;
  f[F_RECV_TS_NS] = p.recvTsNs;
  f[F_SEND_TS_NS] = p.sendTsNs;
  f[F_BID] = p.bid;
  f[F_ASK] = p.ask;
  f[F_BID_SIZE] = p.bidSize;
  f[F_ASK_SIZE] = p.askSize;
  const out = Buffer.alloc(EXTENDED_LEN);
  const n = format === 'legacy' ? native.encodeLegacyPacket(f, out) : native.encodeExtendedPacket(f, out);
  if (n < 0) {
    const code = packetErrorCode(n);
    throw new PolyedgeError(code, `cannot encode ${format} packet: ${code}`);
  }
  return out.subarray(0, n);
}
