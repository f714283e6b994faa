// node:cluster round-robin with $WORKERS workers, each a @srv/core TCPServer running the $HANDLER class of
// handlers.mjs: node's own hand-off with srv's handler path in the workers. Beside node-cluster.mjs (raw
// node:net workers) and srv's forking() it splits the hand-off bench in two: what the workers' handler
// path costs, and what srv's hand-off costs.
import cluster from 'node:cluster';
import { silentLogger, TCPServer } from '@srv/core';

cluster.schedulingPolicy = cluster.SCHED_RR;
const workers = Number(process.env.WORKERS ?? 4);

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i += 1) cluster.fork();
  process.once('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
    process.exit(0);
  });
} else {
  const handlers = await import('./handlers.mjs');
  const Handler = handlers[process.env.HANDLER ?? 'HelloHandler'];
  const server = new TCPServer(['127.0.0.1', Number(process.env.PORT)], Handler, { logger: silentLogger });
  await server.serveForever();
}
