// Two hosts on one machine: network namespaces joined by a veth pair on a
// private /30. The sender (fed by its in-process venue simulator) runs in one,
// the receiver in the other, each as `ip netns exec NS node main.js relay ...`.
// Every packet must arrive intact and in order, with zero loss on the clean
// link; garbage sent from the sender's namespace must be counted and dropped;
// both processes must stop by themselves. Needs root; the namespaces and the
// veth pair get names unique to this run and are removed in `finally`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { exitsByItself, runCli, stoppedSummary, type CliRun } from './relay-cli.fixture.js';

const GARBAGE = fileURLToPath(new URL('./garbage.fixture.js', import.meta.url));
const isRoot = process.getuid?.() === 0;

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.error?.message ?? r.stderr.trim()}`);
}

interface SentLine {
  seq: number;
  ts_micros: number;
  bid: number;
  ask: number;
  bytes: number;
}

interface RecvLine {
  ts_micros: number;
  bid: number;
  ask: number;
  seq?: number;
  latency_us: number;
}

test(
  'two namespaces over veth: every packet intact and in order, no loss, garbage rejected, both ends stop',
  { skip: isRoot ? false : 'needs root to create network namespaces (process.getuid() !== 0); run as root to include it' },
  async () => {
    const N = 300;
    const id = randomBytes(3).toString('hex');
    const nsSend = `pe-relay-${id}-s`;
    const nsRecv = `pe-relay-${id}-r`;
    // Interface names are limited to 15 bytes.
    const vethSend = `pes${id}`;
    const vethRecv = `per${id}`;
    const sendAddr = '10.203.0.1';
    const recvAddr = '10.203.0.2';
    const port = 9100;
    const made: string[] = [];
    const runs: CliRun[] = [];
    try {
      for (const ns of [nsSend, nsRecv]) {
        ip('netns', 'add', ns);
        made.push(ns);
      }
      ip('link', 'add', vethSend, 'type', 'veth', 'peer', 'name', vethRecv);
      ip('link', 'set', vethSend, 'netns', nsSend);
      ip('link', 'set', vethRecv, 'netns', nsRecv);
      ip('-n', nsSend, 'addr', 'add', `${sendAddr}/30`, 'dev', vethSend);
      ip('-n', nsRecv, 'addr', 'add', `${recvAddr}/30`, 'dev', vethRecv);
      for (const [ns, dev] of [[nsSend, vethSend], [nsRecv, vethRecv]] as const) {
        ip('-n', ns, 'link', 'set', dev, 'up');
        // The sender's simulator listens on loopback inside its namespace.
        ip('-n', ns, 'link', 'set', 'lo', 'up');
      }

      // A non-loopback bind must name its senders; the sender's address is the only one.
      const recv = runCli(['relay', 'recv', '--bind', `${recvAddr}:${port}`, '--allow', sendAddr, '--json', '--count', String(N), '--cpu', '1'], nsRecv);
      runs.push(recv);
      await recv.stderrLine(/listening on /);

      const garbage = spawnSync('ip', ['netns', 'exec', nsSend, process.execPath, GARBAGE, recvAddr, String(port)], { encoding: 'utf8' });
      assert.equal(garbage.status, 0, garbage.stderr);
      const garbageSent = Number(garbage.stdout.trim());
      assert.ok(garbageSent > 0);

      const send = runCli(['relay', 'send', '--source', 'sim', '--sim-speed', '4', '--frame', 'extended', '--target', `${recvAddr}:${port}`, '--count', String(N), '--json'], nsSend);
      runs.push(send);
      assert.equal(await exitsByItself(send, 'relay send'), 0, send.stderr.join('\n'));
      assert.equal(await exitsByItself(recv, 'relay recv'), 0, recv.stderr.join('\n'));

      assert.match(send.stderr.join('\n'), new RegExp(`extended packets from ${sendAddr.replace(/\./g, '\\.')}:\\d+ to ${recvAddr.replace(/\./g, '\\.')}:${port}`));
      const sent = send.stdout.map((l) => JSON.parse(l) as SentLine);
      const got = recv.stdout.map((l) => JSON.parse(l) as RecvLine);
      assert.equal(sent.length, N);
      assert.equal(got.length, N);
      for (let i = 0; i < N; i++) {
        const s = sent[i]!;
        const g = got[i]!;
        assert.equal(s.seq, i + 1);
        assert.equal(s.bytes, 72);
        assert.deepEqual([g.seq, g.ts_micros, g.bid, g.ask], [s.seq, s.ts_micros, s.bid, s.ask], `packet ${i + 1}`);
        assert.equal(typeof g.latency_us, 'number');
      }
      const summary = stoppedSummary(recv);
      assert.equal(summary.packets, N);
      assert.equal(summary.lost, 0, 'no loss on the clean link');
      assert.equal(summary.late, 0);
      assert.equal(summary.last_seq, N);
      // Not a packet at all (garbage), or a well-formed one with a NaN or negative price (refused by the value gate).
      const rejected = summary.rejected as Record<string, number>;
      assert.deepEqual([summary.garbage, rejected.value], [garbageSent - 2, 2], 'every garbage datagram counted and dropped');
      assert.equal(Object.values(rejected).reduce((x, y) => x + y, 0), garbageSent, 'by one reason each');
      assert.equal(summary.foreign, 0, 'the allowed sender is never counted as foreign');
      assert.equal(stoppedSummary(send).send_errors, 0);
    } finally {
      for (const r of runs) r.kill();
      // Deleting a namespace deletes the veth end inside it, and with it the pair.
      for (const ns of made) spawnSync('ip', ['netns', 'del', ns]);
    }
  },
);
