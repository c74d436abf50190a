import { test, after, before } from 'node:test';
import { request as httpRequest } from 'node:http';
import assert from 'node:assert/strict';
import { PolyedgeError } from '../errors.js';
import { toJsonSchema } from '../config/schema.js';
import { fixtureEngine, fixtureSchema, type FixtureEngine } from './handlers.fixture.js';
import { BODY_LIMIT_BYTES, isLoopback, startControlServer, type ControlServer } from './server.js';

const TOKEN = 'test-token-0123456789abcdef';

interface ErrorReply {
  error: { code: string; message: string; fields: { path: string; message: string }[] };
}

interface CallOpts {
  token?: string;
  /** Serialised as JSON unless `raw` is given. */
  body?: unknown;
  raw?: string;
  contentType?: string;
}

async function call(base: string, method: 'GET' | 'POST', path: string, o: CallOpts = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  let body: string | undefined = o.raw;
  if (o.body !== undefined) body = JSON.stringify(o.body);
  if (body !== undefined) headers['content-type'] = o.contentType ?? 'application/json';
  return fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
}

const GETS: readonly [string, (e: FixtureEngine) => Promise<unknown> | unknown][] = [
  ['/health', (e) => e.handlers.health()],
  ['/state/positions', (e) => e.handlers.positions()],
  ['/state/markets', (e) => e.handlers.markets()],
  ['/state/pnl', (e) => e.handlers.pnl()],
  ['/state/orders', (e) => e.handlers.orders()],
  ['/report/shadow/live', (e) => e.handlers.shadowLive()],
  ['/report/shadow/final', (e) => e.handlers.shadowFinal()],
  ['/report/pnl/by_engine', (e) => e.handlers.pnlByEngine()],
  ['/report/toxicity/live', (e) => e.handlers.toxicityLive()],
  ['/report/toxicity/final', (e) => e.handlers.toxicityFinal()],
];
const ACTIONS: readonly [string, string][] = [
  ['/control/pause', 'pause'],
  ['/control/resume', 'resume'],
  ['/control/flatten', 'flatten'],
  ['/control/reset_shadow', 'resetShadow'],
];
const VALID_RELOAD: Record<string, unknown> = { risk: { daily_loss_limit: 50 } };

let engine: FixtureEngine;
let server: ControlServer;
let base: string;

before(async () => {
  engine = fixtureEngine();
  server = await startControlServer({ host: '127.0.0.1', port: 0, token: TOKEN, handlers: engine.handlers });
  base = server.url;
});
after(() => server.close());

test('every GET route answers 200 with its handler data', async () => {
  for (const [path, expected] of GETS) {
    const res = await call(base, 'GET', path);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/, path);
    assert.deepEqual(await res.json(), await expected(engine), path);
  }
  for (const name of engine.reloadNames) {
    const res = await call(base, 'GET', `/control/reload/${name}`);
    assert.equal(res.status, 200, name);
    assert.deepEqual(await res.json(), engine.params[name], name);
  }
});

test('/metrics is Prometheus text 0.0.4', async () => {
  const res = await call(base, 'GET', '/metrics');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  assert.equal(await res.text(), await engine.handlers.metrics());
});

