// The control plane: a small HTTP API in the main thread for operators and
// scripts to read the engine's state and steer it (pause, flatten, reload
// parameters). Money is safe by default:
// - every POST needs `Authorization: Bearer <token>`; started without a token,
//   the server still answers GETs on loopback but refuses every POST (401);
// - it will not bind a non-loopback address without a token, and there every
//   route, GETs included, needs the token;
// - request bodies are JSON objects, validated by the same schema builders
//   that type them, and a violation names the field (400) before any handler
//   runs; a method a path does not declare answers 405 with an Allow header.
// The OpenAPI document is generated from the route table below, so what is
// published is what is enforced.

import { isPlainObject } from '../../workers/guards.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIPv4, isIPv6, type AddressInfo } from 'node:net';
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { asPolyedgeError, fieldError, PolyedgeError, type ErrorCode } from '../errors.js';
import { object, toJsonSchema, validate, type JsonSchema, type Schema, type Violation } from '../config/schema.js';
import { reloadPath, TUNABLE_NAME } from '../tunables/tunable.js';

/** Environment variable the engine reads the control token from. */
export const CONTROL_TOKEN_ENV = 'POLYEDGE_CONTROL_TOKEN';

/** Requests are a few parameters; anything bigger is a mistake or an attack. */
export const BODY_LIMIT_BYTES = 64 * 1024;

type Awaitable<T> = T | Promise<T>;

export interface ReloadHandler<P> {
  /** What it reloads, as its route `/control/reload/<name>` names it (`risk`, `strategy/maker`). */
  readonly name: string;
  /** One line on what the parameters steer: the route's summary. */
  readonly description: string;
  /** Shape of the parameters; the POST body must satisfy it (unknown keys rejected, absent keys take defaults). */
  readonly schema: Schema<P>;
  /** Parameters in force. `GET /control/reload/<name>` answers them, so a client can read, edit and send back. */
  current(): Awaitable<object>;
  /**
   * Applies validated parameters atomically between two events and answers the
   * values now in force. The body is the complete parameter set: an absent key
   * means its schema default, not "keep the current value". May throw a
   * PolyedgeError with a `field` to refuse values the schema cannot express
   * (cross-field constraints); that becomes a 400 naming the field.
   */
  apply(params: P): Awaitable<object>;
}

/**
 * What the engine implements. GET handlers return JSON-able objects (metrics
 * returns Prometheus text). Actions answer the state they leave the engine in.
 * A handler that throws a PolyedgeError of a usage, input or config code
 * (exit 2, 65, 78) yields a 400 with its code; anything else a 500.
 */
export interface ControlHandlers {
  health(): Awaitable<object>;
  /** Prometheus text exposition format 0.0.4. */
  metrics(): Awaitable<string>;
  positions(): Awaitable<object>;
  /** The market slots: which market each holds, its window, phase and settlement. */
  markets(): Awaitable<object>;
  pnl(): Awaitable<object>;
  orders(): Awaitable<object>;
  shadowLive(): Awaitable<object>;
  shadowFinal(): Awaitable<object>;
  pnlByEngine(): Awaitable<object>;
  toxicityLive(): Awaitable<object>;
  toxicityFinal(): Awaitable<object>;
  pause(): Awaitable<object>;
  resume(): Awaitable<object>;
  flatten(): Awaitable<object>;
  resetShadow(): Awaitable<object>;
  /** One route per tunable set (engine/tunables/registry.ts), each named after what it reloads. */
  readonly reloads: readonly ReloadHandler<unknown>[];
}

export interface ControlServerOptions {
  host: string;
  port: number;
  /** Usually `process.env[CONTROL_TOKEN_ENV]`; empty counts as absent. */
  token: string | undefined;
  handlers: ControlHandlers;
  /** fastify's request log (method, url, status; never bodies or headers). Off by default. */
  logger?: boolean;
}

export interface RequestCount {
  /** `METHOD /path` of the matched route, or `unmatched`: bounded, whatever clients send. */
  route: string;
  code: number;
  count: number;
}

export interface ControlServer {
  /** `http://host:port` actually bound (port 0 resolved). */
  readonly url: string;
  /** Per route and status code since start, for polyedge_control_requests_total{route,code}. */
  requestCounts(): RequestCount[];
  close(): Promise<void>;
}

/** Codes of the control plane's own refusals; PE_CONTROL_* are proposed for the catalog. */
type ReplyCode = ErrorCode;

interface ErrorBody {
  error: { code: ReplyCode; message: string; fields: Violation[] };
}

function errorBody(code: ReplyCode, message: string, fields: Violation[] = []): ErrorBody {
  return { error: { code, message, fields } };
}

