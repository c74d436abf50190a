// The simulator's server transport: one adapter interface (the subset of the
// uWebSockets.js API the venues use) and two implementations, chosen once per
// process. uWS is the default wherever its binary loads; the package ships
// binaries for Node ≤ 20 only, so on newer Node (or with
// POLYEDGE_SIM_TRANSPORT=node) the venues are served by `ws` + `node:http`
// (node-server.ts), and the process says so in one stderr line.
import { createRequire } from 'node:module';
import type * as Uws from '@trufflesuite/uws-js-unofficial';
import { PolyedgeError } from '../errors.js';
import { createNodeApp } from './node-server.js';

/** Opaque handle passed from an upgrade callback back to `res.upgrade`. */
export type UpgradeContext = { readonly __upgradeContext: unique symbol };

export interface HttpRequest {
  /** The path, without the query. */
  getUrl(): string;
  /** The raw query (after `?`), or '' / undefined when there is none. */
  getQuery(): string | undefined;
  /** The value of the n-th `:param` of the route pattern. */
  getParameter(index: number): string | undefined;
  /** A request header by lower-case name; '' when absent. */
  getHeader(lowerCaseKey: string): string;
}

export interface HttpResponse {
  cork(cb: () => void): HttpResponse;
  /** `"200 OK"`: code and reason. */
  writeStatus(status: string): HttpResponse;
  writeHeader(key: string, value: string): HttpResponse;
  end(body?: string): HttpResponse;
  /** The body in chunks; a chunk is valid only during the call. */
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): void;
  onAborted(handler: () => void): HttpResponse;
  /** Drops the connection at once, without an answer (the client sees a reset). */
  close(): HttpResponse;
  upgrade<T>(userData: T, secWebSocketKey: string, secWebSocketProtocol: string, secWebSocketExtensions: string, context: UpgradeContext): void;
}

export interface WebSocket<T> {
  getUserData(): T;
  getBufferedAmount(): number;
  send(message: string, isBinary?: boolean, compress?: boolean): number;
  /** Abrupt close, no close frame: the client sees 1006. */
  close(): void;
  /** Orderly close with a close frame. */
  end(code?: number, shortMessage?: string): void;
}

export interface WebSocketBehavior<T> {
  maxPayloadLength: number;
  /** 0: never time a connection out. Both transports only support 0. */
  idleTimeout: 0;
  sendPingsAutomatically: boolean;
  maxBackpressure: number;
  closeOnBackpressureLimit: number;
  upgrade(res: HttpResponse, req: HttpRequest, context: UpgradeContext): void;
  open(ws: WebSocket<T>): void;
  /** The message is valid only during the call. */
  message(ws: WebSocket<T>, message: ArrayBuffer, isBinary: boolean): void;
  close(ws: WebSocket<T>, code: number, message: ArrayBuffer): void;
}

export type HttpRouteHandler = (res: HttpResponse, req: HttpRequest) => void;

/** One server on one port. */
export interface SimApp {
  get(pattern: string, handler: HttpRouteHandler): void;
  post(pattern: string, handler: HttpRouteHandler): void;
  del(pattern: string, handler: HttpRouteHandler): void;
  /** Every method; the more specific routes win. */
  any(pattern: string, handler: HttpRouteHandler): void;
  ws<T>(pattern: string, behavior: WebSocketBehavior<T>): void;
  /**
   * Listens on host:port without SO_REUSEPORT (a second simulator on the
   * same port must fail, not share connections). Resolves the bound port,
   * or null when the port cannot be bound.
   */
  listen(host: string, port: number): Promise<number | null>;
  /** Stops listening and closes every open connection. */
  close(): void;
}

export type TransportName = 'uws' | 'node';

export interface Transport {
  readonly name: TransportName;
  /** Why this transport was chosen, for the one log line (empty for the default). */
  readonly reason: string;
  createApp(): SimApp;
}

