// Issue 23's flags on the built `srv-time serve`: workers, PROXY protocol, socket activation, drain delay.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { createInheritableListener, type InheritableListener, readAll, readUntil } from '@srv/core/testing';
import { describe, expect, it, onTestFinished } from 'vitest';

const bin = fileURLToPath(new URL('../bin/srv-time.js', import.meta.url));

interface Started {
  readonly child: ChildProcess;
  readonly port: number;
  stdout(): string;
  /** Resolves once stdout holds `text`. */
  stdoutHas(text: string): Promise<void>;
  exit(): Promise<number | null>;
}

async function start(
  args: string[],
  options: { fd3?: number; env?: Record<string, string>; asActivated?: boolean } = {},
): Promise<Started> {
  const stdio: Array<'ignore' | 'pipe' | number> = ['ignore', 'pipe', 'pipe'];
  if (options.fd3 !== undefined) stdio.push(options.fd3);
  const env = { ...process.env, ...options.env };
  const child = options.asActivated
    ? spawn('sh', ['-c', 'LISTEN_PID=$$ exec "$0" "$@"', process.execPath, bin, 'serve', ...args], {
        stdio,
        env,
      })
    : spawn(process.execPath, [bin, 'serve', ...args], { stdio, env });
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const waiter of waiters) waiter();
  });
  const stdoutHas = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (stdout.includes(text)) resolve();
      };
      waiters.push(check);
      check();
      void exited.then(() => reject(new Error(`exited before ${JSON.stringify(text)}: ${stderr}`)));
    });
  await stdoutHas('\n');
  const port = Number(/ port (\d+) /.exec(stdout)?.[1]);
  return { child, port, stdout: () => stdout, stdoutHas, exit: () => exited };
}

async function ask(port: number, text: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  onTestFinished(() => void socket.destroy());
  await once(socket, 'connect');
  socket.write(text);
  return (await readAll(socket)).toString();
}

async function listeningSocket(): Promise<InheritableListener> {
  const listener = await createInheritableListener();
  onTestFinished(() => listener.close());
  return listener;
}

describe('srv-time serve deployment flags', () => {
  it('--workers 2 --proxy-protocol: one banner, the connection line names the header’s client, SIGTERM exits 0', async () => {
    const cli = await start(['0', '-b', '127.0.0.1', '--workers', '2', '--proxy-protocol']);
    const answer = await ask(cli.port, 'PROXY TCP4 203.0.113.7 127.0.0.1 5555 8765\r\nseconds\n');
    expect(answer).toMatch(/^\d+\n$/);
    await cli.stdoutHas('connected from:203.0.113.7:5555');
    cli.child.kill('SIGTERM');
    expect(await cli.exit()).toBe(0);
    expect(cli.stdout().match(/^Serving /gm)).toHaveLength(1);
    expect(cli.stdout()).not.toContain('connected from:127.0.0.1');
  });

  it('an inherited socket as systemd-socket-activate passes it; --fd 3 without systemd', async () => {
    const activated = await listeningSocket();
    const a = await start(['--quiet'], { fd3: activated.fd, asActivated: true, env: { LISTEN_FDS: '1' } });
    await activated.close();
    expect(a.port).toBe(activated.port);
    expect(await ask(activated.port, 'seconds\n')).toMatch(/^\d+\n$/);
    a.child.kill('SIGTERM');
    expect(await a.exit()).toBe(0);

    const passed = await listeningSocket();
    const b = await start(['--fd', '3', '--quiet'], { fd3: passed.fd });
    await passed.close();
    expect(b.port).toBe(passed.port);
    expect(await ask(passed.port, 'seconds\n')).toMatch(/^\d+\n$/);
    b.child.kill('SIGTERM');
    expect(await b.exit()).toBe(0);
  });

  it('--drain-delay keeps accepting after SIGTERM, then exits 0', async () => {
    const cli = await start(['0', '-b', '127.0.0.1', '--drain-delay', '2']);
    const signalledAt = Date.now();
    cli.child.kill('SIGTERM');
    // Connections during the delay are served (each answered line is one the server accepted after the signal).
    for (let i = 0; i < 3; i += 1) expect(await ask(cli.port, 'seconds\n')).toMatch(/^\d+\n$/);
    expect(await cli.exit()).toBe(0);
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(1900);
  });

  it('refuses what does not apply, in one line with exit 2', async () => {
    for (const args of [
      ['--udp', '--proxy-protocol'],
      ['--udp', '--fd', '3'],
      ['--fd', '3', '8765'],
      ['--workers', 'many'],
      ['--health-path', '/healthz'],
    ]) {
      const child = spawn(process.execPath, [bin, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      const stderr = readUntil(child.stderr as unknown as net.Socket, () => false);
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code, args.join(' ')).toBe(2);
      expect((await stderr).toString()).toMatch(/^srv-time: .+ \(see --help\)\n$/);
    }
  });
});
