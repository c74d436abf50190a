// The configuration schema: one place that says what a config file may hold,
// with defaults. Secrets never live here; they come from the environment.

import { paperParamsSchema } from '../execution/paper.js';
import { journalConfig } from '../journal/journal.js';
import { markoutParamsSchema } from '../portfolio/markouts.js';
import { liveLimitFields, liveLimitRules, riskParamsSchema } from '../risk/gates.js';
import { IP_LITERAL } from '../feeds/relay/allow.js';
import { SERIES_NAME } from '../venues/polymarket/discovery.js';
import { heartbeatFields, heartbeatRules } from '../venues/polymarket/clob/heartbeat.js';
import { perfFields } from '../runtime/params.js';
import { fusionParamsSchema } from '../references/fusion.js';
import { strategyNameSchema, strategyTablesSchema } from '../strategy/registry.js';
import { array, boolean, number, object, oneOf, string, type Infer } from './schema.js';

const url = (def: string) => string({ pattern: /^(https?|wss?):\/\/[^\s]+$/, hint: 'an http(s):// or ws(s):// URL', default: def });
const address = string({ pattern: /^(0x[0-9a-fA-F]{40})?$/, hint: 'a 0x-prefixed 20-byte address or empty', default: '' });
const cpu = (def: number) => number({ integer: true, min: 0, max: 1023, default: def, description: 'a CPU core; at most 1023 (the kernel\'s default CPU set size)' });
const HOUR_MS = 3_600_000;
/** Periods and deadlines that arm a Node timer stay far below its 2^31 − 1 ms ceiling (a larger delay fires after 1 ms). */
const ms = (min: number, max: number, def: number, description: string) => number({ integer: true, min, max, default: def, description });

