// Exchange deployments and their EIP-712 domains (protocols §0, §7.1).
// Domains are built once per (version, chain, negRisk) and cached: the
// separator hash is paid at setup, not per order.

import { PolyedgeError } from '../../../errors.js';
import { native, type Eip712Domain } from '../../../native.js';

export type OrderVersion = 1 | 2 | 3;

export const POLYGON = 137;
export const AMOY = 80002;
export const EXCHANGE_DOMAIN_NAME = 'Polymarket CTF Exchange';

interface Deployment {
  normal: string;
  negRisk?: string;
}

const DEPLOYMENTS: Record<OrderVersion, Record<number, Deployment>> = {
  1: {
    [POLYGON]: { normal: '0x4bFb41d5B3570DeFd03C39a9A4D8dE6Bd8B8982E', negRisk: '0xC5d563A36AE78145C45a50134d48A1215220f80a' },
    [AMOY]: { normal: '0xdFE02Eb6733538f8Ea35D585af8DE5958AD99E40', negRisk: '0xC5d563A36AE78145C45a50134d48A1215220f80a' },
  },
  2: {
    [POLYGON]: { normal: '0xE111180000d2663C0091e4f400237545B87B996B', negRisk: '0xe2222d279d744050d28e00520010520000310F59' },
    [AMOY]: { normal: '0xE111180000d2663C0091e4f400237545B87B996B', negRisk: '0xe2222d279d744050d28e00520010520000310F59' },
  },
  // No neg-risk V3 deployment is documented; signing for a guessed contract
  // would produce orders the venue rejects, so it is an error instead.
  3: {
    [POLYGON]: { normal: '0xe3333700cA9d93003F00f0F71f8515005F6c00Aa' },
    [AMOY]: { normal: '0x9fE6e61422AdB6F610d8597F9684b16912D50C3D' },
  },
};

export function exchangeAddress(version: OrderVersion, chainId: number, negRisk: boolean): string {
  const d = DEPLOYMENTS[version][chainId];
  const address = d && (negRisk ? d.negRisk : d.normal);
  if (!address) {
    throw new PolyedgeError(
      'PE_EXCHANGE_UNKNOWN',
      `no ${negRisk ? 'neg-risk ' : ''}V${version} exchange is known on chain ${chainId}`,
      negRisk ? 'negRisk' : 'chainId',
    );
  }
  return address;
}

const domains = new Map<string, Eip712Domain>();

export function exchangeDomain(version: OrderVersion, chainId: number, negRisk: boolean): Eip712Domain {
  const key = `${version}:${chainId}:${negRisk ? 1 : 0}`;
  let domain = domains.get(key);
  if (!domain) {
    domain = new native.Eip712Domain(EXCHANGE_DOMAIN_NAME, String(version), chainId, exchangeAddress(version, chainId, negRisk));
    domains.set(key, domain);
  }
  return domain;
}
