// `polyedge relay send`'s work: a Binance-compatible WebSocket → BinanceRelay
// → one UDP packet per update through an open PacketSender, until a count,
// a duration or a signal; optionally one JSON line per packet sent.

import { COUNTER } from '../../../workers/counters.js';
import { BinanceRelay, type RelayEvents } from './binance-relay.js';
import { EXTENDED_LEN, F_ASK, F_ASK_SIZE, F_BID, F_BID_SIZE, F_EXCHANGE_TS_NS, F_SEQ, F_STREAM } from './packet.js';
import type { PacketSender } from './sender.js';
import { StopSignal, type TextOut } from '../stop.js';

export interface RelaySendOptions {
  /** WebSocket base of the Binance-compatible server (the real venue, or a simulator the caller started). */
  url: string;
  /** Lower-case Binance symbol. */
  symbol: string;
  aggTrade: boolean;
  /** Extended-frame stream id of the bookTickers (the relay's default when undefined). */
  stream: number | undefined;
  /** Stop after this many send attempts, all streams together. */
  count: number | undefined;
  durationS: number | undefined;
  /** One JSON line per packet sent on `out`. */
  json: boolean;
  /** The target as printed in the start line. */
  targetText: string;
}

export interface RelaySendResult {
  /** What stopped it: 'count', 'duration' or the signal's name. */
  why: string;
  summary: {
    sent: number;
    send_errors: number;
    last_errno: number;
    frames: number;
    parse_errors: number;
    reconnects: number;
    streams: Record<string, { events: RelayEvents; sent: number; last_seq: number }>;
  };
}

/** Lines kept before a write: one write per batch, not per packet. */
const JSON_BATCH = 256;

/** Runs the relay until it stops, and closes `sender`. */
export async function relaySend(sender: PacketSender, opts: RelaySendOptions, io: TextOut): Promise<RelaySendResult> {
  const { count, json } = opts;
  const legacy = sender.format === 'legacy';
  const stop = new StopSignal(opts.durationS);
  const out: string[] = [];
  const flush = () => {
    if (out.length > 0) io.out(out.join(''));
    out.length = 0;
  };
  const dv = new DataView(sender.packet.buffer, sender.packet.byteOffset, EXTENDED_LEN);
  const f = sender.fields;
  let attempts = 0;
  const sentBy: Record<RelayEvents, number> = { bookTicker: 0, aggTrade: 0 };
  const relay = new BinanceRelay({
    url: opts.url,
    symbol: opts.symbol,
    sender,
    aggTrade: opts.aggTrade,
    ...(opts.stream !== undefined ? { stream: opts.stream } : {}),
    onOpen: (wsUrl, reconnect) => io.err(`relay send: ${reconnect ? 'reconnected' : 'connected'} to ${wsUrl}\n`),
    onDown: (wsUrl, reason) => io.err(`relay send: connection to ${wsUrl} down (${reason}), reconnecting\n`),
    onPacket: (ok, events) => {
      attempts++;
      if (ok) sentBy[events]++;
      if (ok && json) {
        const tsMicros = legacy ? dv.getBigUint64(0, true) : dv.getBigUint64(32, true) / 1000n;
        out.push(
          `{"stream":${f[F_STREAM]},"seq":${f[F_SEQ]},"ts_micros":${tsMicros},"bid":${f[F_BID]},"ask":${f[F_ASK]},"bid_qty":${f[F_BID_SIZE]},"ask_qty":${f[F_ASK_SIZE]},` +
            `"exch_ms":${Math.round(f[F_EXCHANGE_TS_NS]! / 1e6)},"bytes":${legacy ? 24 : 72}}\n`,
        );
        if (out.length >= JSON_BATCH) flush();
      }
      if (count !== undefined && attempts >= count) {
        relay.stop();
        stop.stop('count');
      }
    },
  });
  io.err(`relay send: ${sender.format} packets from ${sender.localAddress} to ${opts.targetText}\n`);
  relay.start();
  const why = await stop.promise;
  relay.stop();
  flush();
  sender.close();
  const c = relay.counters;
  const streams: RelaySendResult['summary']['streams'] = {};
  for (const r of relay.streams()) streams[r.stream] = { events: r.events, sent: sentBy[r.events], last_seq: r.sequence };
  return {
    why,
    summary: {
      sent: sender.sent,
      send_errors: sender.errors,
      last_errno: sender.lastError,
      frames: c[COUNTER.frames]!,
      parse_errors: c[COUNTER.parseErrors]!,
      reconnects: c[COUNTER.reconnects]!,
      streams,
    },
  };
}
