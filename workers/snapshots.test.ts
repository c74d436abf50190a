// SnapshotFetcher against a real HTTP server on loopback that the test
// drives: per-key cancellation (before the answer, with the answer on the
// wire, during a retry backoff, during delivery), a fresh request after a
// cancel, requests made while delivering, stop(), and other keys carrying on
// throughout. Attempts are counted twice: at the server, and exactly at
// `urlOf`, which the fetcher calls once per attempt, synchronously.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { COUNTER, createCounters } from './counters.js';
import { SnapshotFetcher } from './snapshots.js';
import { HOLD, RestStub } from './snapshots.fixture.js';

/** Largest retry delay in these tests: backoff base and cap. */
const BACKOFF_MS = 20;

const path = (key: number): string => `/k/${key}`;
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

function push(m: Map<number, string[]>, key: number, value: string): void {
  const list = m.get(key);
  if (list === undefined) m.set(key, [value]);
  else list.push(value);
}

/** A fetcher of `${stub.url}/k/<key>` and what came out of it. */
class Rig {
  readonly counters = createCounters();
  /** Bodies delivered, as text, per key. */
  readonly delivered = new Map<number, string[]>();
  /** Bodies handed to onBody (the recorder), per key. */
  readonly recorded = new Map<number, string[]>();
  /** urlOf calls (attempts) per key. */
  readonly attempts = new Map<number, number>();
  /** What deliver returns, and anything it does on the side; default: accept. */
  onDeliver: (key: number, body: string) => boolean = () => true;
  /** urlOf's answer for a key; default: the stub's /k/<key>. */
  urlFor: (key: number) => string | undefined = (key) => `${this.stub.url}${path(key)}`;
  readonly fetcher: SnapshotFetcher;

  constructor(readonly stub: RestStub) {
    this.fetcher = new SnapshotFetcher(
      (key) => {
        this.attempts.set(key, (this.attempts.get(key) ?? 0) + 1);
        return this.urlFor(key);
      },
      {
        counters: this.counters,
        // Far beyond the test's own timeout: only a cancel or stop() can abort an attempt here.
        timeoutMs: 600_000,
        backoffBaseMs: BACKOFF_MS,
        backoffMaxMs: BACKOFF_MS,
        deliver: (key, body) => {
          push(this.delivered, key, text(body));
          return this.onDeliver(key, text(body));
        },
        onBody: (key, body) => push(this.recorded, key, text(body)),
      },
    );
  }
}

async function withRig(fn: (rig: Rig) => Promise<void>): Promise<void> {
  const stub = await RestStub.start();
  const rig = new Rig(stub);
  try {
    await fn(rig);
  } finally {
    rig.fetcher.stop();
    await stub.close();
  }
}

/** Resolves once `cond` holds on the fetcher's side; the test's own timeout catches a hang. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await sleep(2);
}

/**
 * Outlasts any retry the fetcher could have scheduled before this call: a
 * timer fires after every timer due earlier, and a retry is due within
 * BACKOFF_MS of being scheduled.
 */
const pastAnyRetry = (): Promise<unknown> => sleep(BACKOFF_MS * 3);

const ok = (body: string): { status: number; body: string } => ({ status: 200, body });

test('cancel before the answer: the key is never delivered nor recorded, its fetch is aborted on the wire, other keys are answered', { timeout: 20_000 }, async () => {
  await withRig(async ({ stub, fetcher, delivered, recorded, counters }) => {
    stub.reply = (url) => (url === path(1) ? HOLD : ok(`body of ${url}`));
    fetcher.request(0);
    fetcher.request(1);
    await stub.until(() => stub.holding(path(1)) === 1);
    fetcher.cancel(1);
    await stub.until(() => stub.abandoned(path(1)) === 1);
    await until(() => delivered.has(0));
    assert.deepEqual([...delivered], [[0, ['body of /k/0']]]);
    assert.deepEqual([...recorded], [[0, ['body of /k/0']]]);
    assert.equal(counters[COUNTER.restErrors], 0, 'a cancelled fetch is no error');
    fetcher.cancel(1);
    fetcher.cancel(9);
  });
});

test('an answer already on the wire when its key is cancelled is dropped; a request after the cancel fetches afresh', { timeout: 20_000 }, async () => {
  await withRig(async ({ stub, fetcher, delivered, recorded, attempts }) => {
    stub.reply = (url, n) => (url === path(1) && n === 1 ? HOLD : ok(`${url} #${n}`));
    fetcher.request(1);
    await stub.until(() => stub.holding(path(1)) === 1);
    // Written to the socket, not yet read by the fetcher (same thread: it cannot have run since).
    stub.answerHeld(path(1), 200, 'the cancelled answer');
    fetcher.cancel(1);
    fetcher.request(1);
    fetcher.request(0);
    await until(() => delivered.has(1) && delivered.has(0));
    assert.deepEqual(delivered.get(1), [`${path(1)} #2`]);
    assert.deepEqual(recorded.get(1), [`${path(1)} #2`]);
    assert.equal(stub.count(path(1)), 2);
    assert.equal(attempts.get(1), 2);
  });
});

