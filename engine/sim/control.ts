// The simulator's HTTP control surface, mounted on every venue port:
//   POST /_sim/fault   inject a fault or configure random faults (400 + reason on a bad body)
//   GET  /_sim/stats   counters, including every injected fault by venue and kind
import { parseControlRequest, type ControlRequest } from './faults.js';
import { readJsonBody, sendJson } from './http.js';
import type { HttpHandler } from './venue.js';

export interface ControlResult {
  readonly status: number;
  readonly body: unknown;
}

export interface ControlTarget {
  applyControl(req: ControlRequest): ControlResult;
  stats(): unknown;
}

const MAX_CONTROL_BODY = 16 << 10;

export function controlHandlers(target: ControlTarget): { readonly fault: HttpHandler; readonly stats: HttpHandler } {
  return {
    fault: (res, _req, guard) => {
      readJsonBody(res, guard, MAX_CONTROL_BODY, (body) => {
        if (!body.ok) return sendJson(res, guard, body.status, { error: body.error });
        const req = parseControlRequest(body.value);
        if (!req.ok) return sendJson(res, guard, 400, { error: req.error });
        const result = target.applyControl(req.value);
        sendJson(res, guard, result.status, result.body);
      });
    },
    stats: (res, _req, guard) => sendJson(res, guard, 200, target.stats()),
  };
}
