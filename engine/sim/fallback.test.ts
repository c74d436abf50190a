// The simulator's own tests again, served by the ws + node:http fallback, so
// the transport that newer Node versions get is exercised on every Node.
// (Each test file runs in its own process: the choice made here is this file's.)
import { TRANSPORT_ENV } from './uws.js';

process.env[TRANSPORT_ENV] = 'node';

for (const name of ['binance', 'cli', 'deribit', 'faults', 'polymarket', 'rtds', 'simulator']) {
  await import(`./${name}.test.js`);
}
