import { existsSync } from 'node:fs';
import path from 'node:path';
import { benchDir } from '../load.js';
import { anchor, defineGroup, type EntryContext, type EntryPlan, type LoadSpec, srv } from '../registry.js';

/** apps/demo, the `srv-demo` command (a private app: reached by path, not as a dependency). */
const demoDir = path.resolve(benchDir, '..', 'apps', 'demo');

function requireDemo(ctx: EntryContext, file: string): string {
  const cli = path.join(demoDir, 'bin', 'srv-demo.js');
  if (!existsSync(cli)) ctx.skip('apps/demo is missing');
  const built = path.join(demoDir, 'dist', file);
  if (!existsSync(built)) ctx.skip(`apps/demo is not built (dist/${file} missing)`);
  return cli;
}

/**
 * `srv-demo <name> --port P --bind 127.0.0.1`, logging as it does (an access line per request, and the
 * threading and forking servers' `Handling with …` line). Measured from its `Serving HTTP on` banner,
 * printed once the server (and its pool's minimum) is ready.
 */
export async function srvDemo(
  ctx: EntryContext,
  name: 'pages' | 'threading' | 'forking' | 'static-threading',
  extra: string[] = [],
): Promise<EntryPlan> {
  const cli = requireDemo(ctx, `servers/${name}.js`);
  requireDemo(ctx, 'cli.js');
  await ctx.requireExports('@srv/http', ['HTTPServer']);
  return {
    server: {
      command: process.execPath,
      args: [cli, name, '--port', String(ctx.port), '--bind', '127.0.0.1', ...extra],
    },
    readyLine: /^Serving HTTP on /,
  };
}

/** The tutorial's own Python code (bench/servers/tutorial/<name>.py), ported to Python 3 only. */
async function tutorialPython(
  ctx: EntryContext,
  name: 'pages' | 'threading' | 'forking',
): Promise<EntryPlan> {
  const python = await ctx.requireCommand('python3', 'Debian python3');
  return { server: { command: python, args: [ctx.script(`tutorial/${name}.py`)] } };
}

/**
 * The page of `srv-demo pages` (route `/`), one connection per request as the tutorial's HTTP/1.0
 * servers answer, 50 clients at once: the demo's serial, threading and forking servers beside the same
 * handler on the async dispatcher, and the tutorial's own Python servers as context. Every row logs an
 * access line per request (to a pipe the harness reads), as the tutorial's servers do. The forking
 * server is started right before its first round, with no warm-up: that round alone is what a user
 * sees after starting it, and has a goal of its own.
 */
