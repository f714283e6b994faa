import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { readAll, readUntil } from '@srv/core/testing';
import { describe, expect, it, onTestFinished } from 'vitest';

// What `--version` must print: the version in this package's package.json (0.1.0 in the first release),
// so a release needs no edit here.
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

// The bin runs the built CLI (dist/cli.js): `pnpm --filter @srv/timeproto build` first (turbo does).
const bin = fileURLToPath(new URL('../bin/srv-time.js', import.meta.url));

interface Served {
  child: ChildProcess;
  banner: string;
  port: number;
  /** stdout lines after the banner, as they come. */
  lines: string[];
  nextLine(): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

async function serve(...args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [bin, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stopped: Promise<number | null> | undefined;
  const exited = once(child, 'close').then(([code]) => code as number | null);
  const stop = (signal: NodeJS.Signals = 'SIGTERM') => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    })();
    return stopped;
  };
  onTestFinished(async () => {
    await stop();
  });
  const lines: string[] = [];
  const waiters: Array<(line: string) => void> = [];
  const reader = createInterface({ input: child.stdout! });
  reader.on('line', (line) => {
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else lines.push(line);
  });
  const nextLine = () =>
    new Promise<string>((resolve) => {
      const line = lines.shift();
      if (line !== undefined) resolve(line);
      else waiters.push(resolve);
    });
  const stderr: Buffer[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
  const banner = await Promise.race([
    nextLine(),
    exited.then((code) => {
      throw new Error(`srv-time serve exited with ${code}: ${Buffer.concat(stderr).toString()}`);
    }),
  ]);
  const match = /^Serving TIME on (\S+) port (\d+) \((.+)\) \.\.\.$/.exec(banner);
  expect(match, banner).not.toBeNull();
  return { child, banner, port: Number(match![2]), lines, nextLine, stop };
}

async function run(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() };
}

