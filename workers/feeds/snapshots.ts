// REST snapshot fetching for feed cores: one request in flight per key,
// retries with exponential backoff and full jitter, a timeout per request.
// A core asks (requestSnapshot) from inside frame processing; the fetch runs
// on the worker's event loop and the body comes back through `deliver`.

import { COUNTER } from '../counters.js';
import { native } from '../../engine/native.js';

export interface SnapshotFetcherOptions {
  counters: Float64Array;
  timeoutMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Body bytes and receive time; returns false when the core rejected the body (retried). */
  deliver(key: number, body: Uint8Array, recvNs: number): boolean;
  /** Raw bodies for the recorder, before the core sees them. */
  onBody?: ((key: number, body: Uint8Array, recvNs: number) => void) | undefined;
}

export class SnapshotFetcher {
  private readonly inFlight = new Set<number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly aborts = new Set<AbortController>();
  private stopped = false;

  constructor(
    private readonly urlOf: (key: number) => string,
    private readonly opts: SnapshotFetcherOptions,
  ) {}

  request(key: number): void {
    if (this.stopped || this.inFlight.has(key)) return;
    this.inFlight.add(key);
    void this.attempt(key, 0);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    for (const a of this.aborts) a.abort();
    this.timers.clear();
    this.aborts.clear();
  }

  private async attempt(key: number, n: number): Promise<void> {
    if (this.stopped) return;
    const abort = new AbortController();
    this.aborts.add(abort);
    const timer = setTimeout(() => abort.abort(), this.opts.timeoutMs ?? 5_000);
    let body: Uint8Array | undefined;
    let recvNs = 0;
    try {
      const res = await fetch(this.urlOf(key), { signal: abort.signal });
      const bytes = new Uint8Array(await res.arrayBuffer());
      recvNs = Number(native.nowNs());
      if (res.ok) body = bytes;
      else this.opts.counters[COUNTER.restErrors]!++;
    } catch {
      if (!this.stopped) this.opts.counters[COUNTER.restErrors]!++;
    } finally {
      clearTimeout(timer);
      this.aborts.delete(abort);
    }
    if (this.stopped) return;
    if (body !== undefined) {
      // Out of flight before delivery: applying the snapshot can reveal a gap
      // (a snapshot older than the buffered diffs) and ask for another one.
      this.inFlight.delete(key);
      this.opts.onBody?.(key, body, recvNs);
      if (this.opts.deliver(key, body, recvNs)) return;
      if (this.inFlight.has(key)) return;
      this.inFlight.add(key);
    }
    const base = this.opts.backoffBaseMs ?? 200;
    const cap = Math.min(this.opts.backoffMaxMs ?? 5_000, base * 2 ** Math.min(n, 16));
    const t = setTimeout(() => {
      this.timers.delete(t);
      void this.attempt(key, n + 1);
    }, Math.floor(Math.random() * cap));
    this.timers.add(t);
  }
}
