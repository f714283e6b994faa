import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BaseHTTPRequestHandler } from '../src/index.js';
import { exchange, serve, splitResponse } from './helpers.js';

// What static and cgi write with: wfile.end(body), wfile.pipeFrom(readable), sendError(…, headers).
describe('wfile and sendError, without reaching into res', () => {
  it('end(body) sends head and body; headersSent tells when the head left', async () => {
    const seen: boolean[] = [];
    class Ending extends BaseHTTPRequestHandler {
      async doGET(): Promise<void> {
        this.sendResponse(200);
        this.sendHeader('Content-Length', 5);
        this.endHeaders();
        seen.push(this.headersSent);
        await this.wfile.end('hello');
        seen.push(this.headersSent, this.wfile.closed);
      }
    }
    const t = await serve(Ending);
    const response = splitResponse(await exchange(t, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n'));
    expect(response.status).toBe('HTTP/1.1 200 OK');
    expect(response.body).toBe('hello');
    expect(seen).toEqual([false, true, true]);
  });

  it('a write of the whole declared body ends the response when the request has none', async () => {
    const seen: boolean[] = [];
    class Whole extends BaseHTTPRequestHandler {
      async doGET(): Promise<void> {
        this.sendResponse(200);
        this.sendHeader('Content-Length', 5);
        this.endHeaders();
        await this.wfile.write(this.path === '/short' ? 'hel' : 'hello');
        seen.push(this.res.writableEnded);
        if (this.path === '/short') await this.wfile.write('lo');
      }
    }
    const t = await serve(Whole);
    const reply = await exchange(
      t,
      'GET /whole HTTP/1.1\r\nHost: a\r\n\r\nGET /short HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    );
    const [first, second] = reply.split(/(?=HTTP\/1\.1 200)/);
    expect(splitResponse(first!).body).toBe('hello');
    expect(splitResponse(second!).body).toBe('hello');
    // The whole body ended the first response at once; a shorter write leaves it to the handler.
    expect(seen).toEqual([true, false]);
  });

  it('a response written before its request body was read stays open for that body', async () => {
    const seen: unknown[] = [];
    class AnswerFirst extends BaseHTTPRequestHandler {
      async doPOST(): Promise<void> {
        this.sendResponse(200);
        this.sendHeader('Content-Length', 5);
        this.endHeaders();
        await this.wfile.write('hello');
        seen.push(this.res.writableEnded);
        seen.push((await this.rfile.read(4)).toString());
      }
    }
    const t = await serve(AnswerFirst);
    const socket = await t.connect();
    socket.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nConnection: close\r\n\r\n');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // The body follows the response's head: ending the response then would have discarded it.
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.write('ping');
    await closed;
    expect(splitResponse(Buffer.concat(chunks).toString('latin1')).body).toBe('hello');
    expect(seen).toEqual([false, 'ping']);
  });

  it('pipeFrom(readable) copies a stream and resolves true at its end', async () => {
    let result: boolean | undefined;
    class Piping extends BaseHTTPRequestHandler {
      async doGET(): Promise<void> {
        this.sendResponse(200);
        this.sendHeader('Content-Length', 6);
        this.endHeaders();
        result = await this.wfile.pipeFrom(
          Readable.from([Buffer.from('ab'), Buffer.from('cd'), Buffer.from('ef')]),
        );
        await this.wfile.end();
      }
    }
    const t = await serve(Piping);
    const response = splitResponse(await exchange(t, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n'));
    expect(response.body).toBe('abcdef');
    expect(result).toBe(true);
  });

  it('pipeFrom: a failing source cuts the response off and reports the error', async () => {
    const errors: string[] = [];
    let result: boolean | undefined;
    class Failing extends BaseHTTPRequestHandler {
      async doGET(): Promise<void> {
        this.sendResponse(200);
        this.sendHeader('Content-Length', 100);
        this.endHeaders();
        const source = new PassThrough();
        source.write('partial');
        setImmediate(() => source.destroy(new Error('disk gone')));
        result = await this.wfile.pipeFrom(source, (error) => errors.push(error.message));
      }
    }
    const t = await serve(Failing);
    const raw = await exchange(t, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n');
    // Fewer bytes than Content-Length, then the connection closes: never taken for a whole body.
    expect(splitResponse(raw).body).toBe('partial');
    expect(result).toBe(false);
    expect(errors).toEqual(['disk gone']);
  });

  it('sendError(code, message, explain, headers) sends the extra headers once', async () => {
    class Refusing extends BaseHTTPRequestHandler {
      doPUT(): void {
        this.sendError(405, undefined, undefined, [['Allow', 'GET, HEAD']]);
      }
    }
    const t = await serve(Refusing);
    const response = splitResponse(
      await exchange(t, 'PUT / HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'),
    );
    expect(response.status).toBe('HTTP/1.1 405 Method Not Allowed');
    expect(response.headers.filter((line) => /^allow:/i.test(line))).toEqual(['Allow: GET, HEAD']);
    expect(response.body).toContain('Error code: 405');
  });
});

describe('rfile and wfile are made on first use', () => {
  it('a handler whose setup() does not call super still reads and writes; each is one object', async () => {
    const seen: boolean[] = [];
    class NoSuperSetup extends BaseHTTPRequestHandler {
      override setup(): void {}
      async doPOST(): Promise<void> {
        const { rfile, wfile } = this;
        seen.push(this.rfile === rfile, this.wfile === wfile);
        const body = await this.rfile.read(Number(this.headers.get('Content-Length')));
        this.sendResponse(200);
        this.sendHeader('Content-Length', body.length + 4);
        this.endHeaders();
        await this.wfile.end(Buffer.concat([Buffer.from('got '), body]));
      }
    }
    const t = await serve(NoSuperSetup);
    const response = splitResponse(
      await exchange(t, 'POST / HTTP/1.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello'),
    );
    expect(response.status).toBe('HTTP/1.1 200 OK');
    expect(response.body).toBe('got hello');
    expect(seen).toEqual([true, true]);
  });

  it('the body reader takes the class limits when first used', async () => {
    let limit = 0;
    class Limits extends BaseHTTPRequestHandler {
      static override maxLineLength = 7;
      doGET(): void {
        limit = this.rfile.maxLineLength;
        this.sendResponse(204);
        this.endHeaders();
      }
    }
    const t = await serve(Limits);
    const response = splitResponse(await exchange(t, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n'));
    expect(response.status).toBe('HTTP/1.1 204 No Content');
    expect(limit).toBe(7);
  });
});
