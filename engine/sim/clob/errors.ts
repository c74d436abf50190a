// Every error text the simulated CLOB answers with, in one table. Texts the
// venue documents (its error-codes and order-placement pages, and the
// official client's `order_version_mismatch` check) are copied exactly;
// where the venue's text is unknown, the simulator's own is marked (sim).
export const CLOB_ERRORS = {
  unauthorized: 'Unauthorized/Invalid api key',
  invalidL1: 'Invalid L1 Request headers',
  tooManyRequests: 'Too Many Requests',
  internal: 'could not run the execution',
  invalidSignature: 'invalid signature',
  wrongOwner: 'the order owner has to be the owner of the API KEY',
  /** (sim) */
  wrongSigner: 'the order signer address has to be the address of the API KEY',
  tickSize: 'order is invalid. Price breaks minimum tick size rules',
  minSize: 'order is invalid. Size lower than the minimum',
  duplicated: "order is invalid. Duplicated. Same order has already been placed, can't be placed again",
  expiration: 'invalid expiration',
  postOnlyCrosses: 'invalid post-only order: order crosses book',
  /** (sim) */
  postOnlyType: 'invalid post-only order: only GTC and GTD orders can be post-only',
  fokNotFilled: "order couldn't be fully filled, FOK orders are fully filled/killed",
  fakNoMatch: 'no orders found to match with FAK order. FAK orders are partially filled or killed if no match is found.',
  /** The official client looks for the substring `order_version_mismatch`. */
  versionMismatch: 'order_version_mismatch: the order was signed for another exchange version; read GET /version',
  /** (sim) */
  unknownMarket: 'order is invalid. No orderbook exists for the requested token id',
  /** (sim) */
  invalidOrder: 'invalid order payload',
  /** (sim) */
  tooManyOrders: 'Too many orders in payload, max 15',
  /** (sim) */
  orderNotFound: 'order not found',
  /** (sim) */
  invalidPayload: 'Invalid payload',
  /** (sim) */
  apiKey: 'Could not create api key',
} as const;

export type ClobErrorName = keyof typeof CLOB_ERRORS;
