import { readFileSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { anchor, defineGroup, srv } from '../registry.js';

const script = "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\nHello World\\n'\n";

/** Scripts run as `nobody` when the server runs as root (srv-cgi and Python both do): so does the ceiling. */
function nobody(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((candidate) => candidate.startsWith('nobody:'));
    const fields = line?.split(':');
    if (!fields) return undefined;
    return { uid: Number(fields[2]), gid: Number(fields[3]) };
  } catch {
    return undefined;
  }
}

/**
 * A `hello.sh` CGI script, 8 requests at once: srv's CGI host beside `python3 -m http.server --cgi` and
 * the bare rate at which Node can spawn the same script (the ceiling of any CGI host).
 */
export const cgiHello = defineGroup({
  id: 'cgi',
  title: 'CGI hello.sh, c=8',
  load: { kind: 'http', path: '/cgi-bin/hello.sh', connections: 8 },
  metric: 'rps',
  extra: ['p99Ms'],
  async prepare(ctx) {
    await mkdir(path.join(ctx.dir, 'cgi-bin'));
    const file = path.join(ctx.dir, 'cgi-bin', 'hello.sh');
    await writeFile(file, script);
    await chmod(path.join(ctx.dir, 'cgi-bin'), 0o755);
    await chmod(file, 0o755);
  },
  entries: [
    srv(
      'srv-cgi',
      'srv-cgi',
      async (ctx) => {
        const bin = await ctx.requireBin('@srv/cgi', 'srv-cgi');
        return {
          server: {
            command: process.execPath,
            args: [bin, String(ctx.port), '-b', '127.0.0.1', '-d', ctx.dir, '--quiet'],
          },
        };
      },
      { memory: 'idle' },
    ),
    srv('srv-static-cgi', 'srv-static --cgi', async (ctx) => {
      const bin = await ctx.requireBin('@srv/static', 'srv-static');
      await ctx.requireBin('@srv/cgi', 'srv-cgi');
      return {
        server: {
          command: process.execPath,
          args: [bin, String(ctx.port), '-b', '127.0.0.1', '-d', ctx.dir, '--cgi', '--quiet'],
        },
      };
    }),
    anchor('python-cgi', 'python3 -m http.server --cgi', async (ctx) => {
      const python = await ctx.requireCommand('python3', 'Debian python3');
      return {
        server: {
          command: python,
          args: ['-m', 'http.server', '--cgi', String(ctx.port), '-b', '127.0.0.1', '-d', ctx.dir],
          cwd: ctx.dir,
        },
        note: 'HTTP/1.0, an access line per request, as shipped',
      };
    }),
    anchor('node-http-spawn', 'raw node:http spawning hello.sh', (ctx) => {
      const user = nobody();
      return {
        server: ctx.node('node-cgi-spawn.mjs', {
          DIR: ctx.dir,
          ...(user ? { UID_: String(user.uid), GID_: String(user.gid) } : {}),
        }),
        note: 'no CGI environment or response parsing: what any Node CGI host on node:http pays at least',
      };
    }),
    anchor('spawn', 'bare spawn of hello.sh (ceiling)', (ctx) => {
      const user = nobody();
      return {
        load: {
          kind: 'spawn',
          command: path.join(ctx.dir, 'cgi-bin', 'hello.sh'),
          args: [],
          concurrency: 8,
          cwd: path.join(ctx.dir, 'cgi-bin'),
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            GATEWAY_INTERFACE: 'CGI/1.1',
            REQUEST_METHOD: 'GET',
          },
          ...(user ?? {}),
        },
        note: user ? 'spawned as nobody, as the CGI hosts do under root' : 'spawned as the current user',
      };
    }),
  ],
  ratios: [
    { of: 'srv-cgi', to: 'spawn', goal: { min: 0.8 } },
    { of: 'node-http-spawn', to: 'spawn' },
    { of: 'srv-cgi', to: 'node-http-spawn' },
    { of: 'srv-cgi', to: 'python-cgi' },
    { of: 'srv-static-cgi', to: 'spawn' },
  ],
});
