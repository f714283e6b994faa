// Raw node, Python's ThreadingMixIn / ForkingMixIn shape: a new worker thread (KIND=thread) or child
// process (KIND=process) started for each connection, which blocks $BLOCK_MS (1000) and answers
// `done`. Nothing is started in advance: what starting workers on demand costs in Node by itself.
import { fork } from 'node:child_process';
import net from 'node:net';
import { Worker } from 'node:worker_threads';

const block = Number(process.env.BLOCK_MS ?? 1000);
const work = `Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${block});`;

if (process.argv[2] === 'child') {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, block);
  process.send?.('done', () => process.exit(0));
} else {
  const runElsewhere = () =>
    new Promise((resolve) => {
      if (process.env.KIND === 'process') {
        const child = fork(new URL(import.meta.url).pathname, ['child']);
        child.once('message', () => resolve());
        child.once('exit', () => resolve());
      } else {
        const worker = new Worker(`${work} require('node:worker_threads').parentPort.postMessage(1);`, {
          eval: true,
        });
        worker.once('message', () => {
          resolve();
          void worker.terminate();
        });
      }
    });
  // The load generator half-closes after its line: answer anyway.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    socket.once('data', () => {
      void runElsewhere().then(() => socket.end('done\n'));
    });
  });
  server.listen(Number(process.env.PORT), '127.0.0.1');
  process.once('SIGTERM', () => process.exit(0));
}
