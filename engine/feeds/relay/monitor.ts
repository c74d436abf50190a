// `polyedge relay recv`'s work: drains a started RelaySource's ring on this
// thread until a count, a duration, a signal or the receiver's end, measuring
// one-way latency and the ring hop, printing status lines (and with json one
// line per packet), and returns the summary.

import { setTimeout as sleep } from 'node:timers/promises';
import { EventViews } from '../../../workers/shared-memory/event-layout.js';
import { LatencyHistogram } from '../../metrics/latency.js';
import { native } from '../../native.js';
import { newRelayPrice, readRelayPrice, RELAY_REJECT_REASONS, RelayStat, sendMicros, type RelaySource } from './source.js';
import { StopSignal, type TextOut } from '../stop.js';

export interface RelayMonitorOptions {
  /** Status line every this many packets. */
  printEvery: number;
  /** Stop after this many packets. */
  count: number | undefined;
  durationS: number | undefined;
  /** One JSON line per packet on `out`; status lines then go to `err`. */
  json: boolean;
  /** For the start line only: the CPU the receive thread was pinned to, and whether it spins. */
  cpu: number | undefined;
  spin: boolean;
}

export interface RelayMonitorResult {
  /** What stopped it: 'count', 'duration', 'receiver stopped' or the signal's name. */
  why: string;
  /** Numbers a run without packets has none of are NaN. */
  summary: {
    packets: number;
    seconds: number;
    received: number;
    garbage: number;
    foreign: number;
    lost: number;
    late: number;
    rejected: Record<string, number>;
    legacy: number;
    restarts: number;
    ring_drops: number;
    recv_errors: number;
    last_seq: number | null;
    one_way_us: { clocks: string; p50: number; p99: number; max: number; clamped: number };
    ring_to_main_us: { clock: string; p50: number; p99: number };
  };
}

/** The gate refusals (malformed, foreign and late have their own status fields). */
const GATE_REASONS = RELAY_REJECT_REASONS.filter(([r]) => r !== 'malformed' && r !== 'foreign' && r !== 'late');

/** The gate refusals of the status line: "mac 0 value 3 ...". */
function rejectedLine(stats: Float64Array): string {
  return GATE_REASONS.map(([reason, slot]) => `${reason} ${stats[slot]}`).join(' ');
}

function fmtUs(ns: number): string {
  return Number.isFinite(ns) ? `${(ns / 1000).toFixed(1)} us` : '-';
}

/** Runs until it stops, and stops `source`. */
export async function monitorRelay(source: RelaySource, opts: RelayMonitorOptions, io: TextOut): Promise<RelayMonitorResult> {
  const { json, count, printEvery, cpu } = opts;
  const status = (line: string) => (json ? io.err(`${line}\n`) : io.out(`${line}\n`));
  io.err(
    `relay recv: listening on ${source.address} (SO_RCVBUF ${source.rcvbufBytes} B, SO_BUSY_POLL ${source.busyPollUs} us, ` +
      `thread ${source.threadId}${cpu !== undefined ? ` on cpu ${cpu}` : ''}, ${opts.spin ? 'spinning' : 'blocking'})\n`,
  );

  const stop = new StopSignal(opts.durationS);
  const ring = source.ring;
  const consumer = ring.consumer({ wait: 'async' });
  const views = new EventViews(ring.sab, ring.dataByteOffset, ring.capacity);
  const p = newRelayPrice();
  const oneWay = new LatencyHistogram();
  const toMain = new LatencyHistogram();
  const stats = source.stats;
  const out: string[] = [];
  let packets = 0;
  const t0 = performance.now();
  let lastT = t0;
  let lastPackets = 0;
  const statusLine = () => {
    const now = performance.now();
    const rate = ((packets - lastPackets) * 1000) / Math.max(now - lastT, 1e-3);
    lastT = now;
    lastPackets = packets;
    status(
      `relay recv: ${packets} packets (${rate.toFixed(0)}/s), garbage ${stats[RelayStat.garbage]}, foreign ${stats[RelayStat.foreign]}, rejected ${rejectedLine(stats)}, lost ${stats[RelayStat.lost]}, ` +
        `late ${stats[RelayStat.late]}, ring drops ${stats[RelayStat.ringDrops]} | one-way p50 ${fmtUs(oneWay.percentileNs(50))} ` +
        `p99 ${fmtUs(oneWay.percentileNs(99))} (sender CLOCK_REALTIME -> receiver CLOCK_REALTIME) | ring -> main p50 ` +
        `${fmtUs(toMain.percentileNs(50))} (CLOCK_MONOTONIC)`,
    );
  };

  while (!stop.stopped) {
    let n = consumer.available();
    if (n === 0) {
      n = await consumer.waitForDataAsync(100);
      if (n === 0) {
        if (consumer.done) stop.stop('receiver stopped');
        continue;
      }
    }
    const seenNs = Number(native.nowNs());
    let i = 0;
    for (; i < n; i++) {
      readRelayPrice(views, consumer.slot(i), p);
      oneWay.recordNs(p.latencyNs);
      toMain.recordNs(seenNs - p.recvNs);
      if (json) {
        out.push(`{"ts_micros":${sendMicros(p)},"bid":${p.bid},"ask":${p.ask}${p.seq === p.seq ? `,"seq":${p.seq}` : ''},"latency_us":${p.latencyNs / 1000}}\n`);
      }
      packets++;
      if (packets % printEvery === 0) statusLine();
      if (packets === count) {
        i++;
        stop.stop('count');
        break;
      }
    }
    consumer.release(i);
    if (out.length > 0) {
      io.out(out.join(''));
      out.length = 0;
    }
    // Let timers and signals in between batches of a busy stream.
    if (n >= ring.capacity / 2) await sleep(0);
  }
  const why = await stop.promise;
  source.stop();
  const secs = (performance.now() - t0) / 1000;
  if (!json) statusLine();
  const ow = oneWay.summary();
  const tm = toMain.summary();
  const c = source.counters();
  return {
    why,
    summary: {
      packets,
      seconds: Number(secs.toFixed(3)),
      received: c.packets,
      garbage: c.garbage,
      foreign: c.foreign,
      lost: c.lost,
      late: c.late,
      rejected: Object.fromEntries(RELAY_REJECT_REASONS.map(([reason, slot]) => [reason, stats[slot]!])),
      legacy: c.legacy,
      restarts: c.restarts,
      ring_drops: c.ringDrops,
      recv_errors: c.recvErrors,
      last_seq: Number.isNaN(c.lastSeq) ? null : c.lastSeq,
      one_way_us: { clocks: 'sender CLOCK_REALTIME -> receiver CLOCK_REALTIME', p50: ow.p50Ns / 1000, p99: ow.p99Ns / 1000, max: ow.maxNs / 1000, clamped: ow.clamped },
      ring_to_main_us: { clock: 'receiver CLOCK_MONOTONIC', p50: tm.p50Ns / 1000, p99: tm.p99Ns / 1000 },
    },
  };
}
