// Strategies by the name config uses: the built-in ones, and plug-ins a
// program that embeds the engine registers (registerStrategy) before it
// loads its config or builds the engine. Adding a strategy is its file and
// one line in strategyFactories: the config file's [strategy] table and
// engine.strategies choice, the reload route /control/reload/strategy/<name>
// and its OpenAPI entry all come from the factory. The config schemas read
// the registry whenever they are used, so a plug-in registered before a file
// is loaded is checked like a built-in, and a name nobody registered is a
// load-time error rather than a start-up that fails later.
// Parameters are validated against the factory's schema on creation and on
// every runtime reload: unknown keys are rejected, absent keys take their
// defaults (a reload replaces the whole table, as re-reading a config file
// would), and a rejected reload leaves the parameters in force untouched.

import { PolyedgeError } from '../errors.js';
import { object, oneOf, validate, type Schema, type Violation } from '../config/schema.js';
import type { Tunable } from '../tunables/tunable.js';
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

/** Bumped by every registration: the live schemas below rebuild once after it. */
let generation = 0;

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
  const { description } = f as { description?: unknown };
  if (description !== undefined && typeof description !== 'string') throw invalid(`strategy ${JSON.stringify(name)}: description must be a string`);
  factories.set(name, factory as StrategyFactory<unknown>);
  generation++;
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

type ParamsOf<F> = F extends StrategyFactory<infer P> ? P : never;

/** The config file's [strategy] table: the built-ins' tables typed, a plug-in's as its own code knows it. */
export type StrategyTables = { [K in keyof typeof strategyFactories]: ParamsOf<(typeof strategyFactories)[K]> } & { [name: string]: unknown };

/**
 * A schema that follows the registry: rebuilt from `build` on first use after
 * a registration, so a plug-in registered after this module loaded is in it.
 */
export function followsRegistry<T>(build: () => Schema<T>): Schema<T> {
  let built: Schema<T> | undefined;
  let builtAt = -1;
  const current = (): Schema<T> => {
    if (built === undefined || builtAt !== generation) {
      built = build();
      builtAt = generation;
    }
    return built;
  };
  return {
    get defaultValue() {
      return current().defaultValue;
    },
    get description() {
      return current().description;
    },
    validate: (value, path, out, opts) => current().validate(value, path, out, opts),
    jsonSchema: () => current().jsonSchema(),
  };
}

/** [strategy]: one table per registered strategy, each its factory's params schema. */
export const strategyTablesSchema: Schema<StrategyTables> = followsRegistry(
  () => object(Object.fromEntries([...factories].map(([name, f]) => [name, f.paramsSchema]))) as Schema<unknown> as Schema<StrategyTables>,
);

/** An engine.strategies entry: a registered strategy's name. */
export const strategyNameSchema: Schema<string> = followsRegistry(() => oneOf(strategyNames(), { description: 'a registered strategy' }));

/** What a strategy's reload reads in the running engine: its strategies by name. */
export interface StrategyHost {
  readonly strategies: readonly Strategy<unknown>[];
}

/** Every registered strategy's parameters as a tunable set: /control/reload/strategy/<name>, from [strategy.<name>]. */
export function strategyTunables(): Tunable<unknown, StrategyHost>[] {
  return [...factories.values()].map((f) => ({
    name: `strategy/${f.name}`,
    schema: f.paramsSchema,
    config: `strategy.${f.name}`,
    description: f.description ?? `parameters of the ${f.name} strategy`,
    requote: true,
    bind: (host) => {
      const running = () => host.strategies.find((s) => s.name === f.name);
      return {
        get: () => (running()?.params() as object | undefined) ?? {},
        set: (params) => {
          const s = running();
          // Accepting parameters nothing would use is a reload that silently does not take effect.
          if (!s) throw new PolyedgeError('PE_CONFIG_INVALID', `${f.name} is not running: add it to engine.strategies to reload its parameters`, 'engine.strategies');
          s.setParams(params);
        },
      };
    },
  }));
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
