// JSON.parse-based reference decoders. They implement the same rules as the
// byte scanners (stated once more here, independently, on parsed values) and
// produce the same flat event lists as the recorders, so the differential
// tests can compare the two on real and fuzzed frames. Test-only: slow and
// allocating on purpose.
import { Status } from '../json.js';
import type { Events } from './recorders.js';
import { isPlainObject } from '../../guards.js';

type Obj = Record<string, unknown>;
const has = (o: Obj, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

const SEVERITY: Record<number, number> = {
  [Status.MALFORMED]: 6,
  [Status.BAD_FIELD]: 5,
  [Status.UNKNOWN_ID]: 4,
  [Status.UNKNOWN_EVENT]: 3,
  [Status.CONTROL]: 2,
  [Status.PONG]: 1,
  [Status.EMPTY]: 1,
  [Status.OK]: 0,
};
const worse = (a: number, b: number): number => ((SEVERITY[b] ?? 0) > (SEVERITY[a] ?? 0) ? b : a);

/** Decimal → ticks on 10^-exp, exact via BigInt; NaN if not a decimal, off-grid or unsafe. */
export function refTicks(v: unknown, exp: number): number {
  if (typeof v !== 'string') return NaN;
  const m = /^(-?)(\d*)(?:\.(\d+))?$/.exec(v);
  if (!m) return NaN;
  const int = m[2] ?? '';
  const frac = m[3] ?? '';
  if (int.length + frac.length === 0) return NaN;
  if (/[1-9]/.test(frac.slice(exp))) return NaN;
  const t = BigInt(int || '0') * 10n ** BigInt(exp) + BigInt(frac.slice(0, exp).padEnd(exp, '0') || '0');
  if (t > BigInt(Number.MAX_SAFE_INTEGER)) return NaN;
  const n = Number(t);
  return m[1] === '-' && n !== 0 ? -n : n;
}

export function refFloat(v: unknown): number {
  if (typeof v !== 'string' || !/^-?(\d+|\d*\.\d+)([eE][+-]?\d+)?$/.test(v)) return NaN;
  return Number(v);
}

const safeMs = (v: unknown): number => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : NaN);

interface Frame {
  status: number;
  objects: Obj[];
}

function frameObjects(bytes: Uint8Array): Frame {
  const text = new TextDecoder().decode(bytes);
  const trimmed = text.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, '');
  if (trimmed === '') return { status: Status.EMPTY, objects: [] };
  if (trimmed === 'PONG' || trimmed === 'pong') return { status: Status.PONG, objects: [] };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { status: Status.MALFORMED, objects: [] };
  }
  const list = Array.isArray(v) ? (v as unknown[]) : [v];
  if (!list.every(isPlainObject)) return { status: Status.MALFORMED, objects: [] };
  return { status: Status.OK, objects: list as Obj[] };
}

export interface RefResult {
  status: number;
  events: Events;
}

// ---------------------------------------------------------------- Polymarket

const P_EXP = 4;
const pxRef = (v: unknown): number => {
  const t = refTicks(v, P_EXP);
  return t >= 0 && t <= 10_000 ? t : NaN;
};
const szRef = (v: unknown): number => {
  const x = refFloat(v);
  return x >= 0 && x < Infinity ? x : NaN;
};
/** absent / null / "" → NaN; invalid → -1. */
function optPx(o: Obj, k: string): number {
  if (!has(o, k)) return NaN;
  const v = o[k];
  if (v === null || v === '') return NaN;
  const t = pxRef(v);
  return t === t ? t : -1;
}
const sideRef = (v: unknown): number => (v === 'BUY' ? 0 : v === 'SELL' ? 1 : -1);
function tsRef(v: unknown): number {
  if (typeof v === 'string') return /^\d+$/.test(v) && Number(v) <= Number.MAX_SAFE_INTEGER ? Number(v) : NaN;
  return safeMs(v);
}

const POLY_EVENTS = ['book', 'price_change', 'tick_size_change', 'last_trade_price', 'best_bid_ask', 'new_market', 'market_resolved'];

