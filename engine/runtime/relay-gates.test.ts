// The relay gates against a running engine: 100 000 random datagrams (noise of
// every length, legacy and extended shapes, with and without the MAC flag, and
// well-formed forgeries: a fresh stamp and a plausible spread but a price far
// from the references, or a plausible price under a MAC made without the key)
// sent over UDP at a session on the bundled simulator. None may reach fusion
// or move a decision, and each must be counted under exactly one reason. Then
// genuine frames near the references, unsealed, sealed and legacy, must still
// be accepted and win: the gates do not simply block everything.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Prng } from '../../workers/prng.js';
import { parseConfigText } from '../config/load.js';
import { EXTENDED_LEN, EXTENDED_MAC_LEN, F_ASK, F_BID, F_EXCHANGE_TS_NS, F_SEQ, FLAG_MAC, LEGACY_LEN } from '../feeds/relay/packet.js';
import { PacketSender } from '../feeds/relay/sender.js';
import { RELAY_REJECT_REASONS, RelayStat, type RelaySource } from '../feeds/relay/source.js';
import { sample, startSimSession, until } from './session.fixture.js';

const KEY_VAR = 'POLYEDGE_RELAY_GATES_TEST_KEY';
const TOTAL = 100_000;
/** Datagrams in flight at most: far below what the 8 MiB socket buffer holds, so the kernel drops none. */
const BURST = 2_000;

function relayCounted(relay: RelaySource): number {
  let n = relay.stats[RelayStat.packets]!;
  for (const [, slot] of RELAY_REJECT_REASONS) n += relay.stats[slot]!;
  return n;
}

