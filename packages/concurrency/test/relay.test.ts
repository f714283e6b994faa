import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { MessageChannel } from 'node:worker_threads';
import { type SocketAddress, TCPServer } from '@srv/core';
import { startServer } from '@srv/core/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { threading } from '../src/index.js';
import { RelayedSocket } from '../src/relayed-socket.js';
import { BigWriter, GatedCounter } from './fixtures/handlers.js';
import { handlerModule } from './helpers.js';

const window = 256 * 1024;

/** Keeps the main-thread sockets the server accepts, to look at their buffers. */
class Capturing extends TCPServer {
  readonly accepted: Duplex[] = [];
  override verifyRequest(request: Duplex): boolean {
    this.accepted.push(request);
    return true;
  }
}

/** Samples `read()` every 20 ms until it stops changing (the flow has stalled); returns the maximum seen. */
async function sampleUntilStalled(read: () => number, observe: () => number): Promise<number> {
  let max = observe();
  let last = -1;
  let stable = 0;
  while (stable < 5) {
    await delay(20);
    max = Math.max(max, observe());
    const now = read();
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
  return max;
}

describe('the threading relay', () => {
  it('keeps memory bounded under a client that does not read (worker → client backpressure)', async () => {
    const total = 64 * 1024 * 1024;
    const server = new Capturing(['127.0.0.1', 0], BigWriter, {
      dispatcher: threading({ relayWindow: window }),
      handlerModule,
      workerData: { bytes: total },
    });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const client = await t.connect();
    client.pause();
    while (server.accepted.length === 0) await once(server, 'request');
    const socket = server.accepted[0]! as Duplex & { bytesWritten: number };
    // Wait for the first bytes to flow, then for the stall the paused client causes.
    while (socket.writableLength === 0 && socket.bytesWritten === 0) await delay(10);
    const maxBuffered = await sampleUntilStalled(
      () => socket.bytesWritten + socket.writableLength,
      () => socket.writableLength,
    );
    // One window plus one chunk may sit in the main thread; the kernel holds a few MB more at most.
    expect(maxBuffered).toBeLessThanOrEqual(window + 128 * 1024);
    expect(socket.bytesWritten).toBeLessThan(total / 2);
    let received = 0;
    client.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    client.resume();
    await once(client, 'end');
    expect(received).toBe(total);
  });

  it('stops reading from a client whose handler does not read (client → worker backpressure)', async () => {
    const gate = new SharedArrayBuffer(4);
    const server = new Capturing(['127.0.0.1', 0], GatedCounter, {
      dispatcher: threading({ relayWindow: window }),
      handlerModule,
      workerData: { gate },
    });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const client = await t.connect();
    while (server.accepted.length === 0) await once(server, 'request');
    const socket = server.accepted[0]! as Duplex & { bytesRead: number };
    const total = 32 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    let written = 0;
    const pump = async () => {
      while (written < total) {
        written += chunk.length;
        if (!client.write(chunk)) await once(client, 'drain');
      }
      client.end();
    };
    const pumping = pump();
    const maxRead = await sampleUntilStalled(
      () => written,
      () => socket.bytesRead,
    );
    // The main thread read one window (plus what was in flight), not the 32 MB the client tried to send.
    expect(maxRead).toBeLessThanOrEqual(window + 512 * 1024);
    expect(written).toBeLessThan(total);
    const gateView = new Int32Array(gate);
    Atomics.store(gateView, 0, 1);
    Atomics.notify(gateView, 0);
    await pumping;
    const reply = await new Promise<string>((resolve) => {
      let text = '';
      client.setEncoding('utf8');
      client.on('data', (data: string) => {
        text += data;
      });
      client.on('end', () => resolve(text));
    });
    expect(reply).toBe(`${total}\n`);
  });

  it('keeps the next write in flight while the primary sends one larger than the window', async () => {
    const { port1, port2 } = new MessageChannel();
    const local: SocketAddress = { family: 'IPv4', host: '127.0.0.1', port: 80 };
    const remote: SocketAddress = { family: 'IPv4', host: '127.0.0.1', port: 50000 };
    const socket = new RelayedSocket(port2, { local, remote, tls: false }, 64 * 1024);
    const arrived: number[] = [];
    port1.on('message', (message: { t: string; b?: Uint8Array | string }) => {
      if (message.t === 'data')
        arrived.push(typeof message.b === 'string' ? message.b.length : message.b!.byteLength);
    });
    onTestFinished(() => {
      socket.destroy();
      port1.close();
    });
    const mib = Buffer.alloc(1024 * 1024, 0x62);
    const calledBack: number[] = [];
    const write = (n: number) => socket.write(mib, () => calledBack.push(n));
    write(1);
    write(2);
    write(3);
    // The first write had nothing in flight before it: called back at once, so the second went too.
    while (arrived.length < 2) await once(port1, 'message');
    await new Promise((resolve) => setImmediate(resolve));
    expect(calledBack).toEqual([1]);
    expect(arrived).toEqual([mib.length, mib.length]);
    // The primary sent the first: the second, still in flight, is called back and the third goes out,
    // so the primary holds a chunk to send while the second drains.
    port1.postMessage({ t: 'ack', n: mib.length });
    while (arrived.length < 3) await once(port1, 'message');
    expect(calledBack).toEqual([1, 2]);
    // Still in flight: the second and third (two writes beyond an empty window), nothing more.
    await new Promise((resolve) => setImmediate(resolve));
    expect(calledBack).toEqual([1, 2]);
    expect(arrived).toHaveLength(3);
    port1.postMessage({ t: 'ack', n: mib.length });
    while (calledBack.length < 3) await new Promise((resolve) => setImmediate(resolve));
    expect(calledBack).toEqual([1, 2, 3]);
  });

  it('gives the worker end the socket fields node:http reads, and a real idle timeout', async () => {
    const { port1, port2 } = new MessageChannel();
    onTestFinished(() => port1.close());
    const local: SocketAddress = { family: 'IPv6', host: '::1', port: 8443 };
    const remote: SocketAddress = { family: 'IPv6', host: '::1', port: 50000 };
    const socket = new RelayedSocket(port2, { local, remote, tls: true });
    expect(socket).toMatchObject({
      remoteAddress: '::1',
      remotePort: 50000,
      remoteFamily: 'IPv6',
      localAddress: '::1',
      localPort: 8443,
      encrypted: true,
    });
    expect(socket.address()).toEqual({ address: '::1', family: 'IPv6', port: 8443 });
    expect(socket.setNoDelay(true)).toBe(socket);
    expect(socket.setKeepAlive(true, 1000)).toBe(socket);
    const started = Date.now();
    await new Promise<void>((resolve) => socket.setTimeout(50, resolve));
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    const closed = once(socket, 'close');
    socket.destroySoon();
    await closed;
  });
});
