import { once } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import type { ConnectionInfo } from '@srv/core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MessageBatch, unbatch } from '../../src/batch.js';
import type { RelayMessage } from '../../src/relay.js';
import { RelayedSocket } from '../../src/relayed-socket.js';

const info: ConnectionInfo = {
  local: { family: 'IPv4', host: '127.0.0.1', port: 8000 },
  remote: { family: 'IPv4', host: '127.0.0.1', port: 50000 },
  tls: false,
};

type Posted = { message: unknown; transfer: ArrayBuffer[] | undefined };

function recorder() {
  const posted: Posted[] = [];
  const batch = new MessageBatch<{ n: number }>((message, transfer) => posted.push({ message, transfer }));
  return { posted, batch };
}

const turnOver = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('MessageBatch', () => {
  it('posts what one turn queued as one array, in order, once the turn is over', async () => {
    const { posted, batch } = recorder();
    batch.send({ n: 1 });
    batch.send({ n: 2 });
    await Promise.resolve();
    batch.send({ n: 3 });
    expect(posted).toEqual([]);
    await turnOver();
    expect(posted).toEqual([{ message: [{ n: 1 }, { n: 2 }, { n: 3 }], transfer: undefined }]);
  });

  it('posts a lone message as itself, and a later turn as a message of its own', async () => {
    const { posted, batch } = recorder();
    batch.send({ n: 1 });
    await turnOver();
    batch.send({ n: 2 });
    await turnOver();
    expect(posted.map((entry) => entry.message)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('gathers the transfer lists of the messages it joins', async () => {
    const { posted, batch } = recorder();
    const first = new ArrayBuffer(8);
    const second = new ArrayBuffer(8);
    batch.send({ n: 1 }, [first]);
    batch.send({ n: 2 });
    batch.send({ n: 3 }, [second]);
    await turnOver();
    expect(posted).toHaveLength(1);
    expect(posted[0]!.transfer).toEqual([first, second]);
  });

  it('flush() posts at once (before a port closes), and nothing is posted twice', async () => {
    const { posted, batch } = recorder();
    batch.send({ n: 1 });
    batch.flush();
    expect(posted.map((entry) => entry.message)).toEqual([{ n: 1 }]);
    await turnOver();
    expect(posted).toHaveLength(1);
  });

  it('sendLast() posts the batch at once, the last message last, and leaves no timer behind', async () => {
    const { posted, batch } = recorder();
    batch.send({ n: 1 });
    batch.sendLast({ n: 2 });
    expect(posted.map((entry) => entry.message)).toEqual([[{ n: 1 }, { n: 2 }]]);
    await turnOver();
    expect(posted).toHaveLength(1);
  });

  it('unbatch() hands over each message of an array, or a lone message', () => {
    const seen: number[] = [];
    unbatch<{ n: number }>([{ n: 1 }, { n: 2 }], (message) => seen.push(message.n));
    unbatch<{ n: number }>({ n: 3 }, (message) => seen.push(message.n));
    expect(seen).toEqual([1, 2, 3]);
  });
});

describe('RelayedSocket corked writes', () => {
  it('sends small chunks written in one cork as one data message, large ones each as their own', async () => {
    const { port1, port2 } = new MessageChannel();
    onTestFinished(() => {
      port1.close();
      port2.close();
    });
    const socket = new RelayedSocket(port2, info);
    onTestFinished(() => void socket.destroy());
    const received: Buffer[] = [];
    port1.on('message', (message: RelayMessage) => {
      if (message.t !== 'data') return;
      received.push(
        typeof message.b === 'string'
          ? Buffer.from(message.b, 'latin1')
          : Buffer.from(message.b.buffer, message.b.byteOffset, message.b.byteLength),
      );
    });
    socket.cork();
    socket.write('HTTP/1.1 200 OK\r\n\r\n');
    socket.write('Hello World\n');
    socket.uncork();
    await once(port1, 'message');
    expect(received.map((chunk) => chunk.toString('latin1'))).toEqual([
      'HTTP/1.1 200 OK\r\n\r\nHello World\n',
    ]);

    const large = Buffer.alloc(40 * 1024, 'a');
    socket.cork();
    socket.write('head');
    socket.write(large);
    socket.uncork();
    while (received.length < 3) await once(port1, 'message');
    expect(received.slice(1).map((chunk) => chunk.length)).toEqual([4, large.length]);
    expect(received[2]!.equals(large)).toBe(true);
  });
});
