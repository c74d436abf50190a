// Worker side of bench/relay.ts: the conventional receive path. A node:dgram
// socket in this worker receives each packet on the worker's event loop and
// forwards its bytes to the main thread with postMessage.
import { createSocket } from 'node:dgram';
import { isMainThread, parentPort } from 'node:worker_threads';

function dgramForward(): void {
  const port = parentPort!;
  const sock = createSocket('udp4');
  sock.on('message', (msg: Buffer) => port.postMessage(msg));
  port.on('message', (m: unknown) => {
    if (m === 'stop') {
      sock.close();
      port.close();
    }
  });
  sock.bind(0, '127.0.0.1', () => port.postMessage({ port: sock.address().port }));
}

if (!isMainThread) dgramForward();
