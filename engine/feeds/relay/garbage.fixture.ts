// `node garbage.fixture.js HOST PORT`: sends a fixed set of datagrams that are
// not relay packets (too short, too long, wrong magic, wrong version) and, last,
// two well-formed ones with impossible prices (a NaN, a negative), and prints
// how many it sent in all. Run inside the sender's namespace by
// the two-host test.
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';

function garbageDatagrams(): Buffer[] {
  const extended = Buffer.alloc(72);
  extended.write('PEDG', 0, 'latin1');
  extended[4] = 1;
  const badVersion = Buffer.from(extended);
  badVersion[4] = 7;
  const nanPrice = Buffer.from(extended);
  nanPrice.writeDoubleLE(Number.NaN, 40);
  const negativeLegacy = Buffer.alloc(24);
  negativeLegacy.writeDoubleLE(-5, 16);
  return [Buffer.from('hello'), Buffer.alloc(0), Buffer.alloc(23, 1), Buffer.alloc(30, 0x41), Buffer.alloc(1400, 0xee), extended.subarray(0, 71), badVersion, nanPrice, negativeLegacy];
}

async function main(host: string, port: number): Promise<void> {
  const sock = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
  const all = garbageDatagrams();
  for (const d of all) await new Promise<void>((resolve, reject) => sock.send(d, port, host, (err) => (err ? reject(err) : resolve())));
  sock.close();
  process.stdout.write(`${all.length}\n`);
}

const [host, portText] = process.argv.slice(2);
if (host === undefined || portText === undefined || isIP(host) === 0 || !/^\d+$/.test(portText)) {
  process.stderr.write('usage: node garbage.fixture.js IP PORT\n');
  process.exitCode = 2;
} else {
  await main(host, Number(portText));
}