test('every POST needs the bearer token: none or wrong is 401 and runs nothing, right is 200', async () => {
  const posts: [string, unknown][] = [
    ...ACTIONS.map(([path]) => [path, undefined] as [string, unknown]),
    ...engine.reloadNames.map((n) => [`/control/reload/${n}`, VALID_RELOAD[n] ?? {}] as [string, unknown]),
  ];
  for (const [path, body] of posts) {
    for (const token of [undefined, 'wrong', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      const res = await call(base, 'POST', path, { ...(token === undefined ? {} : { token }), body });
      assert.equal(res.status, 401, `${path} with ${token}`);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal(((await res.json()) as ErrorReply).error.code, 'PE_CONTROL_AUTH');
    }
  }
  // A bad body without a token is still a 401: authentication comes before parsing.
  assert.equal((await call(base, 'POST', '/control/reload/risk', { raw: '{nope' })).status, 401);
  assert.deepEqual(engine.calls, []);

  for (const [path, body] of posts) {
    const res = await call(base, 'POST', path, { token: TOKEN, body });
    assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
  }
  assert.deepEqual(engine.calls, [...ACTIONS.map(([, call]) => call), ...engine.reloadNames.map((n) => `reload:${n}`)]);
  // An explicit empty object is as good as no body for an action.
  assert.deepEqual(await (await call(base, 'POST', '/control/pause', { token: TOKEN, body: {} })).json(), { paused: true });
  assert.equal((await call(base, 'POST', '/control/resume', { token: TOKEN, body: { now: true } })).status, 400);
});

test('a reload answers the values in force, defaults filled, and GET reads them back', async () => {
  const res = await call(base, 'POST', '/control/reload/strategy/maker', { token: TOKEN, body: { edge_bps: 35.5, side: 'bid' } });
  assert.equal(res.status, 200);
  const inForce = { edge_bps: 35.5, size: 100_000, side: 'bid' };
  assert.deepEqual(await res.json(), inForce);
  assert.deepEqual(engine.params['strategy/maker'], inForce);
  assert.deepEqual(await (await call(base, 'GET', '/control/reload/strategy/maker')).json(), inForce);
});

test('a bad body is a 400 naming each offending field, and nothing is applied', async () => {
  const cases: [string, unknown, string[]][] = [
    ['strategy/maker', { edge_bps: 10, bogus: 1 }, ['bogus']],
    ['strategy/maker', { edge_bps: 'wide' }, ['edge_bps']],
    ['strategy/maker', { edge_bps: 501 }, ['edge_bps']],
    ['strategy/maker', { size: 1.5, side: 'up' }, ['size', 'side']],
    ['risk', { max_position: 0 }, ['max_position', 'daily_loss_limit']],
    ['toxicity', { weight: -0.1 }, ['weight']],
    ['perf', { enabled: 'yes' }, ['enabled']],
    ['exit', [], ['body']],
  ];
  const before = JSON.stringify(engine.params);
  for (const [name, body, paths] of cases) {
    const res = await call(base, 'POST', `/control/reload/${name}`, { token: TOKEN, body });
    assert.equal(res.status, 400, `${name} ${JSON.stringify(body)}`);
    const { error } = (await res.json()) as ErrorReply;
    assert.equal(error.code, 'PE_CONFIG_INVALID');
    assert.deepEqual(error.fields.map((f) => f.path), paths);
    for (const f of error.fields) assert.ok(error.message.includes(`${f.path}: ${f.message}`), error.message);
  }
  const range = (await (await call(base, 'POST', '/control/reload/strategy/maker', { token: TOKEN, body: { edge_bps: 501 } })).json()) as ErrorReply;
  assert.deepEqual(range.error.fields, [{ path: 'edge_bps', message: 'must be <= 500' }]);
  const missing = await call(base, 'POST', '/control/reload/risk', { token: TOKEN });
  assert.equal(missing.status, 400, 'a reload needs a body');
  assert.equal(JSON.stringify(engine.params), before);
});

test('a refusal by the handler itself is a 400 naming its field; a crash is a 500', async () => {
  const res = await call(base, 'POST', '/control/reload/strategy/complete_set', { token: TOKEN, body: { min_edge_bps: 60 } });
  assert.equal(res.status, 400);
  const { error } = (await res.json()) as ErrorReply;
  assert.equal(error.code, 'PE_CONFIG_INVALID');
  assert.deepEqual(error.fields, [{ path: 'min_edge_bps', message: 'min_edge_bps: must be <= max_edge_bps' }]);

  const local = fixtureEngine();
  local.handlers.flatten = () => {
    throw new Error('venue unreachable');
  };
  const s = await startControlServer({ host: '127.0.0.1', port: 0, token: TOKEN, handlers: local.handlers });
  try {
    const crash = await call(s.url, 'POST', '/control/flatten', { token: TOKEN });
    assert.equal(crash.status, 500);
    assert.deepEqual(await crash.json(), { error: { code: 'PE_INTERNAL', message: 'venue unreachable', fields: [] } });
  } finally {
    await s.close();
  }
});

test('malformed JSON is 400, a non-JSON content type 415, an oversized body 413', async () => {
  const path = '/control/reload/risk';
  for (const raw of ['{"daily_loss_limit": 5', '', 'null x', '{"__proto__": {"x": 1}}']) {
    const res = await call(base, 'POST', path, { token: TOKEN, raw });
    assert.equal(res.status, 400, raw);
    assert.equal(((await res.json()) as ErrorReply).error.code, 'PE_INPUT_JSON', raw);
  }
  for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
    const res = await call(base, 'POST', path, { token: TOKEN, raw: 'daily_loss_limit=5', contentType });
    assert.equal(res.status, 415, contentType);
    assert.equal(((await res.json()) as ErrorReply).error.code, 'PE_CONTROL_REQUEST');
  }
  const big = await call(base, 'POST', path, { token: TOKEN, body: { daily_loss_limit: 5, pad: 'x'.repeat(BODY_LIMIT_BYTES) } });
  assert.equal(big.status, 413);
  assert.equal((await call(base, 'GET', '/nowhere')).status, 404);
});

