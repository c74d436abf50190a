// What the journal holds: one record per thing that changes money or orders.
// A journal file is read back after a crash, so it is external input: every
// decoded record is checked against its shape here before anything trusts it.

import type { Fill, MarketDescriptor, Order, Resolution, Settlement } from '../trading/types.js';
import { isPlainObject } from '../../workers/guards.js';

/** Complementary tokens merged back into collateral: both positions drop by `size`, cash rises by `size` micro-pUSD. */
export interface Merge {
  /** Unique per merge (the transaction hash live); replay must not apply one twice. */
  mergeId: string;
  /** Whose positions are merged; positions are kept per strategy. */
  strategy?: string;
  market: number;
  tokens: [number, number];
  /** Micro-shares of each token, micro-pUSD received. */
  size: number;
}

interface Base {
  /** Journal sequence number: 1, 2, 3 … without gaps for the life of the journal, across compactions. */
  seq: number;
  /** Engine time of the event, Unix ms. */
  tsMs: number;
}

/**
 * Decision provenance: the book of the order's token as the decision saw it
 * (the read the risk gate passed it on). Absent in journals written before
 * provenance was kept.
 */
export interface BookProvenance {
  /** The book's seqlock version at that read: it changes with every write batch. */
  bookSeq?: number;
  /** BookFlag bits at that read (BidEmpty, AskEmpty, Crossed, Stale, Resyncing). */
  bookFlags?: number;
  /** The book's last venue timestamp, Unix ms: with tsMs, its age. */
  bookTsMs?: number;
}

export type OrderRecord = Base & { type: 'order'; order: Order } & BookProvenance;
/**
 * A restart put an order the journal holds open back on the venue, with
 * `remaining` of it, once its book was live; the provenance is that book as
 * the risk gate passed it.
 */
export type RestoredRecord = Base & { type: 'restored'; orderId: string; remaining: number } & BookProvenance;
export type AckRecord = Base & { type: 'ack'; orderId: string; ackMs: number; /** venue order id; "" in paper */ venueId: string };
export type RejectRecord = Base & { type: 'reject'; orderId: string; reason: string };
export type FillRecord = Base & { type: 'fill'; fill: Fill };
export type CancelRecord = Base & { type: 'cancel'; orderId: string; reason: string };
export type ExpireRecord = Base & { type: 'expire'; orderId: string };
export type MergeRecord = Base & { type: 'merge'; merge: Merge };
/** `market` now occupies market slot `slot` (token slots 2·slot and 2·slot + 1), replacing whatever did before. */
export type MarketRecord = Base & { type: 'market' } & SlotEntry;
/**
 * The opening price of the window of the market in `slot`, once it is final
 * (a price stamped after the start has arrived): a restart inside the window
 * settles on it instead of on the first price it sees.
 */
export type WindowRecord = Base & { type: 'window' } & WindowOpen;
/** A market resolved: its positions close at 1 pUSD per winning share and 0 per losing one. */
export type SettleRecord = Base & { type: 'settle'; settlement: Settlement };
/**
 * The venue's verdict on a settled market. Another winner than the engine's
 * corrects the market's money to the venue's; the same winner records the
 * agreement (no money moves), so a restart does not ask the venue again.
 */
export type ResolutionRecord = Base & { type: 'resolution'; resolution: Resolution };

export interface WindowOpen {
  slot: number;
  conditionId: string;
  open: number;
  openTsMs: number;
}

export interface SlotEntry {
  slot: number;
  market: MarketDescriptor;
}

/**
 * A settlement the venue has not ruled on yet, with its market as it was
 * when it settled: the audit resumes from this after a restart, though the
 * market's slot may hold another market by then.
 */
export interface PendingAudit {
  descriptor: MarketDescriptor;
  settlement: Settlement;
}

/**
 * Everything restore needs as of this record: the position keeper's own
 * snapshot (opaque here), the live orders, and the ids already applied.
 * The slot fields are absent in journals written before market slots; such
 * a snapshot restores an empty slot table.
 */
