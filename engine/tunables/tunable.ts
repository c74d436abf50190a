// What a tunable parameter set is: the one description the config file's
// table, the control plane's reload route and its OpenAPI entry are all
// generated from. A set is declared beside the code that reads it (a
// strategy's factory, the risk gate, the markout tracker, fusion, the loop's
// own sets in runtime/params.ts); engine/tunables/registry.ts lists them.
// This module is a leaf: the domain may import its types without reaching
// into the loop or the control plane.

import type { Schema } from '../config/schema.js';

/** A set's parameters as the running engine holds them. */
export interface TunableSlot<P> {
  /** The values in force (what GET answers, and what a client edits and sends back). */
  get(): object;
  /**
   * Replaces the whole set with `params`, which its schema has accepted.
   * May throw a PolyedgeError naming a field for what the schema cannot
   * express (a size off the lot, a strategy that is not running): then the
   * values in force are unchanged.
   */
  set(params: P): void;
}

export interface Tunable<P, H> {
  /** The set's route under /control/reload/: what it reloads, e.g. `risk` or `strategy/maker`. */
  readonly name: string;
  /** Shape and defaults: a reload body and the config table must satisfy it (unknown keys rejected, absent keys take defaults). */
  readonly schema: Schema<P>;
  /** Dotted path of the config table holding the set's keys (`risk`, `strategy.maker`), or undefined when the file has none and the set starts at its defaults. */
  readonly config: string | undefined;
  /** One line for operators: the route's summary in the OpenAPI document. */
  readonly description: string;
  /** Quotes depend on the set: after a reload every active market is decided again on the next pass, even a quiet one. */
  readonly requote: boolean;
  /** The set in the running engine `host` (structurally, just the parts it reads). */
  readonly bind: (host: H) => TunableSlot<P>;
}

/** Route names: lower-case words, one optional `group/` prefix; each part is safe in a URL path and an operationId. */
export const TUNABLE_NAME = /^[a-z][a-z0-9_]{0,47}(\/[a-z][a-z0-9_]{0,47})?$/;

/** The control route that reads and replaces a set. */
export function reloadPath(name: string): string {
  return `/control/reload/${name}`;
}