describe('srv-time serve and query', () => {
  it('serve prints the banner with the real port; query asks it for each word', async () => {
    const server = await serve('0', '-b', '127.0.0.1');
    expect(server.banner).toBe(
      `Serving TIME on 127.0.0.1 port ${server.port} (tcp://127.0.0.1:${server.port}/) ...`,
    );
    const before = Math.floor(Date.now() / 1000);
    const seconds = await run('query', `127.0.0.1:${server.port}`);
    const after = Math.ceil(Date.now() / 1000);
    expect(seconds.code).toBe(0);
    expect(Number(seconds.stdout.trim())).toBeGreaterThanOrEqual(before);
    expect(Number(seconds.stdout.trim())).toBeLessThanOrEqual(after);
    expect(await server.nextLine()).toMatch(
      /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] -- connected from:127\.0\.0\.1:\d+$/,
    );
    const asctime = await run('query', `127.0.0.1:${server.port}`, 'asctime');
    expect(asctime.stdout).toMatch(/^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\n$/);
    const rfc822 = await run('query', `127.0.0.1:${server.port}`, 'RFC822');
    expect(rfc822.stdout).toMatch(/^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \+0000\n$/);
  });

  it('binds :: (dual-stack) by default and exits 0 on SIGINT', async () => {
    const server = await serve('0');
    expect(server.banner).toBe(`Serving TIME on :: port ${server.port} (tcp://[::]:${server.port}/) ...`);
    expect(await server.nextLine()).toMatch(
      new RegExp(
        `^Reach it at tcp://localhost:${server.port}/( \\(from the network: tcp://[\\d.]+:${server.port}/\\))?$`,
      ),
    );
    const v6 = await run('query', `[::1]:${server.port}`, 'seconds');
    expect(v6.stdout).toMatch(/^\d+\n$/);
    expect(await server.nextLine()).toMatch(/ -- connected from:\[::1\]:\d+$/);
    const v4 = await run('query', `127.0.0.1:${server.port}`);
    expect(v4.stdout).toMatch(/^\d+\n$/);
    // The same IPv4 client as srv-static's access log shows it: plain, not ::ffff:127.0.0.1.
    expect(await server.nextLine()).toMatch(/ -- connected from:127\.0\.0\.1:\d+$/);
    expect(await server.stop('SIGINT')).toBe(0);
  });

  it('serves and queries over UDP', async () => {
    const server = await serve('0', '--bind', '127.0.0.1', '--udp');
    expect(server.banner).toContain(`(udp://127.0.0.1:${server.port}/)`);
    const result = await run('query', `127.0.0.1:${server.port}`, 'rfc822', '--udp');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/\+0000\n$/);
  });

  it.each([
    ['daytime', []],
    ['daytime', ['--udp']],
    ['time', []],
    ['time', ['--udp']],
  ])('serves and queries the %s service %j', async (service, extra) => {
    const server = await serve('0', '-b', '127.0.0.1', '--service', service, ...extra);
    const result = await run('query', `127.0.0.1:${server.port}`, 'asctime', '--service', service, ...extra);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\n$/);
  });

  it('--interactive answers several lines on one connection; SIGTERM exits 0', async () => {
    const server = await serve('0', '-b', '127.0.0.1', '--interactive');
    const socket = net.connect(server.port, '127.0.0.1');
    onTestFinished(() => {
      socket.destroy();
    });
    await once(socket, 'connect');
    socket.write('seconds\r\nbogus\r\n');
    const received = await readUntil(socket, (bytes) => bytes.toString().includes('mail and posts\n'));
    expect(received.toString()).toMatch(/^\d+\nUnhandled request\./);
    const closed = readAll(socket);
    socket.write('quit\r\n');
    await closed;
    expect(await server.stop('SIGTERM')).toBe(0);
  });

  it('--threading serves the tutorial shape; --quiet logs no connection lines', async () => {
    const server = await serve('0', '-b', '127.0.0.1', '--threading', '--quiet');
    const result = await run('query', `127.0.0.1:${server.port}`);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^\d+\n$/);
    expect(await server.stop()).toBe(0);
    expect(server.lines).toEqual([]);
  });

  it('query reports an unreachable server with its code and exit 1', async () => {
    const probe = net.createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as net.AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    const result = await run('query', `127.0.0.1:${port}`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('SRV_ERR_TIME_CONNECT_FAILED');
  });

  it.each([
    [[]],
    [['bogus']],
    [['serve', '--bogus']],
    [['serve', '70000']],
    [['serve', '1', '2']],
    [['serve', '--service', 'ntp']],
    [['serve', '--bind']],
    [['serve', '0', '--bind', 'not a host!']],
    [['query', 'localhost:8765', 'minutes']],
    [['query', 'localhost:99999']],
    [['query', '--udp=yes']],
    [['serve', '-b', 'unix:/x']],
  ])('bad arguments %j print one line on stderr and exit 2', async (args) => {
    const result = await run(...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^srv-time: [^\n]+ \(see --help\)\n$/);
  });

  it('names the problem in its one line: unknown option, unix: bind, unresolvable host', async () => {
    expect(await run('serve', '--frobnicate')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'srv-time: unknown option --frobnicate (see --help)\n',
    });
    expect(await run('serve', '-b', 'unix:/x')).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'srv-time: -b unix:/x: this command serves over TCP/IP; give an IP address or a host name (see --help)\n',
    });
    const unresolvable = await run('serve', '0', '-b', 'nosuch.invalid');
    expect(unresolvable.code).toBe(2);
    expect(unresolvable.stderr).toMatch(/^srv-time: cannot bind nosuch\.invalid:0: [^\n]+\n$/);
    expect(unresolvable.stderr).not.toMatch(/\[|_SrvError/);
  });

  it("--help prints each command's usage on stdout; --version and -v the version", async () => {
    const serve = await run('serve', '--help');
    expect(serve.code).toBe(0);
    expect(serve.stdout).toMatch(/^Usage: srv-time serve \[port\] \[options\]\n/);
    expect(serve.stdout).toMatch(/^ {2}-b, --bind ADDRESS /m);
    const top = await run('--help');
    expect(top.stdout).toMatch(/^Usage: srv-time serve .*\n[\s\S]*^Usage: srv-time query /m);
    for (const flag of ['--version', '-v']) {
      expect(await run(flag)).toEqual({ code: 0, stdout: `srv-time ${version}\n`, stderr: '' });
    }
  });
});
