// The only module that loads uWebSockets.js. The package is CommonJS with a
// native binary, so it is required at runtime; everything else in the
// simulator imports the typed surface from here.
import { createRequire } from 'node:module';
import type * as Uws from '@trufflesuite/uws-js-unofficial';

const require = createRequire(import.meta.url);
const uws = require('@trufflesuite/uws-js-unofficial') as typeof Uws;

export type TemplatedApp = Uws.TemplatedApp;
export type HttpRequest = Uws.HttpRequest;
export type HttpResponse = Uws.HttpResponse;
export type WebSocket<T> = Uws.WebSocket<T>;
export type WebSocketBehavior<T> = Uws.WebSocketBehavior<T>;
export type ListenSocket = Uws.us_listen_socket;
export type UpgradeContext = Uws.us_socket_context_t;

/** The `close()` that closes the listen socket and every open connection is
 *  present in this build but missing from its bundled typings. */
export interface ClosableApp extends TemplatedApp {
  close(): void;
}

export function createApp(): ClosableApp {
  return uws.App() as ClosableApp;
}

/** `LIBUS_LISTEN_EXCLUSIVE_PORT`; the typings only declare it for host-less listens. */
const EXCLUSIVE_PORT = 1;

type ListenWithHostAndOptions = (host: string, port: number, options: number, cb: (socket: ListenSocket | false) => void) => unknown;

/**
 * Listens without SO_REUSEPORT, which uWS sets by default: otherwise a
 * second simulator on the same port would "succeed" and share connections.
 */
export function listenExclusive(app: TemplatedApp, host: string, port: number, cb: (socket: ListenSocket | false) => void): void {
  (app.listen as unknown as ListenWithHostAndOptions).call(app, host, port, EXCLUSIVE_PORT, cb);
}

export function listenSocketPort(socket: ListenSocket): number {
  return uws.us_socket_local_port(socket as unknown as Uws.us_socket);
}

export function closeListenSocket(socket: ListenSocket): void {
  uws.us_listen_socket_close(socket);
}
