// Polymarket RTDS (protocols.md §4): subscribe/unsubscribe actions for the
// crypto price topics, symbol filters, history dump on filtered subscribe,
// and text PING/PONG.
import { Pacer, type Pacing, type Timeline } from './pacer.js';
import { VenueServer, type VenueDeps } from './venue.js';
import type { SimConnection } from './connection.js';
import type { Parsed } from './faults.js';
import { RTDS_TOPICS, type RtdsMessage, type RtdsTopic } from './rtds-types.js';
import { isPlainObject } from '../../workers/guards.js';

interface Subscription {
  readonly topic: RtdsTopic;
  readonly type: string;
  /** Raw filter string as sent, used to match unsubscribes. */
  readonly filters: string;
  /** Lower-case symbols, or null for all. */
  readonly symbols: ReadonlySet<string> | null;
}

interface RtdsConnState {
  subs: Subscription[];
}

interface SubscribeAction {
  readonly action: 'subscribe' | 'unsubscribe';
  readonly subscriptions: readonly Subscription[];
}


/**
 * The venue's filter format is inconsistent across official sources (comma
 * list, `{"symbol":…}` JSON, JSON array): accept all three.
 */
export function parseSymbolFilter(filters: string): Parsed<ReadonlySet<string> | null> {
  const f = filters.trim();
  if (f === '') return { ok: true, value: null };
  let symbols: unknown[];
  if (f.startsWith('{') || f.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(f);
    } catch {
      return { ok: false, error: `'filters' is not valid JSON: ${f}` };
    }
    if (Array.isArray(parsed)) symbols = parsed;
    else if (isPlainObject(parsed) && parsed['symbol'] !== undefined) symbols = Array.isArray(parsed['symbol']) ? parsed['symbol'] : [parsed['symbol']];
    else return { ok: false, error: `'filters' JSON must be {"symbol": …} or an array of symbols` };
  } else {
    symbols = f.split(',').map((s) => s.trim());
  }
  if (symbols.length === 0 || !symbols.every((s) => typeof s === 'string' && s !== '')) {
    return { ok: false, error: `'filters' must name at least one non-empty symbol` };
  }
  return { ok: true, value: new Set((symbols as string[]).map((s) => s.toLowerCase())) };
}

export function parseRtdsAction(v: unknown): Parsed<SubscribeAction> {
  if (!isPlainObject(v)) return { ok: false, error: 'message must be a JSON object' };
  const action = v['action'];
  if (action !== 'subscribe' && action !== 'unsubscribe') return { ok: false, error: `'action' must be "subscribe" or "unsubscribe"` };
  const subs = v['subscriptions'];
  if (!Array.isArray(subs) || subs.length === 0) return { ok: false, error: `'subscriptions' must be a non-empty array` };
  const out: Subscription[] = [];
  for (const [i, s] of subs.entries()) {
    if (!isPlainObject(s)) return { ok: false, error: `subscriptions[${i}] must be an object` };
    const topic = s['topic'];
    if (typeof topic !== 'string' || !(RTDS_TOPICS as readonly string[]).includes(topic)) {
      return { ok: false, error: `subscriptions[${i}].topic must be one of ${RTDS_TOPICS.join(', ')} (simulated topics)` };
    }
    const type = s['type'];
    if (typeof type !== 'string' || type === '') return { ok: false, error: `subscriptions[${i}].type must be a non-empty string ("update" or "*")` };
    const filters = s['filters'] ?? '';
    if (typeof filters !== 'string') return { ok: false, error: `subscriptions[${i}].filters must be a string (JSON text inside a string)` };
    const symbols = parseSymbolFilter(filters);
    if (!symbols.ok) return { ok: false, error: `subscriptions[${i}]: ${symbols.error}` };
    out.push({ topic: topic as RtdsTopic, type, filters, symbols: symbols.value });
  }
  return { ok: true, value: { action, subscriptions: out } };
}

const HISTORY_POINTS = 60;

