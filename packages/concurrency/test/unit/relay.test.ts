import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { ConnectionInfo } from '@srv/core';
import { afterEach, describe, expect, it } from 'vitest';
import { chunkSourceKey } from '../../src/chunk-pool.js';
import { post, type RelayMessage, relaySocket } from '../../src/relay.js';
import { RelayedSocket } from '../../src/relayed-socket.js';

const info: ConnectionInfo = {
  local: { family: 'IPv4', host: '127.0.0.1', port: 8000 },
  remote: { family: 'IPv4', host: '127.0.0.1', port: 50000 },
  tls: false,
};

/** The main thread's socket: bytes pushed in as if from the client; what the relay writes is kept. */
class FakeSocket extends Duplex {
  readonly written: Buffer[] = [];
  constructor(readonly slowWrites = false) {
    super({ allowHalfOpen: true, writableHighWaterMark: 1024 });
  }
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.written.push(chunk);
    if (this.slowWrites) setImmediate(callback);
    else callback();
  }
}

/** Counts the messages of each kind a port posts. */
function countPosts(port: MessagePort): Map<string, number> {
  const counts = new Map<string, number>();
  const post = port.postMessage.bind(port);
  port.postMessage = (message: RelayMessage, transfer?: never) => {
    counts.set(message.t, (counts.get(message.t) ?? 0) + 1);
    post(message, transfer);
  };
  return counts;
}

const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const item of open.splice(0)) item.close();
});

function relayPair(window: number, slowWrites = false) {
  const { port1, port2 } = new MessageChannel();
  open.push(port1, port2);
  const mainPosts = countPosts(port1);
  const workerPosts = countPosts(port2);
  const socket = new FakeSocket(slowWrites);
  const relayed = relaySocket(socket, port1, window);
  const worker = new RelayedSocket(port2, info, window);
  open.push({ close: () => worker.destroy() }, { close: () => socket.destroy() });
  return { socket, worker, relayed, mainPosts, workerPosts };
}

/** Reads `length` bytes, then pauses the stream again (without ending or destroying it). */
function readBytes(stream: Duplex, length: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < length) return;
      stream.off('data', onData);
      stream.pause();
      resolve(Buffer.concat(chunks));
    };
    stream.on('data', onData);
    stream.resume();
  });
}

async function writtenBytes(socket: FakeSocket, length: number): Promise<Buffer> {
  while (socket.written.reduce((sum, chunk) => sum + chunk.length, 0) < length) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  return Buffer.concat(socket.written);
}

