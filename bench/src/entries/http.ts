import { anchor, defineGroup, srv } from '../registry.js';

/** Keeps idle connections open through the memory measurement (servers that read it). */
const keepAlive = { KEEPALIVE_MS: '120000' };

/**
 * Hello world over keep-alive connections, 50 at once: @srv/http's HTTPServer (and its
 * ThreadingHTTPServer) beside raw node:http (the ceiling), fastify, and Python's ThreadingHTTPServer
 * (HTTP/1.1, no access log).
 */
export const httpHello = defineGroup({
  id: 'http-hello',
  title: 'HTTP hello world, keep-alive, c=50',
  load: { kind: 'http', path: '/', connections: 50 },
  metric: 'rps',
  extra: ['p50Ms', 'p99Ms'],
  entries: [
    srv(
      'srv-http',
      '@srv/http HTTPServer',
      async (ctx) => {
        await ctx.requireExports('@srv/http', ['HTTPServer', 'BaseHTTPRequestHandler']);
        return { server: ctx.node('srv-http-hello.mjs', keepAlive), note: 'quiet: no access log' };
      },
      { memory: true },
    ),
    srv('srv-http-threading', '@srv/http ThreadingHTTPServer', async (ctx) => {
      await ctx.requireExports('@srv/http', ['ThreadingHTTPServer', 'BaseHTTPRequestHandler']);
      return {
        server: ctx.node('srv-http-hello.mjs', { CLASS: 'ThreadingHTTPServer' }),
        note: 'connections parsed in the main thread, each request to a free worker thread (default pool: 2 warm, up to 64); quiet',
        // Threads start as connections arrive: 50 at once take seconds before the first answers.
        warmup: 3,
      };
    }),
    // Not a goal's anchor: what threads on Node reach here with nothing of srv (node:http parsing in the
    // main thread, the parsed head posted to a free worker of 2, its structured answer written back).
    anchor('node-thread-pool', 'raw node: node:http + 2 worker threads, structured messages', (ctx) => ({
      server: ctx.node('node-thread-pool.mjs', { PAGE: 'hello', WORKERS: '2' }),
      readyLine: /^ready$/,
      note: 'node:http in the main thread; {method,url,headers} posted to a free worker (2, srv’s default minThreads), {status,headers,body} posted back and written there',
    })),
    anchor('node-http', 'raw node:http', (ctx) => ({ server: ctx.node('node-http-hello.mjs', keepAlive) }), {
      memory: true,
    }),
    anchor('fastify', 'fastify', (ctx) => ({ server: ctx.node('fastify-hello.mjs') })),
    anchor('python-http', 'Python ThreadingHTTPServer', async (ctx) => {
      const python = await ctx.requireCommand('python3', 'Debian python3');
      return { server: { command: python, args: [ctx.script('python-http-hello.py')] } };
    }),
  ],
  ratios: [
    { of: 'srv-http', to: 'node-http', goal: { min: 0.95 } },
    // Context, not a goal: Python's speed moves with the machine, and raw Node's ratio to it too.
    { of: 'srv-http', to: 'python-http' },
    { of: 'srv-http-threading', to: 'python-http' },
    { of: 'srv-http-threading', to: 'srv-http', goal: { min: 0.4 } },
    // Context: the substrate's own ratio, and srv's threading path against it.
    { of: 'node-thread-pool', to: 'srv-http' },
    { of: 'srv-http-threading', to: 'node-thread-pool' },
    { of: 'fastify', to: 'node-http' },
  ],
});
