// Every metric the engine exposes at /metrics, declared once. METRICS.md
// beside this file is the human contract; contract.test.ts fails when the
// two disagree. Units follow Prometheus: durations in seconds (histograms
// record ns, exposition divides by 1e9), money in USD (pUSD, micro-units
// / 1e6), sizes in shares (micro-shares / 1e6); counters end in _total.

export type MetricType = 'counter' | 'gauge' | 'summary';

export interface MetricDecl {
  readonly name: string;
  readonly type: MetricType;
  /** Base unit of a sample: "seconds", "usd", "shares", or what a counter counts ("events", "orders"). */
  readonly unit: string;
  readonly labels: readonly string[];
  /** One line for # HELP. */
  readonly help: string;
  /** How the value is computed, precisely enough to re-derive it from the journal or a recording. */
  readonly formula: string;
}

export const METRICS = [
  {
    name: 'polyedge_tick_to_decision_seconds',
    type: 'summary',
    unit: 'seconds',
    labels: [],
    help: 'Feed receive of the triggering event to the strategy decision.',
    formula: '(decide() return, monotonic ns − recvMonoNs stamped by the feed worker on the triggering event) / 1e9',
  },
  {
    name: 'polyedge_decision_compute_seconds',
    type: 'summary',
    unit: 'seconds',
    labels: [],
    help: 'Time inside strategy decide().',
    formula: '(decide() return − decide() call), monotonic ns / 1e9',
  },
  {
    name: 'polyedge_decision_queue_wait_seconds',
    type: 'summary',
    unit: 'seconds',
    labels: [],
    help: 'Time the triggering event waited on the main thread before decide() ran.',
    formula: '(decide() call − main-thread drain of the triggering event from its ring), monotonic ns / 1e9',
  },
  {
    name: 'polyedge_exchange_to_receive_seconds',
    type: 'summary',
    unit: 'seconds',
    labels: ['source'],
    help: 'Venue event timestamp to our receive, wall clocks (includes clock offset).',
    formula: '(recvWallMs − venue event timestamp ms) / 1e3 per event; negatives (clock skew) clamp to 1 ns and count as clamped',
  },
  {
    name: 'polyedge_receive_to_drain_seconds',
    type: 'summary',
    unit: 'seconds',
    labels: ['source'],
    help: 'Feed-worker receive to main-thread drain of an event.',
    formula: '(main-thread drain, monotonic ns − recvMonoNs) / 1e9 per event',
  },
  {
    name: 'polyedge_events_total',
    type: 'counter',
    unit: 'events',
    labels: ['source'],
    help: 'Events drained from the source ring by the main thread.',
    formula: 'count of events the main thread drained from the source ring',
  },
  {
    name: 'polyedge_feed_frames_total',
    type: 'counter',
    unit: 'frames',
    labels: ['source'],
    help: 'WebSocket frames received by the feed worker.',
    formula: 'feed counter frames (workers/counters.ts)',
  },
  {
    name: 'polyedge_feed_parse_errors_total',
    type: 'counter',
    unit: 'frames',
    labels: ['source'],
    help: 'Frames the parser rejected and dropped.',
    formula: 'feed counter parseErrors (workers/counters.ts)',
  },
  {
    name: 'polyedge_feed_resyncs_total',
    type: 'counter',
    unit: 'resyncs',
    labels: ['source'],
    help: 'Book resynchronisations from a fresh snapshot.',
    formula: 'feed counter resyncs (workers/counters.ts)',
  },
  {
    name: 'polyedge_feed_reconnects_total',
    type: 'counter',
    unit: 'connections',
    labels: ['source'],
    help: 'Connections re-established after a drop or a stall.',
    formula: 'feed counter reconnects (workers/counters.ts)',
  },
  {
    name: 'polyedge_feed_gaps_total',
    type: 'counter',
    unit: 'gaps',
    labels: ['source'],
    help: 'Sequence gaps detected in the stream.',
    formula: 'feed counter gaps (workers/counters.ts)',
  },
  {
    name: 'polyedge_orders_total',
    type: 'counter',
    unit: 'orders',
    labels: ['strategy', 'outcome'],
    help: 'Orders by lifecycle event: submitted, acked, rejected, filled, cancelled, expired.',
    formula: 'count of journaled order events per strategy; outcome = submitted (order record), acked, rejected, filled (order fully filled), cancelled, expired',
  },
  {
    name: 'polyedge_fills_total',
    type: 'counter',
    unit: 'fills',
    labels: ['strategy'],
    help: 'Fills applied to positions; re-delivered fill ids are not counted.',
    formula: 'count of fills the position keeper applied (applyFill returned true)',
  },
  {
    name: 'polyedge_position_shares',
    type: 'gauge',
    unit: 'shares',
    labels: ['token'],
    help: 'Position per venue token id.',
    formula: 'position in micro-shares / 1e6; token = venue token id (decimal)',
  },
  {
    name: 'polyedge_pnl_realised_usd',
    type: 'gauge',
    unit: 'usd',
    labels: [],
    help: 'Realised PnL net of fees since the journal began.',
    formula: 'Σ over closed quantity of (exit price − average cost) × size, minus fees, micro-pUSD / 1e6',
  },
  {
    name: 'polyedge_pnl_unrealised_usd',
    type: 'gauge',
    unit: 'usd',
    labels: [],
    help: 'Unrealised PnL of open positions at the book mid.',
    formula: 'Σ over tokens of position × (mid − average cost), micro-pUSD / 1e6',
  },
  {
    name: 'polyedge_fees_usd',
    type: 'gauge',
    unit: 'usd',
    labels: [],
    help: 'Fees paid since the journal began.',
    formula: 'Σ fill.fee over applied fills, micro-pUSD / 1e6',
  },
  {
    name: 'polyedge_gross_exposure_usd',
    type: 'gauge',
    unit: 'usd',
    labels: [],
    help: 'Gross exposure across positions at the book mid.',
    formula: 'Σ over tokens of abs(position) × mid, micro-pUSD / 1e6',
  },
  {
    name: 'polyedge_engine_state',
    type: 'gauge',
    unit: 'state',
    labels: [],
    help: 'Engine state: 0 RUNNING, 1 PAUSED, 2 REDUCE_ONLY, 3 HALTED.',
    formula: 'EngineState of engine/risk/state.ts: 0 RUNNING, 1 PAUSED, 2 REDUCE_ONLY, 3 HALTED (kill switch or operator)',
  },
  {
    name: 'polyedge_risk_rejections_total',
    type: 'counter',
    unit: 'orders',
    labels: ['reason'],
    help: 'Desired orders refused by risk, by the check that refused them.',
    formula: 'count of desired orders risk refused; reason = the first failing check',
  },
  {
    name: 'polyedge_control_requests_total',
    type: 'counter',
    unit: 'requests',
    labels: ['route', 'code'],
    help: 'Control-plane HTTP requests by route template and status code.',
    formula: 'count of control-plane responses; route = route template (not the raw URL), code = HTTP status',
  },
  {
    name: 'polyedge_fusion_wins_total',
    type: 'counter',
    unit: 'updates',
    labels: ['source'],
    help: 'Fused reference-price updates whose value came from this source.',
    formula: 'count of fused price updates where source delivered the price first',
  },
  {
    name: 'polyedge_fusion_lead_seconds',
    type: 'summary',
    unit: 'seconds',
    labels: ['source'],
    help: 'How far the winning source was ahead of the next source on the same price move.',
    formula: '(receive of the same move from the next source − receive from the winner), monotonic ns / 1e9, per update won',
  },
  {
    name: 'polyedge_journal_records_total',
    type: 'counter',
    unit: 'records',
    labels: [],
    help: 'Records appended to the journal by this process.',
    formula: 'Journal.stats.records',
  },
  {
    name: 'polyedge_journal_bytes_total',
    type: 'counter',
    unit: 'bytes',
    labels: [],
    help: 'Bytes appended to the journal by this process, framing included.',
    formula: 'Journal.stats.bytes',
  },
  {
    name: 'polyedge_journal_fsyncs_total',
    type: 'counter',
    unit: 'fsyncs',
    labels: [],
    help: 'Journal flushes to disk that succeeded.',
    formula: 'Journal.stats.fsyncs',
  },
  {
    name: 'polyedge_journal_fsync_errors_total',
    type: 'counter',
    unit: 'fsyncs',
    labels: [],
    help: 'Journal flushes to disk that failed (data may not be durable).',
    formula: 'Journal.stats.fsyncErrors',
  },
] as const satisfies readonly MetricDecl[];

export type MetricName = (typeof METRICS)[number]['name'];
