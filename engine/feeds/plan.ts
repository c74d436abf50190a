// Which feeds to run and where they connect: built once at start-up from the
// validated config and either the live venue URLs or the loopback endpoints
// of offline venues (the simulator). The result is plain FeedSpecs for the workers.

import type { ConnectionTuning, FeedName, FeedSpec } from '../../workers/feed-init.js';
import type { Config } from '../config/config.js';
import { PolyedgeError } from '../errors.js';

export const FEED_NAMES: readonly FeedName[] = ['polymarket', 'binance', 'rtds', 'deribit'];

/** Where each feed connects; a simulator serves only the venues it was started with. */
export interface FeedEndpoints {
  polymarket?: { wsUrl: string; restUrl: string } | undefined;
  binance?: { wsBaseUrl: string; restUrl: string } | undefined;
  rtds?: { wsUrl: string } | undefined;
  deribit?: { wsUrl: string } | undefined;
}

/** USD-M price ticks (exchangeInfo PRICE_FILTER), as decimal exponents: 0.1 → 1. */
const BINANCE_TICK_EXP: Readonly<Record<string, number>> = { BTCUSDT: 1, ETHUSDT: 2, SOLUSDT: 2, XRPUSDT: 4 };

export function liveEndpoints(cfg: Config): FeedEndpoints {
  const v = cfg.venue;
  return {
    polymarket: { wsUrl: v.market_ws_url, restUrl: v.clob_url },
    binance: { wsBaseUrl: v.binance_ws_url, restUrl: v.binance_rest_url },
    rtds: { wsUrl: v.rtds_url },
    deribit: { wsUrl: v.deribit_ws_url },
  };
}

function need<T>(v: T | undefined, feed: string): T {
  if (v === undefined) throw new PolyedgeError('PE_USAGE', `feed ${feed} was asked for, but nothing serves it`, 'feeds');
  return v;
}

export function tuningOf(cfg: Config): ConnectionTuning {
  const f = cfg.feeds;
  return { stallMs: f.stall_ms, pingIntervalMs: f.ping_interval_ms, backoffBaseMs: f.backoff_base_ms, backoffMaxMs: f.backoff_max_ms };
}

/** "btcusdt" on RTDS's Binance topic and "btc/usd" on its Chainlink topic, per configured Binance symbol. */
export function rtdsSymbolsOf(binanceSymbols: readonly string[]): Array<{ topic: 'binance' | 'chainlink'; symbol: string }> {
  return binanceSymbols.flatMap((s) => {
    const base = s.replace(/USDT$/, '').toLowerCase();
    return [
      { topic: 'binance' as const, symbol: s.toLowerCase() },
      { topic: 'chainlink' as const, symbol: `${base}/usd` },
    ];
  });
}

export function parseFeedList(text: string): FeedName[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(FEED_NAMES as readonly string[]).includes(n)) throw new PolyedgeError('PE_USAGE', `--feeds: unknown feed "${n}" (known: ${FEED_NAMES.join(', ')})`, 'feeds');
  }
  return names as FeedName[];
}

/**
 * `tokenIds` is Polymarket's initial assignment (slot i ← tokenIds[i]) and
 * `slots` its book capacity: with no slots there is no Polymarket feed; with
 * slots and no tokens yet, it connects at the first assign.
 */
export function planFeeds(cfg: Config, endpoints: FeedEndpoints, feeds: readonly FeedName[], tokenIds: readonly string[], slots = tokenIds.length): FeedSpec[] {
  if (!Number.isInteger(slots) || slots < tokenIds.length) throw new RangeError(`planFeeds: slots must be an integer >= the ${tokenIds.length} initial token ids, got ${slots}`);
  const f = cfg.feeds;
  const specs: FeedSpec[] = [];
  for (const feed of feeds) {
    if (feed === 'polymarket') {
      if (slots === 0) continue;
      specs.push({ feed, ...need(endpoints.polymarket, feed), tokenIds, slots, maxAssetsPerConnection: f.polymarket_max_assets_per_connection });
    } else if (feed === 'binance') {
      const symbols = f.binance_symbols.map((symbol, i) => {
        const tickExp = BINANCE_TICK_EXP[symbol];
        if (tickExp === undefined) {
          throw new PolyedgeError('PE_CONFIG_INVALID', `feeds.binance_symbols[${i}]: no known tick size for ${symbol} (known: ${Object.keys(BINANCE_TICK_EXP).join(', ')})`, `feeds.binance_symbols[${i}]`);
        }
        return { symbol, tickExp };
      });
      specs.push({ feed, ...need(endpoints.binance, feed), symbols, depthStream: f.binance_depth_stream, trades: true, liquidations: true, bookTicker: true });
    } else if (feed === 'rtds') {
      specs.push({ feed, ...need(endpoints.rtds, feed), symbols: rtdsSymbolsOf(f.binance_symbols), priceStallMs: f.rtds_price_stall_ms });
    } else {
      specs.push({ feed, ...need(endpoints.deribit, feed), indices: f.deribit_indices });
    }
  }
  return specs;
}
