// Minimal HTTP plumbing over the simulator's transport (uws.ts): JSON responses and bounded body reading.
import type { HttpResponse } from './uws.js';

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  425: 'Too Early',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** Aborted responses must not be touched again; uWS throws if they are. */
export interface ResponseGuard {
  aborted: boolean;
  done: boolean;
}

export function sendJson(res: HttpResponse, guard: ResponseGuard, status: number, body: unknown): void {
  if (guard.aborted || guard.done) return;
  guard.done = true;
  const text = JSON.stringify(body);
  res.cork(() => {
    res
      .writeStatus(`${status} ${STATUS_TEXT[status] ?? 'Unknown'}`)
      .writeHeader('Content-Type', 'application/json')
      .end(text);
  });
}

export type BodyResult = { ok: true; value: unknown } | { ok: false; status: number; error: string };

export type RawBodyResult = { ok: true; text: string } | { ok: false; status: number; error: string };

/** Reads the whole body (at most `limit` bytes) as text: the exact bytes a signature covers. */
export function readRawBody(res: HttpResponse, guard: ResponseGuard, limit: number, done: (r: RawBodyResult) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  res.onData((chunk, isLast) => {
    if (finished) return;
    size += chunk.byteLength;
    if (size > limit) {
      finished = true;
      done({ ok: false, status: 413, error: `body larger than ${limit} bytes` });
      return;
    }
    // uWS reuses the chunk's memory after this callback returns: copy it.
    chunks.push(Buffer.from(new Uint8Array(chunk).slice()));
    if (!isLast) return;
    finished = true;
    if (guard.aborted) return;
    done({ ok: true, text: Buffer.concat(chunks).toString('utf8') });
  });
}

/** Reads the whole body (at most `limit` bytes) and parses it as JSON. */
export function readJsonBody(res: HttpResponse, guard: ResponseGuard, limit: number, done: (r: BodyResult) => void): void {
  readRawBody(res, guard, limit, (raw) => {
    if (!raw.ok) return done(raw);
    if (raw.text.trim() === '') return done({ ok: false, status: 400, error: 'empty body; expected a JSON object' });
    let value: unknown;
    try {
      value = JSON.parse(raw.text) as unknown;
    } catch (err) {
      return done({ ok: false, status: 400, error: `body is not valid JSON: ${(err as Error).message}` });
    }
    done({ ok: true, value });
  });
}