export function refPolymarket(bytes: Uint8Array, tokens: Map<string, number>): RefResult {
  const f = frameObjects(bytes);
  if (f.status !== Status.OK) return { status: f.status, events: [] };
  let status: number = Status.OK;
  const events: Events = [];
  const INHERIT = -2;
  const tokOf = (v: unknown): number => (typeof v === 'string' ? (tokens.get(v) ?? -1) : INHERIT);
  for (const o of f.objects) {
    const kind = typeof o.event_type === 'string' ? POLY_EVENTS.indexOf(o.event_type) : -1;
    if (kind < 0) {
      status = worse(status, Status.UNKNOWN_EVENT);
      continue;
    }
    if (kind === 5 || kind === 6) {
      events.push('market', kind - 5, JSON.stringify(o));
      continue;
    }
    const ts = tsRef(o.timestamp);
    const tok = tokOf(o.asset_id);
    let bad = ts !== ts;
    const out: Events = [];
    let unknown = 0;
    switch (kind) {
      case 0: {
        const lv = (side: number, arr: unknown): void => {
          if (!Array.isArray(arr)) {
            bad = true;
            return;
          }
          for (const l of arr as unknown[]) {
            const px = isPlainObject(l) ? pxRef(l.price) : NaN;
            const sz = isPlainObject(l) ? szRef(l.size) : NaN;
            if (px !== px || sz !== sz) bad = true;
            out.push('level', tok, side, px, sz);
          }
        };
        out.push('book', tok, ts);
        lv(0, o.bids);
        lv(1, o.asks);
        out.push('bookEnd', tok);
        if (tok === INHERIT) bad = true;
        if (!bad && tok === -1) unknown = 1;
        break;
      }
      case 1: {
        const list = has(o, 'price_changes') ? o.price_changes : has(o, 'changes') ? o.changes : undefined;
        const entries: Obj[] = [];
        if (list !== undefined) {
          if (!Array.isArray(list) || !(list as unknown[]).every(isPlainObject)) bad = true;
          else entries.push(...(list as Obj[]));
        } else {
          entries.push(o);
        }
        for (const e of entries) {
          const own = e !== o && has(e, 'asset_id');
          if (own && typeof e.asset_id !== 'string') bad = true;
          let t = own ? tokOf(e.asset_id) : tok;
          if (t === INHERIT) bad = true;
          const px = pxRef(e.price);
          const sz = szRef(e.size);
          const sd = sideRef(e.side);
          const bb = optPx(e, 'best_bid');
          const ba = optPx(e, 'best_ask');
          if (px !== px || sz !== sz || sd < 0 || bb === -1 || ba === -1) bad = true;
          if (t === -1) unknown++;
          else out.push('pc', t, sd, px, sz, bb, ba, ts);
          t = 0;
        }
        break;
      }
      case 2: {
        const nt = pxRef(o.new_tick_size);
        const ot = optPx(o, 'old_tick_size');
        if (!(nt > 0) || ot === -1 || tok === INHERIT) bad = true;
        if (!bad && tok === -1) unknown = 1;
        out.push('tick', tok, nt, ot, ts);
        break;
      }
      case 3: {
        const px = pxRef(o.price);
        let side = -1;
        if (typeof o.side === 'string' && o.side !== '') {
          side = sideRef(o.side);
          if (side < 0) bad = true;
        } else if (has(o, 'side') && o.side !== null && typeof o.side !== 'string') bad = true;
        let sz = NaN;
        if (typeof o.size === 'string' && o.size !== '') {
          sz = szRef(o.size);
          if (sz !== sz) bad = true;
        } else if (has(o, 'size') && o.size !== null && typeof o.size !== 'string') bad = true;
        if (px !== px || tok === INHERIT) bad = true;
        if (!bad && tok === -1) unknown = 1;
        out.push('trade', tok, side, px, sz, ts);
        break;
      }
      case 4: {
        const bb = optPx(o, 'best_bid');
        const ba = optPx(o, 'best_ask');
        if (bb === -1 || ba === -1 || tok === INHERIT) bad = true;
        if (!bad && tok === -1) unknown = 1;
        out.push('bba', tok, bb, ba, ts);
        break;
      }
    }
    if (bad) status = worse(status, Status.BAD_FIELD);
    else {
      if (unknown > 0) status = worse(status, Status.UNKNOWN_ID);
      if (kind === 1 || unknown === 0) events.push(...out);
    }
  }
  return { status, events };
}

// ---------------------------------------------------------------- Binance

const B_EVENTS = ['depthUpdate', 'bookTicker', 'trade', 'aggTrade', 'forceOrder'];

export interface RefBinanceOptions {
  symbols: Map<string, { index: number; exp: number }>;
  snapshotSymbol: string | undefined;
  rawDepthKind?: number;
}

