// The primary's end of a forwarded request (threading): the worker's response bytes go straight to the
// request's own ServerResponse (`writeResponse`), which `endExchange` ends, keeping or closing the
// client's connection.
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Exchange } from '../../src/forward.js';

const answer = (body: string): Buffer =>
  Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`, 'latin1');

/** A server whose requests arrive as exchanges, and a raw client connected to it. */
async function setup(): Promise<{
  exchanges: AsyncIterator<Exchange>;
  client: Socket;
  received: () => string;
}> {
  const server = http.createServer();
  const queue: Exchange[] = [];
  const waiting: Array<(exchange: Exchange) => void> = [];
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const exchange = new Exchange(req, res);
    const wake = waiting.shift();
    if (wake) wake(exchange);
    else queue.push(exchange);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(() => {
    server.closeAllConnections();
    server.close();
  });
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  onTestFinished(() => void client.destroy());
  let text = '';
  client.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
  });
  const exchanges: AsyncIterator<Exchange> = {
    next: () =>
      new Promise((resolve) => {
        const ready = queue.shift();
        if (ready) resolve({ value: ready, done: false });
        else waiting.push((exchange) => resolve({ value: exchange, done: false }));
      }),
  };
  return { exchanges, client, received: () => text };
}

async function until(check: () => boolean, client: Socket): Promise<void> {
  while (!check()) await once(client, 'data');
}

describe('Exchange', () => {
  it('writes the worker bytes to res as they are and keeps the connection for the next request', async () => {
    const { exchanges, client, received } = await setup();
    client.write('GET /one HTTP/1.1\r\nHost: x\r\n\r\n');
    const first = (await exchanges.next()).value as Exchange;
    expect(first.writeResponse(answer('one'), () => {})).toBe(true);
    first.endExchange(true);
    await until(() => received().endsWith('one'), client);
    expect(received()).toBe(answer('one').toString('latin1'));
    client.write('GET /two HTTP/1.1\r\nHost: x\r\n\r\n');
    const second = (await exchanges.next()).value as Exchange;
    second.writeResponse(answer('two'), () => {});
    second.endExchange(true);
    await until(() => received().endsWith('two'), client);
    expect(received()).toBe(answer('one').toString('latin1') + answer('two').toString('latin1'));
    expect(client.readableEnded).toBe(false);
  });

  it('keeps the order of bytes still queued on its writable side, and closes after a last response', async () => {
    const { exchanges, client, received } = await setup();
    client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const exchange = (await exchanges.next()).value as Exchange;
    const bytes = answer('abcdef');
    // A write the stream's way that is still in progress (its callback waits): what follows queues.
    exchange.cork();
    exchange.write(bytes.subarray(0, 10));
    exchange.writeResponse(bytes.subarray(10), () => {});
    exchange.endExchange(false);
    exchange.uncork();
    await once(client, 'end');
    expect(received()).toBe(bytes.toString('latin1'));
  });
});
