import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { lstat, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { isSrvError, StreamRequestHandler, TCPServer, UDPServer, UnixStreamServer } from '../src/index.js';
import { createTestCertificate, readUntil, sendDatagram, startServer } from '../src/testing.js';
import { EchoHandler, UpperHandler } from './fixtures.js';

async function echoOnce(socket: net.Socket, text: string): Promise<string> {
  const reply = readUntil(socket, (received) => received.includes('\n'));
  socket.write(text);
  return (await reply).toString();
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'srv-core-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function hasIPv6(): boolean {
  const probe = net.createServer();
  try {
    probe.listen({ host: '::1', port: 0 });
    return true;
  } catch {
    return false;
  } finally {
    probe.close();
  }
}

describe('stream transports echo exact bytes', () => {
  it('TCP over IPv4, port 0 resolves to the real port', async () => {
    const t = await startServer(new TCPServer(['127.0.0.1', 0], EchoHandler));
    onTestFinished(() => t.close());
    expect(t.address).toMatchObject({ family: 'IPv4', host: '127.0.0.1' });
    expect(t.port).toBeGreaterThan(0);
    expect(t.server.serverAddress).toEqual(['127.0.0.1', t.port]);
    const socket = await t.connect();
    expect(await echoOnce(socket, 'hello\n')).toBe('hello\n');
    expect(await echoOnce(socket, 'again\r\n')).toBe('again\r\n');
  });

  it.runIf(hasIPv6())('TCP over IPv6', async () => {
    const t = await startServer(new TCPServer('[::1]:0', EchoHandler));
    onTestFinished(() => t.close());
    expect(t.address.family).toBe('IPv6');
    expect(await echoOnce(await t.connect(), 'six\n')).toBe('six\n');
  });

  it.runIf(hasIPv6())('dual-stack on :: takes IPv4 and IPv6 clients; ipv6Only refuses IPv4', async () => {
    const dual = await startServer(new TCPServer(['::', 0], EchoHandler));
    onTestFinished(() => dual.close());
    const v4 = dual.track(net.connect({ host: '127.0.0.1', port: dual.port }));
    await once(v4, 'connect');
    expect(await echoOnce(v4, 'four\n')).toBe('four\n');
    expect(await echoOnce(await dual.connect(), 'six\n')).toBe('six\n');

    const only = await startServer(new TCPServer(['::', 0], EchoHandler, { ipv6Only: true }));
    onTestFinished(() => only.close());
    const refused = only.track(net.connect({ host: '127.0.0.1', port: only.port }));
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
  });

  it("addressFamily 'IPv6' makes '' mean ::", async () => {
    const t = await startServer(new TCPServer(['', 0], EchoHandler, { addressFamily: 'IPv6' }));
    onTestFinished(() => t.close());
    expect(t.address.host).toBe('::');
  });

  it('Unix stream socket, with a stale socket file removed and a live one refused', async () => {
    const dir = await tempDir();
    const path = join(dir, 'echo.sock');
    // A stale socket file: a process that bound it and died without unlinking (SIGKILL).
    const child = spawn(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    await once(child, 'exit');
    expect((await lstat(path)).isSocket()).toBe(true);

    const t = await startServer(new UnixStreamServer(path, EchoHandler));
    onTestFinished(() => t.close());
    expect(t.address).toEqual({ family: 'unix', host: path, port: 0 });
    expect(await echoOnce(await t.connect(), 'unix\n')).toBe('unix\n');

    const second = new UnixStreamServer(path, EchoHandler);
    await expect(second.ready).rejects.toMatchObject({ code: 'SRV_ERR_ADDRESS_IN_USE' });
    await second.close();
    expect(await echoOnce(await t.connect(), 'still\n')).toBe('still\n');
  });

  it('never removes a regular file in the way of a Unix socket', async () => {
    const dir = await tempDir();
    const path = join(dir, 'precious.txt');
    await writeFile(path, 'keep me');
    const server = new UnixStreamServer(path, EchoHandler);
    await expect(server.ready).rejects.toMatchObject({ code: 'SRV_ERR_ADDRESS_IN_USE' });
    await server.close();
    expect(await readFile(path, 'utf8')).toBe('keep me');
  });

  it('an inherited, already listening descriptor (socket activation)', async () => {
    const outer = net.createServer();
    await new Promise<void>((resolve) => outer.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const port = (outer.address() as net.AddressInfo).port;
    const fd = (outer as unknown as { _handle: { fd: number } })._handle.fd;
    const child = spawn(process.execPath, [new URL('./fixtures/fd-echo.mjs', import.meta.url).pathname], {
      stdio: ['ignore', 'pipe', 'inherit', fd],
      env: { ...process.env, LISTEN_FDS: '1' },
    });
    onTestFinished(async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    });
    // The child holds its own copy of the descriptor; this process stops listening on it.
    await new Promise<void>((resolve) => outer.close(() => resolve()));
    await readUntil(child.stdout as unknown as net.Socket, (received) => received.includes('ready'));
    const socket = net.connect({ host: '127.0.0.1', port });
    onTestFinished(() => void socket.destroy());
    await once(socket, 'connect');
    expect(await echoOnce(socket, 'fd\n')).toBe(`${child.pid}:fd\n`);
  });

  it('TLS on a TCP listener', async () => {
    const { cert, key } = await createTestCertificate();
    const t = await startServer(new TCPServer(['127.0.0.1', 0], EchoHandler, { tls: { cert, key } }));
    onTestFinished(() => t.close());
    const socket = await t.connect({ tls: { ca: cert, servername: 'localhost' } });
    expect(await echoOnce(socket, 'secret\n')).toBe('secret\n');
    // A plain-text client gets no echo and the server keeps serving.
    const plain = await t.connect();
    plain.write('not tls\n');
    await once(plain, 'close');
    expect(await echoOnce(await t.connect({ tls: { ca: cert, servername: 'localhost' } }), 'ok\n')).toBe(
      'ok\n',
    );
  });
});

describe('UDP', () => {
  it('answers each datagram over IPv4', async () => {
    const t = await startServer(new UDPServer(['127.0.0.1', 0], UpperHandler));
    onTestFinished(() => t.close());
    expect((await sendDatagram(t.address, 'ping')).toString()).toBe('PING');
    expect((await sendDatagram(t.address, 'pong')).toString()).toBe('PONG');
  });

  it.runIf(hasIPv6())('answers each datagram over IPv6', async () => {
    const t = await startServer(new UDPServer('[::1]:0', UpperHandler));
    onTestFinished(() => t.close());
    expect(t.address.family).toBe('IPv6');
    expect((await sendDatagram(t.address, 'six')).toString()).toBe('SIX');
  });

  it('a plain function handler works too', async () => {
    const t = await startServer(
      new UDPServer(['127.0.0.1', 0], async (request) => {
        await request.info.reply(`got ${request.data.length}`);
      }),
    );
    onTestFinished(() => t.close());
    expect((await sendDatagram(t.address, 'abc')).toString()).toBe('got 3');
  });

  it('refuses a Unix path with a coded error (Node has no Unix datagram sockets)', async () => {
    const server = new UDPServer({ path: '/tmp/x' }, UpperHandler);
    await expect(server.ready).rejects.toMatchObject({ code: 'SRV_ERR_UNSUPPORTED_OPTION' });
    await server.close();
  });

  it('reports a bind conflict with the coded error', async () => {
    const first = await startServer(new UDPServer(['127.0.0.1', 0], UpperHandler));
    onTestFinished(() => first.close());
    const second = new UDPServer(['127.0.0.1', first.port], UpperHandler);
    const error = await second.ready.catch((e: unknown) => e);
    expect(isSrvError(error, 'SRV_ERR_ADDRESS_IN_USE')).toBe(true);
    await second.close();
  });
});

describe('connection info and the end of a connection', () => {
  class InfoHandler extends StreamRequestHandler {
    override async handle(): Promise<void> {
      const { local, remote } = this.info;
      await this.wfile.write(`${JSON.stringify({ local, remote, client: this.clientAddress })}\n`);
    }
  }

  it('gives the real local and remote ends, bound to one address and to a wildcard', async () => {
    for (const host of ['127.0.0.1', '0.0.0.0']) {
      const t = await startServer(new TCPServer([host, 0], InfoHandler));
      onTestFinished(() => t.close());
      const socket = await t.connect();
      const reply = JSON.parse((await readUntil(socket, (received) => received.includes('\n'))).toString());
      expect(reply.local).toEqual({ family: 'IPv4', host: '127.0.0.1', port: t.port });
      expect(reply.remote).toEqual({ family: 'IPv4', host: '127.0.0.1', port: socket.localPort });
      expect(reply.client).toEqual(reply.remote);
    }
  });

  it('cuts a connection whose client never closes its side about 2 s after the handler is done', async () => {
    const t = await startServer(new TCPServer(['127.0.0.1', 0], InfoHandler));
    onTestFinished(() => t.close());
    // allowHalfOpen: the client reads the reply and the server's FIN but keeps its own side open.
    const socket = t.track(net.connect({ host: '127.0.0.1', port: t.port, allowHalfOpen: true }));
    await once(socket, 'connect');
    const ended = once(socket, 'end');
    await readUntil(socket, (received) => received.includes('\n'));
    await ended;
    const handlerDone = performance.now();
    expect(t.server.connectionCount).toBe(1);
    await vi.waitFor(() => expect(t.server.connectionCount).toBe(0), { timeout: 5000, interval: 50 });
    const lingered = performance.now() - handlerDone;
    expect(lingered).toBeGreaterThanOrEqual(1500);
    expect(lingered).toBeLessThan(3500);
  });
});