/** The body failed its schema; raised from the route's validator, answered by the error handler. */
class BodyInvalid extends Error {
  constructor(readonly violations: Violation[]) {
    super(`request body violates the schema: ${violations.map((v) => `${v.path}: ${v.message}`).join('; ')}`);
  }
}

interface Route {
  method: 'GET' | 'POST';
  path: string;
  summary: string;
  /** POST body shape; `optional` bodies may be left out (they mean `{}`). */
  body?: { schema: Schema<unknown>; optional: boolean };
  /** Answers Prometheus text instead of JSON. */
  text?: boolean;
  run(body: unknown): Awaitable<object | string>;
}

/** Actions take no parameters: an empty object, or no body at all. */
const NO_PARAMS: Schema<unknown> = object({});

function routeTable(h: ControlHandlers): Route[] {
  const get = (path: string, summary: string, run: () => Awaitable<object>): Route => ({ method: 'GET', path, summary, run });
  const action = (path: string, summary: string, run: () => Awaitable<object>): Route => ({
    method: 'POST',
    path,
    summary,
    body: { schema: NO_PARAMS, optional: true },
    run,
  });
  const routes: Route[] = [
    get('/health', 'Liveness and mode', () => h.health()),
    { method: 'GET', path: '/metrics', summary: 'Prometheus metrics', text: true, run: () => h.metrics() },
    get('/state/positions', 'Positions per token', () => h.positions()),
    get('/state/markets', 'Market slots: the market in each, its window, phase and settlement', () => h.markets()),
    get('/state/pnl', 'Realised and unrealised PnL', () => h.pnl()),
    get('/state/orders', 'Open orders', () => h.orders()),
    get('/report/shadow/live', 'Shadow engines so far', () => h.shadowLive()),
    get('/report/shadow/final', 'Shadow engines, final report', () => h.shadowFinal()),
    get('/report/pnl/by_engine', 'PnL per engine', () => h.pnlByEngine()),
    get('/report/toxicity/live', 'Toxicity so far', () => h.toxicityLive()),
    get('/report/toxicity/final', 'Toxicity, final report', () => h.toxicityFinal()),
    action('/control/pause', 'Stop quoting; resting orders are cancelled', () => h.pause()),
    action('/control/resume', 'Resume quoting', () => h.resume()),
    action('/control/flatten', 'Cancel everything and close all positions', () => h.flatten()),
    action('/control/reset_shadow', 'Reset shadow engines and their reports', () => h.resetShadow()),
  ];
  const names = new Set<string>();
  for (const r of h.reloads) {
    // Handlers are code, not input: a name that would make a bad path, or two routes in one place, is a bug to stop at start-up.
    if (!TUNABLE_NAME.test(r.name)) throw new Error(`reload name ${JSON.stringify(r.name)} must match ${TUNABLE_NAME.source}`);
    if (names.has(r.name)) throw new Error(`two reload handlers are named ${JSON.stringify(r.name)}`);
    names.add(r.name);
    const path = reloadPath(r.name);
    routes.push(get(path, `${r.description}: the values in force`, () => r.current()));
    routes.push({
      method: 'POST',
      path,
      summary: `${r.description}: replace the whole set (absent keys take their defaults); answers the values in force`,
      body: { schema: r.schema, optional: false },
      run: (params) => r.apply(params),
    });
  }
  return routes;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  if (isIPv4(host)) return host.startsWith('127.');
  if (isIPv6(host)) return /^::ffff:127\./i.test(host);
  return false;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Compares digests, so neither the token's content nor its length leaks through timing. */
function bearerCheck(token: string | undefined): (header: string | undefined) => boolean {
  if (token === undefined) return () => false;
  const expected = sha256(token);
  return (header) => {
    const m = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
    return m !== null && timingSafeEqual(sha256(m[1]!), expected);
  };
}

/** Handler failures: refusals of the request's content are the client's (400), the rest ours (500). */
function handlerFailure(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof PolyedgeError && [2, 65, 78].includes(err.exitCode)) {
    return { status: 400, body: errorBody(err.code, err.message, err.field === undefined ? [] : [{ path: err.field, message: err.message }]) };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, body: errorBody(err instanceof PolyedgeError ? err.code : 'PE_INTERNAL', message) };
}

/** fastify's own refusals (parsing, limits, our validator) in the control plane's error shape. */
function requestFailure(err: FastifyError): { status: number; body: ErrorBody } {
  if (err instanceof BodyInvalid) return { status: 400, body: errorBody('PE_CONFIG_INVALID', err.message, err.violations) };
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: errorBody('PE_CONTROL_REQUEST', 'Content-Type must be application/json') };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: errorBody('PE_CONTROL_REQUEST', `body larger than ${BODY_LIMIT_BYTES} bytes`) };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, body: errorBody('PE_INPUT_JSON', `body is not valid JSON: ${err.message}`) };
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) return { status, body: errorBody('PE_CONTROL_REQUEST', err.message) };
  return { status: 500, body: errorBody('PE_INTERNAL', err.message) };
}

