// PacketSender: the relay's sending end. The caller fills `fields` (slot
// numbers in packet.ts) and calls send(); the native side stamps the send
// time, encodes into `packet` and sends it on a connected UDP socket, in one
// napi call with no arguments but the format and no allocation.

import { native } from '../../native.js';
import { EXTENDED_MAC_LEN, FIELD_COUNT, FORMAT_EXTENDED, FORMAT_LEGACY, F_LEN, F_SEND_TS_NS } from './packet.js';

export type FrameFormat = 'legacy' | 'extended';

/** native RelaySender.send results at or below this are errno failures (errno = base - result). */
const SEND_ERROR_BASE = -1000;

type NativeSender = InstanceType<typeof native.RelaySender>;

export class PacketSender {
  /** Fields of the next packet; send() writes F_SEND_TS_NS and F_LEN back. */
  readonly fields = new Float64Array(FIELD_COUNT);
  /** The bytes of the last packet encoded, F_LEN of them. */
  readonly packet = new Uint8Array(EXTENDED_MAC_LEN);
  readonly format: FrameFormat;
  /** Datagrams handed to the kernel. */
  sent = 0;
  /** Packets that failed to encode or send. */
  errors = 0;
  /** errno of the last send failure (negative: codec code of the last encode failure). */
  lastError = 0;
  private readonly formatCode: number;
  private readonly sock: NativeSender;

  /**
   * `target` and `bind` are numeric socket addresses (see endpoint.ts
   * formatEndpoint). `macKeyEnv` names the environment variable holding the
   * hex MAC key, which native code reads: every frame is then sealed, and
   * only the extended format can carry it.
   */
  constructor(target: string, format: FrameFormat, bind?: string, macKeyEnv?: string) {
    if (format !== 'legacy' && format !== 'extended') throw new RangeError(`PacketSender: format must be legacy or extended, got ${String(format)}`);
    if (macKeyEnv !== undefined && format !== 'extended') throw new RangeError('PacketSender: a MAC needs the extended format (a legacy packet has no room for it)');
    this.format = format;
    this.formatCode = format === 'legacy' ? FORMAT_LEGACY : FORMAT_EXTENDED;
    this.sock = new native.RelaySender(target, this.fields, this.packet, bind, macKeyEnv);
  }

  get localAddress(): string {
    return this.sock.localAddress;
  }

  /** Sends `fields` as one packet; returns its length, or 0 when it failed (counted). */
  send(): number {
    const n = this.sock.send(this.formatCode);
    if (n > 0) {
      this.sent++;
      return n;
    }
    this.errors++;
    this.lastError = n <= SEND_ERROR_BASE ? SEND_ERROR_BASE - n : n;
    return 0;
  }

  /** Sends arbitrary bytes (at most 88) as one datagram: replays and garbage tests. */
  sendRaw(bytes: Uint8Array): number {
    if (bytes.length > this.packet.length) throw new RangeError(`PacketSender.sendRaw: at most ${this.packet.length} bytes, got ${bytes.length}`);
    this.packet.set(bytes);
    this.fields[F_LEN] = bytes.length;
    const n = this.sock.sendRaw(bytes.length);
    if (n >= 0) {
      this.sent++;
      return n;
    }
    this.errors++;
    this.lastError = n <= SEND_ERROR_BASE ? SEND_ERROR_BASE - n : n;
    return 0;
  }

  /** The send stamp of the last packet, CLOCK_REALTIME ns (float64: ±128 ns). */
  get lastSendNs(): number {
    return this.fields[F_SEND_TS_NS]!;
  }

  close(): void {
    this.sock.close();
  }
}
