// Wires the engine's live state into the metrics registry. Everything is read
// at scrape time: nothing on the decision path pushes a metric.

import { COUNTER } from '../../workers/counters.js';
import type { RequestCount } from '../control/server.js';
import type { VenueCounters } from '../execution/venue.js';
import type { MarketDataHub } from '../feeds/hub.js';
import { registerProcessMetrics } from '../metrics/process.js';
import type { MetricsRegistry } from '../metrics/registry.js';
import { RELAY_REJECT_REASONS, RelayStat, type RelaySource } from '../feeds/relay/source.js';
import { RISK_REASON_NAMES } from '../risk/gates.js';
import type { SettlementAuditor } from '../markets/audit.js';
import type { MarketRoller } from '../venues/polymarket/discovery.js';
import { SLOT_PHASE_NAMES, type SlotPhase } from '../markets/slots.js';
import type { Engine } from './engine.js';
import { FAULT_SITE_NAMES } from './faults.js';

export function registerEngineMetrics(r: MetricsRegistry, engine: Engine, hub: MarketDataHub, requests: () => RequestCount[], relay?: RelaySource, roller?: MarketRoller, auditor?: SettlementAuditor): void {
  r.register('polyedge_tick_to_decision_seconds', {}, engine.latency.tickToDecision);
  r.register('polyedge_tick_to_decision_window_seconds', {}, engine.latency.tickToDecisionWindow.closed);
  r.register('polyedge_tick_to_decision_windows_total', {}, () => engine.latency.tickToDecisionWindow.closes);
  r.register('polyedge_decision_to_ack_seconds', {}, engine.orders.decisionToAck);
  r.register('polyedge_decision_compute_seconds', {}, engine.latency.decisionCompute);
  r.register('polyedge_decision_queue_wait_seconds', {}, engine.latency.decisionQueueWait);
  for (let s = 0; s < hub.sourceCount; s++) {
    const source = hub.sourceName(s);
    const lat = hub.latency(s);
    r.register('polyedge_exchange_to_receive_seconds', { source }, lat.exchangeToReceive);
    r.register('polyedge_receive_to_drain_seconds', { source }, lat.receiveToDrain);
    r.register('polyedge_events_total', { source }, () => hub.events(s));
    r.register('polyedge_busy_book_events_total', { source }, () => hub.busyBookEvents(s));
    r.register('polyedge_source_to_decision_seconds', { source }, engine.latency.sourceToDecision[s]!);
    const counter = (name: keyof typeof COUNTER) => () => hub.counters(s)?.[name] ?? 0;
    r.register('polyedge_feed_frames_total', { source }, counter('frames'));
    r.register('polyedge_feed_parse_errors_total', { source }, counter('parseErrors'));
    r.register('polyedge_feed_resyncs_total', { source }, counter('resyncs'));
    r.register('polyedge_feed_reconnects_total', { source }, counter('reconnects'));
    r.register('polyedge_feed_gaps_total', { source }, counter('gaps'));
  }
  r.collect('polyedge_orders_total', (emit) => {
    for (const [key, n] of engine.orders.ordersByOutcome) {
      const i = key.indexOf(':');
      emit({ strategy: key.slice(0, i), outcome: key.slice(i + 1) }, n);
    }
  });
  r.collect('polyedge_fills_total', (emit) => {
    const byStrategy = new Map<string, number>();
    // Entries of a reused slot's old market are retired, their fills with them: add those back so the counter never falls.
    for (const s of engine.strategies) byStrategy.set(s.name, engine.portfolio.retiredTotals(s.name).fills);
    for (const e of engine.portfolio.entries()) byStrategy.set(e.strategy, (byStrategy.get(e.strategy) ?? 0) + e.fills);
    for (const [strategy, n] of byStrategy) emit({ strategy }, n);
  });
  r.collect('polyedge_position_shares', (emit) => {
    for (const e of engine.portfolio.entries()) if (e.position !== 0) emit({ token: engine.tokens[e.token]?.tokenId ?? String(e.token) }, e.position / 1e6);
  });
  r.register('polyedge_pnl_realised_usd', {}, () => engine.portfolio.total(engine.marks).realised / 1e6);
  r.register('polyedge_pnl_unrealised_usd', {}, () => engine.portfolio.total(engine.marks).unrealised / 1e6);
  r.register('polyedge_fees_usd', {}, () => engine.portfolio.total(engine.marks).fees / 1e6);
  r.register('polyedge_gross_exposure_usd', {}, () => engine.portfolio.grossExposure(engine.marks) / 1e6);
  r.register('polyedge_engine_state', {}, () => engine.state.state);
  r.collect('polyedge_risk_rejections_total', (emit) => {
    engine.riskRejections.forEach((n, i) => {
      if (n > 0) emit({ reason: RISK_REASON_NAMES[i] ?? String(i) }, n);
    });
  });
  r.collect('polyedge_control_requests_total', (emit) => {
    for (const c of requests()) emit({ route: c.route, code: String(c.code) }, c.count);
  });
  for (const s of engine.fusion.sources) {
    r.register('polyedge_fusion_wins_total', { source: s.name }, () => s.wins);
    r.register('polyedge_fusion_lead_seconds', { source: s.name }, s.lead);
    r.register('polyedge_fusion_updates_total', { source: s.name }, () => s.updates);
    r.register('polyedge_fusion_price_usd', { source: s.name }, () => s.price);
  }
  if (relay) {
    r.register('polyedge_relay_packets_total', {}, () => relay.stats[RelayStat.packets]!);
    r.register('polyedge_relay_garbage_total', {}, () => relay.stats[RelayStat.garbage]!);
    r.register('polyedge_relay_foreign_total', {}, () => relay.stats[RelayStat.foreign]!);
    r.register('polyedge_relay_lost_total', {}, () => relay.stats[RelayStat.lost]!);
    for (const [reason, slot] of RELAY_REJECT_REASONS) r.register('polyedge_relay_rejected_total', { reason }, () => relay.stats[slot]!);
    const series = engine.fusion.sources.find((s) => s.name === 'relay');
    if (series) {
      r.register('polyedge_relay_rejected_total', { reason: 'band' }, () => series.rejectedBand);
      r.register('polyedge_relay_rejected_total', { reason: 'unvouched' }, () => series.rejectedUnvouched);
    }
  }
  SLOT_PHASE_NAMES.forEach((phase, p) => r.register('polyedge_market_slots', { phase }, () => engine.slotsIn(p as SlotPhase)));
  r.register('polyedge_markets_added_total', {}, () => engine.counts.marketsAdded);
  r.register('polyedge_settlements_total', { exact: 'true' }, () => engine.counts.settlements - engine.counts.inexactSettlements);
  r.register('polyedge_settlements_total', { exact: 'false' }, () => engine.counts.inexactSettlements);
  r.register('polyedge_market_slot_exhausted_total', {}, () => engine.counts.noFreeSlot);
  if (roller) {
    registerResults(r, 'polyedge_discovery_lookups_total', roller.counts, { found: 'found', not_listed: 'notListed', error: 'errors', closed: 'closed', not_accepting: 'notAccepting' });
  }
  r.register('polyedge_busy_book_deferrals_total', {}, () => engine.counts.busyBookDeferrals);
  FAULT_SITE_NAMES.forEach((where, i) => r.register('polyedge_engine_faults_total', { where }, () => engine.faults.counts[i]!));
  if (auditor) registerResults(r, 'polyedge_settlement_audits_total', auditor.counts, { agree: 'agree', disagree: 'disagree', timeout: 'timeout' });
  const venue = engine.orders.venue.counters;
  if (venue) registerVenueMetrics(r, venue);
  r.register('polyedge_journal_records_total', {}, () => engine.journal.stats.records);
  r.register('polyedge_journal_bytes_total', {}, () => engine.journal.stats.bytes);
  r.register('polyedge_journal_fsyncs_total', {}, () => engine.journal.stats.fsyncs);
  r.register('polyedge_journal_fsync_errors_total', {}, () => engine.journal.stats.fsyncErrors);
  registerProcessMetrics(r);
}

