// REST snapshot fetching for feed cores: one request open per key, retries
// with exponential backoff and full jitter, a timeout per attempt. A core
// asks (requestSnapshot) from inside frame processing; the fetch runs on the
// worker's event loop and the body comes back through `deliver`.
//
// A request can be cancelled (a Polymarket slot released while its snapshot
// is still being fetched): its fetch is aborted, its retry timer cleared, and
// whatever it would have brought is neither recorded nor delivered. Each
// request is an object of its own and only the one `open` holds for its key
// may deliver or retry, so an answer racing a cancel (or a newer request for
// the key) is dropped whatever stage it has reached.

import { COUNTER } from './counters.js';
import { native } from '../engine/native.js';
import { backoffDelayMs } from './backoff.js';

export interface SnapshotFetcherOptions {
  counters: Float64Array;
  timeoutMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Uniform [0, 1) source of the retry jitter (a seeded Prng's next in tests); Math.random otherwise. */
  random?: () => number;
  /** Body bytes and receive time; returns false when the core rejected the body (retried). */
  deliver(key: number, body: Uint8Array, recvNs: number): boolean;
  /** Raw bodies for the recorder, before the core sees them. */
  onBody?: ((key: number, body: Uint8Array, recvNs: number) => void) | undefined;
}

/** One request for a key, from request() until delivered, cancelled or stopped. */
class OpenRequest {
  /** Pending retry, while backing off. */
  retry: NodeJS.Timeout | undefined = undefined;
  /** The attempt in flight. */
  abort: AbortController | undefined = undefined;
  /** Its body is in `deliver`: a request for the key made now is a new one. */
  delivering = false;

  constructor(readonly key: number) {}
}

export class SnapshotFetcher {
  private readonly open = new Map<number, OpenRequest>();
  private stopped = false;

  /** `urlOf` is asked at every attempt; undefined means the key has nothing to fetch now, which ends its request. */
  constructor(
    private readonly urlOf: (key: number) => string | undefined,
    private readonly opts: SnapshotFetcherOptions,
  ) {}

  /** Opens a request for the key unless one is open already. */
  request(key: number): void {
    if (this.stopped) return;
    const cur = this.open.get(key);
    // Applying a snapshot can reveal a gap (a snapshot older than the buffered
    // diffs) and ask for another one: that is a new request, not a retry.
    if (cur !== undefined && !cur.delivering) return;
    const r = new OpenRequest(key);
    this.open.set(key, r);
    void this.attempt(r, 0);
  }

  /**
   * Ends the key's open request, if any: the fetch in flight is aborted, no
   * retry follows, and nothing it brings is recorded or delivered. The next
   * request(key) starts afresh.
   */
  cancel(key: number): void {
    const r = this.open.get(key);
    if (r === undefined) return;
    this.open.delete(key);
    SnapshotFetcher.end(r);
  }

  stop(): void {
    this.stopped = true;
    for (const r of this.open.values()) SnapshotFetcher.end(r);
    this.open.clear();
  }

  private static end(r: OpenRequest): void {
    clearTimeout(r.retry);
    r.retry = undefined;
    r.abort?.abort();
  }

  private isOpen(r: OpenRequest): boolean {
    return this.open.get(r.key) === r;
  }

  private async attempt(r: OpenRequest, n: number): Promise<void> {
    r.retry = undefined;
    const url = this.urlOf(r.key);
    if (url === undefined) {
      this.open.delete(r.key);
      return;
    }
    const abort = new AbortController();
    r.abort = abort;
    const timer = setTimeout(() => abort.abort(), this.opts.timeoutMs ?? 5_000);
    let body: Uint8Array | undefined;
    let recvNs = 0;
    try {
      const res = await fetch(url, { signal: abort.signal });
      const bytes = new Uint8Array(await res.arrayBuffer());
      recvNs = Number(native.nowNs());
      if (res.ok) body = bytes;
    } catch {
      // Refused, reset or timed out: retried below. Aborted by cancel() or stop(): dropped below.
    } finally {
      clearTimeout(timer);
      r.abort = undefined;
    }
    // Cancelled or stopped meanwhile: not an error, and nothing to hand over.
    if (!this.isOpen(r)) return;
    if (body === undefined) {
      this.opts.counters[COUNTER.restErrors]!++;
    } else {
      r.delivering = true;
      this.opts.onBody?.(r.key, body, recvNs);
      const accepted = this.opts.deliver(r.key, body, recvNs);
      r.delivering = false;
      // Cancelled, or superseded by a request made while delivering.
      if (!this.isOpen(r)) return;
      if (accepted) {
        this.open.delete(r.key);
        return;
      }
    }
    const delay = backoffDelayMs(n, { baseMs: this.opts.backoffBaseMs ?? 200, maxMs: this.opts.backoffMaxMs ?? 5_000 }, this.opts.random);
    r.retry = setTimeout(() => void this.attempt(r, n + 1), delay);
  }
}