test('a body that is not a JSON object is a 400 naming the body, actions included', async () => {
  const bodies: [string, string][] = [['null', 'null'], ['[]', 'an array'], ['[{}]', 'an array'], ['"pause"', 'a string'], ['3', 'a number'], ['true', 'a boolean']];
  const paths = [...ACTIONS.map(([p]) => p), '/control/reload/risk', '/control/reload/strategy/maker'];
  const before = JSON.stringify(engine.params);
  const calls = engine.calls.length;
  for (const path of paths) {
    for (const [raw, got] of bodies) {
      const res = await call(base, 'POST', path, { token: TOKEN, raw });
      assert.equal(res.status, 400, `${path} ${raw}`);
      const { error } = (await res.json()) as ErrorReply;
      assert.equal(error.code, 'PE_CONFIG_INVALID');
      assert.deepEqual(error.fields, [{ path: 'body', message: `must be a JSON object, got ${got}` }], `${path} ${raw}`);
    }
  }
  assert.equal(engine.calls.length, calls, 'no handler ran');
  assert.equal(JSON.stringify(engine.params), before);
  // Leaving the body out of an action still means {}; a reload still needs one.
  assert.equal((await call(base, 'POST', '/control/pause', { token: TOKEN })).status, 200);
  const missing = (await (await call(base, 'POST', '/control/reload/risk', { token: TOKEN })).json()) as ErrorReply;
  assert.deepEqual(missing.error.fields, [{ path: 'body', message: 'must be a JSON object, got no body' }]);
});

/** node:http rather than fetch, which refuses to send TRACE. */
function rawRequest(url: string, method: string, headers: Record<string, string> = {}): Promise<{ status: number; allow: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, allow: res.headers.allow, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

test('an undeclared method on a known path is a 405 with Allow; an unknown path stays 404', async () => {
  const cases: [string, string][] = [
    ['/health', 'GET, HEAD'],
    ['/openapi.json', 'GET, HEAD'],
    ['/control/pause', 'POST'],
    ['/control/reload/risk', 'GET, HEAD, POST'],
  ];
  for (const [path, allow] of cases) {
    for (const method of ['TRACE', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const res = await rawRequest(`${base}${path}`, method, { authorization: `Bearer ${TOKEN}` });
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.allow, allow, `${method} ${path}`);
      if (method !== 'TRACE') {
        const { error } = JSON.parse(res.body) as ErrorReply;
        assert.equal(error.code, 'PE_CONTROL_REQUEST');
        assert.match(error.message, new RegExp(`${method} is not allowed on ${path}; allowed: ${allow}`));
      }
    }
  }
  const post = await call(base, 'POST', '/health', { token: TOKEN });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
  assert.equal((await call(base, 'GET', '/control/pause')).status, 405);
  for (const method of ['TRACE', 'GET', 'POST']) assert.equal((await rawRequest(`${base}/control/nowhere`, method)).status, 404, method);
  assert.deepEqual(engine.calls.filter((c) => c.startsWith('GET') || c.startsWith('TRACE')), []);
});


test('openapi.json lists every route with its method, body schema and security', async () => {
  const res = await call(base, 'GET', '/openapi.json');
  assert.equal(res.status, 200);
  const doc = (await res.json()) as {
    openapi: string;
    paths: Record<string, Record<string, { security?: unknown; requestBody?: { content: Record<string, { schema: unknown }> } }>>;
  };
  assert.equal(doc.openapi, '3.1.0');
  const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
  const listed = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).filter((k) => METHODS.includes(k)).map((m) => `${m.toUpperCase()} ${p}`));
  const expected = [
    'GET /health',
    'GET /metrics',
    ...GETS.slice(1).map(([p]) => `GET ${p}`),
    ...ACTIONS.map(([p]) => `POST ${p}`),
    ...engine.reloadNames.flatMap((n) => [`GET /control/reload/${n}`, `POST /control/reload/${n}`]),
    'GET /openapi.json',
  ];
  assert.deepEqual([...listed].sort(), [...expected].sort());
  for (const name of engine.reloadNames) {
    const post = doc.paths[`/control/reload/${name}`]!.post!;
    assert.deepEqual(post.requestBody!.content['application/json']!.schema, toJsonSchema(fixtureSchema(name)));
    assert.deepEqual(post.security, [{ bearer: [] }]);
  }
  assert.equal(doc.paths['/health']!.get!.security, undefined, 'GETs on loopback need no token');
});

