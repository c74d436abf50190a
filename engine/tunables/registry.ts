// Every tunable parameter set, in one list: the config file's tables, the
// control plane's reload routes (/control/reload/<name>) and their OpenAPI
// entries are generated from it. Strategies come from the strategy registry
// (a plug-in registered at run time is in the next call); the engine's own
// sets are declared beside the code that reads them and listed here.

import type { Engine } from '../runtime/engine.js';
import { fusionTunable } from '../references/fusion.js';
import { toxicityTunable } from '../portfolio/markouts.js';
import { riskTunable } from '../risk/gates.js';
import { allocatorTunable, exitTunable, perfTunable } from '../runtime/params.js';
import { strategyTunables } from '../strategy/registry.js';
import { TUNABLE_NAME, type Tunable } from './tunable.js';

/** A set the running engine holds: each declaration binds to the parts it reads, which the Engine has. */
export type EngineTunable = Tunable<unknown, Engine>;

const ENGINE_SETS: readonly EngineTunable[] = [allocatorTunable, riskTunable, toxicityTunable, fusionTunable, exitTunable, perfTunable];

/** Strategies first (in registration order), then the engine's sets. */
export function tunables(): EngineTunable[] {
  const all: EngineTunable[] = [...strategyTunables(), ...ENGINE_SETS];
  const seen = new Set<string>();
  for (const t of all) {
    // Declarations are code, not input: a clash or a malformed name is a bug to stop at start-up.
    if (!TUNABLE_NAME.test(t.name)) throw new Error(`tunable name ${JSON.stringify(t.name)} must match ${TUNABLE_NAME.source}`);
    if (seen.has(t.name)) throw new Error(`two tunable sets are named ${JSON.stringify(t.name)}`);
    seen.add(t.name);
  }
  return all;
}

/** Names of every set, as their reload routes carry them. */
export function tunableNames(): string[] {
  return tunables().map((t) => t.name);
}
