// "HOST:PORT" as the relay's command line and config take it: IPv4
// `10.0.0.2:9000`, IPv6 in brackets `[fe80::1]:9000`, or a host name for
// the sender's target (resolved once, before the first packet).

import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';

export interface Endpoint {
  host: string;
  port: number;
  /** 4 or 6 for a numeric address; 0 for a host name. */
  family: 0 | 4 | 6;
}

/** Parses HOST:PORT; returns a reason string when it is not one. */
export function parseEndpoint(text: string, opts: { allowPortZero?: boolean; allowName?: boolean } = {}): Endpoint | string {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text);
  if (!m) return `expected HOST:PORT (IPv6 as [ADDR]:PORT), got ${JSON.stringify(text)}`;
  const host = (m[1] ?? m[2])!;
  const port = Number(m[3]);
  if (port > 65535 || (port === 0 && !opts.allowPortZero)) return `port ${port} is out of range`;
  const family = isIP(host);
  if (m[1] !== undefined && family !== 6) return `${JSON.stringify(host)} is not an IPv6 address`;
  if (family === 0 && !opts.allowName) return `${JSON.stringify(host)} is not a numeric IP address`;
  if (family === 0 && !/^[A-Za-z0-9.-]{1,253}$/.test(host)) return `${JSON.stringify(host)} is not a host name`;
  return { host, port, family: family as 0 | 4 | 6 };
}

/** The socket-address text the native addon takes: `1.2.3.4:5` or `[::1]:5`. */
export function formatEndpoint(e: { host: string; port: number }): string {
  return isIP(e.host) === 6 ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** Resolves a host name to one address (numeric endpoints pass through). */
export async function resolveEndpoint(e: Endpoint): Promise<Endpoint> {
  if (e.family !== 0) return e;
  const { address, family } = await lookup(e.host);
  return { host: address, port: e.port, family: family === 6 ? 6 : 4 };
}