test('cancel during a retry backoff: no further attempt for the key; other keys keep retrying; a later request fetches afresh', { timeout: 20_000 }, async () => {
  await withRig(async (rig) => {
    const { stub, fetcher, delivered, attempts, counters } = rig;
    // Key 2: a body its core rejects, then good ones. Key 3: three failures, then an answer.
    stub.reply = (url, n) => {
      if (url === path(2)) return ok(n === 1 ? 'rejected' : 'accepted');
      return n <= 3 ? { status: 500, body: 'down' } : ok('three');
    };
    let cancelled = false;
    rig.onDeliver = (key, text) => {
      if (key !== 2 || text !== 'rejected') return true;
      // Runs once the fetcher has scheduled the retry and before any timer can fire: mid-backoff.
      queueMicrotask(() => {
        fetcher.cancel(2);
        cancelled = true;
      });
      return false;
    };
    fetcher.request(2);
    fetcher.request(3);
    await until(() => cancelled);
    await pastAnyRetry();
    assert.equal(attempts.get(2), 1, 'the retry was cleared');
    await until(() => delivered.has(3));
    assert.deepEqual(delivered.get(3), ['three']);
    assert.equal(stub.count(path(3)), 4);
    assert.equal(counters[COUNTER.restErrors], 3);

    fetcher.request(2);
    await until(() => delivered.get(2)?.length === 2);
    assert.deepEqual(delivered.get(2), ['rejected', 'accepted']);
    assert.equal(attempts.get(2), 2);
    assert.equal(stub.count(path(2)), 2, 'the server saw the first attempt and the fresh request only');
  });
});

test('cancel from inside delivery: a rejected body is not retried', { timeout: 20_000 }, async () => {
  await withRig(async (rig) => {
    const { stub, fetcher, delivered, attempts } = rig;
    stub.reply = () => ok('not wanted');
    rig.onDeliver = (key) => {
      fetcher.cancel(key);
      return false;
    };
    fetcher.request(4);
    await until(() => delivered.has(4));
    await pastAnyRetry();
    assert.equal(attempts.get(4), 1);
    assert.equal(stub.count(path(4)), 1);
  });
});

test('a request made while delivering is a new one, fetched once, whether the body was accepted or rejected', { timeout: 20_000 }, async () => {
  await withRig(async (rig) => {
    const { stub, fetcher, delivered, attempts } = rig;
    stub.reply = (url, n) => ok(`${url} #${n}`);
    // Key 5 accepts its first body but asks again (a gap it revealed); key 6 rejects its first and asks again.
    rig.onDeliver = (key, text) => {
      if (!text.endsWith('#1')) return true;
      fetcher.request(key);
      return key === 5;
    };
    fetcher.request(5);
    fetcher.request(6);
    await until(() => delivered.get(5)?.length === 2 && delivered.get(6)?.length === 2);
    await pastAnyRetry();
    assert.deepEqual(delivered.get(5), [`${path(5)} #1`, `${path(5)} #2`]);
    assert.deepEqual(delivered.get(6), [`${path(6)} #1`, `${path(6)} #2`]);
    assert.deepEqual([attempts.get(5), attempts.get(6)], [2, 2], 'no retry on top of the new request');
  });
});

test('a key with nothing to fetch ends its request; stop() aborts what is in flight and ends everything', { timeout: 20_000 }, async () => {
  await withRig(async (rig) => {
    const { stub, fetcher, delivered, attempts } = rig;
    stub.reply = (url) => (url === path(8) ? HOLD : ok('seven'));
    rig.urlFor = () => undefined;
    fetcher.request(7);
    assert.equal(attempts.get(7), 1);
    rig.urlFor = (key) => `${stub.url}${path(key)}`;
    fetcher.request(7);
    await until(() => delivered.has(7));
    assert.equal(stub.count(path(7)), 1);

    fetcher.request(8);
    await stub.until(() => stub.holding(path(8)) === 1);
    fetcher.stop();
    await stub.until(() => stub.abandoned(path(8)) === 1);
    fetcher.request(8);
    fetcher.request(9);
    await pastAnyRetry();
    assert.equal(attempts.get(8), 1);
    assert.equal(attempts.get(9), undefined);
    assert.deepEqual([...delivered.keys()], [7]);
  });
});
