// Starting live trading on a CLOB: the client (server clock, order version,
// a warm connection), then whatever a previous run left resting cancelled
// and confirmed gone before the first order of this one, then the venue.

import type { OrderSigner } from '../../../native.js';
import type { ApiCredentials } from '../order/hmac.js';
import type { VenueStart } from '../../../execution/venue.js';
import { ClobClient } from './client.js';
import type { TransportOptions } from './transport.js';
import type { VenueSigning } from './intent.js';
import { Heartbeat } from './heartbeat.js';
import { LiveVenue } from './live.js';

export interface LiveStartOptions {
  clobUrl: string;
  signer: OrderSigner;
  creds: ApiCredentials;
  signing: VenueSigning;
  /** [live] heartbeat_interval_ms and heartbeat_fail_after_ms. */
  heartbeat: { intervalMs: number; failAfterMs: number };
  log: (line: string) => void;
  debug?: ((line: string) => void) | undefined;
  /** The client's deadlines, retries and backoff (defaults: transport.ts); a test shortens them so a storm of timeouts passes quickly. */
  transport?: Omit<TransportOptions, 'url'> | undefined;
  /** How often the trades are read while an order rests (default DEFAULT_TRADE_POLL_MS). */
  tradePollMs?: number | undefined;
}

export async function startLiveVenue(o: LiveStartOptions): Promise<VenueStart> {
  const client = new ClobClient({ ...o.transport, url: o.clobUrl }, { address: o.signer.address, creds: o.creds });
  try {
    await client.start();
    const version = await client.orderVersion();
    // Orders of an earlier run are not adopted (that is reconciliation's job): none may rest unseen while this run trades.
    await client.cancelAll();
    const left = await client.openOrders();
    if (left.length > 0) throw new Error(`${left.length} orders still open on the CLOB after DELETE /cancel-all`);
    o.log(`live: CLOB ${o.clobUrl}, order version ${version}, signer ${o.signer.address}; nothing open at start`);
    const signing = { ...o.signing, order_version: version };
    return {
      venue: (listener, parts) => {
        // Started with the venue, stopped by its close(): heartbeats run exactly while orders may rest.
        const heartbeat = new Heartbeat({
          client,
          intervalMs: o.heartbeat.intervalMs,
          failAfterMs: o.heartbeat.failAfterMs,
          onLost: (err) => {
            venue.onHeartbeatLost();
            parts.fault('heartbeat', err, true);
          },
          onRestored: () => o.log('live: heartbeats get through again; the engine stays HALTED until an operator resumes it'),
          onFailure: (err) => parts.fault('POST /v1/heartbeats', err, false),
        });
        const venue = new LiveVenue({
          client,
          signer: o.signer,
          owner: o.creds.apiKey,
          signing,
          markets: parts.markets,
          tokens: parts.tokens,
          listener,
          record: parts.record,
          nowMs: parts.nowMs,
          fault: parts.fault,
          log: o.log,
          debug: o.debug,
          ...(o.tradePollMs !== undefined && { tradePollMs: o.tradePollMs }),
          heartbeat,
        });
        heartbeat.start();
        return venue;
      },
      stop: () => client.close(),
    };
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
}
