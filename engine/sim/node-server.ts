// The simulator's fallback transport: the SimApp interface of uws.ts over
// `node:http` and `ws`, for Node versions uWebSockets.js ships no binary for.
// It mirrors the uWS behaviour the venues rely on: route patterns with
// `:param` and a trailing `*` (most specific wins), abrupt `close()` versus
// orderly `end()`, close on backpressure limit, and an exclusive port.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket as WsSocket } from 'ws';
import type { HttpRequest, HttpResponse, HttpRouteHandler, SimApp, UpgradeContext, WebSocket, WebSocketBehavior } from './uws.js';

type Method = 'get' | 'post' | 'del' | 'any';

interface Pattern {
  readonly segments: readonly string[];
}

interface HttpRoute extends Pattern {
  readonly method: Method;
  readonly handler: HttpRouteHandler;
}

interface WsRoute extends Pattern {
  readonly behavior: WebSocketBehavior<unknown>;
  readonly server: WebSocketServer;
}

const parse = (pattern: string): Pattern => ({ segments: pattern.split('/').slice(1) });

/** Static beats `:param` beats `*`, segment by segment, as in uWS. */
const RANK_STATIC = 3;
const RANK_PARAM = 2;
const RANK_WILDCARD = 1;

interface Match {
  readonly params: string[];
  readonly ranks: number[];
}

function match(p: Pattern, parts: readonly string[]): Match | null {
  const params: string[] = [];
  const ranks: number[] = [];
  for (let i = 0; i < p.segments.length; i++) {
    const seg = p.segments[i]!;
    if (seg === '*') {
      ranks.push(RANK_WILDCARD);
      return { params, ranks };
    }
    const part = parts[i];
    if (part === undefined) return null;
    if (seg.startsWith(':')) {
      params.push(part);
      ranks.push(RANK_PARAM);
    } else if (seg === part) {
      ranks.push(RANK_STATIC);
    } else {
      return null;
    }
  }
  return parts.length === p.segments.length ? { params, ranks } : null;
}

