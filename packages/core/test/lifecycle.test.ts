import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import {
  BaseRequestHandler,
  isSrvError,
  type Logger,
  type SocketAddress,
  SrvError,
  StreamRequestHandler,
  supportsReusePort,
  TCPServer,
} from '../src/index.js';
import { readAll, readUntil, startServer } from '../src/testing.js';
import { deferred, EchoHandler } from './fixtures.js';

/** A connection to `server` (in attach mode) handed in by an outer listener, as a worker's owner does. */
async function connectThroughAttach(server: TCPServer): Promise<net.Socket> {
  const outer = net.createServer((socket) =>
    server.attach(socket, {
      local: { family: 'IPv4', host: '127.0.0.1', port: 4321 },
      remote: { family: 'IPv4', host: socket.remoteAddress!, port: socket.remotePort! },
      tls: false,
    }),
  );
  await new Promise<void>((resolve) => outer.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => outer.close(() => resolve())));
  const client = net.connect((outer.address() as net.AddressInfo).port, '127.0.0.1');
  onTestFinished(() => void client.destroy());
  return client;
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (fields: object | string, message?: string) => {
    lines.push(typeof fields === 'string' ? fields : (message ?? ''));
  };
  return { lines, info: log, warn: log, error: log };
}

/** Records when each handler starts and ends, holding each until released. */
function holdingHandler(gate: Promise<void>, events: string[]) {
  return class Holding extends StreamRequestHandler {
    override async handle(): Promise<void> {
      const line = (await this.rfile.readline()).toString().trim();
      events.push(`start ${line}`);
      await gate;
      events.push(`end ${line}`);
      await this.wfile.write(`done ${line}\n`);
    }
  };
}

async function send(t: { connect(): Promise<net.Socket> }, text: string): Promise<net.Socket> {
  const socket = await t.connect();
  socket.write(text);
  return socket;
}

describe('dispatchers', () => {
  it('serial: the second client waits for the first handler, even an async one', async () => {
    const gate = deferred();
    const events: string[] = [];
    const t = await startServer(
      new TCPServer(['127.0.0.1', 0], holdingHandler(gate.promise, events), { dispatcher: 'serial' }),
    );
    onTestFinished(() => t.close());
    const first = await send(t, 'a\n');
    await vi.waitFor(() => expect(events).toEqual(['start a']));
    const second = await send(t, 'b\n');
    // The second connection is accepted, but its handler must not start while the first holds.
    const secondReply = readAll(second);
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['start a']);
    gate.resolve();
    expect((await readAll(first)).toString()).toBe('done a\n');
    expect((await secondReply).toString()).toBe('done b\n');
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b']);
  });

  it('serial: a connection that leaves while it waits is skipped; a half-closed one is served', async () => {
    const gate = deferred();
    const events: string[] = [];
    const t = await startServer(
      new TCPServer(['127.0.0.1', 0], holdingHandler(gate.promise, events), { dispatcher: 'serial' }),
    );
    onTestFinished(() => t.close());
    const first = await send(t, 'a\n');
    await vi.waitFor(() => expect(events).toEqual(['start a']));
    const dispatcher = t.server.dispatcher as unknown as { size: number };
    // Probes: connect and leave. Each is queued while the first holds, and leaves the queue on close.
    const probes = await Promise.all([t.connect(), t.connect(), t.connect()]);
    await vi.waitFor(() => expect(dispatcher.size).toBe(4));
    for (const probe of probes) probe.resetAndDestroy();
    await vi.waitFor(() => expect(dispatcher.size).toBe(1));
    const half = await send(t, 'b\n');
    half.end();
    const halfReply = readAll(half);
    gate.resolve();
    expect((await readAll(first)).toString()).toBe('done a\n');
    expect((await halfReply).toString()).toBe('done b\n');
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b']);
  });

  it('async: handlers overlap', async () => {
    const gate = deferred();
    const events: string[] = [];
    const t = await startServer(new TCPServer(['127.0.0.1', 0], holdingHandler(gate.promise, events)));
    onTestFinished(() => t.close());
    expect(t.server.dispatcher.name).toBe('async');
    const first = await send(t, 'a\n');
    const second = await send(t, 'b\n');
    await vi.waitFor(() => expect([...events].sort()).toEqual(['start a', 'start b']));
    gate.resolve();
    expect((await readAll(first)).toString()).toBe('done a\n');
    expect((await readAll(second)).toString()).toBe('done b\n');
  });

  it('rejects an unknown dispatcher name with a coded error', () => {
    expect(() => new TCPServer(['127.0.0.1', 0], EchoHandler, { dispatcher: 'fibers' as never })).toThrow(
      expect.objectContaining({ code: 'SRV_ERR_INVALID_OPTION' }),
    );
  });
});

