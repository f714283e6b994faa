import { anchor, defineGroup, type EntryContext, type EntryPlan, srv } from '../registry.js';

/**
 * srv-tcp.mjs on a dispatcher. `workers`: that many warm workers (minimum = maximum), or `default`: the
 * dispatcher's default pool, started fresh (`ready` printed once its minimum runs).
 */
async function srvTcp(
  ctx: EntryContext,
  mode: 'async' | 'threading' | 'forking',
  handler: string,
  workers: number | 'default',
  env: Record<string, string> = {},
): Promise<EntryPlan> {
  await ctx.requireExports('@srv/core', ['TCPServer', 'StreamRequestHandler']);
  if (mode === 'threading') await ctx.requireExports('@srv/concurrency', ['threading']);
  if (mode === 'forking') await ctx.requireExports('@srv/concurrency', ['forking']);
  const noun = mode === 'threading' ? ['thread', 'threads'] : ['child', 'children'];
  const pool =
    workers === 'default'
      ? mode === 'threading'
        ? 'default pool (2 threads, up to 64)'
        : 'default pool (2 children, up to 40)'
      : `${workers} warm ${noun[workers === 1 ? 0 : 1]}`;
  return {
    server: ctx.node('srv-tcp.mjs', { MODE: mode, HANDLER: handler, WORKERS: String(workers), ...env }),
    readyLine: /^ready$/,
    ...(mode === 'async' ? {} : { note: pool }),
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
 * 16 connections at once whose handler blocks its thread for 1 s, on the default pools (threading: 1
 * thread, forking: 2 children to start with), each round on a server started fresh (a round must not
 * find the workers the previous round grew): the pool must see that its workers stopped finishing and
 * start one per waiting request at once, so the burst takes about 1 s. In-process (async) it would take
 * 16 s, so it is not run. node:cluster, the anchor, runs 16 workers started in advance.
 */
export const blocking = defineGroup({
  id: 'blocking',
  title: `${blockers} requests that each block 1 s, default pools started fresh`,
  load: { kind: 'tcp-burst', send: 'go\n', count: blockers },
  metric: 'seconds',
  entries: [
    srv('srv-threading', 'srv threading() defaults', async (ctx) => ({
      ...(await srvTcp(ctx, 'threading', 'BlockingHandler', 'default')),
      fresh: 'every-round',
    })),
    srv('srv-forking', 'srv forking() defaults', async (ctx) => ({
      ...(await srvTcp(ctx, 'forking', 'BlockingHandler', 'default')),
      fresh: 'every-round',
    })),
    anchor('node-cluster', 'node:cluster round-robin', (ctx) => ({
      server: ctx.node('node-cluster.mjs', { HANDLER: 'BlockingHandler', WORKERS: String(blockers) }),
      note: `${blockers} workers started in advance`,
    })),
    // What starting workers on demand costs in Node alone (Python's thread or process per request): the
    // floor under the srv rows, which start theirs when the pool sees them blocked.
    anchor('node-thread-per-request', 'raw node: a worker thread per connection', (ctx) => ({
      server: ctx.node('node-worker-per-request.mjs', { KIND: 'thread' }),
      fresh: 'every-round',
      note: 'new Worker() for each connection, nothing started in advance',
    })),
    anchor('node-process-per-request', 'raw node: a child process per connection', (ctx) => ({
      server: ctx.node('node-worker-per-request.mjs', { KIND: 'process' }),
      fresh: 'every-round',
      note: 'child_process.fork() for each connection, nothing started in advance',
    })),
  ],
  goals: [
    { entry: 'srv-threading', max: 1.3 },
    { entry: 'srv-forking', max: 1.3 },
  ],
});

const burst = 200;
/**
 * Each request of the burst blocks its worker this long: every waiting request stalls, so the pool
 * grows to its maximum; 200 × 0.5 s over 40 children is 2.5 s, well within the load generator's 10 s
 * limit per connection.
 */
const burstBlockMs = 500;
/** The pools' default idleTimeout (ms): grown workers beyond the minimum stop after it. */
const defaultIdleTimeout = 30_000;
/** --quick only: a short idleTimeout keeps the smoke run short (the report says so). */
const quickIdleTimeout = 2_000;

/** --quick only: a smaller burst (the pool still grows past its minimum and shrinks back). */
const quickBurst = 20;

function poolMemory(ctx: EntryContext, mode: 'threading' | 'forking', goalMB: number): Promise<EntryPlan> {
  const idleTimeout = ctx.quick ? quickIdleTimeout : defaultIdleTimeout;
  const count = ctx.quick ? quickBurst : burst;
  const env: Record<string, string> = { BLOCK_MS: String(burstBlockMs) };
  if (ctx.quick) env.IDLE_TIMEOUT = String(idleTimeout);
  return srvTcp(ctx, mode, 'BlockingHandler', 'default', env).then((plan) => ({
    ...plan,
    fresh: 'every-round',
    note: `${plan.note}, idleTimeout ${idleTimeout / 1000} s${ctx.quick ? ` (shortened in --quick, burst ${count})` : ' (the default)'}`,
    ...(ctx.quick ? { load: { kind: 'tcp-burst', send: 'go\n', count } } : {}),
    memory: {
      idleGoalMB: goalMB,
      burst: {
        label: `${count} requests blocking ${burstBlockMs / 1000} s at once`,
        load: { kind: 'tcp-burst', send: 'go\n', count },
        withinSeconds: idleTimeout / 1000 + 5,
      },
    },
  }));
}

/**
 * Memory of the default pools (PSS of the whole process tree): idle with their default minimum, at the
 * peak of a burst of 200 requests that each block 0.5 s (every waiting request gets a worker, up to
 * the maximum), and back under the idle goal within idleTimeout + 5 s of the burst's end. The group's
 * figure is the burst's duration on a fresh server (200 × 0.5 s over at most 40 children or 64 threads).
 */
export const poolMemoryGroup = defineGroup({
  id: 'pool-memory',
  title: `${burst} requests that each block ${burstBlockMs / 1000} s on default pools: burst time, and memory before, during and after`,
  load: { kind: 'tcp-burst', send: 'go\n', count: burst },
  metric: 'seconds',
  entries: [
    srv('srv-forking', 'srv forking() defaults', (ctx) => poolMemory(ctx, 'forking', 100), {
      memory: 'idle',
    }),
    srv('srv-threading', 'srv threading() defaults', (ctx) => poolMemory(ctx, 'threading', 80), {
      memory: 'idle',
    }),
  ],
});
