// The venue's word on every market the engine settled. The engine settles a
// window itself, by the Chainlink rule on the prices it saw (markets/settlement.ts);
// the venue resolves it later, on its own. Each settled market is looked up
// on Gamma by slug every poll until Gamma shows it resolved (`closed` and
// `outcomePrices` one "1" and one "0", protocols §5.2) or the audit times
// out, and the verdict is compared with the engine's:
//
//   agree     counted, and handed over (onAgree) to be journaled as a
//             resolution naming the engine's own winner: a restart does not
//             ask the venue again
//   disagree  counted, and handed to the engine, which journals a correction
//             moving the paper money to the venue's winner
//   timeout   counted and logged once: the venue had not resolved it
//             `timeoutMs` after the window's end (engine clock)
//
// Polls are `pollMs` apart on the engine's clock too (its timers), so a
// session replayed faster than the wall asks as often per minute of market
// time as a live one, and the deadline is not reached between two polls.
//
// The journal keeps every settlement still awaiting a verdict, a market
// whose slot was reused included (JournalLedger.pendingAudits), so a restart
// watches them all again; it gives up on them by the same deadline.
//
// The venue's winner is the token whose price is 1, matched to the engine's
// tokens by token id, never by position: Gamma's order of clobTokenIds is
// not a promise.

import { PolyedgeError } from '../errors.js';
import { auditDeadlineMs } from '../journal/ledger.js';
import type { MarketDescriptor, Settlement } from '../trading/types.js';
import { isPlainObject } from '../../workers/guards.js';
import type { Timers } from '../clock/timers.js';
import { fetchJson, jsonArrayOfStrings, PollLoop } from '../venues/polymarket/discovery.js';

/** What Gamma says of a settled market: not resolved yet, or resolved with the winner as an index into the engine's tokenIds. */
export type GammaResolution = { resolved: false; why: string } | { resolved: true; winner: 0 | 1 };

/** A decimal string's value when it is exactly 0 or exactly 1 ("1", "1.0", "0.000"); undefined for any other decimal. */
function zeroOrOne(p: string): 0 | 1 | undefined {
  if (/^0(\.0+)?$/.test(p)) return 0;
  if (/^1(\.0+)?$/.test(p)) return 1;
  return undefined;
}

const DECIMAL = /^\d+(\.\d+)?$/;

/**
 * One Gamma market object → whether the venue has resolved `market` and to
 * which of its tokens, or an error naming the field. The object must be that
 * market (slug, conditionId, the same two token ids in either order).
 */
export function parseGammaResolution(raw: unknown, market: Pick<MarketDescriptor, 'slug' | 'conditionId' | 'tokenIds'>): GammaResolution {
  if (!isPlainObject(raw)) throw new PolyedgeError('PE_INPUT_JSON', 'gamma: market is not an object');
  if (raw.slug !== market.slug) throw new PolyedgeError('PE_INPUT_JSON', `gamma: asked for ${market.slug}, got ${JSON.stringify(raw.slug)}`, 'slug');
  if (typeof raw.conditionId !== 'string' || raw.conditionId.toLowerCase() !== market.conditionId.toLowerCase()) {
    throw new PolyedgeError('PE_INPUT_JSON', `gamma: conditionId is ${JSON.stringify(raw.conditionId)}, the settled market's is ${market.conditionId}`, 'conditionId');
  }
  const ids = jsonArrayOfStrings(raw.clobTokenIds, 'clobTokenIds');
  if (ids.length !== 2 || ids[0] === ids[1] || !ids.every((id) => market.tokenIds.includes(id))) {
    throw new PolyedgeError('PE_INPUT_JSON', `gamma: clobTokenIds must be the settled market's two token ids`, 'clobTokenIds');
  }
  const prices = jsonArrayOfStrings(raw.outcomePrices, 'outcomePrices');
  if (prices.length !== 2 || !prices.every((p) => DECIMAL.test(p))) throw new PolyedgeError('PE_INPUT_JSON', 'gamma: outcomePrices must hold two decimal strings', 'outcomePrices');
  const status = raw.umaResolutionStatus;
  if (status !== undefined && status !== null && typeof status !== 'string') throw new PolyedgeError('PE_INPUT_JSON', 'gamma: umaResolutionStatus must be a string', 'umaResolutionStatus');
  const closed = raw.closed;
  if (typeof closed !== 'boolean') throw new PolyedgeError('PE_INPUT_JSON', 'gamma: closed must be a boolean', 'closed');
  if (!closed) return { resolved: false, why: 'not closed' };
  const a = zeroOrOne(prices[0]!);
  const b = zeroOrOne(prices[1]!);
  // Closed with prices still trading (UMA not settled yet) or split 50/50: not a verdict on who won.
  if (a === undefined || b === undefined || a === b) return { resolved: false, why: `closed, outcomePrices ${JSON.stringify(prices)}${typeof status === 'string' ? `, umaResolutionStatus ${status}` : ''}` };
  const winnerId = ids[a === 1 ? 0 : 1]!;
  return { resolved: true, winner: market.tokenIds[0] === winnerId ? 0 : 1 };
}

