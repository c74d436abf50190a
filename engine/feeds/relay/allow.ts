// Which senders a relay receiver accepts. Relay packets carry reference
// prices the engine trades on, so a receiver that any host can reach must
// name its senders. The rule mirrors the control plane's token rule: on a
// loopback address only this host can reach the port, and an empty list
// accepts every sender; anywhere else an empty list refuses to start. The
// receive thread (native/src/relay_recv.rs) drops datagrams from any other
// source address before decoding them and counts them as `foreign`.

import { BlockList, isIP } from 'node:net';

const DEC_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const IPV4 = `${DEC_OCTET}(?:\\.${DEC_OCTET}){3}`;
const H16 = '[0-9A-Fa-f]{1,4}';
const LS32 = `(?:${H16}:${H16}|${IPV4})`;
/** `(h16:){0,n-1}h16` before a `::`, as RFC 3986 §3.2.2 writes it. */
const head = (n: number): string => (n === 0 ? '' : `(?:(?:${H16}:){0,${n - 1}}${H16})?`);
const IPV6 = [
  `(?:${H16}:){6}${LS32}`,
  `::(?:${H16}:){5}${LS32}`,
  `${head(1)}::(?:${H16}:){4}${LS32}`,
  `${head(2)}::(?:${H16}:){3}${LS32}`,
  `${head(3)}::(?:${H16}:){2}${LS32}`,
  `${head(4)}::${H16}:${LS32}`,
  `${head(5)}::${LS32}`,
  `${head(6)}::${H16}`,
  `${head(7)}::`,
].join('|');

/**
 * An IPv4 or IPv6 address literal (RFC 3986 IPv4address / IPv6address: no
 * zone id, no leading zeros in IPv4 octets), the form both Node and Rust
 * parse the same way. Flag-free, so config.ts can publish it as JSON Schema.
 */
export const IP_LITERAL = new RegExp(`^(?:${IPV4}|${IPV6})$`);

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** 127.0.0.0/8, ::1, or an IPv4-mapped 127.x address; false for names and the unspecified address. */
export function isLoopbackAddress(host: string): boolean {
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 6 ? 'ipv6' : 'ipv4');
}

/** A comma-separated command-line list of sender addresses, as `allow` takes it (entries trimmed, not yet checked). */
export function allowListOf(text: string): string[] {
  return text.split(',').map((a) => a.trim());
}

/** Why `allow` is not a list of address literals, phrased to follow the field's name; undefined when it is. */
export function allowEntriesProblem(allow: readonly string[]): string | undefined {
  for (let i = 0; i < allow.length; i++) {
    const entry = allow[i]!;
    if (!IP_LITERAL.test(entry)) return `entry ${i}, ${JSON.stringify(entry)}, is not an IPv4 or IPv6 address`;
  }
  return undefined;
}

/**
 * Why a receiver bound to `bindHost` cannot take `allow`, phrased to follow
 * the name of the field that holds the list (`relay.allow: ...`); undefined
 * when it can.
 */
export function allowProblem(bindHost: string, allow: readonly string[]): string | undefined {
  const entries = allowEntriesProblem(allow);
  if (entries !== undefined) return entries;
  if (allow.length === 0 && !isLoopbackAddress(bindHost)) {
    return (
      `is empty, and the receiver binds ${bindHost}, which is not a loopback address: any host that can reach the port ` +
      'could inject reference prices; list the sender addresses, or bind a loopback address such as 127.0.0.1'
    );
  }
  return undefined;
}
