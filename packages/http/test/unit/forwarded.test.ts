// The head of a forwarded request (threading): what the primary's parse becomes as plain data, and the
// request and response a worker builds from it without a parser.
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Duplex } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type ForwardedHead, forwardedHead } from '../../src/forward.js';
import { buildForwardedExchange, forwardedHeadOf } from '../../src/forwarded.js';

/** A worker's exchange stream: the readable side is the body, the writable side collects the answer. */
class ExchangeStream extends Duplex {
  readonly written: Buffer[] = [];
  constructor(head: ForwardedHead) {
    super({ allowHalfOpen: true });
    Object.defineProperty(this, Symbol.for('srv.http.forwarded-head'), { value: head });
  }
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.written.push(chunk);
    callback();
  }
  endBody(trailers: string[]): void {
    Object.defineProperty(this, Symbol.for('srv.http.exchange-trailers'), { value: trailers });
    this.push(null);
  }
}

/** The head Node's parser gives the primary for `raw`, as it would cross to a worker (cloned). */
async function parse(raw: string): Promise<{ head: ForwardedHead; req: IncomingMessage }> {
  const server = http.createServer();
  onTestFinished(() => void server.close());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const client = (await import('node:net')).connect(port, '127.0.0.1');
  onTestFinished(() => void client.destroy());
  client.write(raw);
  const [req, res] = (await once(server, 'request')) as [IncomingMessage, ServerResponse];
  const head = structuredClone(forwardedHead(req, res));
  res.destroy();
  return { head, req };
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += (chunk as Buffer).toString('latin1');
  return body;
}

describe('a forwarded request head', () => {
  it('round-trips the request line, raw headers and keep-alive verdict into a parser-free request', async () => {
    const { head, req } = await parse(
      'GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Twice: 1\r\nX-Twice: 2\r\nConnection: close\r\n\r\n',
    );
    expect(head).toEqual({
      method: 'GET',
      url: '/a?b=1',
      httpVersion: '1.1',
      rawHeaders: ['Host', 'x', 'X-Twice', '1', 'X-Twice', '2', 'Connection', 'close'],
      keepAlive: false,
      body: false,
      expectContinue: false,
    });
    const stream = new ExchangeStream(head);
    expect(forwardedHeadOf(stream)).toBe(head);
    const built = buildForwardedExchange(stream, head);
    expect(built.req.method).toBe(req.method);
    expect(built.req.url).toBe(req.url);
    expect(built.req.httpVersion).toBe('1.1');
    expect(built.req.headers).toEqual(req.headers);
    expect(built.req.complete).toBe(true);
    expect(await readBody(built.req)).toBe('');
    // The answer is written to the stream as Node would write it to a socket, marked last (close).
    built.res.writeHead(200, { 'Content-Length': '2' });
    built.res.end('ok');
    await once(built.res, 'close');
    const answer = Buffer.concat(stream.written).toString('latin1');
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer).toContain('Connection: close\r\n');
    expect(answer.endsWith('\r\n\r\nok')).toBe(true);
    expect(stream.writableEnded).toBe(true);
  });

  it('carries a body and its trailers, and 100-continue, and keeps a keep-alive response open', async () => {
    const { head } = await parse(
      'POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
    expect(head).toMatchObject({ method: 'POST', body: true, expectContinue: true, keepAlive: true });
    const stream = new ExchangeStream(head);
    const built = buildForwardedExchange(stream, head);
    expect(built.expectContinue).toBe(true);
    // The handler asks for the body (Node keeps the connection only if it did).
    built.res.writeContinue();
    stream.push(Buffer.from('hello '));
    stream.push(Buffer.from('world'));
    stream.endBody(['X-Sum', '11']);
    expect(await readBody(built.req)).toBe('hello world');
    expect(built.req.complete).toBe(true);
    expect(built.req.trailers).toEqual({ 'x-sum': '11' });
    built.res.write('done');
    built.res.end();
    await once(built.res, 'close');
    const answer = Buffer.concat(stream.written).toString('latin1');
    expect(answer).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    expect(answer).toContain('Connection: keep-alive\r\n');
    expect(answer.endsWith('4\r\ndone\r\n0\r\n\r\n')).toBe(true);
    expect(answer).toContain('Transfer-Encoding: chunked\r\n');
    expect(answer).not.toContain('Connection: close');
    // Not marked last: the stream stays open for the primary to keep its connection.
    expect(stream.writableEnded).toBe(false);
  });
});
