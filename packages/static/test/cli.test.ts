import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { createTestCertificate } from '@srv/core/testing';
import { describe, expect, it } from 'vitest';
import { runStaticCli } from '../src/index.js';
import { bin, createFixture, parseResponse, startCli } from './helpers.js';

// What `--version` must print: the version in this package's package.json (0.1.0 in the first release),
// so a release needs no edit here.
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Runs the bin to completion (for flags that never serve). */
async function runCli(
  args: string[],
  cwd?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // pnpm's bin shims put the workspace's hoisted packages (all of @srv/* among them) on NODE_PATH, which
  // require() searches: a user's shell has no such path.
  const { NODE_PATH: _, ...env } = process.env;
  const child = spawn(process.execPath, [bin, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

async function request(
  port: number,
  target: string,
  host = '127.0.0.1',
  headers = '',
): Promise<ReturnType<typeof parseResponse>> {
  const socket = net.connect(port, host);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'connect');
  socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers}\r\n`);
  await once(socket, 'close');
  return parseResponse(Buffer.concat(chunks));
}

describe('srv-static', () => {
  it("prints Python's banner with the real port, serves both families, and exits 0 on SIGINT", async () => {
    const fixture = await createFixture();
    const cli = await startCli(['0'], fixture.root);
    expect(cli.port).toBeGreaterThan(0);
    if (cli.banner.startsWith('Serving HTTP on :: ')) {
      expect(cli.banner).toBe(`Serving HTTP on :: port ${cli.port} (http://[::]:${cli.port}/) ...`);
      expect((await request(cli.port, '/hello.txt', '::1')).text).toBe('hello world\n');
    } else {
      // No IPv6 on this host: the default falls back to all IPv4 interfaces, as Python's does.
      expect(cli.banner).toBe(`Serving HTTP on 0.0.0.0 port ${cli.port} (http://0.0.0.0:${cli.port}/) ...`);
    }
    expect((await request(cli.port, '/hello.txt')).text).toBe('hello world\n');
    cli.child.kill('SIGINT');
    expect(await cli.exit()).toBe(0);
    expect(cli.stdout()).toContain('Keyboard interrupt received, exiting.');
    expect(cli.stderr()).toMatch(/"GET \/hello\.txt HTTP\/1\.1" 200 -/);
  });

  it('binds -b, serves -d, and drains on SIGTERM', async () => {
    const fixture = await createFixture();
    const cli = await startCli(['0', '-b', '127.0.0.1', '-d', fixture.root, '--quiet']);
    expect(cli.banner).toBe(`Serving HTTP on 127.0.0.1 port ${cli.port} (http://127.0.0.1:${cli.port}/) ...`);
    const socket = net.connect(cli.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /sub/f.txt HTTP/1.1\r\nHost: x\r\n\r\n');
    await once(socket, 'data');
    cli.child.kill('SIGTERM');
    expect(await cli.exit()).toBe(0);
    expect(cli.stderr()).toBe('');
    socket.destroy();
  });

  it('applies --no-listing, --dotfiles, --single, --cors, -H and -p', async () => {
    const fixture = await createFixture();
    await writeFile(join(fixture.root, 'index.html'), '<h1>app</h1>');
    const a = await startCli([
      '0',
      '-b',
      '127.0.0.1',
      '-d',
      fixture.root,
      '--quiet',
      '--no-listing',
      '--dotfiles',
    ]);
    expect((await request(a.port, '/sub/')).status).toBe(404);
    expect((await request(a.port, '/.well-known/')).status).toBe(404);
    expect((await request(a.port, '/.env')).status).toBe(200);
    const b = await startCli([
      '0',
      '-b',
      '127.0.0.1',
      '-d',
      fixture.root,
      '--quiet',
      '--single',
      '--cors',
      '-H',
      'X-One: 1',
      '--header',
      'X-Two: two words',
      '-p',
      'HTTP/1.0',
    ]);
    const spa = await request(b.port, '/deep/route');
    expect(spa.text).toBe('<h1>app</h1>');
    expect(spa.headers.get('access-control-allow-origin')).toBe('*');
    expect(spa.headers.get('x-one')).toBe('1');
    expect(spa.headers.get('x-two')).toBe('two words');
    expect((await request(b.port, '/.env')).status).toBe(404);
    const raw = await new Promise<string>((resolve) => {
      const socket = net.connect(b.port, '127.0.0.1', () =>
        socket.write('GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n'),
      );
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
      });
      socket.on('close', () => resolve(text));
    });
    // HTTP/1.0 mode: one response per connection even though the client asked to keep it open.
    expect(raw).toMatch(/^HTTP\/1\.[01] 200 OK\r\n/);
    expect(raw.toLowerCase()).toContain('connection: close\r\n');
  });

  it('serves HTTPS with --tls-cert and --tls-key', async () => {
    const fixture = await createFixture();
    const { cert, key } = await createTestCertificate();
    await writeFile(join(fixture.base, 'cert.pem'), cert);
    await writeFile(join(fixture.base, 'key.pem'), key);
    const cli = await startCli([
      '0',
      '-b',
      '127.0.0.1',
      '-d',
      fixture.root,
      '--quiet',
      '--tls-cert',
      join(fixture.base, 'cert.pem'),
      '--tls-key',
      join(fixture.base, 'key.pem'),
    ]);
    expect(cli.banner).toBe(
      `Serving HTTPS on 127.0.0.1 port ${cli.port} (https://127.0.0.1:${cli.port}/) ...`,
    );
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get(
          { host: '127.0.0.1', port: cli.port, path: '/hello.txt', ca: cert, servername: 'localhost' },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => {
              text += chunk.toString();
            });
            res.on('end', () => resolve(text));
          },
        )
        .on('error', reject);
    });
    expect(body).toBe('hello world\n');
  });

  it('a bad flag prints one line on stderr and exits 2; --help documents every flag', async () => {
    for (const args of [
      ['--bogus'],
      ['abc'],
      ['70000'],
      ['1', '2'],
      ['-p', 'HTTP/2.0'],
      ['--tls-cert', 'x.pem'],
      ['-H', 'no colon'],
      ['-H', 'Bad Name: x'],
      ['-d'],
      ['--send-timeout', 'soon'],
      ['--send-timeout', '-1'],
      ['--backlog', '0'],
      ['--backlog', 'x'],
      ['-b', 'unix:/x'],
      ['--port', '1', '2'],
    ]) {
      const result = await runCli(args);
      expect([args, result.code]).toEqual([args, 2]);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^srv-static: [^\n]+ \(see --help\)\n$/);
    }
    expect(await runCli(['--frobnicate'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'srv-static: unknown option --frobnicate (see --help)\n',
    });
    expect((await runCli(['-p', '8080'])).stderr).toBe(
      'srv-static: -p is the protocol (HTTP/1.0 or HTTP/1.1); for port 8080 write --port 8080 or just 8080 (see --help)\n',
    );
    expect((await runCli(['-b', 'unix:/x'])).stderr).toBe(
      'srv-static: -b unix:/x: this command serves over TCP/IP; give an IP address or a host name (see --help)\n',
    );
    const notDirectory = await runCli(['0', '-d', bin]);
    expect(notDirectory.code).toBe(2);
    expect(notDirectory.stderr).toBe(`srv-static: ${bin} is not a directory (see --help)\n`);
    for (const flag of ['--version', '-v']) {
      expect(await runCli([flag])).toEqual({ code: 0, stdout: `srv-static ${version}\n`, stderr: '' });
    }
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const flag of [
      '--bind',
      '--directory',
      '--protocol',
      '--cgi',
      '--tls-cert',
      '--tls-key',
      '--header',
      '--cors',
      '--single',
      '--no-listing',
      '--dotfiles',
      '--send-timeout',
      '--backlog',
      '--quiet',
      '--port',
      '--version',
      '--help',
    ]) {
      expect(help.stdout).toContain(flag);
    }
  });

  it('serves on --port N; on :: the second line says where to open it; IPv4 clients log as plain IPv4', async () => {
    const fixture = await createFixture();
    const probe = await startCli(['0', '-b', '127.0.0.1', '-d', fixture.root, '--quiet']);
    const free = probe.port;
    probe.child.kill('SIGTERM');
    expect(await probe.exit()).toBe(0);
    const cli = await startCli(['--port', String(free), '-d', fixture.root]);
    expect(cli.port).toBe(free);
    const lines = await cli.lines(2);
    if (cli.banner.startsWith('Serving HTTP on :: ')) {
      expect(lines[1]).toMatch(
        new RegExp(
          `^Open http://localhost:${free}/ in a browser( \\(from the network: http://[\\d.]+:${free}/\\))?$`,
        ),
      );
    }
    expect((await request(cli.port, '/hello.txt')).status).toBe(200);
    cli.child.kill('SIGTERM');
    expect(await cli.exit()).toBe(0);
    // One access line, with the client as srv-time shows it (not ::ffff:127.0.0.1).
    expect(cli.stderr()).toMatch(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/hello\.txt HTTP\/1\.1" 200 -\n$/);
  });

  it('explains swapped TLS files and a busy port in a sentence (no OpenSSL code, no class name)', async () => {
    const fixture = await createFixture();
    const { cert, key } = await createTestCertificate();
    const certPath = join(fixture.base, 'cert.pem');
    const keyPath = join(fixture.base, 'key.pem');
    await writeFile(certPath, cert);
    await writeFile(keyPath, key);
    expect(await runCli(['0', '-d', fixture.root, '--tls-cert', keyPath, '--tls-key', certPath])).toEqual({
      code: 2,
      stdout: '',
      stderr: `srv-static: --tls-cert and --tls-key are swapped: ${keyPath} holds a private key and ${certPath} a certificate (see --help)\n`,
    });
    const other = await createTestCertificate();
    const otherKey = join(fixture.base, 'other-key.pem');
    await writeFile(otherKey, other.key);
    expect(
      (await runCli(['0', '-d', fixture.root, '--tls-cert', certPath, '--tls-key', otherKey])).stderr,
    ).toBe(
      `srv-static: the private key in ${otherKey} does not belong to the certificate in ${certPath} (see --help)\n`,
    );
    const busy = await startCli(['0', '-b', '127.0.0.1', '-d', fixture.root, '--quiet']);
    const result = await runCli([String(busy.port), '-b', '127.0.0.1', '-d', fixture.root]);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `srv-static: 127.0.0.1:${busy.port} is already in use (another server there?)\n`,
    });
    busy.child.kill('SIGTERM');
    expect(await busy.exit()).toBe(0);
  });

  it('--cgi without @srv/cgi installed says so and exits 2 (@srv/cgi tests the command with it)', async () => {
    // Neither this package nor the fixture directory can reach @srv/cgi: it depends on this package,
    // never the other way round.
    const fixture = await createFixture();
    const result = await runCli(['0', '-d', fixture.root, '--cgi'], fixture.root);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('srv-static: --cgi needs @srv/cgi\n');
  });
});