export interface SettlementAuditorOptions {
  gammaUrl: string;
  pollMs: number;
  /** Engine time after a window's end when the venue is given up on. */
  timeoutMs: number;
  /** The engine's clock (Unix ms). */
  nowMs: () => number;
  /** What polls run on: the engine's timers (engine.timers), so polls and the deadline are both engine time; the wall's by default. */
  timers?: Timers | undefined;
  /** The venue resolved `s` to the other token (`winner`, an index into s.tokens). */
  onDisagree: (d: MarketDescriptor, s: Readonly<Settlement>, winner: 0 | 1) => void;
  /** The venue resolved `s` as the engine did. */
  onAgree?: ((d: MarketDescriptor, s: Readonly<Settlement>) => void) | undefined;
  log: (line: string) => void;
  /** Per-request timeout. Default 5 s. */
  requestTimeoutMs?: number;
}

interface Audit {
  market: MarketDescriptor;
  settlement: Readonly<Settlement>;
}

export class SettlementAuditor {
  /** Verdicts (agree, disagree, timeout: one per audited market), and lookups that failed (retried). */
  readonly counts = { agree: 0, disagree: 0, timeout: 0, errors: 0 };
  /** Settled markets awaiting the venue, by conditionId. */
  private readonly pending = new Map<string, Audit>();
  private readonly lastError = new Map<string, string>();
  private readonly loop: PollLoop;

  constructor(private readonly opts: SettlementAuditorOptions) {
    this.loop = new PollLoop(
      async () => {
        await this.poll();
        return opts.pollMs;
      },
      (err) => {
        opts.log(`settlement audit: ${err.message}`);
        return opts.pollMs;
      },
      opts.timers,
    );
  }

  /** Audits `s`, the engine's settlement of `market`; a market already awaiting its verdict is not added twice. */
  watch(market: MarketDescriptor, s: Readonly<Settlement>): void {
    if (!this.pending.has(s.conditionId)) this.pending.set(s.conditionId, { market, settlement: s });
  }

  /** Markets awaiting the venue's verdict. */
  get waiting(): number {
    return this.pending.size;
  }

  start(): void {
    this.loop.start(this.opts.pollMs);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One lookup per awaiting market. */
  async poll(): Promise<void> {
    for (const [conditionId, a] of [...this.pending]) {
      if (this.loop.stopped) return;
      const verdict = await this.lookup(a);
      // No verdict yet and time left: asked again next poll.
      if (verdict === undefined && this.opts.nowMs() < auditDeadlineMs(a.market, this.opts.timeoutMs)) continue;
      const { slug } = a.market;
      this.pending.delete(conditionId);
      this.lastError.delete(slug);
      if (verdict === undefined) {
        this.counts.timeout++;
        this.opts.log(`settlement audit: ${slug} not resolved on Gamma ${this.opts.timeoutMs} ms after its window ended; the engine's settlement stands unaudited`);
      } else if (verdict === a.settlement.winner) {
        this.counts.agree++;
        this.opts.onAgree?.(a.market, a.settlement);
      } else {
        this.counts.disagree++;
        this.opts.onDisagree(a.market, a.settlement, verdict);
      }
    }
  }

  /** The venue's winner, or undefined while it has none (or the lookup failed). */
  private async lookup(a: Audit): Promise<0 | 1 | undefined> {
    const { slug } = a.market;
    const got = await fetchJson(`${this.opts.gammaUrl}/markets/slug/${slug}`, this.opts.requestTimeoutMs ?? 5_000);
    if (!got.ok) return this.failed(slug, got.message);
    let r: GammaResolution;
    try {
      r = parseGammaResolution(got.body, a.market);
    } catch (err) {
      return this.failed(slug, (err as Error).message);
    }
    return r.resolved ? r.winner : undefined;
  }

  private failed(slug: string, message: string): undefined {
    this.counts.errors++;
    // A venue down for an hour logs each failure once per market, not once a poll.
    if (this.lastError.get(slug) !== message) this.opts.log(`settlement audit: ${slug}: ${message}`);
    this.lastError.set(slug, message);
    return undefined;
  }
}
