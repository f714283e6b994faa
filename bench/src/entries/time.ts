import { anchor, defineGroup, srv } from '../registry.js';

/**
 * The tutorial's time protocol, one `seconds` query per connection (connect, send the line, read until
 * the server closes), 50 at once: `srv-time serve` beside the same protocol on raw `node:net` and the
 * tutorial's own Python server (ThreadingMixIn TCPServer, ported to Python 3).
 */
export const timeOneshot = defineGroup({
  id: 'time',
  title: 'time protocol, one-shot `seconds` queries, c=50',
  load: { kind: 'tcp-oneshot', send: 'seconds\n', connections: 50 },
  metric: 'rps',
  extra: ['p50Ms', 'p99Ms'],
  entries: [
    srv(
      'srv-time',
      'srv-time serve (async)',
      async (ctx) => {
        const bin = await ctx.requireBin('@srv/timeproto', 'srv-time');
        return {
          server: {
            command: process.execPath,
            args: [bin, 'serve', String(ctx.port), '-b', '127.0.0.1', '--quiet'],
          },
          note: '--quiet: no per-connection log line (the raw net anchor logs none either)',
        };
      },
      { memory: 'idle' },
    ),
    anchor('net-time', 'raw node:net', (ctx) => ({ server: ctx.node('net-time.mjs') })),
    anchor('python-time', "tutorial's Python TimeServer", async (ctx) => {
      const python = await ctx.requireCommand('python3', 'Debian python3');
      return {
        server: {
          command: python,
          args: [ctx.script('python-time.py')],
          env: { PORT: String(ctx.port) },
        },
      };
    }),
  ],
  ratios: [
    { of: 'srv-time', to: 'net-time', goal: { min: 0.9 } },
    // Context, not a goal: Python's speed moves with the machine, and raw Node's ratio to it too.
    { of: 'srv-time', to: 'python-time' },
  ],
});
