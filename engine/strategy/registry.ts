// Strategies by the name config uses: the built-in ones, and plug-ins a
// program that embeds the engine registers (registerStrategy) before it
// builds the engine and names in the Config it passes. The TOML file's schema
// (engine/config/config.ts) lists the built-ins only: a name it cannot check
// at load time would turn a typo into a start-up that fails later.
// Parameters are validated against the factory's schema on creation and on
// every runtime reload: unknown keys are rejected, absent keys take their
// defaults (a reload replaces the whole table, as re-reading a config file
// would), and a rejected reload leaves the parameters in force untouched.

import { PolyedgeError } from '../errors.js';
import { validate, type Violation } from '../config/schema.js';
import { completeSetFactory } from './complete-set.js';
import { directionalFactory } from './directional.js';
import { makerFactory } from './maker.js';
import type { Strategy, StrategyFactory } from './types.js';

export const strategyFactories = {
  maker: makerFactory,
  complete_set: completeSetFactory,
  directional: directionalFactory,
} as const;

/** Every strategy by name, built-ins first; a Map, so an inherited property name ("toString") is never a strategy. */
const factories = new Map<string, StrategyFactory<unknown>>(Object.entries(strategyFactories));

/** A strategy name is a config key, a journal field and a metrics label: short, lower-case, no separators to escape. */
const NAME = /^[a-z][a-z0-9_]{0,47}$/;

/** Names createStrategy accepts, built-ins first, then plug-ins in the order they were registered. */
export function strategyNames(): string[] {
  return [...factories.keys()];
}

/**
 * Adds a plug-in strategy, chosen by `factory.name` in the Config an
 * embedding program builds. Throws PE_CONFIG_INVALID when the name is taken or malformed,
 * or the factory lacks a params schema or a create function (a plug-in may
 * come from plain JavaScript, so the shape is checked, not assumed).
 */
export function registerStrategy<P>(factory: StrategyFactory<P>): void {
  const f: unknown = factory;
  if (typeof f !== 'object' || f === null) throw invalid(`a strategy factory must be an object, got ${f === null ? 'null' : typeof f}`);
  const { name, paramsSchema, create } = f as Partial<Record<keyof StrategyFactory<P>, unknown>>;
  if (typeof name !== 'string' || !NAME.test(name)) throw invalid(`strategy factory name ${JSON.stringify(name)}: must match ${NAME.source}`);
  if (factories.has(name)) throw invalid(`strategy ${JSON.stringify(name)} is already registered`);
  const schema = paramsSchema as { validate?: unknown; jsonSchema?: unknown } | null | undefined;
  if (typeof schema !== 'object' || schema === null || typeof schema.validate !== 'function' || typeof schema.jsonSchema !== 'function') {
    throw invalid(`strategy ${JSON.stringify(name)}: paramsSchema must be a schema (engine/config/schema.ts builders)`);
  }
  if (typeof create !== 'function') throw invalid(`strategy ${JSON.stringify(name)}: create must be a function`);
  factories.set(name, factory as StrategyFactory<unknown>);
}

/**
 * A strategy of the named kind with validated parameters; throws
 * PE_CONFIG_INVALID naming the unknown strategy or every bad field, or when
 * the factory's strategy does not carry the name it was chosen by (its
 * orders, positions and reloads are keyed by it).
 */
export function createStrategy(name: string, rawParams: unknown = {}): Strategy<unknown> {
  const factory = factories.get(name);
  if (factory === undefined) throw invalid(`strategy: unknown strategy ${JSON.stringify(name)}; known: ${strategyNames().join(', ')}`);
  const result = validate(factory.paramsSchema, rawParams);
  if (!result.ok) {
    const first = result.violations[0]?.path;
    throw new PolyedgeError('PE_CONFIG_INVALID', `strategy ${JSON.stringify(name)} params: ${formatViolations(result.violations)}`, first);
  }
  const strategy = factory.create(result.value);
  if (strategy.name !== name) throw invalid(`strategy ${JSON.stringify(name)} created a strategy named ${JSON.stringify(strategy.name)}`);
  return strategy;
}

export type ReloadResult = { ok: true; params: Readonly<unknown> } | { ok: false; violations: Violation[] };

/** Validates `raw` against the strategy's schema and applies it; on violations nothing changes. */
export function reloadParams(strategy: Strategy<unknown>, raw: unknown): ReloadResult {
  const factory = factories.get(strategy.name);
  if (factory === undefined) return { ok: false, violations: [{ path: '(root)', message: `no registered strategy is named ${JSON.stringify(strategy.name)}` }] };
  const result = validate(factory.paramsSchema, raw);
  if (!result.ok) return { ok: false, violations: result.violations };
  strategy.setParams(result.value);
  return { ok: true, params: strategy.params() };
}

export function formatViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `${v.path}: ${v.message}`).join('; ');
}

function invalid(message: string): PolyedgeError {
  return new PolyedgeError('PE_CONFIG_INVALID', message, 'strategy');
}
