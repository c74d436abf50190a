// A small declarative schema: enough to validate our TOML config with every
// violation reported by its dotted path, unknown keys rejected, and the
// parsed value typed from the schema itself. Every builder also describes
// itself as JSON Schema (draft-07 and OpenAPI 3.1 compatible), so an HTTP
// API can publish the exact shape `validate()` enforces. Relations between
// the fields of one object (a per-token limit within the per-market one) are
// object rules: JSON Schema cannot state them, so they are published in the
// object's description and checked by `validate()` alone.

import { fieldError } from '../errors.js';
import { isPlainObject } from '../../workers/guards.js';

export type Violation = { path: string; message: string };

/** What a validation walk carries besides the value: whether object rules run (off only to compare with a JSON Schema validator). */
export interface ValidateOptions {
  rules?: boolean;
}

/** The subset of JSON Schema the builders emit. */
export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean';
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  pattern?: string;
  enum?: (string | number)[];
  items?: JsonSchema;
  minItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: false;
}

interface Base<T> {
  readonly _type?: T;
  validate(value: unknown, path: string, out: Violation[], opts?: ValidateOptions): T | undefined;
  readonly defaultValue?: T | undefined;
  readonly description?: string | undefined;
  jsonSchema(): JsonSchema;
}

export type Infer<S> = S extends Base<infer T> ? T : never;

export interface NumberOpts {
  min?: number;
  max?: number;
  /** strictly greater than */
  gt?: number;
  integer?: boolean;
  /**
   * Decimal places the internal unit holds (6 for pUSD → micro-pUSD, 2 for
   * shares on the 0.01 lot, 4 for prices in ticks): a value with more would
   * be rounded on conversion, so it is refused instead.
   */
  decimals?: number;
  default?: number;
  description?: string;
}

/** `value` has at most `decimals` decimal places: scaling to the unit and back is the identity (exact for |value × 10^decimals| < 2^53). */
function fitsDecimals(value: number, decimals: number): boolean {
  const scale = 10 ** decimals;
  const scaled = Math.round(value * scale);
  return Number.isSafeInteger(scaled) && scaled / scale === value;
}

/**
 * `value` (a config number) in integer engine units of `scale` per one (1e6
 * for micro-pUSD or micro-shares, 1e4 for price ticks). Throws
 * PE_CONFIG_INVALID naming `field` when the result would not be a finite,
 * exact integer: a value rounded to 0 or to Infinity would silently switch a
 * limit off. The schemas' `decimals` and `max` keep validated input inside;
 * this guards the units themselves (programs that build params in code).
 */
export function toUnits(value: number, scale: number, field: string): number {
  const scaled = Math.round(value * scale);
  if (!Number.isFinite(value) || !Number.isSafeInteger(scaled) || Math.abs(scaled / scale - value) > Math.abs(value) * Number.EPSILON) {
    throw fieldError('PE_CONFIG_INVALID', field, `${value} is not representable in units of 1/${scale}`);
  }
  return scaled;
}

/** Keywords every builder shares; undefined ones are left out so the output stays minimal. */
function annotated(schema: JsonSchema, defaultValue: unknown, description: string | undefined): JsonSchema {
  if (description !== undefined) schema.description = description;
  if (defaultValue !== undefined) schema.default = defaultValue;
  return schema;
}

function where(path: string): string {
  return path || '(root)';
}

