import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { anchor, defineGroup, type EntryDef, type GroupContext, srv } from '../registry.js';
import { srvDemo } from './tutorial.js';

const mib = 1024 * 1024;

async function prepare(ctx: GroupContext, large: boolean): Promise<void> {
  await writeFile(path.join(ctx.dir, 'small.bin'), Buffer.alloc(1024, 'srv static bench\n'));
  if (!large) return;
  // Repeated blocks: the bytes do not matter (nothing compresses on the fly), only their number.
  const block = Buffer.alloc(mib, 'srv large file\n');
  await writeFile(
    path.join(ctx.dir, 'large.bin'),
    (function* () {
      for (let i = 0; i < 100; i += 1) yield block;
    })(),
  );
}

function nginxConfig(tmp: string, dir: string, port: number): string {
  return `worker_processes 1;
daemon off;
pid ${tmp}/nginx.pid;
error_log ${tmp}/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:${port};
    root ${dir};
  }
}
`;
}

/** The same rows for both file sizes (the small file adds the stat-per-request ceiling). */
function entries(small: boolean): EntryDef[] {
  return [
    srv(
      'srv-static',
      'srv-static',
      async (ctx) => {
        const bin = await ctx.requireBin('@srv/static', 'srv-static');
        return {
          server: {
            command: process.execPath,
            args: [bin, String(ctx.port), '-b', '127.0.0.1', '-d', ctx.dir, '--quiet'],
          },
          note: '--quiet',
        };
      },
      { memory: small },
    ),
    anchor('node-memory', 'raw node:http from memory', (ctx) => ({
      server: ctx.node('node-static-memory.mjs', { DIR: ctx.dir }),
    })),
    ...(small
      ? [
          anchor('node-memory-stat', 'raw node:http from memory + one stat per request', (ctx) => ({
            server: ctx.node('node-static-memory.mjs', { DIR: ctx.dir, STAT: '1' }),
            note: 'the cache check the issue asks for (bigint statSync), nothing else',
          })),
        ]
      : []),
    anchor('sirv', 'sirv', (ctx) => ({ server: ctx.node('sirv.mjs', { DIR: ctx.dir }) })),
    anchor('http-server', 'http-server', async (ctx) => {
      const bin = await ctx.requireBin('http-server', 'http-server');
      return {
        server: {
          command: process.execPath,
          args: [bin, ctx.dir, '-p', String(ctx.port), '-a', '127.0.0.1', '-s'],
        },
      };
    }),
    anchor('python-static', 'python3 -m http.server', async (ctx) => {
      const python = await ctx.requireCommand('python3', 'Debian python3');
      return {
        server: {
          command: python,
          args: ['-m', 'http.server', String(ctx.port), '-b', '127.0.0.1', '-d', ctx.dir],
        },
        note: 'HTTP/1.0 (a connection per request) and an access line per request, as shipped',
      };
    }),
    anchor('nginx', 'nginx', async (ctx) => {
      const nginx = await ctx.requireCommand('nginx', 'Debian nginx-light');
      const conf = path.join(ctx.tmp, 'nginx.conf');
      await writeFile(conf, nginxConfig(ctx.tmp, ctx.dir, ctx.port));
      return {
        server: { command: nginx, args: ['-p', ctx.tmp, '-e', path.join(ctx.tmp, 'error.log'), '-c', conf] },
        note: '1 worker, sendfile, access log off',
      };
    }),
  ];
}

/** A 1 KiB file, 50 connections: per-request overhead. */
export const staticSmall = defineGroup({
  id: 'static-small',
  title: 'static 1 KiB file, keep-alive, c=50',
  load: { kind: 'http', path: '/small.bin', connections: 50 },
  metric: 'rps',
  extra: ['p99Ms'],
  prepare: (ctx) => prepare(ctx, false),
  entries: entries(true),
  ratios: [
    // The goal's anchor does what srv-static must (one stat per request for the cache check).
    { of: 'srv-static', to: 'node-memory-stat', goal: { min: 0.8 } },
    { of: 'srv-static', to: 'sirv', goal: { min: 3 } },
    { of: 'node-memory-stat', to: 'node-memory' },
    { of: 'srv-static', to: 'node-memory' },
    { of: 'srv-static', to: 'nginx' },
    { of: 'srv-static', to: 'python-static' },
  ],
});

/** A 100 MB file, 4 connections: streaming throughput. */
export const staticLarge = defineGroup({
  id: 'static-large',
  title: 'static 100 MB file, keep-alive, c=4',
  load: { kind: 'http', path: '/large.bin', connections: 4 },
  metric: 'bytesPerSec',
  extra: ['rps'],
  prepare: (ctx) => prepare(ctx, true),
  entries: [
    ...entries(false),
    // Issue 18: the same directory served through worker threads (each request's body streams back
    // from a thread over the relay, with its credit window).
    srv('demo-static-threading', 'srv-demo static-threading', async (ctx) => ({
      ...(await srvDemo(ctx, 'static-threading', ['--directory', ctx.dir, '--quiet'])),
      note: 'SimpleHTTPRequestHandler on ThreadingHTTPServer; --quiet',
    })),
  ],
  ratios: [
    { of: 'srv-static', to: 'nginx', goal: { min: 0.9 } },
    { of: 'demo-static-threading', to: 'srv-static', goal: { min: 0.5 } },
    { of: 'python-static', to: 'nginx' },
    { of: 'sirv', to: 'nginx' },
    { of: 'srv-static', to: 'node-memory' },
  ],
});
