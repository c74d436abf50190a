// Every benchmark suite, in the order `npm run bench` runs them.
import type { Suite } from './harness.js';
import { suite as ingest } from './ingest.js';
import { suite as orderPath } from './order-path.js';
import { suite as packet } from './packet.js';
import { suite as relay } from './relay.js';
import { suite as ring } from './ring.js';
import { suite as sign } from './sign.js';
import { suite as startup } from './startup.js';

export const SUITES: readonly Suite[] = [startup, sign, orderPath, packet, ring, ingest, relay];
