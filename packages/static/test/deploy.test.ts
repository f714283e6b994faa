// Issue 23's flags on the built bins: workers, PROXY protocol, health and drain, socket activation.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { createInheritableListener, type InheritableListener } from '@srv/core/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bin, createFixture, parseResponse, type RawResponse } from './helpers.js';

interface Started {
  readonly child: ChildProcess;
  readonly port: number;
  stdout(): string;
  stderr(): string;
  exit(): Promise<number | null>;
  /** Resolves once stderr holds `text`. */
  stderrHas(text: string): Promise<void>;
}

interface StartOptions {
  readonly env?: Record<string, string>;
  /** A listening socket's descriptor, passed to the child as its fd 3. */
  readonly fd3?: number;
  /** Start through `sh -c 'LISTEN_PID=$$ exec …'`, as systemd-socket-activate does. */
  readonly asActivated?: boolean;
}

/** Starts a bin and waits for its first stdout line (the banner); killed at the end of the test. */
async function start(args: string[], options: StartOptions = {}): Promise<Started> {
  const script = bin;
  const stdio: Array<'ignore' | 'pipe' | number> = ['ignore', 'pipe', 'pipe'];
  if (options.fd3 !== undefined) stdio.push(options.fd3);
  const env = { ...process.env, ...options.env };
  const child = options.asActivated
    ? spawn('sh', ['-c', 'LISTEN_PID=$$ exec "$0" "$@"', process.execPath, script, ...args], { stdio, env })
    : spawn(process.execPath, [script, ...args], { stdio, env });
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
  });
  let stdout = '';
  let stderr = '';
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const stderrWaiters: Array<() => void> = [];
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const waiter of stderrWaiters) waiter();
  });
  const banner = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf('\n');
      if (newline !== -1) resolve(stdout.slice(0, newline));
    });
    void exited.then((code) => reject(new Error(`exited ${code} before the banner: ${stderr}`)));
  });
  const port = Number(/ port (\d+) /.exec(banner)?.[1]);
  const stderrHas = (text: string) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (stderr.includes(text)) resolve();
      };
      stderrWaiters.push(check);
      check();
    });
  return { child, port, stdout: () => stdout, stderr: () => stderr, exit: () => exited, stderrHas };
}

/** Sends raw bytes and reads until the server closes (a reset counts as closing: refused peers get one). */
async function exchange(port: number, bytes: string): Promise<Buffer> {
  const socket = net.connect(port, '127.0.0.1');
  onTestFinished(() => void socket.destroy());
  socket.on('error', () => {});
  const closed = new Promise((resolve) => socket.once('close', resolve));
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(bytes);
  await closed;
  return Buffer.concat(chunks);
}