test('100 000 random datagrams at a running session: none reaches fusion or a decision, each is counted by reason; genuine frames still win', async () => {
  process.env[KEY_VAR] = '5c'.repeat(32);
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-relay-gates-'));
  const cfg = parseConfigText(
    ['[cpu]', 'pin = false', '[engine]', 'strategies = ["maker", "directional"]', '[relay]', 'enabled = true', 'bind = "127.0.0.1:0"', `mac_key_env = "${KEY_VAR}"`].join('\n'),
    'relay-gates.test',
  );
  const logs: string[] = [];
  const s = await startSimSession(cfg, join(dir, 'j.log'), logs);
  const senders: PacketSender[] = [];
  const junk = createSocket('udp4');
  try {
    const relay = s.relay!;
    assert.ok(relay, 'the session runs the relay receiver');
    assert.ok(logs.some((l) => /MAC checked when present/.test(l)), logs.join('\n'));
    const series = (name: string) => s.engine.fusion.sources.find((x) => x.name === name)!;
    const relaySeries = series('relay');
    const chainlink = series('rtds-chainlink');
    const relaySource = s.engine.hub.sourceIndex('relay');
    await until('chainlink has a price', () => (chainlink.price > 0 ? true : undefined), 60_000);
    await until('a market is active', () => (s.engine.marketSlots().some((m) => m.phase === 'active') ? true : undefined), 60_000);

    const raw = new PacketSender(relay.address, 'extended');
    senders.push(raw);
    const rnd = new Prng(20_240_917);
    const buf = new Uint8Array(EXTENDED_MAC_LEN);
    const view = new DataView(buf.buffer);
    const noise = (from: number, to: number) => {
      for (let i = from; i < to; i++) buf[i] = rnd.int(256);
    };
    /** A stamp at most 200 ms old: inside the clock window, never ahead of the genuine frames sent later. */
    const freshNs = () => BigInt(Date.now() - 200 + rnd.int(200)) * 1_000_000n;
    /** A price the references cannot vouch for: 2 % to 100 % away from chainlink, either way. */
    const farPrice = () => chainlink.price * (rnd.int(2) === 0 ? 1.02 + rnd.next() : 0.98 - rnd.next() * 0.97);
    const extendedHeader = (flags: number) => {
      buf.set([0x50, 0x45, 0x44, 0x47, 1, flags], 0); // "PEDG", version 1
    };
    const shapes = [
      // Noise of every length a valid frame can have, and then some.
      () => {
        const len = rnd.int(EXTENDED_MAC_LEN + 1);
        noise(0, len);
        return len;
      },
      () => (noise(0, LEGACY_LEN), LEGACY_LEN),
      () => (noise(0, EXTENDED_LEN), extendedHeader(0), EXTENDED_LEN),
      () => (noise(0, EXTENDED_MAC_LEN), extendedHeader(FLAG_MAC), EXTENDED_MAC_LEN),
      // Legacy forgery: fresh stamp, tight spread, a price nobody vouches for.
      () => {
        const p = farPrice();
        view.setBigUint64(0, freshNs() / 1000n, true);
        view.setFloat64(8, p, true);
        view.setFloat64(16, p + 0.5, true);
        return LEGACY_LEN;
      },
      // Replayed or clock-shifted: a plausible price, its stamp 2 s to a day away from now.
      () => {
        const offMs = 2_000 + rnd.int(86_400_000);
        view.setBigUint64(0, BigInt(Date.now() + (rnd.int(2) === 0 ? offMs : -offMs)) * 1000n, true);
        view.setFloat64(8, chainlink.price, true);
        view.setFloat64(16, chainlink.price + 0.5, true);
        return LEGACY_LEN;
      },
      // Extended forgeries, unsealed with a far price, or sealed with a plausible price and a MAC made without the key.
      () => {
        const sealed = rnd.int(2) === 1;
        noise(0, EXTENDED_MAC_LEN);
        extendedHeader(sealed ? FLAG_MAC : 0);
        view.setUint16(6, 0, true);
        view.setBigUint64(8, 1_000_000_000_000n + BigInt(rnd.int(1_000_000)), true);
        const ts = freshNs();
        view.setBigUint64(16, ts, true);
        view.setBigUint64(32, ts, true);
        const p = sealed ? chainlink.price : farPrice();
        view.setFloat64(40, p, true);
        view.setFloat64(48, p + 0.5, true);
        view.setFloat64(56, 1, true);
        view.setFloat64(64, 1, true);
        return sealed ? EXTENDED_MAC_LEN : EXTENDED_LEN;
      },
    ];
    const decisionsBefore = s.engine.latency.sourceToDecision[relaySource]!.count;
    let sent = 0;
    // Longer than any frame: truncated or oversized datagrams, from an ordinary socket.
    const [host, port] = [relay.address.slice(0, relay.address.lastIndexOf(':')), Number(relay.address.slice(relay.address.lastIndexOf(':') + 1))];
    for (const len of [89, 100, 127, 128, 129, 300, 1400]) {
      await new Promise<void>((ok, fail) => junk.send(Buffer.alloc(len, 0x5a), port, host, (e) => (e ? fail(e) : ok())));
      sent++;
    }
    while (sent < TOTAL) {
      const burst = Math.min(BURST, TOTAL - sent);
      for (let i = 0; i < burst; i++) {
        const len = shapes[(sent + i) % shapes.length]!();
        assert.equal(raw.sendRaw(buf.subarray(0, len)), len);
      }
      sent += burst;
      await until(`the receiver has counted ${sent} datagrams`, () => (relayCounted(relay) === sent ? true : undefined), 30_000, 2);
    }
    assert.equal(raw.errors, 0);
    assert.equal(relay.stats[RelayStat.ringDrops], 0);
    assert.equal(relay.stats[RelayStat.recvErrors], 0);
    // The forgeries that pass the receive thread (fresh, tidy, unsealed) reach the engine, which refuses each by its band.
    const passed = relay.stats[RelayStat.packets]!;
    await until('the engine has judged every forwarded price', () => (relaySeries.rejectedBand + relaySeries.rejectedUnvouched === passed ? true : undefined));
    const by: Record<string, number> = { band: relaySeries.rejectedBand, unvouched: relaySeries.rejectedUnvouched };
    for (const [reason, slot] of RELAY_REJECT_REASONS) by[reason] = relay.stats[slot]!;
    assert.equal(Object.values(by).reduce((a, b) => a + b, 0), TOTAL, `every datagram counted under one reason: ${JSON.stringify(by)}`);
    for (const reason of ['malformed', 'mac', 'value', 'skew', 'band']) assert.ok(by[reason]! > 0, `${reason} was exercised: ${JSON.stringify(by)}`);
    assert.deepEqual([relaySeries.updates, relaySeries.wins], [0, 0], 'no relay price reached fusion');
    assert.equal(s.engine.latency.sourceToDecision[relaySource]!.count, decisionsBefore, 'no decision was triggered by the relay');
    const control = /control plane on (http:\/\/[\d.]+:\d+)/.exec(logs.join('\n'))?.[1];
    assert.ok(control, 'the control plane is up');
    const text = await (await fetch(`${control}/metrics`)).text();
    let published = 0;
    for (const reason of Object.keys(by)) published += sample(text, 'polyedge_relay_rejected_total', { reason }) ?? NaN;
    assert.equal(published, TOTAL, '/metrics publishes the same counts');

    // Genuine frames a few cents from the reference: unsealed, sealed with the key, and legacy; all are accepted and win.
    const plain = new PacketSender(relay.address, 'extended');
    const sealed = new PacketSender(relay.address, 'extended', undefined, KEY_VAR);
    const legacy = new PacketSender(relay.address, 'legacy');
    senders.push(plain, sealed, legacy);
    let seq = 2_000_000_000_000;
    const GENUINE = 60;
    for (let i = 0; i < GENUINE; i++) {
      const sender = [plain, sealed, legacy][i % 3]!;
      const ref = chainlink.price;
      sender.fields[F_SEQ] = ++seq;
      sender.fields[F_EXCHANGE_TS_NS] = Date.now() * 1e6;
      sender.fields[F_BID] = ref - 0.25 + (i % 5) * 0.01;
      sender.fields[F_ASK] = ref + 0.25 + (i % 5) * 0.01;
      assert.ok(sender.send() > 0);
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(sealed.packet.length >= EXTENDED_MAC_LEN && (sealed.packet[5]! & FLAG_MAC) !== 0, true, 'the sealed sender set the MAC flag');
    await until('every genuine frame reached fusion', () => (relaySeries.updates === GENUINE ? true : undefined));
    assert.ok(relaySeries.wins > 0, 'and won under policy first');
    assert.equal(relay.stats[RelayStat.packets], passed + GENUINE);
    assert.equal(relaySeries.rejectedBand + relaySeries.rejectedUnvouched, passed, 'none of them was refused');
  } finally {
    junk.close();
    for (const x of senders) x.close();
    await s.stop();
    delete process.env[KEY_VAR];
    rmSync(dir, { recursive: true, force: true });
  }
});