test('openapi.json states that bodies are JSON objects and that other methods answer 405', async () => {
  const doc = (await (await call(base, 'GET', '/openapi.json')).json()) as {
    paths: Record<string, { description?: string; post?: { requestBody?: { required: boolean; content: Record<string, { schema: { type?: string } }> }; responses: Record<string, unknown> } }>;
    components: { responses: Record<string, { headers?: Record<string, unknown> }> };
  };
  for (const [path] of ACTIONS) {
    const body = doc.paths[path]!.post!.requestBody!;
    assert.equal(body.required, false, path);
    assert.equal(body.content['application/json']!.schema.type, 'object', path);
    assert.ok('400' in doc.paths[path]!.post!.responses, path);
  }
  for (const name of engine.reloadNames) assert.equal(doc.paths[`/control/reload/${name}`]!.post!.requestBody!.content['application/json']!.schema.type, 'object');
  assert.ok(doc.components.responses.MethodNotAllowed?.headers?.Allow);
  assert.match(doc.paths['/health']!.description ?? '', /405 .*Allow: GET, HEAD\.$/);
  assert.match(doc.paths['/control/pause']!.description ?? '', /405 .*Allow: POST\.$/);
  assert.match(doc.paths['/control/reload/risk']!.description ?? '', /405 .*Allow: GET, HEAD, POST\.$/);
});

test('requests are counted per route and status code, unknown paths under one label', async () => {
  const counts = server.requestCounts();
  const get = (route: string, code: number) => counts.find((c) => c.route === route && c.code === code)?.count ?? 0;
  assert.ok(get('GET /health', 200) >= 1);
  assert.ok(get('POST /control/pause', 401) >= 1);
  assert.ok(get('POST /control/reload/strategy/maker', 400) >= 1);
  assert.ok(get('unmatched', 404) >= 2);
  assert.ok(get('unmatched', 405) >= 1);
  assert.ok(counts.every((c) => c.route === 'unmatched' || /^(GET|POST|HEAD) \//.test(c.route)), JSON.stringify(counts));
});

test('without a token: GETs answer on loopback, every POST is refused', async () => {
  const local = fixtureEngine();
  for (const token of [undefined, '']) {
    const s = await startControlServer({ host: '127.0.0.1', port: 0, token, handlers: local.handlers });
    try {
      assert.equal((await call(s.url, 'GET', '/health')).status, 200);
      const res = await call(s.url, 'POST', '/control/pause', { token: 'anything' });
      assert.equal(res.status, 401);
      assert.match(((await res.json()) as ErrorReply).error.message, /POLYEDGE_CONTROL_TOKEN/);
    } finally {
      await s.close();
    }
  }
  assert.deepEqual(local.calls, []);
});

test('a non-loopback bind needs a token, and then GETs need it too', async () => {
  const local = fixtureEngine();
  for (const token of [undefined, '']) {
    await assert.rejects(
      startControlServer({ host: '0.0.0.0', port: 0, token, handlers: local.handlers }),
      (e: unknown) => e instanceof PolyedgeError && e.code === 'PE_ENV_MISSING' && e.field === 'POLYEDGE_CONTROL_TOKEN' && e.exitCode === 78,
    );
  }
  const s = await startControlServer({ host: '0.0.0.0', port: 0, token: TOKEN, handlers: local.handlers });
  try {
    const loop = s.url.replace('0.0.0.0', '127.0.0.1');
    assert.equal((await call(loop, 'GET', '/health')).status, 401);
    assert.equal((await call(loop, 'GET', '/health', { token: TOKEN })).status, 200);
    const doc = (await (await call(loop, 'GET', '/openapi.json', { token: TOKEN })).json()) as { paths: Record<string, { get: { security?: unknown } }> };
    assert.deepEqual(doc.paths['/health']!.get.security, [{ bearer: [] }]);
    // Off loopback, which methods a path takes is for token holders too.
    assert.equal((await rawRequest(`${loop}/health`, 'DELETE')).status, 401);
    assert.equal((await rawRequest(`${loop}/health`, 'DELETE', { authorization: `Bearer ${TOKEN}` })).status, 405);
  } finally {
    await s.close();
  }
});

test('loopback means 127.0.0.0/8, ::1 and localhost', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1']) assert.ok(isLoopback(h), h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.1', 'example.com', '128.0.0.1', '::ffff:10.0.0.1']) assert.ok(!isLoopback(h), h);
});