/** Environment variable that forces a transport: `uws` or `node`. */
export const TRANSPORT_ENV = 'POLYEDGE_SIM_TRANSPORT';

const require = createRequire(import.meta.url);

/**
 * Loads the binary directly rather than the package's entry point: the entry
 * point catches a missing binary itself, prints several lines and returns a
 * JS stand-in that does not serve our venues.
 */
function loadUws(): typeof Uws {
  const binary = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  return require(`@trufflesuite/uws-js-unofficial/binaries/${binary}`) as typeof Uws;
}

/** `LIBUS_LISTEN_EXCLUSIVE_PORT`; the typings only declare it for host-less listens. */
const EXCLUSIVE_PORT = 1;

type ListenWithHostAndOptions = (host: string, port: number, options: number, cb: (socket: Uws.us_listen_socket | false) => void) => unknown;

/** `close()` is present in this build but missing from its bundled typings. */
interface ClosableUwsApp extends Uws.TemplatedApp {
  close(): void;
}

function uwsTransport(uws: typeof Uws): Transport {
  return {
    name: 'uws',
    reason: '',
    createApp(): SimApp {
      const app = uws.App() as ClosableUwsApp;
      let listenSocket: Uws.us_listen_socket | undefined;
      // Our interfaces are the subset of uWS's own types the venues use; the
      // native objects are passed through untouched.
      type AnyHandler = (res: Uws.HttpResponse, req: Uws.HttpRequest) => void;
      return {
        get: (pattern, handler) => void app.get(pattern, handler as unknown as AnyHandler),
        post: (pattern, handler) => void app.post(pattern, handler as unknown as AnyHandler),
        del: (pattern, handler) => void app.del(pattern, handler as unknown as AnyHandler),
        any: (pattern, handler) => void app.any(pattern, handler as unknown as AnyHandler),
        ws: (pattern, behavior) => void app.ws(pattern, behavior as unknown as Uws.WebSocketBehavior<unknown>),
        listen: (host, port) =>
          new Promise((resolve) => {
            (app.listen as unknown as ListenWithHostAndOptions).call(app, host, port, EXCLUSIVE_PORT, (socket) => {
              if (!socket) return resolve(null);
              listenSocket = socket;
              resolve(uws.us_socket_local_port(socket as unknown as Uws.us_socket));
            });
          }),
        close: () => {
          if (listenSocket) uws.us_listen_socket_close(listenSocket);
          listenSocket = undefined;
          // Closes every accepted socket too, so nothing keeps the event loop alive.
          app.close();
        },
      };
    },
  };
}

const nodeTransport = (reason: string): Transport => ({ name: 'node', reason, createApp: createNodeApp });

function choose(): Transport {
  const forced = process.env[TRANSPORT_ENV];
  if (forced === 'node') return nodeTransport(`${TRANSPORT_ENV}=node`);
  if (forced !== undefined && forced !== '' && forced !== 'uws') {
    throw new PolyedgeError('PE_CONFIG_INVALID', `${TRANSPORT_ENV} must be "uws" or "node", not "${forced}"`, TRANSPORT_ENV);
  }
  try {
    return uwsTransport(loadUws());
  } catch (err) {
    const why = `uWebSockets.js has no binary for Node ${process.version} (ABI ${process.versions.modules}) on ${process.platform}-${process.arch}`;
    if (forced === 'uws') throw new PolyedgeError('PE_CONFIG_INVALID', `${TRANSPORT_ENV}=uws: ${why}: ${(err as Error).message}`, TRANSPORT_ENV);
    return nodeTransport(why);
  }
}

let chosen: Transport | undefined;

/** The transport of this process (thread), chosen on first use and logged once if it is the fallback. */
export function transport(): Transport {
  if (chosen) return chosen;
  chosen = choose();
  if (chosen.name === 'node') process.stderr.write(`venue simulator: ${chosen.reason}; serving with ws + node:http\n`);
  return chosen;
}

export function createApp(): SimApp {
  return transport().createApp();
}
