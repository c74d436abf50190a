// tsc drops the executable bit; the CLI entry needs it for `npx polyedge`.
import { chmodSync } from 'node:fs';
chmodSync(new URL('../dist/engine/cli/main.js', import.meta.url), 0o755);
