import { anchor, defineGroup, type EntryContext, type EntryPlan, srv } from '../registry.js';

async function srvTcp(
  ctx: EntryContext,
  mode: 'async' | 'threading' | 'forking',
  handler: string,
  workers: number,
): Promise<EntryPlan> {
  await ctx.requireExports('@srv/core', ['TCPServer', 'StreamRequestHandler']);
  if (mode === 'threading') await ctx.requireExports('@srv/concurrency', ['threading']);
  if (mode === 'forking') await ctx.requireExports('@srv/concurrency', ['forking']);
  const noun = mode === 'threading' ? ['thread', 'threads'] : ['child', 'children'];
  return {
    server: ctx.node('srv-tcp.mjs', { MODE: mode, HANDLER: handler, WORKERS: String(workers) }),
    ...(mode === 'async' ? {} : { note: `${workers} warm ${noun[workers === 1 ? 0 : 1]}` }),
  };
}

const workers = 4;

/**
 * Connection hand-off: one line in, `hello` out, one connection each, 50 at once. Forking hands each
 * accepted socket to a child over IPC; node:cluster's round-robin primary does the same; async is the
 * in-process floor.
 */
export const handoff = defineGroup({
  id: 'handoff',
  title: `connection hand-off, one request per connection, c=50, ${workers} workers`,
  load: { kind: 'tcp-oneshot', send: 'hi\n', connections: 50 },
  metric: 'rps',
  extra: ['p50Ms', 'p99Ms'],
  entries: [
    srv('srv-forking', 'srv forking()', (ctx) => srvTcp(ctx, 'forking', 'HelloHandler', workers), {
      memory: 'idle',
    }),
    srv('srv-threading', 'srv threading()', (ctx) => srvTcp(ctx, 'threading', 'HelloHandler', workers), {
      memory: 'idle',
    }),
    srv('srv-async', 'srv async (in-process)', (ctx) => srvTcp(ctx, 'async', 'HelloHandler', workers), {
      memory: 'idle',
    }),
    anchor('node-cluster', 'node:cluster round-robin', (ctx) => ({
      server: ctx.node('node-cluster.mjs', { HANDLER: 'HelloHandler', WORKERS: String(workers) }),
      note: `${workers} workers, SCHED_RR, raw node:net`,
    })),
    // Not a goal's anchor: node's own hand-off with srv's handler path in the workers, which splits the
    // gap to the row above into the workers' handler path and srv's hand-off.
    anchor('node-cluster-srv', 'node:cluster round-robin, srv workers', async (ctx) => {
      await ctx.requireExports('@srv/core', ['TCPServer', 'StreamRequestHandler']);
      return {
        server: ctx.node('node-cluster.mjs', {
          HANDLER: 'HelloHandler',
          WORKERS: String(workers),
          WORKER_KIND: 'srv',
        }),
        note: `${workers} workers, SCHED_RR, each a @srv/core TCPServer with the same handler`,
      };
    }),
  ],
  ratios: [
    { of: 'srv-forking', to: 'node-cluster', goal: { min: 0.8 } },
    { of: 'node-cluster-srv', to: 'node-cluster' },
    { of: 'srv-forking', to: 'node-cluster-srv' },
    { of: 'srv-forking', to: 'srv-async' },
    { of: 'srv-threading', to: 'srv-async' },
  ],
});

/** Round-trip latency of a 64 B line over one persistent connection: the threading relay's cost. */
export const relayLatency = defineGroup({
  id: 'relay-latency',
  title: '64 B echo round trip, one persistent connection',
  load: { kind: 'tcp-echo', size: 64, connections: 1 },
  metric: 'p50Ms',
  extra: ['p99Ms', 'rps'],
  entries: [
    srv('srv-threading', 'srv threading() relay', (ctx) => srvTcp(ctx, 'threading', 'EchoHandler', 1)),
    srv('srv-forking', 'srv forking()', (ctx) => srvTcp(ctx, 'forking', 'EchoHandler', 1)),
    srv('srv-async', 'srv async (in-process)', (ctx) => srvTcp(ctx, 'async', 'EchoHandler', 1)),
    anchor('net-echo', 'raw node:net', (ctx) => ({ server: ctx.node('net-echo.mjs') })),
  ],
  ratios: [
    { of: 'srv-threading', to: 'srv-async', goal: { max: 2 } },
    { of: 'srv-async', to: 'net-echo' },
  ],
});

const blockers = 16;

/**
 * 16 connections at once whose handler blocks its thread for 1 s: with 16 warm workers the burst takes
 * about 1 s; in-process (async) it would take 16 s, so it is not run.
 */
export const blocking = defineGroup({
  id: 'blocking',
  title: `${blockers} requests that each block 1 s, ${blockers} warm workers`,
  load: { kind: 'tcp-burst', send: 'go\n', count: blockers },
  metric: 'seconds',
  entries: [
    srv('srv-threading', 'srv threading()', (ctx) => srvTcp(ctx, 'threading', 'BlockingHandler', blockers)),
    srv('srv-forking', 'srv forking()', (ctx) => srvTcp(ctx, 'forking', 'BlockingHandler', blockers)),
    anchor('node-cluster', 'node:cluster round-robin', (ctx) => ({
      server: ctx.node('node-cluster.mjs', { HANDLER: 'BlockingHandler', WORKERS: String(blockers) }),
    })),
  ],
  goals: [
    { entry: 'srv-threading', max: 1.3 },
    { entry: 'srv-forking', max: 1.3 },
  ],
});
