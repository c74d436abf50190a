// The layering rule: the domain (what a trade is, who may make it, how it is
// sent, what it did to the books) never imports the decision loop, the
// control plane or the venue simulator. The loop composes the domain; if the
// domain reached back into it, a change to the loop's shape would ripple into
// strategies and risk, and the simulator could leak into live trading.
// And beyond the domain, nothing of the engine but the CLI imports the
// simulator: it is a test double and a dev tool, handed to a session as its
// offline venues (runtime/session.ts OfflineVenues).
//
// It reads the TypeScript sources, not dist/: a type-only import leaves no
// trace in the compiled JavaScript but still ties the layers together.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Folders of engine/ that hold the domain. */
const DOMAIN = ['strategy', 'risk', 'execution', 'portfolio', 'journal', 'markets', 'references', 'trading', 'venues'] as const;
/** Folders of engine/ the domain must not import. */
const FORBIDDEN = new Set(['runtime', 'control', 'sim']);

/** Tests run from dist/engine/; the sources sit at engine/ beside dist/. */
const ENGINE_SRC = fileURLToPath(new URL('../../engine/', import.meta.url));

/** Every module specifier of `source`: static imports and `export … from`, type-only ones too, dynamic import() and require(); comments are not read. */
function specifiersOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** The folder of engine/ a relative `specifier` of the file `file` (a path relative to engine/) lands in, or undefined outside engine/. */
function folderOf(file: string, specifier: string): string | undefined {
  const target = posix.normalize(posix.join(posix.dirname(file), specifier));
  if (target.startsWith('../') || target === '..') return undefined;
  const slash = target.indexOf('/');
  return slash < 0 ? undefined : target.slice(0, slash);
}

/** Folders of engine/ that may import the simulator: the composition roots. */
const SIM_USERS = new Set(['cli', 'sim']);

/** `file → specifier` for every import of `files` that lands in a `forbidden` folder. */
function violations(files: ReadonlyMap<string, string>, forbidden: ReadonlySet<string> = FORBIDDEN): string[] {
  const out: string[] = [];
  for (const [file, source] of files) {
    for (const spec of specifiersOf(source)) {
      if (!spec.startsWith('./') && !spec.startsWith('../')) continue;
      const folder = folderOf(file, spec);
      if (folder !== undefined && forbidden.has(folder)) out.push(`engine/${file} → ${spec}`);
    }
  }
  return out;
}

/**
 * The domain's sources, by path relative to engine/. Tests and their
 * fixtures are left out: the project's tests drive a venue through the
 * simulator and may run the loop, which the rule is not about.
 */
function sourcesOf(folders: readonly string[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const folder of folders) {
    for (const entry of readdirSync(posix.join(ENGINE_SRC, folder), { recursive: true, encoding: 'utf8' })) {
      const rel = posix.join(folder, entry.split('\\').join('/'));
      if (!rel.endsWith('.ts') || rel.endsWith('.d.ts') || rel.endsWith('.test.ts') || rel.endsWith('.fixture.ts')) continue;
      files.set(rel, readFileSync(posix.join(ENGINE_SRC, rel), 'utf8'));
    }
  }
  return files;
}

test('the domain imports neither the loop, the control plane nor the venue simulator', () => {
  const files = sourcesOf(DOMAIN);
  // A wrong source path would find nothing and pass: each domain folder must have been read.
  for (const folder of DOMAIN) assert.ok([...files.keys()].some((f) => f.startsWith(`${folder}/`)), `no sources read in engine/${folder}/`);
  assert.deepEqual(violations(files), [], 'domain files importing engine/runtime, engine/control or engine/sim (move the shared type or constant into the domain)');
});

test('only the CLI hands the simulator to the engine', () => {
  const folders = readdirSync(ENGINE_SRC, { withFileTypes: true }).filter((d) => d.isDirectory() && !SIM_USERS.has(d.name)).map((d) => d.name);
  assert.ok(folders.includes('runtime') && folders.includes('feeds'), `engine/ folders read: ${folders.join(', ')}`);
  const files = sourcesOf(folders);
  assert.deepEqual(violations(files, new Set(['sim'])), [], 'engine files importing engine/sim (take the simulator through runtime/session.ts OfflineVenues)');
});

test('the shipped CLI imports no benchmark code', () => {
  const folders = readdirSync(ENGINE_SRC, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  const out: string[] = [];
  for (const [file, source] of sourcesOf(folders)) {
    for (const spec of specifiersOf(source)) {
      if (posix.normalize(posix.join('engine', posix.dirname(file), spec)).startsWith('bench/')) out.push(`engine/${file} → ${spec}`);
    }
  }
  assert.deepEqual(out, [], 'engine files importing bench/ (benchmarks run from bench/main.ts)');
});

test('the check reports every form of import into a forbidden folder, and nothing else', () => {
  const files = new Map([
    [
      'strategy/example.ts',
      [
        "import { Engine } from '../runtime/engine.js';",
        "import type { EngineView } from '../control/view.js';",
        "export { SimVenue } from '../sim/venue.js';",
        "export type * from '../runtime/params.js';",
        'const server = await import("../control/server.js");',
        "import { Portfolio } from '../portfolio/positions.js';",
        "import { helper } from './runtime/helper.js';",
        "import { BookBusyError } from '../../workers/shared-memory/book-reader.js';",
        "import { readFileSync } from 'node:fs';",
        "// import { Faults } from '../runtime/faults.js';",
        "/* export * from '../sim/index.js'; */",
        "const text = 'import x from \"../runtime/a.js\"';",
      ].join('\n'),
    ],
    ['risk/deep/nested.ts', "import { Clock } from '../../sim/clock.js';\nimport { x } from '../../risk/gates.js';"],
  ]);
  assert.deepEqual(violations(files), [
    'engine/strategy/example.ts → ../runtime/engine.js',
    'engine/strategy/example.ts → ../control/view.js',
    'engine/strategy/example.ts → ../sim/venue.js',
    'engine/strategy/example.ts → ../runtime/params.js',
    'engine/strategy/example.ts → ../control/server.js',
    'engine/risk/deep/nested.ts → ../../sim/clock.js',
  ]);
});