/** The live venue's and its CLOB client's counters: objects the venue moves in place, read at scrape time. */
function registerVenueMetrics(r: MetricsRegistry, v: VenueCounters): void {
  const c = v.client;
  r.register('polyedge_clob_requests_total', {}, () => c.requests);
  r.register('polyedge_clob_retries_total', {}, () => c.retries);
  for (const kind of Object.keys(c.errors)) r.register('polyedge_clob_errors_total', { kind }, () => c.errors[kind]!);
  r.register('polyedge_clob_lookups_total', {}, () => c.lookups);
  r.register('polyedge_clob_rate_limit_waits_total', {}, () => c.rateLimitWaits);
  r.register('polyedge_clob_rate_limit_wait_seconds_total', {}, () => c.rateLimitWaitMs / 1e3);
  r.register('polyedge_live_orders_posted_total', {}, () => v.posts);
  r.register('polyedge_live_cancels_total', {}, () => v.cancels);
  r.register('polyedge_live_cancel_alls_total', {}, () => v.cancelAlls);
  r.register('polyedge_live_trade_polls_total', {}, () => v.tradePolls);
  r.register('polyedge_live_request_failures_total', {}, () => v.failures);
  r.register('polyedge_live_rejects_total', {}, () => v.rejects);
}

/** One series of `name` per `result` label, each reading its field of `counts` at scrape time. */
function registerResults<C extends Record<string, number>>(
  r: MetricsRegistry,
  name: 'polyedge_discovery_lookups_total' | 'polyedge_settlement_audits_total',
  counts: C,
  fieldOf: Record<string, keyof C>,
): void {
  for (const [result, field] of Object.entries(fieldOf)) r.register(name, { result }, () => counts[field]!);
}