export function refBinance(bytes: Uint8Array, opts: RefBinanceOptions): RefResult {
  const f = frameObjects(bytes);
  if (f.status !== Status.OK) return { status: f.status, events: [] };
  let status: number = Status.OK;
  const events: Events = [];
  const intRef = safeMs;
  const optInt = (o: Obj, k: string): number => (has(o, k) ? (intRef(o[k]) === intRef(o[k]) ? intRef(o[k]) : -1) : NaN);
  for (const o of f.objects) {
    let ev = o;
    let depthKind = opts.rawDepthKind ?? 0;
    if (has(o, 'data')) {
      if (!isPlainObject(o.data) || (has(o, 'stream') && typeof o.stream !== 'string')) {
        status = worse(status, Status.BAD_FIELD);
        continue;
      }
      ev = o.data;
      if (typeof o.stream === 'string') depthKind = /@depth\d/.test(o.stream) ? 1 : 0;
    }
    let kind = -1;
    if (has(ev, 'e')) kind = typeof ev.e === 'string' ? B_EVENTS.indexOf(ev.e) : -1;
    else if (has(ev, 'lastUpdateId')) kind = 5;
    else if (has(ev, 'id') && (has(ev, 'result') || has(ev, 'error'))) kind = 6;
    else if (['u', 'b', 'B', 'a', 'A'].every((k) => has(ev, k))) kind = 1;
    if (kind === -1) {
      status = worse(status, Status.UNKNOWN_EVENT);
      continue;
    }
    if (kind === 6) {
      status = worse(status, Status.CONTROL);
      continue;
    }
    if (kind === 4) {
      const x = ev.o;
      if (!isPlainObject(x) || typeof x.s !== 'string') {
        status = worse(status, Status.BAD_FIELD);
        continue;
      }
      const sym = opts.symbols.get(x.s);
      if (!sym) {
        status = worse(status, Status.UNKNOWN_ID);
        continue;
      }
      const side = x.S === 'BUY' ? 0 : x.S === 'SELL' ? 1 : NaN;
      const vals = [side, szRef(x.p), szRef(x.ap), szRef(x.q), szRef(x.l), szRef(x.z), safeMs(x.T), safeMs(ev.E)];
      if (vals.some((v) => v !== v)) status = worse(status, Status.BAD_FIELD);
      else events.push('liq', sym.index, ...vals);
      continue;
    }
    let symName: string | undefined;
    if (kind === 5 && !has(ev, 's')) symName = opts.snapshotSymbol;
    else if (typeof ev.s === 'string') symName = ev.s;
    else {
      status = worse(status, Status.BAD_FIELD);
      continue;
    }
    const sym = symName === undefined ? undefined : opts.symbols.get(symName);
    if (!sym) {
      status = worse(status, Status.UNKNOWN_ID);
      continue;
    }
    const px = (v: unknown): number => {
      const t = refTicks(v, sym.exp);
      return t >= 0 ? t : NaN;
    };
    const out: Events = [];
    let bad = false;
    switch (kind) {
      case 0:
      case 5: {
        const snap = kind === 5;
        const eMs = snap ? optInt(ev, 'E') : intRef(ev.E);
        const tMs = optInt(ev, 'T');
        const first = snap ? NaN : intRef(ev.U);
        const last = intRef(snap ? ev.lastUpdateId : ev.u);
        const prev = snap ? NaN : optInt(ev, 'pu');
        if (eMs === -1 || tMs === -1 || prev === -1 || last !== last || (!snap && (eMs !== eMs || first !== first))) bad = true;
        out.push('depth', sym.index, snap ? 2 : depthKind, eMs, tMs, first, last, prev);
        const lv = (side: number, arr: unknown): void => {
          if (!Array.isArray(arr)) {
            bad = true;
            return;
          }
          for (const l of arr as unknown[]) {
            if (!Array.isArray(l) || l.length !== 2 || typeof l[0] !== 'string' || typeof l[1] !== 'string') {
              bad = true;
              continue;
            }
            const p = px(l[0]);
            const q = szRef(l[1]);
            if (p !== p || q !== q) bad = true;
            out.push('dl', sym.index, side, p, q, l[0], l[1]);
          }
        };
        lv(0, snap ? ev.bids : ev.b);
        lv(1, snap ? ev.asks : ev.a);
        out.push('depthEnd', sym.index);
        break;
      }
      case 1: {
        const v = [px(ev.b), szRef(ev.B), px(ev.a), szRef(ev.A), intRef(ev.u)];
        const e = optInt(ev, 'E');
        const t = optInt(ev, 'T');
        if (v.some((x) => x !== x) || e === -1 || t === -1) bad = true;
        out.push('bt', sym.index, ...v, e, t, ev.b, ev.B, ev.a, ev.A);
        break;
      }
      case 2:
      case 3: {
        const agg = kind === 3;
        const aggr = ev.m === true ? 1 : ev.m === false ? 0 : NaN;
        const v = [px(ev.p), szRef(ev.q), aggr, intRef(agg ? ev.a : ev.t)];
        if (agg) v.push(intRef(ev.f), intRef(ev.l));
        v.push(intRef(ev.T), intRef(ev.E));
        if (v.some((x) => x !== x)) bad = true;
        out.push(agg ? 'agg' : 'trade', sym.index, ...v, ev.p, ev.q);
        break;
      }
    }
    if (bad) status = worse(status, Status.BAD_FIELD);
    else events.push(...out);
  }
  return { status, events };
}