describe('lifecycle', () => {
  it('shutdown() waits for an in-flight handler, then settles serveForever()', async () => {
    const gate = deferred();
    const events: string[] = [];
    const server = new TCPServer(['127.0.0.1', 0], holdingHandler(gate.promise, events));
    const t = await startServer(server, { serve: false });
    onTestFinished(() => t.close());
    const serving = server.serveForever();
    const client = await send(t, 'x\n');
    const reply = readAll(client);
    await vi.waitFor(() => expect(events).toEqual(['start x']));
    let settled = false;
    const shutdown = server.shutdown().then(() => {
      settled = true;
    });
    // New connections are refused once shutdown began.
    const refused = net.connect({ host: t.host, port: t.port });
    refused.on('error', () => {});
    await new Promise((resolve) => refused.once('close', resolve));
    expect(settled).toBe(false);
    gate.resolve();
    await shutdown;
    await serving;
    expect((await reply).toString()).toBe('done x\n');
    expect(events).toEqual(['start x', 'end x']);
  });

  it('shutdown() destroys what is still running after graceMs', async () => {
    const logger = recordingLogger();
    const never = new Promise<void>(() => {});
    const server = new TCPServer(['127.0.0.1', 0], holdingHandler(never, []), { graceMs: 50, logger });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const client = await send(t, 'stuck\n');
    await vi.waitFor(() => expect(server.connectionCount).toBe(1));
    const closed = once(client, 'close');
    await server.shutdown();
    await closed;
    expect(logger.lines.some((line) => line.includes('still busy after 50 ms'))).toBe(true);
  });

  it('handleRequest() serves exactly one request', async () => {
    const server = new TCPServer(['127.0.0.1', 0], EchoHandler);
    const t = await startServer(server, { serve: false });
    onTestFinished(() => t.close());
    const first = await send(t, 'one\n');
    first.end();
    const second = await send(t, 'two\n');
    second.end();
    expect(await server.handleRequest()).toBe(true);
    expect((await readAll(first)).toString()).toBe('one\n');
    // The second waits in the queue until asked for.
    expect(second.destroyed).toBe(false);
    expect(await server.handleRequest()).toBe(true);
    expect((await readAll(second)).toString()).toBe('two\n');
  });

  it('handleRequest() waits for a request that comes later, and serves it', async () => {
    let timeouts = 0;
    class Counted extends TCPServer {
      override handleTimeout(): void {
        timeouts += 1;
      }
    }
    const server = new Counted(['127.0.0.1', 0], EchoHandler);
    const t = await startServer(server, { serve: false });
    onTestFinished(() => t.close());
    const handled = server.handleRequest({ timeout: 10_000 });
    const late = await send(t, 'late\n');
    late.end();
    expect(await handled).toBe(true);
    expect((await readAll(late)).toString()).toBe('late\n');
    expect(timeouts).toBe(0);
  });

  it('handleRequest({ timeout }) calls handleTimeout() when nothing comes', async () => {
    const timeouts: number[] = [];
    class Timed extends TCPServer {
      override handleTimeout(): void {
        timeouts.push(Date.now());
      }
    }
    const server = new Timed(['127.0.0.1', 0], EchoHandler);
    const t = await startServer(server, { serve: false });
    onTestFinished(() => t.close());
    const started = Date.now();
    expect(await server.handleRequest({ timeout: 50 })).toBe(false);
    expect(timeouts).toHaveLength(1);
    expect(timeouts[0]! - started).toBeGreaterThanOrEqual(45);
  });

  it('verifyRequest() returning false closes the connection without running the handler', async () => {
    const handled: string[] = [];
    class Picky extends TCPServer {
      override verifyRequest(_request: unknown, _client: SocketAddress): boolean {
        return false;
      }
    }
    const server = new Picky(['127.0.0.1', 0], (_request, ctx) => {
      handled.push(ctx.clientAddress.host);
    });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const client = await send(t, 'hi\n');
    expect((await readAll(client)).length).toBe(0);
    expect(handled).toEqual([]);
  });

  it('a throwing handler goes to handleError() with the client address, and the next client is served', async () => {
    const errors: Array<{ client: SocketAddress; error: unknown }> = [];
    class Fragile extends StreamRequestHandler {
      override async handle(): Promise<void> {
        const line = (await this.rfile.readline()).toString().trim();
        if (line === 'boom') throw new Error('handler exploded');
        await this.wfile.write(`ok ${line}\n`);
      }
    }
    class Recording extends TCPServer {
      override handleError(_request: unknown, client: SocketAddress, error: unknown): void {
        errors.push({ client, error });
      }
    }
    const t = await startServer(new Recording(['127.0.0.1', 0], Fragile));
    onTestFinished(() => t.close());
    const boom = await send(t, 'boom\n');
    const boomPort = boom.localPort;
    expect((await readAll(boom)).length).toBe(0);
    expect(errors).toHaveLength(1);
    expect((errors[0]!.error as Error).message).toBe('handler exploded');
    expect(errors[0]!.client).toMatchObject({ host: '127.0.0.1', port: boomPort });
    expect((await readAll(await send(t, 'next\n'))).toString()).toBe('ok next\n');
  });

  it('the default handleError logs and keeps serving; finish() runs even when handle() throws', async () => {
    const logger = recordingLogger();
    const finished: string[] = [];
    class Throws extends BaseRequestHandler {
      override handle(): void {
        throw new Error('nope');
      }
      override finish(): void {
        finished.push('finish');
      }
    }
    const t = await startServer(new TCPServer(['127.0.0.1', 0], Throws, { logger }));
    onTestFinished(() => t.close());
    await readAll(await send(t, 'x'));
    expect(finished).toEqual(['finish']);
    expect(logger.lines[0]).toMatch(
      /^Exception occurred during processing of request from 127\.0\.0\.1:\d+$/,
    );
  });

  it('a line longer than the limit is an error, not unbounded memory', async () => {
    const errors: unknown[] = [];
    class Short extends EchoHandler {
      static override maxLineLength = 16;
    }
    class Recording extends TCPServer {
      override handleError(_request: unknown, _client: SocketAddress, error: unknown): void {
        errors.push(error);
      }
    }
    const t = await startServer(new Recording(['127.0.0.1', 0], Short));
    onTestFinished(() => t.close());
    const client = await send(t, `short\n${'x'.repeat(1000)}\n`);
    expect((await readAll(client)).toString()).toBe('short\n');
    expect(isSrvError(errors[0], 'SRV_ERR_LINE_TOO_LONG')).toBe(true);
  });

  it('readline(limit) returns at most limit bytes, like Python', async () => {
    const lines: string[] = [];
    const t = await startServer(
      new TCPServer(
        ['127.0.0.1', 0],
        class extends StreamRequestHandler {
          override async handle(): Promise<void> {
            lines.push((await this.rfile.readline(4)).toString());
            lines.push((await this.rfile.readline()).toString());
            lines.push((await this.rfile.read(3)).toString());
            lines.push((await this.rfile.read()).toString());
          }
        },
      ),
    );
    onTestFinished(() => t.close());
    const client = await send(t, 'abcdefg\nxyz-rest');
    client.end();
    await readAll(client);
    expect(lines).toEqual(['abcd', 'efg\n', 'xyz', '-rest']);
  });

  it('a stream handler timeout closes an idle connection', async () => {
    class Idle extends EchoHandler {
      static override timeout = 50;
    }
    const t = await startServer(new TCPServer(['127.0.0.1', 0], Idle, { logger: recordingLogger() }));
    onTestFinished(() => t.close());
    const client = await t.connect();
    const started = Date.now();
    await once(client, 'close');
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
  });

  it('close() is idempotent and awaitable; await using closes too', async () => {
    const server = new TCPServer(['127.0.0.1', 0], EchoHandler);
    await server.ready;
    const port = server.address.port;
    await Promise.all([server.close(), server.close()]);
    await server.close();
    const probe = net.connect({ host: '127.0.0.1', port });
    const [error] = (await once(probe, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');

    let scoped: TCPServer;
    {
      await using inner = new TCPServer(['127.0.0.1', 0], EchoHandler);
      scoped = inner;
      await inner.ready;
    }
    expect(scoped.listening).toBe(false);
  });

  it('close() on a server never activated settles, and ready says why', async () => {
    const server = new TCPServer(['127.0.0.1', 0], EchoHandler, { bindAndActivate: false });
    expect(server.listening).toBe(false);
    await server.close();
    await expect(server.ready).rejects.toMatchObject({ code: 'SRV_ERR_SERVER_CLOSED' });
  });

  it('bindAndActivate: false binds on serverBindAndActivate()', async () => {
    const server = new TCPServer(['127.0.0.1', 0], EchoHandler, { bindAndActivate: false });
    onTestFinished(() => server.close());
    await server.serverBindAndActivate();
    expect(server.listening).toBe(true);
  });

  it('an AbortSignal closes the server', async () => {
    const controller = new AbortController();
    const server = new TCPServer(['127.0.0.1', 0], EchoHandler, { signal: controller.signal });
    await server.ready;
    const closed = once(server, 'close');
    controller.abort();
    await closed;
  });

  it('EADDRINUSE rejects ready with the coded error, leaks no descriptor, and is never unhandled', async () => {
    const first = await startServer(new TCPServer(['127.0.0.1', 0], EchoHandler));
    onTestFinished(() => first.close());
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    onTestFinished(() => void process.off('unhandledRejection', onUnhandled));
    const fdsBefore = readdirSync('/proc/self/fd').length;

    // Nobody awaits this one: it must not surface as an unhandled rejection.
    const ignored = new TCPServer(['127.0.0.1', first.port], EchoHandler);
    const second = new TCPServer(['127.0.0.1', first.port], EchoHandler);
    const error = await second.ready.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SrvError);
    expect(error).toMatchObject({ code: 'SRV_ERR_ADDRESS_IN_USE' });
    expect((error as Error).message).toContain(`127.0.0.1:${first.port}`);
    await expect(second.serveForever()).rejects.toMatchObject({ code: 'SRV_ERR_ADDRESS_IN_USE' });
    await ignored.ready.catch(() => {});
    await new Promise((resolve) => setImmediate(resolve));
    expect(readdirSync('/proc/self/fd').length).toBeLessThanOrEqual(fdsBefore);
    expect(unhandled).toEqual([]);
    await second.close();
    await ignored.close();
  });

  it('allowReuseAddress: false on TCP is an explicit unsupported-option error', async () => {
    const server = new TCPServer(['127.0.0.1', 0], EchoHandler, { allowReuseAddress: false });
    await expect(server.ready).rejects.toMatchObject({ code: 'SRV_ERR_UNSUPPORTED_OPTION' });
    await server.close();
  });

  it('reusePort binds twice where Node supports it, and is a coded error where it does not', async () => {
    const first = new TCPServer(['127.0.0.1', 0], EchoHandler, { reusePort: true });
    onTestFinished(() => first.close());
    if (!supportsReusePort()) {
      await expect(first.ready).rejects.toMatchObject({ code: 'SRV_ERR_UNSUPPORTED_OPTION' });
      return;
    }
    await first.ready;
    const second = new TCPServer(['127.0.0.1', first.address.port], EchoHandler, { reusePort: true });
    onTestFinished(() => second.close());
    await second.ready;
    expect(second.address.port).toBe(first.address.port);
  });

  it('static fields configure a subclass, as in Python', async () => {
    class SixServer extends TCPServer {
      static override addressFamily = 'IPv6' as const;
      static override allowReuseAddress = true;
    }
    const t = await startServer(new SixServer(['', 0], EchoHandler));
    onTestFinished(() => t.close());
    expect(t.address.host).toBe('::');
  });

  it('attach mode binds nothing and serves handed-in connections', async () => {
    const server = new TCPServer(['127.0.0.1', 4321], EchoHandler, { attach: true });
    await server.ready;
    onTestFinished(() => server.close());
    expect(server.address).toEqual({ family: 'IPv4', host: '127.0.0.1', port: 4321 });
    const client = await connectThroughAttach(server);
    const reply = readUntil(client, (received) => received.includes('\n'));
    client.write('attached\n');
    expect((await reply).toString()).toBe('attached\n');
  });

  it('attach mode runs no verifyRequest: the owner that handed the connection in has verified it', async () => {
    let verified = 0;
    class Attached extends TCPServer {
      override verifyRequest(): boolean {
        verified += 1;
        return false;
      }
    }
    const server = new Attached(['127.0.0.1', 4321], EchoHandler, { attach: true });
    await server.ready;
    onTestFinished(() => server.close());
    const client = await connectThroughAttach(server);
    const reply = readUntil(client, (received) => received.includes('\n'));
    client.write('verified once\n');
    expect((await reply).toString()).toBe('verified once\n');
    expect(verified).toBe(0);
  });

  it('a handler class that is not one is refused', () => {
    expect(() => new TCPServer(['127.0.0.1', 0], 42 as never)).toThrow(
      expect.objectContaining({ code: 'SRV_ERR_INVALID_HANDLER' }),
    );
  });
});