export const pages = defineGroup({
  id: 'pages',
  title: "the tutorial's pages server (route /), one connection per request, c=50",
  load: { kind: 'http', path: '/', connections: 50, close: true },
  metric: 'rps',
  extra: ['p50Ms', 'p99Ms'],
  entries: [
    srv('demo-pages', 'srv-demo pages (serial)', (ctx) => srvDemo(ctx, 'pages')),
    srv('pages-async', 'pages handler, async dispatcher', async (ctx) => {
      requireDemo(ctx, 'servers/pages.js');
      const handler = path.join(demoDir, 'dist', 'servers', 'pages.js');
      await ctx.requireExports('@srv/http', ['HTTPServer']);
      return {
        server: ctx.node('srv-demo-pages-async.mjs', { DEMO_PAGES: handler }),
        readyLine: /^ready$/,
        note: "srv-demo pages' PagesRequestHandler on HTTPServer({ dispatcher: 'async' }), access log on",
      };
    }),
    srv('demo-threading', 'srv-demo threading', async (ctx) => ({
      ...(await srvDemo(ctx, 'threading')),
      note: 'ThreadingMixIn(HTTPServer), minThreads 4 (the demo’s)',
    })),
    srv('demo-forking', 'srv-demo forking (started fresh)', async (ctx) => ({
      ...(await srvDemo(ctx, 'forking')),
      fresh: 'first-round',
      note: 'ForkingMixIn(HTTPServer), minChildren 4 (the demo’s); started right before its first round, no warm-up',
    })),
    // Not a goal's anchor: the hand-off of srv-demo forking done with nothing of srv (4 children forked in
    // advance, sockets sent over IPC, node:http in the children), so the forking ratio can be split into
    // what Node's hand-off costs and what srv adds.
    anchor('node-fork-pool', 'raw node: 4 children, sockets handed over IPC', (ctx) => ({
      server: ctx.node('node-fork-pool.mjs', { WORKERS: '4' }),
      note: 'child_process.fork × 4 in advance; accept paused, send(handle) to an idle child; node:http there; no access log',
    })),
    // Not a goal's anchor: srv-demo threading's shape done with nothing of srv (node:http in the main
    // thread, the parsed head posted to a free worker of 4, its structured answer written back there;
    // the same two log lines per request), so the threading ratio can be split into what threads on
    // Node cost and what srv adds.
    anchor('node-thread-pool', 'raw node: node:http + 4 worker threads, structured messages', (ctx) => ({
      server: ctx.node('node-thread-pool.mjs', { PAGE: 'pages', WORKERS: '4', LOG: '1' }),
      readyLine: /^ready$/,
      note: 'node:http in the main thread; {method,url,headers} posted to a free worker of 4 (the demo’s minThreads), {status,headers,body} posted back and written there; the worker console.logs its Handling line, the main thread writes an access line',
    })),
    anchor('python-pages', "tutorial's Python HTTPServer", (ctx) => tutorialPython(ctx, 'pages')),
    anchor('python-threading', "tutorial's Python ThreadingMixIn", (ctx) => tutorialPython(ctx, 'threading')),
    anchor('python-forking', "tutorial's Python ForkingMixIn", (ctx) => tutorialPython(ctx, 'forking')),
  ],
  ratios: [
    { of: 'demo-pages', to: 'pages-async', goal: { min: 0.9 } },
    { of: 'demo-forking', to: 'pages-async', goal: { min: 0.4 } },
    { of: 'demo-forking', to: 'pages-async', round: 'first', goal: { min: 0.4 } },
    { of: 'demo-threading', to: 'pages-async', goal: { min: 0.7 } },
    { of: 'node-thread-pool', to: 'pages-async' },
    { of: 'demo-threading', to: 'node-thread-pool' },
    { of: 'node-fork-pool', to: 'pages-async' },
    { of: 'demo-forking', to: 'node-fork-pool' },
    { of: 'demo-pages', to: 'python-pages' },
    { of: 'demo-threading', to: 'python-threading' },
    { of: 'demo-forking', to: 'python-forking' },
  ],
});

const silentCount = 200;
const timedRequests = 20;
/** A request head that never ends: a request line and one header, no blank line. */
const unfinishedHead = 'GET / HTTP/1.1\r\nHost: x\r\n';
const held: LoadSpec = {
  kind: 'held',
  hold: silentCount,
  holdSend: unfinishedHead,
  requests: timedRequests,
  path: '/',
};
const probes: LoadSpec = { ...held, holdSend: null };
const demoNames = ['pages', 'threading', 'forking'] as const;

/**
 * 200 connections that never finish their request head stay open against the demo's serial,
 * threading and forking servers; then 20 normal GETs, one after another, each timed. A connection whose
 * request does not exist yet must cost no queue slot, thread or child. The same after 200
 * connect-and-leave probes (load balancers' health checks, port scanners, browsers' preconnects).
 * The tutorial's Python ThreadingMixIn server (a thread per connection) is context.
 */
export const silent = defineGroup({
  id: 'silent',
  title: `${timedRequests} GETs, one after another, with ${silentCount} unfinished request heads held open (or after ${silentCount} probes)`,
  load: held,
  metric: 'p95Ms',
  extra: ['p50Ms', 'maxMs'],
  entries: [
    ...demoNames.map((name) =>
      srv(`${name}-held`, `srv-demo ${name}, ${silentCount} unfinished heads`, (ctx) => srvDemo(ctx, name)),
    ),
    ...demoNames.map((name) =>
      srv(`${name}-probes`, `srv-demo ${name}, after ${silentCount} probes`, async (ctx) => ({
        ...(await srvDemo(ctx, name)),
        load: probes,
      })),
    ),
    anchor(
      'python-threading-held',
      `tutorial's Python ThreadingMixIn, ${silentCount} unfinished heads`,
      (ctx) => tutorialPython(ctx, 'threading'),
    ),
  ],
  goals: demoNames.flatMap((name) => [
    { entry: `${name}-held`, max: 100 },
    { entry: `${name}-probes`, max: 100 },
  ]),
});
