// Live market discovery for `--feeds live`: the current and next BTC Up/Down
// 5-minute windows from Gamma (protocols §5.3), validated field by field at
// the edge. Markets rolling over during a session are not followed yet: a
// live session trades the windows it found at start.

import type { Config } from '../config/config.js';
import { PolyedgeError } from '../errors.js';
import { PRICE_SCALE, UNIT, type MarketInfo, type TokenInfo } from '../trading/types.js';
import { WINDOW_MS } from '../session/updown.js';

/** How many windows from the current one on. */
const WINDOWS = 3;

function jsonArrayOfStrings(v: unknown, field: string): string[] {
  if (typeof v !== 'string') throw new PolyedgeError('PE_INPUT_JSON', `gamma: ${field} must be a JSON-encoded array`, field);
  const parsed: unknown = JSON.parse(v);
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) throw new PolyedgeError('PE_INPUT_JSON', `gamma: ${field} must hold strings`, field);
  return parsed as string[];
}

/** One Gamma market object → MarketInfo and its two tokens, or an error naming the field. */
export function parseGammaMarket(raw: unknown, index: number, startMs: number): { info: MarketInfo; tokens: [TokenInfo, TokenInfo] } {
  if (typeof raw !== 'object' || raw === null) throw new PolyedgeError('PE_INPUT_JSON', 'gamma: market is not an object');
  const m = raw as Record<string, unknown>;
  const conditionId = m.conditionId;
  if (typeof conditionId !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(conditionId)) throw new PolyedgeError('PE_INPUT_JSON', 'gamma: conditionId', 'conditionId');
  const ids = jsonArrayOfStrings(m.clobTokenIds, 'clobTokenIds');
  const outcomes = jsonArrayOfStrings(m.outcomes, 'outcomes');
  if (ids.length !== 2 || outcomes.length !== 2 || !ids.every((id) => /^\d{1,100}$/.test(id))) throw new PolyedgeError('PE_INPUT_JSON', 'gamma: expected two decimal token ids and two outcomes', 'clobTokenIds');
  const tick = typeof m.orderPriceMinTickSize === 'number' ? Math.round(m.orderPriceMinTickSize * PRICE_SCALE) : 100;
  const minSize = typeof m.orderMinSize === 'number' && m.orderMinSize > 0 ? m.orderMinSize : 5;
  const slug = typeof m.slug === 'string' ? m.slug : '';
  const info: MarketInfo = {
    index,
    conditionId,
    slug,
    tokens: [2 * index, 2 * index + 1],
    tickSize: tick,
    minSize: Math.round(minSize * UNIT),
    // Fee parameters live on /clob-markets (fd.r, fd.e); until they are read, assume the crypto markets' taker fee.
    feeRate: 0.25,
    feeExponent: 2,
    negRisk: m.negRisk === true,
    startMs,
    endMs: startMs + WINDOW_MS,
    underlying: slug.split('-')[0] ?? 'btc',
  };
  return {
    info,
    tokens: [
      { index: 2 * index, tokenId: ids[0]!, market: index, outcome: outcomes[0]!, complement: 2 * index + 1 },
      { index: 2 * index + 1, tokenId: ids[1]!, market: index, outcome: outcomes[1]!, complement: 2 * index },
    ],
  };
}

export async function discoverUpDownMarkets(cfg: Config, log: (line: string) => void): Promise<{ markets: MarketInfo[]; tokens: TokenInfo[] }> {
  const markets: MarketInfo[] = [];
  const tokens: TokenInfo[] = [];
  const first = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS;
  for (let k = 0; k < WINDOWS; k++) {
    const startMs = first + k * WINDOW_MS;
    const slug = `btc-updown-5m-${startMs / 1000}`;
    const url = `${cfg.venue.gamma_url}/markets/slug/${slug}`;
    let body: unknown;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (!res.ok) {
        log(`discovery: ${slug}: HTTP ${res.status}`);
        continue;
      }
      body = await res.json();
    } catch (err) {
      log(`discovery: ${slug}: ${(err as Error).message}`);
      continue;
    }
    const parsed = parseGammaMarket(body, markets.length, startMs);
    markets.push(parsed.info);
    tokens.push(...parsed.tokens);
    log(`discovery: ${slug} ${parsed.info.conditionId}`);
  }
  if (markets.length === 0) throw new PolyedgeError('PE_USAGE', `no BTC Up/Down market found on ${cfg.venue.gamma_url} (network down?)`, 'feeds');
  return { markets, tokens };
}
