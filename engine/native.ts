// The one place that loads the Rust addon. The addon is CommonJS (generated
// by @napi-rs/cli); everything else imports its typed surface from here.
import { createRequire } from 'node:module';
import type * as Native from '../native/index.js';

const require = createRequire(import.meta.url);
// dist/engine/native.js -> <repo>/native/index.cjs
export const native: typeof Native = require('../../native/index.cjs');

export type { OrderV1Fields, OrderV2Fields, SignedDigest } from '../native/index.js';
export type Eip712Domain = Native.Eip712Domain;
export type OrderSigner = Native.OrderSigner;