export type PositionRecord = Base & {
  type: 'position';
  positions: unknown;
  orders: Order[];
  fillIds: string[];
  /** The market slot of each of `fillIds`, index for index (absent before it was written: those ids stay). */
  fillIdSlots?: number[];
  mergeIds: string[];
  /** The occupant of every occupied market slot. */
  slots?: SlotEntry[];
  /** Settlements of current occupants (the ones a free slot is judged by). */
  settlements?: Settlement[];
  /** Every conditionId ever settled, so a settled market is never brought back. */
  settledConditions?: string[];
  settleIds?: string[];
  /** Every conditionId corrected to the venue's verdict (absent before corrections were journaled). */
  resolutionIds?: string[];
  /** Final opening prices of current occupants' windows. */
  opens?: WindowOpen[];
  /**
   * Settlements awaiting the venue's verdict, retired markets' included.
   * Absent before they were kept: the settled occupants not yet resolved
   * stand in for them.
   */
  audits?: PendingAudit[];
  /** Venue requests without their answer yet (absent before they were journaled). */
  requests?: Omit<VenueRequestRecord, 'seq'>[];
};
export type SessionRecord = Base & { type: 'session'; event: 'start' | 'stop'; note: string };

/** Body version of venue_request / venue_response: a reader refuses a version it does not know rather than guess its fields. */
export const VENUE_RECORD_VERSION = 1;
export type VenueMethod = 'POST' | 'DELETE';
/** `POST /order` answer statuses (protocols §6.2). */
export type VenueOrderStatus = 'live' | 'matched' | 'delayed' | 'unmatched';

/**
 * A request to the venue's REST API about order `orderId`, journaled before
 * it is sent (dry-run: instead of sending it): the exact body bytes, never a
 * header (no secret, no HMAC). With venue_response it tells a restart which
 * requests were in flight.
 */
export type VenueRequestRecord = Base & {
  type: 'venue_request';
  v: typeof VENUE_RECORD_VERSION;
  /** The engine's order id. */
  orderId: string;
  method: VenueMethod;
  /** Path without host or query, e.g. /order. */
  path: string;
  /** The request body exactly as sent (JSON text). */
  body: string;
  /** The venue's id of the order (its hash), "" when the request does not know it. */
  venueOrderId: string;
};

/**
 * The venue's answer to the venue_request of (`orderId`, `method`). For a
 * POST: `success`, `errorMsg`, `orderID`, `status` and the matched amounts
 * as the venue sent them (base-unit decimal strings); for a DELETE, success
 * is "the order is among the cancelled", errorMsg the venue's reason if not.
 */
export type VenueResponseRecord = Base & {
  type: 'venue_response';
  v: typeof VENUE_RECORD_VERSION;
  orderId: string;
  method: VenueMethod;
  /** HTTP status; 0 when no answer came (timeout, connection lost). */
  httpStatus: number;
  success: boolean;
  errorMsg: string;
  /** The venue's order id ("" when it gave none). */
  orderID: string;
  /** POST only; "" for a DELETE or a refused order. */
  status: VenueOrderStatus | '';
  makingAmount: string;
  takingAmount: string;
};

export type JournalRecord =
  | OrderRecord
  | RestoredRecord
  | AckRecord
  | RejectRecord
  | FillRecord
  | CancelRecord
  | ExpireRecord
  | MergeRecord
  | MarketRecord
  | SettleRecord
  | ResolutionRecord
  | WindowRecord
  | PositionRecord
  | SessionRecord
  | VenueRequestRecord
  | VenueResponseRecord;

export type RecordType = JournalRecord['type'];

type WithoutSeq<T> = T extends unknown ? Omit<T, 'seq'> : never;
/** A record as the engine hands it over; the journal assigns `seq`. */
export type JournalInput = WithoutSeq<JournalRecord>;
export type PositionInput = Omit<PositionRecord, 'seq'>;