export const configSchema = object({
  /**
   * paper: simulated fills on the live books. dry-run: every order signed and
   * its request journaled, nothing sent. live: needs the key, the L2
   * credentials, every [live] limit and --confirm-live (cli/run.ts).
   */
  mode: oneOf(['paper', 'dry-run', 'live'] as const, { default: 'paper' }),
  venue: object({
    chain_id: number({ integer: true, min: 1, max: 4_294_967_295, default: 137, description: 'EVM chain id (137 Polygon); at most 2^32 − 1' }),
    clob_url: url('https://clob.polymarket.com'),
    market_ws_url: url('wss://ws-subscriptions-clob.polymarket.com/ws/market'),
    user_ws_url: url('wss://ws-subscriptions-clob.polymarket.com/ws/user'),
    rtds_url: url('wss://ws-live-data.polymarket.com'),
    gamma_url: url('https://gamma-api.polymarket.com'),
    binance_ws_url: url('wss://fstream.binance.com'),
    binance_rest_url: url('https://fapi.binance.com'),
    deribit_ws_url: url('wss://www.deribit.com/ws/api/v2'),
  }),
  signing: object({
    order_version: oneOf([2, 3] as const, { default: 2 }),
    signature_type: oneOf([0, 1, 2, 3] as const, { default: 0 }),
    /** maker/funder wallet for signature types 1-3; empty means the signer itself */
    funder: address,
  }),
  orders: object({
    /** market minimum order size in shares when the market does not say */
    min_size: number({ min: 0.01, max: 1_000_000, decimals: 2, default: 5, description: 'shares, on the 0.01 lot; at most 1,000,000 (beyond any Polymarket book)' }),
  }),
  cpu: object({
    main: cpu(0),
    feeds: cpu(1),
    pin: boolean({ default: true }),
  }),
  risk: riskParamsSchema,
  /** Caps on what dry-run and live send, each to be set (> 0) for live; and the heartbeats of live's dead-man switch. */
  live: object({ ...liveLimitFields, ...heartbeatFields }, { rules: [...liveLimitRules, ...heartbeatRules] }),
  engine: object({
    /** strategies run side by side, each with its own orders, positions and PnL; any registered strategy (engine/strategy/registry.ts) */
    strategies: array(strategyNameSchema, { default: ['maker', 'directional'] }),
    /** wall: Date.now(); feed: the reference feed's venue clock (sessions and replays of another day) */
    clock: oneOf(['wall', 'feed'] as const, { default: 'wall' }),
    /** the perf profile (/control/reload/perf): wait, status_interval_ms, metrics_window_ms; tick_to_decision is also kept per window, so a change (a storm, a reload) shows against the window before */
    ...perfFields,
  }),
  /** The UDP relay receiver (engine/feeds/relay/source.ts): a reference price source like the feeds */
  relay: object({
    enabled: boolean({ default: false }),
    bind: string({ pattern: /^[^\s:]+:\d{1,5}$/, hint: 'ADDR:PORT, e.g. 0.0.0.0:9870', default: '127.0.0.1:9870' }),
    /** sender IP addresses accepted (others are dropped and counted); empty accepts any sender, allowed only on a loopback bind */
    allow: array(string({ pattern: IP_LITERAL, hint: 'an IPv4 or IPv6 address such as 10.0.0.1' }), { default: [] }),
    /** core of the receive thread; -1 leaves it unpinned */
    cpu: number({ integer: true, min: -1, max: 1023, default: -1 }),
    /** busy-poll the socket (a whole core) instead of blocking in recvmmsg */
    spin: boolean({ default: false }),
    busy_poll_us: number({ integer: true, min: 0, max: 1_000_000, default: 50 }),
    rcvbuf_bytes: number({ integer: true, min: 4_096, max: 1 << 30, default: 8 << 20 }),
    /** the extended-frame stream that carries the prices (legacy packets are stream 0) */
    stream: number({ integer: true, min: 0, max: 65_535, default: 0 }),
    /** the underlying those prices quote, as markets name it */
    underlying: string({ pattern: /^[a-z0-9]+$/, hint: 'a lower-case underlying such as btc', default: 'btc' }),
    /** widest bid-ask spread accepted, basis points of the mid (receive thread) */
    max_spread_bps: number({ min: 0, max: 10_000, default: 50 }),
    /** furthest a packet's send (or exchange) stamp may be from this host's clock, either way (receive thread) */
    max_skew_ms: number({ integer: true, min: 1, max: 60_000, default: 1_000 }),
    /** furthest a relay price may be from the median of the other fresh references, or without them from its last vouched price (fusion) */
    max_deviation_bps: number({ min: 0.1, max: 10_000, default: 50 }),
    /** environment variable holding the hex MAC key (read by native code only); unset: no key */
    mac_key_env: string({ pattern: /^[A-Z_][A-Z0-9_]*$/, hint: 'an environment variable name such as POLYEDGE_RELAY_KEY', default: 'POLYEDGE_RELAY_KEY' }),
    /** refuse every packet without a valid MAC (legacy packets included); needs the key */
    require_mac: boolean({ default: false }),
  }),
  /** one table per registered strategy, [strategy.<name>] (its reload route is /control/reload/strategy/<name>) */
  strategy: strategyTablesSchema,
  paper: paperParamsSchema,
  journal: journalConfig,
  fusion: fusionParamsSchema,
  toxicity: markoutParamsSchema,
  control: object({
    host: string({ default: '127.0.0.1' }),
    port: number({ integer: true, min: 0, max: 65535, default: 7420, description: 'TCP port; 0 takes a free one' }),
  }),
  feeds: object(
    {
      stall_ms: ms(100, 10 * 60_000, 15_000, 'no frame and no PONG for this long: reconnect and resync; at most 10 minutes (a longer silence is an outage)'),
      ping_interval_ms: ms(100, 5 * 60_000, 5_000, 'keep-alive period; at most 5 minutes, and below stall_ms'),
      backoff_base_ms: ms(1, 60_000, 250, 'first reconnect delay, doubled per failed attempt; at most 1 minute'),
      backoff_max_ms: ms(1, HOUR_MS, 10_000, 'longest reconnect delay; at most 1 hour'),
      /** the market channel's documented cap is 500 assets per connection (protocols §2.1) */
      polymarket_max_assets_per_connection: number({ integer: true, min: 1, max: 500, default: 500 }),
      binance_symbols: array(string({ pattern: /^[A-Z0-9]{2,20}$/, hint: 'an upper-case Binance symbol such as BTCUSDT' }), { default: ['BTCUSDT'] }),
      binance_depth_stream: oneOf(['@depth@0ms', '@depth@100ms', '@depth', '@depth@500ms'] as const, { default: '@depth@100ms' }),
      rtds_price_stall_ms: ms(1_000, HOUR_MS, 60_000, 'Chainlink ticks can be 30 s apart; reconnect RTDS after this long without a price; at most 1 hour'),
      deribit_indices: array(string({ pattern: /^[a-z]+_[a-z]+$/, hint: 'a DVOL index name such as btc_usd' }), { default: ['btc_usd'] }),
    },
    {
      rules: [
        // A quiet channel's only frames are PONGs: pinging no faster than the stall deadline would reconnect a healthy connection.
        { field: 'ping_interval_ms', message: 'must be < stall_ms (a quiet connection answers only pings)', holds: (f) => f.ping_interval_ms < f.stall_ms },
        { field: 'backoff_base_ms', message: 'must be <= backoff_max_ms', holds: (f) => f.backoff_base_ms <= f.backoff_max_ms },
      ],
    },
  ),
  record: object({
    dir: string({ default: 'recordings' }),
    max_mb: number({ gt: 0, max: 1_048_576, default: 256, description: 'recording size cap, MiB; at most 1 TiB' }),
    max_minutes: number({ gt: 0, max: 10_080, default: 60, description: 'recording length cap; at most 1 week' }),
  }),
  markets: object({
    /** token ids `polyedge record` records; empty means what the session or discovery provides */
    tokens: array(string({ pattern: /^\d+$/, hint: 'a decimal token id' }), { default: [] }),
    /** rolling Up/Down series to follow, as Gamma slugs name them without the window start (§5.3) */
    series: array(string({ pattern: SERIES_NAME, hint: 'a series such as btc-updown-5m' }), { default: ['btc-updown-5m'], minItems: 1 }),
    /** windows discovered ahead of the current one: their books are subscribed before they open */
    lookahead_windows: number({ integer: true, min: 0, max: 12, default: 2 }),
    discovery_poll_ms: ms(1_000, HOUR_MS, 10_000, 'how often Gamma is asked for new windows; at most 1 hour'),
    /** market slots (two books each) markets occupy in turn; a slot is reused once its market has settled */
    slots: number({ integer: true, min: 1, max: 256, default: 8 }),
    /** how long after a window's end the venue's resolution is awaited before the engine's settlement stands unaudited */
    audit_timeout_ms: ms(1_000, 7 * 24 * HOUR_MS, 14_400_000, 'how long after a window\'s end the venue\'s resolution is awaited; at most 7 days'),
  }),
});

export type Config = Infer<typeof configSchema>;
