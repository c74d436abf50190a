// Test helper: a loopback HTTP server standing in for a venue's REST API,
// answering each request as the test says (a status and body, or nothing
// until the test lets go of it), counting requests per URL, and noting the
// ones the client gave up on before they were answered.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Leave the request open; the test answers it with answerHeld() (or never). */
export const HOLD = Symbol('hold');
export type Reply = { status: number; body: string | Uint8Array } | typeof HOLD;

export class RestStub {
  /**
   * How to answer a request: its URL (path and query) and how many requests
   * for that URL have arrived, this one included. Default 404.
   */
  reply: (url: string, n: number) => Reply | Promise<Reply> = () => ({ status: 404, body: '' });
  private readonly counts = new Map<string, number>();
  private readonly dropped = new Map<string, number>();
  private readonly held = new Map<string, ServerResponse[]>();
  private wake: Array<() => void> = [];

  private constructor(
    private readonly server: Server,
    /** Base URL, no trailing slash. */
    readonly url: string,
  ) {}

  static async start(): Promise<RestStub> {
    let stub: RestStub | undefined;
    const server = createServer((req, res) => stub!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stub = new RestStub(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return stub;
  }

  /** Requests that have arrived for the URL. */
  count(url: string): number {
    return this.counts.get(url) ?? 0;
  }

  /** Requests for the URL whose connection closed before they were answered. */
  abandoned(url: string): number {
    return this.dropped.get(url) ?? 0;
  }

  /** Requests for the URL held open right now. */
  holding(url: string): number {
    return this.held.get(url)?.length ?? 0;
  }

  /** Answers the oldest request held for the URL. */
  answerHeld(url: string, status: number, body: string | Uint8Array): void {
    const res = this.held.get(url)?.shift();
    if (res === undefined) throw new Error(`RestStub: no request held for ${url}`);
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  }

  /** Resolves once `cond` holds, checked after each request, answer and abandoned request. */
  async until(cond: () => boolean): Promise<void> {
    while (!cond()) await new Promise<void>((resolve) => this.wake.push(resolve));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    const n = this.count(url) + 1;
    this.counts.set(url, n);
    res.on('close', () => {
      if (!res.writableFinished) {
        this.dropped.set(url, this.abandoned(url) + 1);
        const list = this.held.get(url);
        const i = list?.indexOf(res) ?? -1;
        if (i >= 0) list!.splice(i, 1);
      }
      this.notify();
    });
    void Promise.resolve(this.reply(url, n)).then(
      (r) => {
        if (res.destroyed) return;
        if (r === HOLD) {
          const list = this.held.get(url);
          if (list === undefined) this.held.set(url, [res]);
          else list.push(res);
          this.notify();
        } else {
          res.writeHead(r.status, { 'content-type': 'application/json' }).end(r.body);
        }
      },
      (err: unknown) => {
        if (!res.destroyed) res.writeHead(502).end(String(err));
      },
    );
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = [];
    for (const w of wake) w();
  }
}