// Field checks, one table per shape. Extra fields are tolerated so a newer
// writer's additions do not make an older reader drop the record. A check
// returns the path of the first offending field, or undefined.
type Check = (v: unknown, path: string) => string | undefined;
type Spec = Check | { readonly [key: string]: Spec };

const is =
  (ok: (v: unknown) => boolean): Check =>
  (v, path) =>
    ok(v) ? undefined : path;
const str = is((v) => typeof v === 'string');
const nonEmptyStr = is((v) => typeof v === 'string' && v.length > 0);
const bool = is((v) => typeof v === 'boolean');
/** Times may be NaN (an order not yet acknowledged). */
const num = is((v) => typeof v === 'number');
const int = is((v) => Number.isSafeInteger(v));
const nonNegInt = is((v) => Number.isSafeInteger(v) && (v as number) >= 0);
const posInt = is((v) => Number.isSafeInteger(v) && (v as number) > 0);
const oneOf = (...choices: readonly unknown[]): Check => is((v) => choices.includes(v));
const anything: Check = () => undefined;
/** Absent (older writers) or valid. */
const optional =
  (spec: Spec): Check =>
  (v, path) =>
    v === undefined ? undefined : check(v, spec, path);
const arrayOf =
  (item: Spec): Check =>
  (v, path) => {
    if (!Array.isArray(v)) return path;
    for (let i = 0; i < v.length; i++) {
      const bad = check(v[i], item, `${path}[${i}]`);
      if (bad !== undefined) return bad;
    }
    return undefined;
  };
const pairOf = (item: Spec): Check => {
  const items = arrayOf(item);
  return (v, path) => (Array.isArray(v) && v.length === 2 ? items(v, path) : path);
};

