// The venue simulator on a thread of its own, for sessions that run it in the
// engine's process (`npm start`). In-process it shared the main thread with
// the decision loop: rendering and sending the venues' frames sat in the
// same event loop, so every tick waited behind the simulator's work and the
// session's latency figures measured the simulator as much as the engine.
// On its own thread (pinned beside the feed workers when pinning is on) the
// main thread is the engine's alone, as it is against the real venues.
//
//   main ──{options, cpu}──▶ sim thread ──{endpoints}──▶ main
//        ──{stop}─────────▶            ──{stopped}────▶

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { native } from '../native.js';
import { VenueSimulator, type SimEndpoints, type VenueSimulatorOptions } from './simulator.js';

/** Options that cross a thread boundary: plain data only (no log callback). */
export type SimThreadOptions = Omit<VenueSimulatorOptions, 'log'>;

export interface SimThread {
  readonly endpoints: SimEndpoints;
  readonly threadId: number;
  stop(): Promise<void>;
}

type ToMain = { type: 'started'; endpoints: SimEndpoints; tid: number } | { type: 'failed'; message: string } | { type: 'stopped' };

/** Starts the simulator on a new thread (pinned to `cpu` when ≥ 0) and resolves once its venues listen. */
export function startSimThread(options: SimThreadOptions, cpu: number): Promise<SimThread> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { options, cpu }, name: 'venue-simulator' });
  return new Promise<SimThread>((resolve, reject) => {
    const onMessage = (m: ToMain): void => {
      if (m.type === 'failed') {
        void worker.terminate();
        reject(new Error(`venue simulator: ${m.message}`));
      } else if (m.type === 'started') {
        worker.off('message', onMessage);
        resolve({
          endpoints: m.endpoints,
          threadId: m.tid,
          async stop() {
            const stopped = new Promise<void>((r) => worker.once('message', () => r()));
            worker.postMessage('stop');
            await Promise.race([stopped, new Promise((r) => setTimeout(r, 3_000).unref())]);
            await worker.terminate();
          },
        });
      }
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
}

if (!isMainThread && (workerData as { options?: unknown } | null)?.options !== undefined) {
  const { options, cpu } = workerData as { options: SimThreadOptions; cpu: number };
  const port = parentPort!;
  const post = (m: ToMain): void => port.postMessage(m);
  if (cpu >= 0) native.pinCurrentThread(cpu);
  const sim = new VenueSimulator(options);
  sim.start().then(
    (endpoints) => {
      post({ type: 'started', endpoints, tid: native.currentThreadId() });
      port.once('message', () => {
        void sim.stop().then(() => {
          post({ type: 'stopped' });
          port.close();
        });
      });
    },
    (err: unknown) => post({ type: 'failed', message: (err as Error).message }),
  );
}