describe('thread relay acknowledgements', () => {
  it('a short request and its answer cross without a single acknowledgement', async () => {
    const { socket, worker, mainPosts, workerPosts } = relayPair(256 * 1024);
    const request = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    socket.push(request);
    expect(await readBytes(worker, request.length)).toEqual(request);
    const answer = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi');
    worker.write(answer);
    expect(await writtenBytes(socket, answer.length)).toEqual(answer);
    expect(mainPosts.get('data')).toBe(1);
    expect(workerPosts.get('data')).toBe(1);
    expect(mainPosts.get('ack')).toBeUndefined();
    expect(workerPosts.get('ack')).toBeUndefined();
  });

  it('moves many windows both ways without stalling, acknowledging in batches', async () => {
    const window = 4096;
    const { socket, worker, mainPosts, workerPosts } = relayPair(window, true);
    const total = 1024 * 1024;
    const upstream = Buffer.alloc(total);
    for (let index = 0; index < total; index++) upstream[index] = index % 251;
    const reading = readBytes(worker, total);
    for (let offset = 0; offset < total; offset += 1000)
      socket.push(upstream.subarray(offset, offset + 1000));
    expect((await reading).equals(upstream)).toBe(true);

    const downstream = Buffer.from(upstream).reverse();
    for (let offset = 0; offset < total; offset += 1500) {
      if (!worker.write(downstream.subarray(offset, offset + 1500))) await once(worker, 'drain');
    }
    expect((await writtenBytes(socket, total)).equals(downstream)).toBe(true);
    // Batched: at most one acknowledgement per quarter window, far fewer than the data messages.
    const pairs = [
      [workerPosts.get('ack') ?? 0, mainPosts.get('data') ?? 0],
      [mainPosts.get('ack') ?? 0, workerPosts.get('data') ?? 0],
    ] as const;
    for (const [acks, data] of pairs) {
      expect(acks).toBeGreaterThan(0);
      expect(acks).toBeLessThanOrEqual(total / (window / 4) + 1);
      expect(acks).toBeLessThan(data / 2);
    }
  });

  it('a worker that stops reading holds the main thread at one window', async () => {
    const window = 8192;
    const { socket, worker } = relayPair(window);
    worker.pause();
    let relayed = 0;
    socket.on('data', (chunk: Buffer) => {
      relayed += chunk.length;
    });
    const paused = once(socket, 'pause');
    for (let index = 0; index < 100; index++) socket.push(Buffer.alloc(1000, 7));
    await paused;
    // Let anything already queued flow: nothing more may arrive while the worker reads nothing.
    for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve));
    // The relay pauses the socket once a window is unacknowledged (one chunk may overshoot it); the
    // worker acknowledges what its stream buffer still takes (16 KiB on Node 20, 64 KiB from Node 22),
    // then nothing more.
    expect(relayed).toBeGreaterThanOrEqual(window);
    expect(relayed).toBeLessThanOrEqual(window + worker.readableHighWaterMark + 1000);
    expect(relayed).toBeLessThan(100 * 1000);
    expect(socket.isPaused()).toBe(true);
    // Reading again releases the rest.
    const rest = readBytes(worker, 100 * 1000);
    expect((await rest).length).toBe(100 * 1000);
  });

  it('moves the memory of a chunk its writer marked transferable, and copies any other', async () => {
    const { port1, port2 } = new MessageChannel();
    const received: Array<Uint8Array | string> = [];
    port2.on('message', (message: RelayMessage) => {
      if (message.t === 'data') received.push(message.b);
    });
    try {
      const marked = Buffer.alloc(64 * 1024, 0x61);
      Object.defineProperty(marked, Symbol.for('srv.transferable'), { value: true });
      const unmarked = Buffer.alloc(64 * 1024, 0x62);
      // Marked, but a view of a larger buffer: moving it would take the bytes around it.
      const view = Buffer.alloc(128 * 1024, 0x63).subarray(0, 64 * 1024);
      Object.defineProperty(view, Symbol.for('srv.transferable'), { value: true });
      post(port1, marked);
      post(port1, unmarked);
      post(port1, view);
      expect(marked.byteLength).toBe(0);
      expect(unmarked.byteLength).toBe(64 * 1024);
      expect(view.byteLength).toBe(64 * 1024);
      while (received.length < 3) await once(port2, 'message');
      expect(received.map((bytes) => Buffer.from(bytes as Uint8Array))).toEqual([
        Buffer.alloc(64 * 1024, 0x61),
        Buffer.alloc(64 * 1024, 0x62),
        Buffer.alloc(64 * 1024, 0x63),
      ]);
    } finally {
      port1.close();
    }
  });

  it('hands the memory of chunks a real socket wrote back to the worker, whose next chunks reuse it', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const client = connect(port, '127.0.0.1');
    const [accepted] = (await once(server, 'connection')) as [Socket];
    const channel = new MessageChannel();
    open.push(
      channel.port1,
      channel.port2,
      { close: () => client.destroy() },
      { close: () => server.close() },
    );
    const window = 256 * 1024;
    void relaySocket(accepted, channel.port1, window);
    const worker = new RelayedSocket(channel.port2, info, window);
    open.push({ close: () => worker.destroy() });
    const received: Buffer[] = [];
    let receivedBytes = 0;
    client.on('data', (chunk: Buffer) => {
      received.push(chunk);
      receivedBytes += chunk.length;
      client.emit('progress');
    });
    const size = 64 * 1024;
    const lend = worker[chunkSourceKey];
    const expected: Buffer[] = [];
    let reused = 0;
    for (let index = 0; index < 12; index++) {
      const lent = lend(size);
      if (lent !== undefined) reused += 1;
      const chunk = lent ?? Buffer.allocUnsafe(size);
      chunk.fill(index + 1);
      Object.defineProperty(chunk, Symbol.for('srv.transferable'), { value: true });
      expected.push(Buffer.alloc(size, index + 1));
      if (!worker.write(chunk)) await once(worker, 'drain');
      // The client has the chunk: the main thread's socket wrote it, so its memory may come back.
      while (receivedBytes < (index + 1) * size) await once(client, 'progress');
    }
    expect(reused).toBeGreaterThan(0);
    expect(Buffer.concat(received).equals(Buffer.concat(expected))).toBe(true);
  });

  it('keeps the memory of chunks written to a stream that is not a socket (it may hold them)', async () => {
    const { socket, worker } = relayPair(256 * 1024);
    const size = 64 * 1024;
    const lend = worker[chunkSourceKey];
    for (let index = 0; index < 8; index++) {
      expect(lend(size)).toBeUndefined();
      const chunk = Buffer.alloc(size, index + 1);
      Object.defineProperty(chunk, Symbol.for('srv.transferable'), { value: true });
      if (!worker.write(chunk)) await once(worker, 'drain');
      await writtenBytes(socket, (index + 1) * size);
    }
    // What the stream kept is intact: nothing it holds was handed back and reused.
    const expected = Array.from({ length: 8 }, (_, index) => Buffer.alloc(size, index + 1));
    expect(Buffer.concat(socket.written).equals(Buffer.concat(expected))).toBe(true);
  });
});