describe('runStaticCli', () => {
  it('runs in-process with another handler and name, and settles with 0 when aborted', async () => {
    const fixture = await createFixture();
    const { SimpleHTTPRequestHandler } = await import('../src/index.js');
    class Tagged extends SimpleHTTPRequestHandler {
      static override headers: ReadonlyArray<readonly [string, string]> = [['X-Handler', 'tagged']];
    }
    let out = '';
    const controller = new AbortController();
    let resolveBanner!: () => void;
    const bannerSeen = new Promise<void>((resolve) => {
      resolveBanner = resolve;
    });
    const run = runStaticCli(['0', '-b', '127.0.0.1', '-d', fixture.root, '--quiet', '-H', 'X-Flag: yes'], {
      name: 'srv-test',
      handler: Tagged,
      signal: controller.signal,
      stdout: {
        write(text: string) {
          out += text;
          resolveBanner();
        },
      },
    });
    await bannerSeen;
    const port = Number(/ port (\d+) /.exec(out)?.[1]);
    const response = await request(port, '/hello.txt');
    expect(response.headers.get('x-handler')).toBe('tagged');
    expect(response.headers.get('x-flag')).toBe('yes');
    controller.abort();
    expect(await run).toBe(0);
    let err = '';
    expect(
      await runStaticCli(['--nope'], {
        name: 'srv-test',
        stderr: { write: (text: string) => (err += text) },
      }),
    ).toBe(2);
    expect(err).toBe('srv-test: unknown option --nope (see --help)\n');
  });
});
