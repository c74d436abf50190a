// A small declarative schema: enough to validate our TOML config with every
// violation reported by its dotted path, unknown keys rejected, and the
// parsed value typed from the schema itself. Every builder also describes
// itself as JSON Schema (draft-07 and OpenAPI 3.1 compatible), so an HTTP
// API can publish the exact shape `validate()` enforces.

export type Violation = { path: string; message: string };

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
  validate(value: unknown, path: string, out: Violation[]): T | undefined;
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
  default?: number;
  description?: string;
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
      else return value;
      return undefined;
    },
    jsonSchema() {
      const s: JsonSchema = { type: opts.integer ? 'integer' : 'number' };
      if (opts.min !== undefined) s.minimum = opts.min;
      if (opts.max !== undefined) s.maximum = opts.max;
      if (opts.gt !== undefined) s.exclusiveMinimum = opts.gt;
      return annotated(s, opts.default, opts.description);
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
    validate(value, path, out) {
      if (!Array.isArray(value)) {
        out.push({ path, message: `must be an array, got ${describe(value)}` });
        return undefined;
      }
      if (opts.minItems !== undefined && value.length < opts.minItems) {
        out.push({ path, message: `must have at least ${opts.minItems} item(s)` });
      }
      const before = out.length;
      const items = value.map((v, i) => item.validate(v, `${path}[${i}]`, out));
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

/** Unknown keys are violations; absent keys take their default or are reported as required. */
export function object<S extends Shape>(shape: S, opts: { description?: string } = {}): Base<ObjectOf<S>> {
  return {
    // Nested objects default to their fields' defaults, so a file can omit a whole table.
    get defaultValue() {
      const out: Violation[] = [];
      return this.validate({}, '', out) as ObjectOf<S> | undefined;
    },
    description: opts.description,
    validate(value, path, out) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
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
        result[key] = spec.validate(input[key], p, out);
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
      return annotated(s, this.defaultValue, opts.description);
    },
  };
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

export function validate<T>(schema: Base<T>, value: unknown): { ok: true; value: T } | { ok: false; violations: Violation[] } {
  const violations: Violation[] = [];
  const result = schema.validate(value, '', violations);
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
