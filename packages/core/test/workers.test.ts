import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { supportsReusePort } from '../src/index.js';
import { resolveWorkerCount } from '../src/internal.js';
import { readUntil } from '../src/testing.js';

const fixture = new URL('./fixtures/workers-echo.mjs', import.meta.url).pathname;

interface Started {
  child: ChildProcess;
  port: number;
  stdout: () => string;
}

/** Starts the fixture and waits for its Serving line. */
async function startWorkers(
  env: Record<string, string>,
  options: { shell?: string; stdio?: Array<'ignore' | 'pipe' | 'inherit' | number> } = {},
): Promise<Started> {
  const child = options.shell
    ? spawn('sh', ['-c', options.shell, 'sh', process.execPath, fixture], {
        stdio: options.stdio ?? ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, ...env },
      })
    : spawn(process.execPath, [fixture], {
        stdio: options.stdio ?? ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, ...env },
      });
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const first = await readUntil(child.stdout as unknown as net.Socket, (received) => received.includes('\n'));
  const match = /port (\d+)/.exec(first.toString());
  if (!match) throw new Error(`no Serving line: ${first.toString()}`);
  return { child, port: Number(match[1]), stdout: () => text };
}

/** One line echoed on a new connection: the pid that served it. */
async function servedBy(port: number): Promise<number> {
  const socket = net.connect({ host: '127.0.0.1', port });
  onTestFinished(() => void socket.destroy());
  await once(socket, 'connect');
  const reply = readUntil(socket, (received) => received.includes('\n'));
  socket.write('x\n');
  const text = (await reply).toString();
  socket.end();
  const pid = Number(text.split(':')[0]);
  expect(text).toBe(`${pid}:x\n`);
  return pid;
}

async function pidsOver(port: number, connections: number): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let i = 0; i < connections; i += 1) pids.add(await servedBy(port));
  return pids;
}

async function terminate(child: ChildProcess): Promise<number | null> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('runWorkers', () => {
  it('2 workers on cluster hand-off: one Serving line, both serve, SIGTERM drains, exit 0', async () => {
    const { child, port, stdout } = await startWorkers({ WORKERS: '2' });
    const pids = await pidsOver(port, 8);
    expect(pids.size).toBe(2);
    expect(pids.has(child.pid ?? -1)).toBe(false);
    expect(await terminate(child)).toBe(0);
    expect(stdout().match(/^Serving /gm)).toHaveLength(1);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('a worker killed hard is replaced; the primary still exits 0 after SIGTERM', async () => {
    const { child, port } = await startWorkers({ WORKERS: '2' }, { stdio: ['ignore', 'pipe', 'pipe'] });
    const [victim] = [...(await pidsOver(port, 4))];
    // Connections handed to a worker that just died are lost (cluster's hand-off): wait until the
    // primary has seen the death before connecting again.
    const noticed = readUntil(child.stderr as unknown as net.Socket, (received) =>
      received.includes('starting another'),
    );
    process.kill(victim ?? -1, 'SIGKILL');
    expect((await noticed).toString()).toContain(`(pid ${victim}) exited (SIGKILL); starting another`);
    // The replacement serves: wait until two live pids other than the victim answer.
    let pids = new Set<number>();
    while (pids.size < 2) pids = new Set([...(await pidsOver(port, 6))].filter((pid) => pid !== victim));
    expect(await terminate(child)).toBe(0);
  });

  it('1 worker runs in the process itself', async () => {
    const { child, port } = await startWorkers({ WORKERS: '1' });
    expect(await servedBy(port)).toBe(child.pid);
    expect(await terminate(child)).toBe(0);
  });

  it('socket activation: the workers serve the primary’s inherited descriptor (LISTEN_PID = primary)', async () => {
    const outer = net.createServer();
    await new Promise<void>((resolve) => outer.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const port = (outer.address() as net.AddressInfo).port;
    const fd = (outer as unknown as { _handle: { fd: number } })._handle.fd;
    // As systemd-socket-activate does: the socket at fd 3, LISTEN_PID the pid that execs the server.
    const started = await startWorkers(
      { WORKERS: '2', LISTEN_FDS: '1' },
      { shell: 'LISTEN_PID=$$ exec "$1" "$2"', stdio: ['ignore', 'pipe', 'inherit', fd] },
    );
    await new Promise<void>((resolve) => outer.close(() => resolve()));
    expect(started.port).toBe(port);
    const pids = await pidsOver(port, 8);
    expect(pids.size).toBe(2);
    expect(pids.has(started.child.pid ?? -1)).toBe(false);
    expect(await terminate(started.child)).toBe(0);
  });

  it('reusePort: each worker binds its own socket (Node ≥ 22.12), else a coded error', async () => {
    if (!supportsReusePort()) {
      const child = spawn(process.execPath, [fixture], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, WORKERS: '2', REUSE_PORT: '1' },
      });
      const out = await readUntil(child.stdout as unknown as net.Socket, () => false);
      expect(out.toString()).toBe('error SRV_ERR_UNSUPPORTED_OPTION\n');
      return;
    }
    const { child, port } = await startWorkers({ WORKERS: '2', REUSE_PORT: '1' });
    let pids = new Set<number>();
    // The kernel hashes each connection to a socket: a few tries reach both.
    for (let round = 0; round < 10 && pids.size < 2; round += 1)
      pids = new Set([...pids, ...(await pidsOver(port, 8))]);
    expect(pids.size).toBe(2);
    expect(await terminate(child)).toBe(0);
  });

  it('resolveWorkerCount: N, auto, and a coded error for the rest', () => {
    expect(resolveWorkerCount('3')).toBe(3);
    expect(resolveWorkerCount('auto')).toBeGreaterThanOrEqual(1);
    for (const bad of ['0', '-1', '1.5', 'many', '']) {
      expect(() => resolveWorkerCount(bad)).toThrow(
        expect.objectContaining({ code: 'SRV_ERR_INVALID_OPTION' }),
      );
    }
  });
});