function moreSpecific(a: Match, b: Match): boolean {
  for (let i = 0; i < Math.max(a.ranks.length, b.ranks.length); i++) {
    const d = (a.ranks[i] ?? 0) - (b.ranks[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return false;
}

function best<R extends Pattern>(routes: readonly R[], parts: readonly string[]): { route: R; match: Match } | null {
  let found: { route: R; match: Match } | null = null;
  for (const route of routes) {
    const m = match(route, parts);
    if (m && (!found || moreSpecific(m, found.match))) found = { route, match: m };
  }
  return found;
}

function toArrayBuffer(data: RawData | Buffer): ArrayBuffer {
  if (data instanceof ArrayBuffer) return data;
  const buf = Array.isArray(data) ? Buffer.concat(data) : data;
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

class NodeRequest implements HttpRequest {
  constructor(
    private readonly req: IncomingMessage,
    private readonly path: string,
    private readonly query: string,
    private readonly params: readonly string[],
  ) {}

  getUrl(): string {
    return this.path;
  }

  getQuery(): string {
    return this.query;
  }

  getParameter(index: number): string | undefined {
    return this.params[index];
  }

  getHeader(lowerCaseKey: string): string {
    const v = this.req.headers[lowerCaseKey];
    return Array.isArray(v) ? v.join(', ') : (v ?? '');
  }
}

function splitStatus(status: string): { code: number; text: string } {
  const m = /^(\d{3})\s*(.*)$/.exec(status);
  return m ? { code: Number(m[1]), text: m[2]! } : { code: 500, text: 'Internal Server Error' };
}

/** An ordinary HTTP exchange. */
class NodeResponse implements HttpResponse {
  readingBody = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {}

  cork(cb: () => void): HttpResponse {
    cb();
    return this;
  }

  writeStatus(status: string): HttpResponse {
    const { code, text } = splitStatus(status);
    this.res.statusCode = code;
    this.res.statusMessage = text;
    return this;
  }

  writeHeader(key: string, value: string): HttpResponse {
    this.res.setHeader(key, value);
    return this;
  }

  end(body = ''): HttpResponse {
    this.res.end(body);
    return this;
  }

  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): void {
    this.readingBody = true;
    this.req.on('data', (chunk: Buffer) => handler(toArrayBuffer(chunk), false));
    this.req.on('end', () => handler(new ArrayBuffer(0), true));
  }

  onAborted(handler: () => void): HttpResponse {
    this.res.on('close', () => {
      if (!this.res.writableFinished) handler();
    });
    return this;
  }

  close(): HttpResponse {
    this.res.socket?.destroy();
    return this;
  }

  upgrade(): void {
    throw new Error('upgrade outside a WebSocket route');
  }
}

interface PendingUpgrade extends UpgradeContext {
  readonly req: IncomingMessage;
  readonly head: Buffer;
  readonly route: WsRoute;
}

/** A WebSocket upgrade request: answered either by a plain HTTP response on the raw socket or by the upgrade. */
class UpgradeResponse implements HttpResponse {
  private status = '200 OK';
  private readonly headers: string[] = [];
  private done = false;

  constructor(
    private readonly socket: Duplex,
    private readonly onUpgrade: (data: unknown, ctx: PendingUpgrade) => void,
  ) {}

  cork(cb: () => void): HttpResponse {
    cb();
    return this;
  }

  writeStatus(status: string): HttpResponse {
    this.status = status;
    return this;
  }

  writeHeader(key: string, value: string): HttpResponse {
    this.headers.push(`${key}: ${value}\r\n`);
    return this;
  }

  end(body = ''): HttpResponse {
    if (this.done) return this;
    this.done = true;
    const head = `HTTP/1.1 ${this.status}\r\n${this.headers.join('')}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
    this.socket.end(head + body);
    return this;
  }

  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): void {
    handler(new ArrayBuffer(0), true);
  }

  onAborted(handler: () => void): HttpResponse {
    this.socket.on('close', () => {
      if (!this.done) handler();
    });
    return this;
  }

  close(): HttpResponse {
    this.done = true;
    this.socket.destroy();
    return this;
  }

  upgrade<T>(userData: T, _key: string, _protocol: string, _extensions: string, context: UpgradeContext): void {
    if (this.done) return;
    this.done = true;
    this.onUpgrade(userData, context as PendingUpgrade);
  }
}

class NodeSocket<T> implements WebSocket<T> {
  constructor(
    private readonly ws: WsSocket,
    private readonly data: T,
    private readonly behavior: WebSocketBehavior<T>,
  ) {}

  getUserData(): T {
    return this.data;
  }

  getBufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** 1 sent, 0 buffered (backpressure), 2 dropped: uWS's return codes. */
  send(message: string): number {
    if (this.ws.readyState !== this.ws.OPEN) return 2;
    this.ws.send(message);
    const buffered = this.ws.bufferedAmount;
    if (buffered > this.behavior.maxBackpressure && this.behavior.closeOnBackpressureLimit) {
      this.ws.terminate();
      return 2;
    }
    return buffered > 0 ? 0 : 1;
  }

  close(): void {
    this.ws.terminate();
  }

  end(code?: number, shortMessage?: string): void {
    this.ws.close(code, shortMessage);
  }
}

export function createNodeApp(): SimApp {
  const httpRoutes: HttpRoute[] = [];
  const wsRoutes: WsRoute[] = [];
  const sockets = new Set<WsSocket>();
  const server = createServer();

  const split = (url: string): { path: string; query: string; parts: string[] } => {
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    return { path, query: q < 0 ? '' : url.slice(q + 1), parts: path.split('/').slice(1) };
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const { path, query, parts } = split(req.url ?? '/');
    const method = req.method === 'GET' ? 'get' : req.method === 'POST' ? 'post' : req.method === 'DELETE' ? 'del' : undefined;
    const hit = best(
      httpRoutes.filter((r) => r.method === 'any' || r.method === method),
      parts,
    );
    const response = new NodeResponse(req, res);
    if (hit) hit.route.handler(response, new NodeRequest(req, path, query, hit.match.params));
    else res.writeHead(404).end();
    // A body nobody reads would hold the connection: discard it.
    if (!response.readingBody) req.resume();
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const { path, query, parts } = split(req.url ?? '/');
    const hit = best(wsRoutes, parts);
    const res = new UpgradeResponse(socket, (data, ctx) => {
      ctx.route.server.handleUpgrade(ctx.req, socket, ctx.head, (ws) => {
        const behavior = ctx.route.behavior;
        const conn = new NodeSocket(ws, data, behavior);
        sockets.add(ws);
        ws.on('error', () => {});
        ws.on('message', (msg: RawData, isBinary: boolean) => behavior.message(conn, toArrayBuffer(msg), isBinary));
        ws.on('close', (code: number, reason: Buffer) => {
          sockets.delete(ws);
          behavior.close(conn, code, toArrayBuffer(reason));
        });
        behavior.open(conn);
      });
    });
    if (!hit) {
      // No WebSocket route: the plain routes answer (the catch-all 404).
      const plain = best(httpRoutes, parts);
      if (plain) plain.route.handler(res, new NodeRequest(req, path, query, plain.match.params));
      else res.writeStatus('404 Not Found').end();
      return;
    }
    const ctx = { req, head, route: hit.route } as unknown as PendingUpgrade;
    hit.route.behavior.upgrade(res, new NodeRequest(req, path, query, hit.match.params), ctx);
  });

  return {
    get: (pattern, handler) => void httpRoutes.push({ ...parse(pattern), method: 'get', handler }),
    post: (pattern, handler) => void httpRoutes.push({ ...parse(pattern), method: 'post', handler }),
    del: (pattern, handler) => void httpRoutes.push({ ...parse(pattern), method: 'del', handler }),
    any: (pattern, handler) => void httpRoutes.push({ ...parse(pattern), method: 'any', handler }),
    ws: <T>(pattern: string, behavior: WebSocketBehavior<T>) => {
      const wss = new WebSocketServer({ noServer: true, maxPayload: behavior.maxPayloadLength, perMessageDeflate: false, clientTracking: false });
      wsRoutes.push({ ...parse(pattern), behavior: behavior as WebSocketBehavior<unknown>, server: wss });
    },
    listen: (host, port) =>
      new Promise((resolve) => {
        const onError = (): void => resolve(null);
        server.once('error', onError);
        // Node sets no SO_REUSEPORT unless asked: a port in use is an error, as with uWS's exclusive listen.
        server.listen({ host, port, exclusive: true }, () => {
          server.off('error', onError);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close: () => {
      server.close();
      server.closeAllConnections();
      for (const ws of sockets) ws.terminate();
    },
  };
}
