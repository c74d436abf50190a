// RTDS wire shapes (protocols.md §4).

export interface RtdsPricePayload {
  readonly symbol: string;
  /** Price time, ms (whole seconds in the recordings). */
  readonly timestamp: number;
  readonly value: number;
  readonly full_accuracy_value?: string;
}

/** One price update; the server adds `connection_id` per connection. */
export interface RtdsMessage {
  readonly topic: string;
  readonly type: string;
  /** Send time, ms. */
  readonly timestamp: number;
  readonly payload: RtdsPricePayload;
}

export const RTDS_TOPICS = ['crypto_prices', 'crypto_prices_chainlink'] as const;
export type RtdsTopic = (typeof RTDS_TOPICS)[number];