/** Why the control plane must not bind `host` with `token`, or undefined when it may. */
export function controlBindRefusal(host: string, token: string | undefined): PolyedgeError | undefined {
  if (isLoopback(host) || (token !== undefined && token !== '')) return undefined;
  return fieldError('PE_ENV_MISSING', CONTROL_TOKEN_ENV, `must be set to bind the control plane on non-loopback host ${host}`);
}

/** Why `port` cannot be the control plane's, or undefined. */
export function controlPortRefusal(port: number): PolyedgeError | undefined {
  if (Number.isInteger(port) && port >= 0 && port <= 65535) return undefined;
  return fieldError('PE_CONFIG_INVALID', 'control.port', `must be an integer in [0, 65535], got ${port}`);
}

/** A failed listen in the catalog's terms: the address is the user's to change, not a bug. */
function listenFailure(host: string, port: number, err: unknown): PolyedgeError {
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  const at = `${host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return fieldError('PE_IO', 'control.port', `${at} is already in use (another polyedge, or another program, listens there)`);
    case 'EACCES':
      return fieldError('PE_IO', 'control.port', `${at}: permission denied (ports below 1024 need privileges)`);
    case 'EADDRNOTAVAIL':
      return fieldError('PE_IO', 'control.host', `${at}: the address is not one of this machine's`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return fieldError('PE_CONFIG_INVALID', 'control.host', `${host} cannot be resolved (${code})`);
  }
  return asPolyedgeError(err);
}

/** Schemas of our request bodies are objects; anything else is refused as a whole before field validation. */
function notAnObject(data: unknown): Violation | undefined {
  if (isPlainObject(data)) return undefined;
  const got = data === undefined ? 'no body' : data === null ? 'null' : Array.isArray(data) ? 'an array' : `a ${typeof data}`;
  return { path: 'body', message: `must be a JSON object, got ${got}` };
}

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

export async function startControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  const token = opts.token === '' ? undefined : opts.token;
  const loopback = isLoopback(opts.host);
  const refusal = controlBindRefusal(opts.host, token) ?? controlPortRefusal(opts.port);
  if (refusal) throw refusal;
  const authorized = bearerCheck(token);
  const unauthorized = token === undefined ? `POSTs are refused: the control plane was started without ${CONTROL_TOKEN_ENV}` : 'missing or wrong bearer token';

  const routes: Route[] = [
    ...routeTable(opts.handlers),
    { method: 'GET', path: '/openapi.json', summary: 'This document', run: () => openapi },
  ];
  const openapi = openApiDocument(routes, { getsNeedToken: !loopback });
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: BODY_LIMIT_BYTES });
  // JSON only: a form or text body is a client bug, better refused than guessed at.
  app.removeContentTypeParser('text/plain');

  const counts = new Map<string, Map<number, number>>();
  app.addHook('onResponse', async (req, reply) => {
    const url = req.routeOptions.url;
    const route = url === undefined ? 'unmatched' : `${req.method} ${url}`;
    let byCode = counts.get(route);
    if (byCode === undefined) counts.set(route, (byCode = new Map()));
    byCode.set(reply.statusCode, (byCode.get(reply.statusCode) ?? 0) + 1);
  });

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    const { status, body } = requestFailure(err);
    return reply.code(status).send(body);
  });
  // A known path with a method it does not declare is a 405 naming those it does (RFC 9110 §15.5.6); HEAD comes with GET.
  const allowed = new Map<string, string[]>();
  for (const r of routes) allowed.set(r.path, [...(allowed.get(r.path) ?? []), ...(r.method === 'GET' ? ['GET', 'HEAD'] : [r.method])]);
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    const allow = allowed.get(path);
    if (allow === undefined) return reply.code(404).send(errorBody('PE_CONTROL_REQUEST', `no route ${req.method} ${path}`));
    // Off loopback, which methods a path takes is for token holders only, as its GETs are.
    if (!loopback && !authorized(req.headers.authorization)) return reply.code(401).header('WWW-Authenticate', 'Bearer realm="polyedge"').send(errorBody('PE_CONTROL_AUTH', unauthorized));
    return reply
      .code(405)
      .header('Allow', allow.join(', '))
      .send(errorBody('PE_CONTROL_REQUEST', `${req.method} is not allowed on ${path}; allowed: ${allow.join(', ')}`));
  });

  // onRequest runs before the body is read: an unauthorised client costs no parsing.
  const requireToken = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (authorized(req.headers.authorization)) return undefined;
    return reply.code(401).header('WWW-Authenticate', 'Bearer realm="polyedge"').send(errorBody('PE_CONTROL_AUTH', unauthorized));
  };

  for (const route of routes) {
    const needsToken = route.method === 'POST' || !loopback;
    const body = route.body;
    app.route({
      method: route.method,
      url: route.path,
      ...(needsToken ? { onRequest: requireToken } : {}),
      ...(body === undefined
        ? {}
        : {
            // fastify hands the validator null both for no body and for a JSON `null`; only the content type,
            // without which no parser ran, tells them apart. No body means `{}` where the body is optional.
            preValidation: async (req: FastifyRequest) => {
              if (req.headers['content-type'] !== undefined || (req.body !== null && req.body !== undefined)) return;
              if (!body.optional) throw new BodyInvalid([notAnObject(undefined)!]);
              req.body = {};
            },
            // The JSON Schema is registered for tooling; validation is ours, so the 400 and the typed value come from one place.
            schema: { body: toJsonSchema(body.schema) },
            validatorCompiler: () => (data: unknown) => {
              const shape = notAnObject(data);
              if (shape) return { error: new BodyInvalid([shape]) };
              const r = validate(body.schema, data);
              return r.ok ? { value: r.value } : { error: new BodyInvalid(r.violations) };
            },
          }),
      handler: async (req, reply) => {
        try {
          const result = await route.run(req.body);
          if (route.text) return reply.type(PROMETHEUS_TEXT).send(result);
          return reply.send(result);
        } catch (err) {
          const { status, body: failure } = handlerFailure(err);
          return reply.code(status).send(failure);
        }
      },
    });
  }

  try {
    await app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    await app.close().catch(() => undefined);
    throw listenFailure(opts.host, opts.port, err);
  }
  const addr = app.server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    requestCounts: () => [...counts].flatMap(([route, byCode]) => [...byCode].map(([code, count]) => ({ route, code, count }))),
    close: () => app.close(),
  };
}

