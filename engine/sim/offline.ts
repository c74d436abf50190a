// The simulator as the engine's offline venues (runtime/session.ts
// OfflineVenues): `npm start`'s bundled session, and anything else that
// runs a session against loopback venues. The engine never imports this
// folder; the CLI and tests hand it one of these starters.

import type { FeedEndpoints } from '../feeds/plan.js';
import type { OfflineVenueRequest, OfflineVenues } from '../runtime/session.js';
import { buildBundledMarkets, BUNDLED_RTDS_FILES, STEP_MS } from './bundled-updown.js';
import type { GammaListing } from './gamma.js';
import { startSimThread, type SimThread } from './sim-thread.js';
import type { SimEndpoints } from './simulator.js';

export function simulatorEndpoints(e: SimEndpoints): FeedEndpoints {
  return {
    polymarket: e.polymarket && { wsUrl: e.polymarket.wsUrl, restUrl: e.polymarket.restUrl },
    binance: e.binance && { wsBaseUrl: e.binance.wsBaseUrl, restUrl: e.binance.restUrl },
    rtds: e.rtds && { wsUrl: e.rtds.wsUrl },
    deribit: e.deribit && { wsUrl: e.deribit.wsUrl },
  };
}

/** The bundled session's venues, with the simulator thread a test can reach (its control URL, its Gamma). */
export interface BundledVenues extends OfflineVenues {
  readonly thread: SimThread;
}

export interface BundledOptions {
  /** Adjusts each Gamma listing the simulator serves (tests: a venue that resolves a market the other way). */
  listing?: ((l: GammaListing) => GammaListing) | undefined;
  /** Key pairs the simulator's CLOB knows from the start (live mode against the offline session). */
  clobKeys?: readonly { address: string; apiKey: string; secret: string; passphrase: string }[] | undefined;
  /** The CLOB's dead-man switch: a key silent this long after a heartbeat loses its open orders (ClobOptions.heartbeatTimeoutMs); default none. */
  clobHeartbeatTimeoutMs?: number | undefined;
}

/**
 * The bundled offline session: synthetic BTC Up/Down markets following the
 * recorded Chainlink path, on a simulator thread of its own (pinned beside
 * the feed workers when the session pins).
 */
export function bundledVenues(options: BundledOptions = {}): (request: OfflineVenueRequest) => Promise<BundledVenues> {
  return async ({ seed, speed, cpu }) => {
    const bundle = buildBundledMarkets();
    const thread = await startSimThread(
      {
        venues: ['polymarket', 'rtds', 'deribit'],
        source: 'recorded',
        seed,
        speed,
        // The recording starts when the session's feeds are connected: at a high --speed, start-up would skip its first windows.
        startWhenConnected: true,
        // Listed on the simulator's Gamma lookup: the session discovers and rolls its markets exactly as live does.
        // Gamma's clock is the capture's, like the engine's: a listing resolves a set delay after its window ends there.
        polymarket: {
          markets: bundle.markets.map((m) => m.spec),
          stepMs: STEP_MS,
          clockStartMs: bundle.t0Ms,
          gamma: bundle.markets.map((m) => options.listing?.(m.listing) ?? m.listing),
          ...((options.clobKeys || options.clobHeartbeatTimeoutMs !== undefined) && {
            clob: { ...(options.clobKeys && { keys: options.clobKeys }), ...(options.clobHeartbeatTimeoutMs !== undefined && { heartbeatTimeoutMs: options.clobHeartbeatTimeoutMs }) },
          }),
        },
        rtds: { paths: BUNDLED_RTDS_FILES },
        deribit: { baseVolatility: 45 },
      },
      cpu,
    );
    const e = thread.endpoints;
    return {
      thread,
      endpoints: simulatorEndpoints(e),
      gammaUrl: e.polymarket!.restUrl,
      feeds: ['polymarket', 'rtds', 'deribit'],
      // The session's markets live on the capture's clock (2025-10-29): the engine follows the feed.
      feedClock: true,
      description: [
        `venue simulator on loopback (thread ${thread.threadId}${cpu >= 0 ? `, pinned to core ${cpu} beside the feed workers` : ''}): ` +
          `polymarket ${e.polymarket!.wsUrl}, rtds ${e.rtds!.wsUrl}, deribit ${e.deribit!.wsUrl}`,
        `session: ${bundle.markets.length} synthetic BTC Up/Down 5-minute markets following the real Chainlink BTC/USD path of 2025-10-29 (engine/sim/data/PROVENANCE.md), listed on the simulator's Gamma`,
      ],
      stop: () => thread.stop(),
    };
  };
}
