// node:cluster round-robin with $WORKERS workers, each a raw node:net server doing the $HANDLER work
// of handlers.mjs (HelloHandler: line in, `hello` out; BlockingHandler: the same after a 1 s block).
// With WORKER_KIND=srv each worker is instead a @srv/core TCPServer running that handler class: node's
// own hand-off with srv's handler path, which splits the hand-off bench into its two costs.
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
} else if (process.env.WORKER_KIND === 'srv') {
  const { silentLogger, TCPServer } = await import('@srv/core');
  const handlers = await import('./handlers.mjs');
  const Handler = handlers[process.env.HANDLER ?? 'HelloHandler'];
  const server = new TCPServer(['127.0.0.1', Number(process.env.PORT)], Handler, { logger: silentLogger });
  await server.serveForever();
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