export function number(opts: NumberOpts = {}): Base<number> {
  return {
    defaultValue: opts.default,
    description: opts.description,
    validate(value, path, out) {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        out.push({ path, message: `must be a number, got ${describe(value)}` });
        return undefined;
      }
      if (opts.integer && !Number.isInteger(value)) out.push({ path, message: 'must be an integer' });
      else if (opts.gt !== undefined && !(value > opts.gt)) out.push({ path, message: `must be > ${opts.gt}` });
      else if (opts.min !== undefined && value < opts.min) out.push({ path, message: `must be >= ${opts.min}` });
      else if (opts.max !== undefined && value > opts.max) out.push({ path, message: `must be <= ${opts.max}` });
      else if (opts.decimals !== undefined && !fitsDecimals(value, opts.decimals)) out.push({ path, message: `must have at most ${opts.decimals} decimal places, got ${value}` });
      else return value;
      return undefined;
    },
    jsonSchema() {
      const s: JsonSchema = { type: opts.integer ? 'integer' : 'number' };
      if (opts.min !== undefined) s.minimum = opts.min;
      if (opts.max !== undefined) s.maximum = opts.max;
      if (opts.gt !== undefined) s.exclusiveMinimum = opts.gt;
      // Not multipleOf: validators test it in binary floating point, where 0.51 is no multiple of 0.01.
      const places = opts.decimals === undefined ? undefined : `at most ${opts.decimals} decimal places`;
      const description = places === undefined ? opts.description : opts.description === undefined ? places : `${opts.description}; ${places}`;
      return annotated(s, opts.default, description);
    },
  };
}

export function string(opts: { pattern?: RegExp; hint?: string; default?: string; description?: string } = {}): Base<string> {
  return {
    defaultValue: opts.default,
    description: opts.description,
    validate(value, path, out) {
      if (typeof value !== 'string') {
        out.push({ path, message: `must be a string, got ${describe(value)}` });
        return undefined;
      }
      if (opts.pattern && !opts.pattern.test(value)) {
        out.push({ path, message: `must be ${opts.hint ?? `a string matching ${opts.pattern}`}` });
        return undefined;
      }
      return value;
    },
    jsonSchema() {
      const s: JsonSchema = { type: 'string' };
      if (opts.pattern) {
        // JSON Schema patterns carry no flags; one that changes matching (i, m, s, y, g) cannot be published faithfully.
        if (/[^u]/.test(opts.pattern.flags)) throw new Error(`pattern ${opts.pattern} has flags JSON Schema cannot express`);
        s.pattern = opts.pattern.source;
      }
      return annotated(s, opts.default, opts.description ?? (opts.hint === undefined ? undefined : `must be ${opts.hint}`));
    },
  };
}

export function oneOf<const T extends readonly (string | number)[]>(
  choices: T,
  opts: { default?: T[number]; description?: string } = {},
): Base<T[number]> {
  return {
    defaultValue: opts.default,
    description: opts.description,
    validate(value, path, out) {
      if ((choices as readonly unknown[]).includes(value)) return value as T[number];
      out.push({ path, message: `must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')}, got ${describe(value)}` });
      return undefined;
    },
    jsonSchema() {
      return annotated({ enum: [...choices] }, opts.default, opts.description);
    },
  };
}

export function boolean(opts: { default?: boolean; description?: string } = {}): Base<boolean> {
  return {
    defaultValue: opts.default,
    description: opts.description,
    validate(value, path, out) {
      if (typeof value === 'boolean') return value;
      out.push({ path, message: `must be true or false, got ${describe(value)}` });
      return undefined;
    },
    jsonSchema() {
      return annotated({ type: 'boolean' }, opts.default, opts.description);
    },
  };
}

export function array<T>(item: Base<T>, opts: { default?: T[]; minItems?: number; description?: string } = {}): Base<T[]> {
  return {
    defaultValue: opts.default,
    description: opts.description,
    validate(value, path, out, vopts) {
      if (!Array.isArray(value)) {
        out.push({ path, message: `must be an array, got ${describe(value)}` });
        return undefined;
      }
      if (opts.minItems !== undefined && value.length < opts.minItems) {
        out.push({ path, message: `must have at least ${opts.minItems} item(s)` });
      }
      const before = out.length;
      const items = value.map((v, i) => item.validate(v, `${path}[${i}]`, out, vopts));
      return out.length === before ? (items as T[]) : undefined;
    },
    jsonSchema() {
      const s: JsonSchema = { type: 'array', items: item.jsonSchema() };
      if (opts.minItems !== undefined) s.minItems = opts.minItems;
      return annotated(s, opts.default, opts.description);
    },
  };
}