function get(port: number, target: string, prefix = ''): Promise<RawResponse> {
  return exchange(
    port,
    `${prefix}GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'),
  ).then(parseResponse);
}

/** The child processes of `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return text === '' ? [] : text.split(' ').map(Number);
}

async function terminate(started: Started): Promise<number | null> {
  started.child.kill('SIGTERM');
  return started.exit();
}

async function listeningSocket(): Promise<InheritableListener> {
  const listener = await createInheritableListener();
  onTestFinished(() => listener.close());
  return listener;
}

const v1 = 'PROXY TCP4 203.0.113.7 127.0.0.1 40000 8000\r\n';

describe('srv-static deployment flags', () => {
  it('--workers 2: two worker processes serve, the banner is printed once, SIGTERM exits 0', async () => {
    const fixture = await createFixture();
    const cli = await start(['--workers', '2', '-b', '127.0.0.1', '-d', fixture.root, '0']);
    expect(cli.stdout()).toMatch(/^Serving HTTP on 127\.0\.0\.1 port \d+ /);
    const workers = childrenOf(cli.child.pid!);
    expect(workers).toHaveLength(2);
    for (let i = 0; i < 4; i += 1) expect((await get(cli.port, '/hello.txt')).text).toBe('hello world\n');
    expect(await terminate(cli)).toBe(0);
    expect(cli.stdout().match(/^Serving /gm)).toHaveLength(1);
    expect(cli.stderr().match(/"GET \/hello\.txt HTTP\/1\.1" 200 -/g)).toHaveLength(4);
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
  });

  it('--workers 2 that cannot start: one line on stderr, the command’s exit code (1 in use, 2 bad address)', async () => {
    const taken = await listeningSocket();
    for (const [args, code, line] of [
      [
        ['-b', '127.0.0.1', String(taken.port)],
        1,
        `srv-static: 127.0.0.1:${taken.port} is already in use (another server there?)\n`,
      ],
      [
        ['-b', '256.1.1.1', '0'],
        2,
        'srv-static: cannot bind 256.1.1.1:0: not an IP address or host name this machine resolves\n',
      ],
    ] as const) {
      const child = spawn(process.execPath, [bin, '--workers', '2', ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const [exitCode] = (await once(child, 'exit')) as [number | null];
      expect(exitCode).toBe(code);
      expect(stderr).toBe(line);
    }
  });

  it('--proxy-protocol: the access log shows the client of a v1 header; an untrusted sender is closed', async () => {
    const fixture = await createFixture();
    const cli = await start(['--proxy-protocol', '-b', '127.0.0.1', '-d', fixture.root, '0']);
    const proxied = await get(cli.port, '/hello.txt', v1);
    expect(proxied.status).toBe(200);
    await cli.stderrHas('"GET /hello.txt HTTP/1.1" 200 -');
    expect(cli.stderr()).toMatch(/^203\.0\.113\.7 - - \[[^\]]+\] "GET \/hello\.txt HTTP\/1\.1" 200 -$/m);
    expect(cli.stderr()).not.toMatch(/^127\.0\.0\.1 /m);
    // Without a header: closed without a byte.
    expect((await exchange(cli.port, 'GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n')).length).toBe(0);
    expect(await terminate(cli)).toBe(0);

    // Loopback is not in the trusted list: its header is not believed, the connection closed silently.
    const strict = await start([
      '--proxy-protocol',
      '--trusted-proxy',
      '10.0.0.0/8',
      '--trusted-proxy',
      'fd00::/8',
      '-b',
      '127.0.0.1',
      '-d',
      fixture.root,
      '0',
    ]);
    expect((await exchange(strict.port, `${v1}GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n`)).length).toBe(0);
    expect(await terminate(strict)).toBe(0);
    expect(strict.stderr()).not.toContain('203.0.113.7');
  });

  it('--health-path answers 200, then 503 during --drain-delay while other answers say Connection: close', async () => {
    const fixture = await createFixture();
    const cli = await start([
      '--health-path',
      '/healthz',
      '--health-port',
      '0',
      '--drain-delay',
      '3',
      '-b',
      '127.0.0.1',
      '-d',
      fixture.root,
      '0',
    ]);
    const healthy = await get(cli.port, '/healthz');
    expect(healthy.status).toBe(200);
    expect(healthy.text).toBe('ok\n');
    // A keep-alive request before the signal: the answer keeps the connection.
    const keep = net.connect(cli.port, '127.0.0.1');
    onTestFinished(() => void keep.destroy());
    await once(keep, 'connect');
    keep.write('GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n');
    const [first] = (await once(keep, 'data')) as [Buffer];
    expect(first.toString('latin1')).toContain('Connection: keep-alive');
    const signalledAt = Date.now();
    cli.child.kill('SIGTERM');
    // The drain begins when the signal is handled: poll the health path (each a real request) until it says so.
    let health = await get(cli.port, '/healthz');
    while (health.status === 200 && Date.now() - signalledAt < 2500) health = await get(cli.port, '/healthz');
    expect(health.status).toBe(503);
    expect(health.text).toBe('draining\n');
    // Still accepting: a new connection is served, and told to close.
    const during = await exchange(cli.port, 'GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n');
    const response = parseResponse(during);
    expect(response.status).toBe(200);
    expect(response.headers.get('connection')).toBe('close');
    // The open keep-alive connection's next answer closes it too.
    keep.write('GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n');
    const [second] = (await once(keep, 'data')) as [Buffer];
    expect(second.toString('latin1')).toContain('Connection: close');
    expect(await cli.exit()).toBe(0);
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(2900);
    expect(cli.stderr()).not.toContain('/healthz');
  });

  it('starts with an inherited listening socket as systemd-socket-activate does (LISTEN_FDS, LISTEN_PID)', async () => {
    const fixture = await createFixture();
    const socket = await listeningSocket();
    const cli = await start(['-d', fixture.root, '--quiet'], {
      fd3: socket.fd,
      asActivated: true,
      env: { LISTEN_FDS: '1' },
    });
    // The parent's copy closes: only the command holds the socket now.
    await socket.close();
    expect(cli.port).toBe(socket.port);
    expect(cli.stdout()).toContain(`Serving HTTP on 127.0.0.1 port ${socket.port} `);
    expect((await get(socket.port, '/hello.txt')).text).toBe('hello world\n');
    expect(await terminate(cli)).toBe(0);
  });

  it('socket activation with --workers 2: the workers serve the primary’s descriptor', async () => {
    const fixture = await createFixture();
    const socket = await listeningSocket();
    const cli = await start(['-d', fixture.root, '--workers', '2'], {
      fd3: socket.fd,
      asActivated: true,
      env: { LISTEN_FDS: '1' },
    });
    await socket.close();
    expect(cli.port).toBe(socket.port);
    expect(childrenOf(cli.child.pid!)).toHaveLength(2);
    for (let i = 0; i < 4; i += 1) expect((await get(socket.port, '/hello.txt')).status).toBe(200);
    expect(await terminate(cli)).toBe(0);
    expect(cli.stdout().match(/^Serving /gm)).toHaveLength(1);
  });

  it('--fd 3 serves a descriptor passed without systemd (LISTEN_FDS meant for another pid beside it changes nothing)', async () => {
    const fixture = await createFixture();
    const socket = await listeningSocket();
    const cli = await start(['--fd', '3', '-d', fixture.root, '--quiet'], {
      fd3: socket.fd,
      env: { LISTEN_FDS: '1', LISTEN_PID: '1' },
    });
    await socket.close();
    expect(cli.port).toBe(socket.port);
    expect((await get(socket.port, '/hello.txt')).text).toBe('hello world\n');
    expect(await terminate(cli)).toBe(0);
  });
});
