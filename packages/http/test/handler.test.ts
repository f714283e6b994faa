import { readUntil } from '@srv/core/testing';
import { describe, expect, it } from 'vitest';
import { BaseHTTPRequestHandler } from '../src/index.js';
import { exchange, serve, splitResponse } from './helpers.js';

describe('response API', () => {
  it('rejects CR/LF in headers with a coded error and still answers', async () => {
    const errors: unknown[] = [];
    class Splitting extends BaseHTTPRequestHandler {
      doGET(): void {
        this.sendResponse(200);
        for (const [name, value] of [
          ['X-Evil', 'a\r\nSet-Cookie: x=1'],
          ['Bad Name', 'v'],
          ['X-Nul', 'a\0b'],
        ]) {
          try {
            this.sendHeader(name!, value!);
          } catch (error) {
            errors.push(error);
          }
        }
        this.sendHeader('Content-Length', 0);
        this.endHeaders();
      }
    }
    const t = await serve(Splitting);
    const raw = await exchange(t, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(splitResponse(raw).status).toBe('HTTP/1.1 200 OK');
    expect(raw).not.toContain('Set-Cookie');
    expect(errors.map((error) => (error as { code: string }).code)).toEqual([
      'SRV_ERR_INVALID_HEADER',
      'SRV_ERR_INVALID_HEADER',
      'SRV_ERR_INVALID_HEADER',
    ]);
  });

  it('sends repeated headers as repeated lines, a custom reason, and refuses headers after they went out', async () => {
    let late: unknown;
    class Repeating extends BaseHTTPRequestHandler {
      async doGET(): Promise<void> {
        this.sendResponse(299, 'Fine Thanks');
        this.sendHeader('Set-Cookie', 'a=1');
        this.sendHeader('Set-Cookie', 'b=2');
        this.sendHeader('Content-Length', 2);
        this.endHeaders();
        await this.wfile.write('ok');
        try {
          this.sendHeader('X-Late', '1');
        } catch (error) {
          late = error;
        }
      }
    }
    const t = await serve(Repeating);
    const raw = await exchange(t, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n');
    const { status, headers, body } = splitResponse(raw);
    expect(status).toBe('HTTP/1.1 299 Fine Thanks');
    expect(headers.filter((line) => line.startsWith('Set-Cookie'))).toEqual([
      'Set-Cookie: a=1',
      'Set-Cookie: b=2',
    ]);
    expect(body).toBe('ok');
    expect((late as { code: string }).code).toBe('SRV_ERR_HEADERS_SENT');
  });

  it('buffers header lines until the head goes out, whichever way the body is written', async () => {
    const seen: Record<string, unknown> = {};
    class Mixed extends BaseHTTPRequestHandler {
      doGET(): void {
        if (this.path === '/direct') {
          // No endHeaders(): the lines still go out with the head Node writes for res.end().
          this.sendResponse(200);
          this.sendHeader('X-Order', 'first');
          this.sendHeader('Content-Length', 2);
          seen.before = this.res.getHeader('x-order');
          this.res.end('ok');
          return;
        }
        if (this.path === '/mixed') {
          // setHeader() on res beside sendHeader(): repeated names stay repeated lines, in order.
          this.res.setHeader('X-Both', 'set');
          this.sendResponse(200);
          this.sendHeader('X-Both', 'sent');
          this.sendHeader('Content-Length', 0);
          this.endHeaders();
          return;
        }
        if (this.path === '/explicit') {
          // An explicit writeHead() still wins for its own names; the other lines are kept.
          this.sendResponse(200);
          this.sendHeader('X-Kept', '1');
          this.sendHeader('Content-Type', 'text/plain');
          this.res.writeHead(201, 'Created', { 'Content-Type': 'application/json', 'Content-Length': '2' });
          this.res.end('{}');
          return;
        }
        this.sendResponse(200);
        this.sendHeader('Content-Type', 'text/plain');
        this.sendHeader('X-Extra', 'configured');
        this.replaceHeader('content-type', 'text/html');
        this.replaceHeader('X-Extra', 'replaced');
        this.sendHeader('Content-Length', 0);
        this.endHeaders();
      }
    }
    const t = await serve(Mixed);
    const direct = splitResponse(await exchange(t, 'GET /direct HTTP/1.1\r\nConnection: close\r\n\r\n'));
    expect(direct.headers.slice(0, 3)).toEqual([
      `Server: ${Mixed.serverVersion} ${Mixed.sysVersion}`,
      'X-Order: first',
      'Content-Length: 2',
    ]);
    expect(direct.body).toBe('ok');
    expect(seen.before).toBeUndefined();

    const mixed = splitResponse(await exchange(t, 'GET /mixed HTTP/1.1\r\nConnection: close\r\n\r\n'));
    expect(mixed.headers.filter((line) => line.startsWith('X-Both'))).toEqual([
      'X-Both: set',
      'X-Both: sent',
    ]);

    const explicit = splitResponse(await exchange(t, 'GET /explicit HTTP/1.1\r\nConnection: close\r\n\r\n'));
    expect(explicit.status).toBe('HTTP/1.1 201 Created');
    expect(explicit.headers).toContain('X-Kept: 1');
    expect(explicit.headers.filter((line) => /^content-type:/i.test(line))).toEqual([
      'Content-Type: application/json',
    ]);
    expect(explicit.body).toBe('{}');

    const replaced = splitResponse(await exchange(t, 'GET /replace HTTP/1.1\r\nConnection: close\r\n\r\n'));
    expect(replaced.headers.filter((line) => /^(content-type|x-extra):/i.test(line))).toEqual([
      'content-type: text/html',
      'X-Extra: replaced',
    ]);
  });

  it('a handler that fails after sendHeader() answers 500 without its buffered lines', async () => {
    class Failing extends BaseHTTPRequestHandler {
      doGET(): void {
        this.sendResponse(200);
        this.sendHeader('X-Half-Done', 'yes');
        throw new Error('boom');
      }
    }
    const t = await serve(Failing);
    const { status, headers } = splitResponse(await exchange(t, 'GET / HTTP/1.1\r\n\r\n'));
    expect(status).toBe('HTTP/1.1 500 Internal Server Error');
    expect(headers.some((line) => line.startsWith('X-Half-Done'))).toBe(false);
  });

  it('streams a body without Content-Length chunked on HTTP/1.1 and to close on HTTP/1.0', async () => {
    class Streaming extends BaseHTTPRequestHandler {
      async doGET(): Promise<void> {
        this.sendResponse(200);
        this.endHeaders();
        await this.wfile.write('one ');
        await new Promise((resolve) => setTimeout(resolve, 10));
        await this.wfile.write('two');
      }
    }
    const t = await serve(Streaming);
    const chunked = await exchange(t, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(splitResponse(chunked).headers).toContain('Transfer-Encoding: chunked');
    expect(splitResponse(chunked).body).toBe('4\r\none \r\n3\r\ntwo\r\n0\r\n\r\n');
    const old = await exchange(t, 'GET / HTTP/1.0\r\n\r\n');
    expect(splitResponse(old).headers).not.toContain('Transfer-Encoding: chunked');
    expect(splitResponse(old).body).toBe('one two');
  });

  it('sends the headers at endHeaders() when the handler then waits', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    class Waiting extends BaseHTTPRequestHandler {
      async doGET(): Promise<void> {
        this.sendResponse(200);
        this.endHeaders();
        await gate;
        await this.wfile.write('late');
      }
    }
    const t = await serve(Waiting);
    const socket = await t.connect();
    socket.write('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    const head = await readUntil(socket, (bytes) => bytes.includes('\r\n\r\n'));
    expect(head.toString()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    release();
    const rest = await readUntil(socket, (bytes) => bytes.toString().endsWith('0\r\n\r\n'));
    expect(rest.toString()).toContain('late');
  });

  it('sends every head ended in one turn, when several handlers then wait', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let waiting = 0;
    let allWaiting!: () => void;
    const three = new Promise<void>((resolve) => {
      allWaiting = resolve;
    });
    class Waiting extends BaseHTTPRequestHandler {
      async doGET(): Promise<void> {
        this.sendResponse(200);
        this.sendHeader('X-Path', this.path);
        this.endHeaders();
        waiting += 1;
        if (waiting === 3) allWaiting();
        await gate;
        await this.wfile.write('late');
      }
    }
    const t = await serve(Waiting);
    const sockets = await Promise.all([t.connect(), t.connect(), t.connect()]);
    // One write each, in one turn: their heads are parsed in one batch of socket reads.
    sockets.forEach((socket, index) => {
      socket.write(`GET /${index} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
    });
    const heads = await Promise.all(
      sockets.map((socket) => readUntil(socket, (bytes) => bytes.includes('\r\n\r\n'))),
    );
    await three;
    heads.forEach((head, index) => {
      expect(head.toString()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(head.toString()).toContain(`X-Path: /${index}\r\n`);
    });
    const rests = Promise.all(
      sockets.map((socket) => readUntil(socket, (bytes) => bytes.toString().endsWith('0\r\n\r\n'))),
    );
    release();
    for (const rest of await rests) expect(rest.toString()).toContain('late');
  });

  it('sends no error body for HEAD, 204 or 304', async () => {
    class Errors extends BaseHTTPRequestHandler {
      doHEAD(): void {
        this.sendError(404);
      }
      doGET(): void {
        this.sendError(this.path === '/304' ? 304 : 204);
      }
    }
    const t = await serve(Errors);
    const head = splitResponse(await exchange(t, 'HEAD / HTTP/1.1\r\n\r\n'));
    expect(head.status).toBe('HTTP/1.1 404 Not Found');
    expect(head.headers.find((line) => line.startsWith('Content-Length'))).toMatch(/^Content-Length: \d+$/);
    expect(head.body).toBe('');
    for (const code of ['204', '304']) {
      const response = splitResponse(await exchange(t, `GET /${code} HTTP/1.1\r\n\r\n`));
      expect(response.status).toMatch(new RegExp(`^HTTP/1.1 ${code} `));
      expect(response.headers.some((line) => line.startsWith('Content-Type'))).toBe(false);
      expect(response.body).toBe('');
    }
  });

  it('lets handleExpect100 refuse a body', async () => {
    class Refusing extends BaseHTTPRequestHandler {
      override handleExpect100(): boolean {
        this.sendError(417);
        return false;
      }
      doPUT(): void {
        throw new Error('must not run');
      }
    }
    const t = await serve(Refusing);
    const raw = await exchange(t, 'PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
    expect(splitResponse(raw).status).toBe('HTTP/1.1 417 Expectation Failed');
    expect(raw).not.toContain('100 Continue');
  });

  it('routes CONNECT to doCONNECT with the connection as rfile', async () => {
    class Tunnel extends BaseHTTPRequestHandler {
      async doCONNECT(): Promise<void> {
        this.sendResponseOnly(200, 'Connection established');
        this.endHeaders();
        this.flushHeaders();
        const line = await this.rfile.readline();
        await this.wfile.write(`echo ${line.toString()}`);
      }
    }
    const t = await serve(Tunnel);
    const socket = await t.connect();
    socket.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    const head = await readUntil(socket, (bytes) => bytes.includes('\r\n\r\n'));
    expect(head.toString()).toMatch(/^HTTP\/1\.1 200 Connection established\r\n/);
    socket.write('ping\n');
    const rest = await readUntil(socket, (bytes) => bytes.toString().includes('echo ping\n'));
    expect(rest.toString()).toContain('echo ping\n');
    expect(t.log.some((line) => line.includes('"CONNECT example.com:443 HTTP/1.1"'))).toBe(false);
  });

  it('answers CONNECT without doCONNECT with 501', async () => {
    class Plain extends BaseHTTPRequestHandler {}
    const t = await serve(Plain);
    const raw = await exchange(t, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(splitResponse(raw).status).toBe("HTTP/1.1 501 Unsupported method ('CONNECT')");
  });

  it('exposes the request attributes', async () => {
    let seen: Record<string, unknown> = {};
    class Attributes extends BaseHTTPRequestHandler {
      doGET(): void {
        seen = {
          command: this.command,
          path: this.path,
          requestVersion: this.requestVersion,
          requestline: this.requestline,
          host: this.headers.get('host'),
          client: this.clientAddress.host,
          close: this.closeConnection,
          version: this.versionString(),
        };
        this.sendError(404);
      }
    }
    const t = await serve(Attributes);
    await exchange(t, 'GET /p?q=1 HTTP/1.1\r\nHost: example\r\n\r\n');
    expect(seen).toEqual({
      command: 'GET',
      path: '/p?q=1',
      requestVersion: 'HTTP/1.1',
      requestline: 'GET /p?q=1 HTTP/1.1',
      host: 'example',
      client: '127.0.0.1',
      close: false,
      version: expect.stringMatching(/^srv-http\/\S+ Node\/\S+$/),
    });
  });
});