export class RtdsVenue extends VenueServer<RtdsConnState> {
  private readonly pacer: Pacer<RtdsMessage>;
  /** Recent points per topic/symbol for the history dump a filtered subscribe gets. */
  private readonly history = new Map<string, Array<{ timestamp: number; value: number }>>();

  constructor(deps: VenueDeps, pacing: Pacing, timeline: Timeline<RtdsMessage>) {
    super('rtds', deps);
    this.pacer = new Pacer(
      timeline,
      pacing,
      this.safely((msg: RtdsMessage) => this.onMessageOut(msg)),
      this.pacerHooks(() => deps.log(`rtds: source exhausted after ${this.pacer.emitted} messages`)),
    );
    this.wsRoute('/', {
      accept: () => ({ ok: true, state: { subs: [] } }),
      message: (conn, text, isBinary) => this.onClientMessage(conn, text, isBinary),
    });
  }

  startFeed(): void {
    this.pacer.start();
  }

  stopFeed(): void {
    this.pacer.stop();
  }

  advance(n: number): number {
    return this.pacer.advance(n);
  }

  protected eventsEmitted(): number {
    return this.pacer.emitted;
  }

  protected sourceExhausted(): boolean {
    return this.pacer.exhausted;
  }

  private onClientMessage(conn: SimConnection<RtdsConnState>, text: string, isBinary: boolean): void {
    const t = text.trim();
    // Official clients differ in case (TS sends `ping`, Rust `PING`): answer in kind.
    if (t === 'PING') return conn.sendControl('PONG');
    if (t === 'ping') return conn.sendControl('pong');
    if (t === '') return;
    const fail = (reason: string): void => {
      this.rejectMessage(conn, reason);
      conn.sendControl(JSON.stringify({ message: 'Invalid request body', connectionId: conn.connectionId, detail: reason }));
    };
    if (isBinary) return fail('binary frames are not accepted');
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch {
      return fail('message is neither PING nor JSON');
    }
    const req = parseRtdsAction(parsed);
    if (!req.ok) return fail(req.error);
    const state = conn.state;
    const same = (a: Subscription, b: Subscription): boolean => a.topic === b.topic && a.type === b.type && a.filters === b.filters;
    if (req.value.action === 'unsubscribe') {
      state.subs = state.subs.filter((s) => !req.value.subscriptions.some((u) => same(s, u)));
      return;
    }
    for (const sub of req.value.subscriptions) {
      if (state.subs.some((s) => same(s, sub))) continue;
      state.subs.push(sub);
      if (sub.symbols) this.sendHistory(conn, sub);
    }
  }

  private sendHistory(conn: SimConnection<RtdsConnState>, sub: Subscription): void {
    for (const symbol of sub.symbols ?? []) {
      const points = this.history.get(`${sub.topic}|${symbol}`);
      if (!points || points.length === 0) continue;
      conn.sendData(
        JSON.stringify({ topic: sub.topic, type: 'subscribe', timestamp: Date.now(), payload: { symbol, data: points } }),
      );
    }
  }

  private onMessageOut(msg: RtdsMessage): void {
    const symbol = msg.payload.symbol.toLowerCase();
    const key = `${msg.topic}|${symbol}`;
    let points = this.history.get(key);
    if (!points) this.history.set(key, (points = []));
    points.push({ timestamp: msg.payload.timestamp, value: msg.payload.value });
    if (points.length > HISTORY_POINTS) points.shift();

    // Everything but connection_id is shared; serialise it once.
    const body = JSON.stringify({ topic: msg.topic, type: msg.type, timestamp: msg.timestamp, payload: msg.payload }).slice(1);
    for (const conn of this.conns) {
      const wanted = conn.state.subs.some(
        (s) => s.topic === msg.topic && (s.type === '*' || s.type === msg.type) && (s.symbols === null || s.symbols.has(symbol)),
      );
      if (wanted) conn.sendData(`{"connection_id":"${conn.connectionId}",${body}`);
    }
  }
}
