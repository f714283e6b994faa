// node:cluster round-robin with $WORKERS workers, each a raw node:net server doing the $HANDLER work
// of handlers.mjs (HelloHandler: line in, `hello` out; BlockingHandler: the same after a 1 s block).
import cluster from 'node:cluster';
import net from 'node:net';

cluster.schedulingPolicy = cluster.SCHED_RR;
const workers = Number(process.env.WORKERS ?? 4);
const blocking = process.env.HANDLER === 'BlockingHandler';
const sleeper = new Int32Array(new SharedArrayBuffer(4));

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i += 1) cluster.fork();
  process.once('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
    process.exit(0);
  });
} else {
  net
    .createServer((socket) => {
      let buffered = '';
      socket.on('error', () => {});
      socket.on('data', (chunk) => {
        buffered += chunk;
        if (!buffered.includes('\n')) return;
        socket.removeAllListeners('data');
        if (blocking) Atomics.wait(sleeper, 0, 0, Number(process.env.BLOCK_MS ?? 1000));
        socket.end(blocking ? 'done\n' : 'hello\n');
      });
    })
    .listen(Number(process.env.PORT), '127.0.0.1');
}
