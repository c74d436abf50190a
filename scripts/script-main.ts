// The entry of a script under scripts/: run `main` when the file is the process's entry point, print a failure as
// the CLI does (`error: CODE message`; a usage error exits 2, anything else 1), and never let a stuck handle keep
// the process (or CI) waiting once main has returned.

import { pathToFileURL } from 'node:url';
import { PolyedgeError } from '../engine/errors.js';

export async function runScript(moduleUrl: string, main: () => Promise<number>): Promise<void> {
  if (process.argv[1] === undefined || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  try {
    process.exitCode = await main();
  } catch (err) {
    const e = err instanceof PolyedgeError ? err : new PolyedgeError('PE_INTERNAL', err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.stderr.write(`error: ${e.format()}\n`);
    process.exitCode = e.code === 'PE_USAGE' ? 2 : 1;
  }
  setTimeout(() => process.exit(process.exitCode ?? 0), 2_000).unref();
}
