// Test helpers for the simulator's tests: a recording WebSocket client and
// a scoped simulator. Not used by production code.
import WebSocket from 'ws';
import { VenueSimulator, type SimEndpoints, type VenueSimulatorOptions } from './simulator.js';

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

/** A client that records every text frame it receives. */
export class WsProbe {
  readonly frames: string[] = [];
  closeInfo: CloseInfo | undefined;
  private readonly listeners = new Set<() => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => {
      this.frames.push(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8'));
      this.notify();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closeInfo = { code, reason: reason.toString('utf8') };
      this.notify();
    });
    ws.on('error', () => {
      // 'close' follows; the test decides whether that was expected.
    });
  }

  static open(url: string, timeoutMs = 3000): Promise<WsProbe> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const probe = new WsProbe(ws);
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`timeout opening ${url}`));
      }, timeoutMs);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(probe);
      });
      ws.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        reject(new Error(`upgrade rejected with HTTP ${res.statusCode}`));
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(data: string | object): void {
    this.ws.send(typeof data === 'string' ? data : JSON.stringify(data));
  }

  /** Every received frame that parses as JSON (PONG, errors in text, and corrupted frames are skipped). */
  json(from = 0): unknown[] {
    const out: unknown[] = [];
    for (const f of this.frames.slice(from)) {
      try {
        out.push(JSON.parse(f));
      } catch {
        // not JSON
      }
    }
    return out;
  }

  waitFor(pred: (frames: readonly string[]) => boolean, what: string, timeoutMs = 3000): Promise<void> {
    if (pred(this.frames)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!pred(this.frames)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        const tail = this.frames.slice(-3).map((f) => f.slice(0, 200));
        reject(new Error(`timeout waiting for ${what} (${this.frames.length} frames; last: ${JSON.stringify(tail)})`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
  }

  /** Waits for `n` more frames than are present now. */
  waitForMore(n: number, what = `${n} more frames`, timeoutMs = 3000): Promise<void> {
    const target = this.frames.length + n;
    return this.waitFor((f) => f.length >= target, what, timeoutMs);
  }

  async waitForClose(timeoutMs = 3000): Promise<CloseInfo> {
    await this.waitFor(() => this.closeInfo !== undefined, 'close', timeoutMs);
    return this.closeInfo as CloseInfo;
  }

  async close(): Promise<void> {
    if (this.closeInfo) return;
    this.ws.close();
    try {
      await this.waitForClose(2000);
    } catch {
      this.ws.terminate();
    }
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}

/** Status code the server answered a WebSocket upgrade with (for rejected upgrades). */
export function upgradeStatus(url: string, timeoutMs = 3000): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`timeout upgrading ${url}`));
    }, timeoutMs);
    ws.once('open', () => {
      clearTimeout(timer);
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      res.resume();
      ws.terminate();
      resolve(res.statusCode ?? 0);
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Starts a simulator, runs `fn`, and always stops it. */
export async function withSim<T>(opts: VenueSimulatorOptions, fn: (sim: VenueSimulator, urls: SimEndpoints) => Promise<T>): Promise<T> {
  const sim = new VenueSimulator(opts);
  const urls = await sim.start();
  try {
    return await fn(sim, urls);
  } finally {
    await sim.stop();
  }
}

export async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as unknown };
}

export async function postJson(url: string, body: string | object): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as unknown };
}
