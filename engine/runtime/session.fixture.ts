// What the session tests share: waiting for a condition with a deadline
// (never a timed assertion: the deadline only bounds a hang), reading one
// sample out of the Prometheus text /metrics serves, and the bundled session
// started in-process.
import assert from 'node:assert/strict';
import type { Config } from '../config/config.js';
import type { GammaListing } from '../sim/gamma.js';
import { bundledVenues, type BundledVenues } from '../sim/offline.js';
import { startSession, type Session } from './session.js';

/** Polls `f` until it returns a value, failing with `what` after `ms`. */
export async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 30_000, pollMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** One sample of a Prometheus text exposition whose labels include `labels`, or undefined. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/**
 * How fast the session tests replay the bundled 22-minute capture: about 4 s
 * a session. Everything the engine does by market time (discovery and audit
 * polls, expiries, windows) runs on its feed clock, so the pace only bounds
 * how much wall time each market-time second gets. Not Infinity: each venue
 * of the simulator would then play at its own reader's pace, and the RTDS
 * capture (the engine's clock) would be over before the first market was
 * found.
 */
export const SIM_SPEED = 300;

/**
 * The bundled session in-process at SIM_SPEED (seed 7, control plane on a free
 * port), its log lines pushed to `logs`; `over` patches the Gamma listing of
 * the market `conditionId`, a venue that rules on it its own way.
 */
export function startSimSession(cfg: Config, journalPath: string, logs: string[], patch?: { conditionId: string; over: Partial<GammaListing> }): Promise<Session<BundledVenues>> {
  return startSession({
    cfg,
    offline: bundledVenues(patch && { listing: (l: GammaListing) => (l.conditionId === patch.conditionId ? { ...l, ...patch.over } : l) }),
    speed: SIM_SPEED,
    seed: 7,
    journalPath,
    controlPort: 0,
    log: (l) => logs.push(l),
  });
}
