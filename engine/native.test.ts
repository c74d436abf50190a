import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { native } from './native.js';

test('monotonic and wall clocks are nanosecond bigints that advance', () => {
  const a = native.nowNs();
  const w = native.wallNs();
  const b = native.nowNs();
  assert.equal(typeof a, 'bigint');
  assert.ok(b >= a);
  const drift = Number(w / 1_000_000n) - Date.now();
  assert.ok(Math.abs(drift) < 1000, `wall clock is ${drift} ms off Date.now()`);
});

test('pinCurrentThread pins the calling worker thread, visible to taskset', async () => {
  const mainBefore = native.currentThreadAffinity();
  const cpu = availableParallelism() - 1;
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const native = require(workerData.addon);
     const tid = native.pinCurrentThread(workerData.cpu);
     parentPort.postMessage({ tid, affinity: native.currentThreadAffinity() });
     parentPort.once('message', () => process.exit(0));`,
    { eval: true, workerData: { cpu, addon: new URL('../../native/index.cjs', import.meta.url).pathname } },
  );
  const { tid, affinity } = await new Promise<{ tid: number; affinity: number[] }>((resolve) => worker.once('message', resolve));
  assert.deepEqual(affinity, [cpu]);
  assert.notEqual(tid, process.pid, 'a worker has its own kernel thread id');
  const shown = execFileSync('taskset', ['-cp', String(tid)], { encoding: 'utf8' });
  assert.match(shown, new RegExp(`affinity list: ${cpu}\\s*$`));
  worker.postMessage('done');
  await new Promise((resolve) => worker.once('exit', resolve));
  // The main thread was not pinned by the worker's call.
  assert.deepEqual(native.currentThreadAffinity(), mainBefore);
});

test('pinning to a CPU the machine does not have is an error naming the cpu', () => {
  assert.throws(() => native.pinCurrentThread(4096), /cpu: 4096/);
});