type Shape = Record<string, Base<unknown>>;
type ObjectOf<S extends Shape> = { [K in keyof S]: Infer<S[K]> };

/**
 * A relation between fields of one object. Checked once every field is
 * valid; when `holds` is false the violation is reported at `field` (joined
 * to the object's path) with `message`.
 */
export interface Rule<T> {
  readonly field: keyof T & string;
  /** Says what is required, e.g. "must be <= max_market_position (a market's position includes each token's)". */
  readonly message: string;
  holds(value: T): boolean;
}

/**
 * Unknown keys are violations; absent keys take their default or are
 * reported as required. `rules` relate fields to each other; a default
 * table must satisfy them (checked when the schema is built).
 */
export function object<S extends Shape>(shape: S, opts: { description?: string; rules?: readonly Rule<ObjectOf<S>>[] } = {}): Base<ObjectOf<S>> {
  const rules = opts.rules ?? [];
  const description = rules.length === 0 ? opts.description : [opts.description, ...rules.map((r) => `${r.field} ${r.message}`)].filter((x) => x !== undefined).join('. ');
  const schema: Base<ObjectOf<S>> = {
    // Nested objects default to their fields' defaults, so a file can omit a whole table.
    get defaultValue() {
      const out: Violation[] = [];
      return this.validate({}, '', out) as ObjectOf<S> | undefined;
    },
    description,
    validate(value, path, out, vopts) {
      if (!isPlainObject(value)) {
        out.push({ path: where(path), message: `must be a table/object, got ${describe(value)}` });
        return undefined;
      }
      const input = value as Record<string, unknown>;
      const result: Record<string, unknown> = {};
      const before = out.length;
      for (const key of Object.keys(input)) {
        if (!Object.hasOwn(shape, key)) out.push({ path: join(path, key), message: 'unknown key' });
      }
      for (const [key, spec] of Object.entries(shape)) {
        const p = join(path, key);
        if (input[key] === undefined) {
          const d = spec.defaultValue;
          if (d === undefined) out.push({ path: p, message: 'is required' });
          else result[key] = d;
          continue;
        }
        result[key] = spec.validate(input[key], p, out, vopts);
      }
      if (out.length !== before) return undefined;
      if (vopts?.rules !== false) {
        for (const r of rules) if (!r.holds(result as ObjectOf<S>)) out.push({ path: join(path, r.field), message: r.message });
      }
      return out.length === before ? (result as ObjectOf<S>) : undefined;
    },
    jsonSchema() {
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      for (const [key, spec] of Object.entries(shape)) {
        properties[key] = spec.jsonSchema();
        if (spec.defaultValue === undefined) required.push(key);
      }
      const s: JsonSchema = { type: 'object', properties };
      if (required.length > 0) s.required = required;
      s.additionalProperties = false;
      return annotated(s, this.defaultValue, description);
    },
  };
  // Defaults that break a rule would turn the table into a required one without a word: a bug in the schema, not in a file.
  if (rules.length > 0 && schema.validate({}, '', [], { rules: false }) !== undefined) {
    const out: Violation[] = [];
    schema.validate({}, '', out);
    if (out.length > 0) throw new Error(`schema defaults break a rule: ${out.map((v) => `${v.path} ${v.message}`).join('; ')}`);
  }
  return schema;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'a table';
  return String(v);
}

export function validate<T>(schema: Base<T>, value: unknown, opts?: ValidateOptions): { ok: true; value: T } | { ok: false; violations: Violation[] } {
  const violations: Violation[] = [];
  const result = schema.validate(value, '', violations, opts);
  if (violations.length > 0 || result === undefined) return { ok: false, violations };
  return { ok: true, value: result };
}

export type Schema<T> = Base<T>;

/**
 * JSON Schema for a whole document: accepts exactly what `validate(schema, ·)`
 * accepts and declares the same defaults. The root's own default is left out:
 * a document is never absent, and strict validators (ajv) reject one there.
 */
export function toJsonSchema(schema: Schema<unknown>): JsonSchema {
  const { default: _ignored, ...root } = schema.jsonSchema();
  return root;
}