// ---------------------------------------------------------------------------
// OpenAPI 3.1 (its schema objects are JSON Schema, so the builders' output goes in as is).

const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', description: 'stable error code (PE_*)' },
        message: { type: 'string' },
        fields: {
          type: 'array',
          description: 'offending fields by dotted path; empty when the error is not about a field',
          items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } }, required: ['path', 'message'], additionalProperties: false },
        },
      },
      required: ['code', 'message', 'fields'],
      additionalProperties: false,
    },
  },
  required: ['error'],
  additionalProperties: false,
};

function errorResponse(description: string): object {
  return { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
}

function openApiDocument(routes: readonly Route[], opts: { getsNeedToken: boolean }): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const r of routes) {
    const needsToken = r.method === 'POST' || opts.getsNeedToken;
    const ok = r.text
      ? { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } }
      : { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } };
    const responses: Record<string, object> = { '200': ok, '500': errorResponse('handler failed') };
    if (needsToken) responses['401'] = errorResponse('missing or wrong bearer token');
    const op: Record<string, unknown> = {
      operationId: `${r.method.toLowerCase()}${r.path.replace(/[^a-zA-Z0-9]+/g, '_')}`,
      summary: r.summary,
      responses,
    };
    if (needsToken) op.security = [{ bearer: [] }];
    if (r.body) {
      // The body schemas are objects (type: object): a null, array, string or number body is a 400 naming `body`.
      const description = r.body.optional ? 'a JSON object; may be left out, which means {}' : 'a JSON object';
      op.requestBody = { required: !r.body.optional, description, content: { 'application/json': { schema: toJsonSchema(r.body.schema) } } };
      responses['400'] = errorResponse('malformed JSON, a body that is not a JSON object (field `body`), or one violating the schema (fields name the offenders)');
      responses['413'] = errorResponse(`body larger than ${BODY_LIMIT_BYTES} bytes`);
      responses['415'] = errorResponse('Content-Type is not application/json');
    }
    (paths[r.path] ??= {})[r.method.toLowerCase()] = op;
  }
  // A 405 belongs to no declared operation: the path item says which methods answer it.
  for (const item of Object.values(paths)) {
    const allow = Object.keys(item).flatMap((m) => (m === 'get' ? ['GET', 'HEAD'] : [m.toUpperCase()]));
    (item as Record<string, unknown>).description = `Any other method answers 405 (#/components/responses/MethodNotAllowed) with Allow: ${allow.join(', ')}.`;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'polyedge control plane',
      version: '1',
      description: 'Request bodies are JSON objects. A method a path does not declare answers 405 with an Allow header listing those it does; an unknown path answers 404.',
    },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: ERROR_SCHEMA },
      responses: {
        MethodNotAllowed: {
          description: 'the path does not declare this method',
          headers: { Allow: { description: 'the methods the path declares, comma-separated', schema: { type: 'string' } } },
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    },
  };
}