function check(v: unknown, spec: Spec, path: string): string | undefined {
  if (typeof spec === 'function') return spec(v, path);
  if (!isPlainObject(v)) return path || '(record)';
  const obj = v;
  for (const key in spec) {
    const bad = check(obj[key], spec[key]!, path ? `${path}.${key}` : key);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

const ORDER: Spec = {
  id: str,
  strategy: str,
  token: nonNegInt,
  side: oneOf(0, 1),
  price: int,
  size: nonNegInt,
  filled: nonNegInt,
  type: oneOf('GTC', 'GTD', 'FOK', 'FAK'),
  postOnly: bool,
  expiresMs: num,
  reason: str,
  status: oneOf('pending', 'open', 'filled', 'cancelled', 'rejected', 'expired'),
  createdMs: num,
  ackMs: num,
};

const FILL: Spec = {
  orderId: str,
  strategy: str,
  token: nonNegInt,
  side: oneOf(0, 1),
  price: int,
  size: nonNegInt,
  fee: int,
  liquidity: oneOf('maker', 'taker'),
  tsMs: num,
  fillId: str,
};

const MERGE: Spec = {
  mergeId: str,
  market: nonNegInt,
  tokens: pairOf(nonNegInt),
  size: nonNegInt,
};

// An empty conditionId is how a vacant slot reads (trading/types isVacant): a record never names one.
const MARKET: Spec = {
  conditionId: nonEmptyStr,
  slug: str,
  tokenIds: pairOf(str),
  outcomes: pairOf(str),
  tickSize: posInt,
  minSize: nonNegInt,
  feeRate: num,
  feeExponent: num,
  negRisk: bool,
  startMs: num,
  endMs: num,
  underlying: str,
};

const SLOT_ENTRY: Spec = { slot: nonNegInt, market: MARKET };

const WINDOW_OPEN: Spec = { slot: nonNegInt, conditionId: nonEmptyStr, open: num, openTsMs: num };

const HOLDINGS: Check = arrayOf({ strategy: str, positions: pairOf(int) });

const SETTLEMENT: Spec = {
  settleId: nonEmptyStr,
  conditionId: nonEmptyStr,
  market: nonNegInt,
  tokens: pairOf(nonNegInt),
  winner: oneOf(0, 1),
  open: num,
  close: num,
  exact: bool,
  holdings: optional(HOLDINGS),
  engineWinner: optional(oneOf(0, 1)),
};

const PENDING_AUDIT: Spec = { descriptor: MARKET, settlement: SETTLEMENT };

const RESOLUTION: Spec = {
  resolutionId: nonEmptyStr,
  conditionId: nonEmptyStr,
  market: nonNegInt,
  tokens: pairOf(nonNegInt),
  winner: oneOf(0, 1),
  engineWinner: oneOf(0, 1),
  holdings: HOLDINGS,
};

/** A base-unit amount as the venue writes it: decimal digits, or "" when it sent none. */
const DECIMAL = is((v) => typeof v === 'string' && /^(\d+(\.\d+)?)?$/.test(v));

const VENUE_REQUEST = { v: oneOf(VENUE_RECORD_VERSION), orderId: nonEmptyStr, method: oneOf('POST', 'DELETE'), path: is((v) => typeof v === 'string' && v.startsWith('/')), body: str, venueOrderId: str };

// The seqlock counter is an Int32 word: it may wrap negative.
const PROVENANCE = { bookSeq: optional(int), bookFlags: optional(nonNegInt), bookTsMs: optional(num) };

const BODY: { readonly [T in RecordType]: Spec } = {
  order: { order: ORDER, ...PROVENANCE },
  restored: { orderId: str, remaining: posInt, ...PROVENANCE },
  ack: { orderId: str, ackMs: num, venueId: str },
  reject: { orderId: str, reason: str },
  fill: { fill: FILL },
  cancel: { orderId: str, reason: str },
  expire: { orderId: str },
  merge: { merge: MERGE },
  market: SLOT_ENTRY,
  settle: { settlement: SETTLEMENT },
  resolution: { resolution: RESOLUTION },
  window: WINDOW_OPEN,
  position: {
    positions: anything,
    orders: arrayOf(ORDER),
    fillIds: arrayOf(str),
    fillIdSlots: optional(arrayOf(int)),
    mergeIds: arrayOf(str),
    slots: optional(arrayOf(SLOT_ENTRY)),
    settlements: optional(arrayOf(SETTLEMENT)),
    settledConditions: optional(arrayOf(str)),
    settleIds: optional(arrayOf(str)),
    resolutionIds: optional(arrayOf(str)),
    opens: optional(arrayOf(WINDOW_OPEN)),
    audits: optional(arrayOf(PENDING_AUDIT)),
    requests: optional(arrayOf({ tsMs: num, type: oneOf('venue_request'), ...VENUE_REQUEST })),
  },
  session: { event: oneOf('start', 'stop'), note: str },
  venue_request: VENUE_REQUEST,
  venue_response: {
    v: oneOf(VENUE_RECORD_VERSION),
    orderId: nonEmptyStr,
    method: oneOf('POST', 'DELETE'),
    httpStatus: is((v) => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= 999),
    success: bool,
    errorMsg: str,
    orderID: str,
    status: oneOf('live', 'matched', 'delayed', 'unmatched', ''),
    makingAmount: DECIMAL,
    takingAmount: DECIMAL,
  },
};

const BASE: Spec = { seq: posInt, tsMs: num, type: str };

/** The record, or why it is not one ("bad field fill.fee in a fill record"). */
export function parseRecord(v: unknown): JournalRecord | string {
  const base = check(v, BASE, '');
  if (base !== undefined) return `bad field ${base}`;
  const rec = v as Record<string, unknown>;
  const type = rec.type as string;
  if (!Object.hasOwn(BODY, type)) return `unknown type ${JSON.stringify(type)}`;
  const body = check(rec, BODY[type as RecordType], '');
  if (body !== undefined) return `bad field ${body} in a ${type} record`;
  return rec as unknown as JournalRecord;
}
