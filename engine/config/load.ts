// Loads the configuration once at start-up: TOML file → schema → typed,
// frozen Config. A bad file stops start-up with every violation by path.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseToml, TomlError } from 'smol-toml';
import { PolyedgeError } from '../errors.js';
import { configSchema, type Config } from './config.js';
import { validate } from './schema.js';

/** <repo>/configs/default.toml, resolved from dist/engine/config/. */
export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL('../../../configs/default.toml', import.meta.url));

export function parseConfigText(text: string, source: string): Config {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (err) {
    throw tomlError(text, source, err);
  }
  const result = validate(configSchema, raw);
  if (!result.ok) {
    const lines = result.violations.map((v) => `  ${v.path}: ${v.message}`).join('\n');
    const first = result.violations[0];
    throw new PolyedgeError('PE_CONFIG_INVALID', `${source}: ${result.violations.length} problem(s)\n${lines}`, first?.path);
  }
  return deepFreeze(result.value);
}

/**
 * A TOML syntax error naming the line and, when one is there, the key being
 * written (with its table: `control.port`): "line 12" alone leaves the user
 * counting lines in an editor.
 */
function tomlError(text: string, source: string, err: unknown): PolyedgeError {
  const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.replace(/^Invalid TOML document: /, '');
  const line = err instanceof TomlError ? err.line : undefined;
  if (line === undefined) return new PolyedgeError('PE_CONFIG_READ', `${source}: not valid TOML: ${reason}`);
  const key = keyAtLine(text.split(/\r?\n/), line - 1);
  const where = key === undefined ? `line ${line}` : `line ${line}, key ${key}`;
  return new PolyedgeError('PE_CONFIG_READ', `${source}: not valid TOML at ${where}: ${reason}`, key);
}

const BARE = String.raw`[A-Za-z0-9_-]+|"[^"]*"|'[^']*'`;
const DOTTED = new RegExp(String.raw`^\s*((?:${BARE})(?:\s*\.\s*(?:${BARE}))*)`);

/** `a . "b"` as `a.b`. */
function dotted(key: string): string {
  return [...key.matchAll(new RegExp(BARE, 'g'))].map((m) => m[0].replace(/^["']|["']$/g, '')).join('.');
}

/** The dotted key line `index` writes, prefixed with its table; the table itself on a header line; undefined on others. */
function keyAtLine(lines: string[], index: number): string | undefined {
  const header = (l: string): string | undefined => {
    const m = /^\s*\[\[?\s*(.*?)\s*\]?\]?\s*(?:#.*)?$/.exec(l);
    return m && l.trimStart().startsWith('[') ? dotted(m[1]!) : undefined;
  };
  const here = lines[index] ?? '';
  const own = header(here);
  if (own !== undefined) return own || undefined;
  const m = DOTTED.exec(here);
  if (!m || !here.slice(m[0].length).trimStart().startsWith('=')) return undefined;
  let table = '';
  for (let i = index - 1; i >= 0; i--) {
    const h = header(lines[i]!);
    if (h !== undefined) {
      table = h;
      break;
    }
  }
  const key = dotted(m[1]!);
  return table ? `${table}.${key}` : key;
}

export function loadConfig(path: string = process.env.POLYEDGE_CONFIG ?? DEFAULT_CONFIG_PATH): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    throw new PolyedgeError('PE_CONFIG_READ', `${path}: cannot read (${reason})`);
  }
  return parseConfigText(text, path);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Loads a .env file with Node's own parser (`process.loadEnvFile`: quoting,
 * escapes in double quotes, `export`, comments, multi-line values, as Node
 * documents them) without overriding what the real environment already has
 * (an existing variable wins, even when empty). Returns the names it set.
 *
 * Node parses the file and sets the variables natively: no value becomes a
 * JS string here. POLY_PRIVATE_KEY therefore goes from the file to the
 * process environment to the addon (`OrderSigner.fromEnv` reads it in
 * native code) without JS ever holding it, as long as no JS code reads
 * `process.env.POLY_PRIVATE_KEY` (only its presence is checked, with `in`).
 * On the main thread only: a worker's process.env is a copy the addon
 * does not see.
 */
export function loadDotEnv(path = '.env'): string[] {
  if (!existsSync(path)) return [];
  // Listing names materialises names only, never values.
  const before = new Set(Object.keys(process.env));
  try {
    process.loadEnvFile(path);
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    throw new PolyedgeError('PE_CONFIG_READ', `${path}: cannot read (${reason})`);
  }
  return Object.keys(process.env).filter((k) => !before.has(k));
}

export interface ApiSecrets {
  apiKey: string;
  secret: string;
  passphrase: string;
}

/** L2 API credentials from the environment, or undefined when none are set. */
export function apiSecretsFromEnv(env: NodeJS.ProcessEnv = process.env): ApiSecrets | undefined {
  const apiKey = env.POLY_API_KEY;
  const secret = env.POLY_API_SECRET;
  const passphrase = env.POLY_API_PASSPHRASE;
  if (!apiKey && !secret && !passphrase) return undefined;
  for (const [name, v] of [['POLY_API_KEY', apiKey], ['POLY_API_SECRET', secret], ['POLY_API_PASSPHRASE', passphrase]] as const) {
    if (!v) throw new PolyedgeError('PE_ENV_MISSING', `${name}: must be set together with the other POLY_API_* variables`, name);
  }
  return { apiKey: apiKey!, secret: secret!, passphrase: passphrase! };
}

export const PRIVATE_KEY_ENV = 'POLY_PRIVATE_KEY';
