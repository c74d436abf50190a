// Strategies by the name config uses. Parameters are validated against the
// factory's schema on creation and on every runtime reload: unknown keys are
// rejected, absent keys take their defaults (a reload replaces the whole
// table, as re-reading a config file would), and a rejected reload leaves the
// parameters in force untouched.

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

export type StrategyName = keyof typeof strategyFactories;

export function isStrategyName(name: string): name is StrategyName {
  return Object.hasOwn(strategyFactories, name);
}

/**
 * A strategy of the named kind with validated parameters; throws
 * PE_CONFIG_INVALID naming the unknown strategy or every bad field.
 */
export function createStrategy(name: string, rawParams: unknown = {}): Strategy<unknown> {
  const factory = factoryOf(name);
  if (factory === undefined) {
    throw new PolyedgeError('PE_CONFIG_INVALID', `strategy: unknown strategy ${JSON.stringify(name)}; known: ${Object.keys(strategyFactories).join(', ')}`, 'strategy');
  }
  const result = validate(factory.paramsSchema, rawParams);
  if (!result.ok) {
    const first = result.violations[0]?.path;
    throw new PolyedgeError('PE_CONFIG_INVALID', `strategy ${JSON.stringify(name)} params: ${formatViolations(result.violations)}`, first);
  }
  return factory.create(result.value);
}

export type ReloadResult = { ok: true; params: Readonly<unknown> } | { ok: false; violations: Violation[] };

/** Validates `raw` against the strategy's schema and applies it; on violations nothing changes. */
export function reloadParams(strategy: Strategy<unknown>, raw: unknown): ReloadResult {
  const factory = factoryOf(strategy.name);
  if (factory === undefined) return { ok: false, violations: [{ path: '(root)', message: `no registered strategy is named ${JSON.stringify(strategy.name)}` }] };
  const result = validate(factory.paramsSchema, raw);
  if (!result.ok) return { ok: false, violations: result.violations };
  strategy.setParams(result.value);
  return { ok: true, params: strategy.params() };
}

export function formatViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `${v.path}: ${v.message}`).join('; ');
}

function factoryOf(name: string): StrategyFactory<unknown> | undefined {
  return isStrategyName(name) ? strategyFactories[name] : undefined;
}