// ---------------------------------------------------------------- RTDS

export function refRtds(bytes: Uint8Array, symbols: Map<string, number>): RefResult {
  const f = frameObjects(bytes);
  if (f.status !== Status.OK) return { status: f.status, events: [] };
  let status: number = Status.OK;
  const events: Events = [];
  for (const o of f.objects) {
    const topic = o.topic === 'crypto_prices' ? 0 : o.topic === 'crypto_prices_chainlink' ? 1 : -1;
    const type = o.type === 'update' ? 0 : o.type === 'subscribe' ? 1 : -1;
    if (topic < 0 || type < 0) {
      status = worse(status, Status.UNKNOWN_EVENT);
      continue;
    }
    const p = o.payload;
    if (!isPlainObject(p) || typeof p.symbol !== 'string') {
      status = worse(status, Status.BAD_FIELD);
      continue;
    }
    const sym = symbols.get(p.symbol);
    if (sym === undefined) {
      status = worse(status, Status.UNKNOWN_ID);
      continue;
    }
    const sendTs = safeMs(o.timestamp);
    if (sendTs !== sendTs) {
      status = worse(status, Status.BAD_FIELD);
      continue;
    }
    if (type === 1) {
      const data = p.data;
      if (
        !Array.isArray(data) ||
        !(data as unknown[]).every(
          (x) => isPlainObject(x) && typeof x.value === 'number' && Number.isFinite(x.value) && safeMs(x.timestamp) === x.timestamp,
        )
      ) {
        status = worse(status, Status.BAD_FIELD);
        continue;
      }
      for (const x of data as Obj[]) events.push('hist', topic, sym, x.value, x.timestamp);
      continue;
    }
    const value = typeof p.value === 'number' && Number.isFinite(p.value) ? p.value : NaN;
    const priceTs = safeMs(p.timestamp);
    let fa: string | undefined;
    let bad = value !== value || priceTs !== priceTs;
    if (has(p, 'full_accuracy_value')) {
      if (refFloat(p.full_accuracy_value) !== refFloat(p.full_accuracy_value)) bad = true;
      else fa = p.full_accuracy_value as string;
    }
    if (bad) status = worse(status, Status.BAD_FIELD);
    else events.push('price', topic, sym, value, priceTs, sendTs, fa);
  }
  return { status, events };
}

// ---------------------------------------------------------------- Deribit

export function refDeribit(bytes: Uint8Array, channels: Map<string, number>): RefResult {
  const f = frameObjects(bytes);
  if (f.status !== Status.OK) return { status: f.status, events: [] };
  let status: number = Status.OK;
  const events: Events = [];
  for (const o of f.objects) {
    if (typeof o.method === 'string') {
      if (o.method !== 'subscription' && o.method !== 'heartbeat') {
        status = worse(status, Status.UNKNOWN_EVENT);
        continue;
      }
      const p = o.params;
      if (!isPlainObject(p)) {
        status = worse(status, Status.BAD_FIELD);
        continue;
      }
      if (o.method === 'heartbeat') {
        if (typeof p.type !== 'string') status = worse(status, Status.BAD_FIELD);
        else {
          status = worse(status, Status.CONTROL);
          if (p.type === 'test_request') events.push('test');
        }
        continue;
      }
      if (typeof p.channel !== 'string') {
        status = worse(status, Status.BAD_FIELD);
        continue;
      }
      const idx = channels.get(p.channel);
      if (idx === undefined) {
        status = worse(status, p.channel.startsWith('deribit_volatility_index.') ? Status.UNKNOWN_ID : Status.UNKNOWN_EVENT);
        continue;
      }
      const d = p.data;
      if (!isPlainObject(d) || typeof d.volatility !== 'number' || !Number.isFinite(d.volatility) || safeMs(d.timestamp) !== d.timestamp) {
        status = worse(status, Status.BAD_FIELD);
        continue;
      }
      events.push('dvol', idx, d.volatility, d.timestamp);
      continue;
    }
    if (!has(o, 'method') && has(o, 'id')) {
      const id = typeof o.id === 'number' ? o.id : NaN;
      if (has(o, 'error')) {
        const e = o.error;
        const code = isPlainObject(e) && typeof e.code === 'number' ? e.code : NaN;
        status = worse(status, Status.CONTROL);
        events.push('error', id, code, JSON.stringify(e));
        continue;
      }
      if (has(o, 'result')) {
        status = worse(status, Status.CONTROL);
        events.push('result', id, JSON.stringify(o.result));
        continue;
      }
    }
    status = worse(status, Status.UNKNOWN_EVENT);
  }
  return { status, events };
}
