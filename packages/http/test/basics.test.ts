import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BaseHTTPRequestHandler, HTTPServer } from '../src/index.js';
import { HelloHandler } from './fixtures.js';
import { exchange, serve, splitResponse } from './helpers.js';

// The `Server` header names this package's version from its package.json (0.1.0 in the first release).
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('HTTPServer basics', () => {
  it('serves GET with status, Server, Date and body; logs the access line', async () => {
    const t = await serve(HelloHandler);
    const response = await fetch(`${t.origin}/a%20b?x=1`);
    expect(response.status).toBe(200);
    expect(response.headers.get('server')).toBe(`srv-http/${version} Node/${process.versions.node}`);
    expect(new Date(response.headers.get('date')!).getTime()).not.toBeNaN();
    expect(await response.text()).toBe('Hello World /a%20b?x=1\n');
    expect(t.log).toHaveLength(1);
    expect(t.log[0]).toMatch(
      /^127\.0\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4} \d{2}:\d{2}:\d{2}\] "GET \/a%20b\?x=1 HTTP\/1\.1" 200 -$/,
    );
  });

  it('answers HEAD with headers only', async () => {
    const t = await serve(HelloHandler);
    const raw = await exchange(t, 'HEAD /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    const { status, headers, body } = splitResponse(raw);
    expect(status).toBe('HTTP/1.1 200 OK');
    expect(headers).toContain('Content-Length: 15');
    expect(body).toBe('');
  });

  it('reads a request body through rfile', async () => {
    const t = await serve(HelloHandler);
    const response = await fetch(t.origin, { method: 'POST', body: 'ping' });
    expect(await response.text()).toBe('ping');
  });

  it('answers a method without do<METHOD> with 501 and an HTML page', async () => {
    const t = await serve(HelloHandler);
    const response = await fetch(t.origin, { method: 'DELETE' });
    expect(response.status).toBe(501);
    expect(response.statusText).toBe("Unsupported method ('DELETE')");
    expect(response.headers.get('content-type')).toBe('text/html;charset=utf-8');
    expect(response.headers.get('connection')).toBe('close');
    const page = await response.text();
    expect(page).toContain('<p>Error code: 501</p>');
    expect(page).toContain("<p>Message: Unsupported method ('DELETE').</p>");
    expect(page).toContain('<p>Error code explanation: 501 - Server does not support this operation.</p>');
    expect(t.log[0]).toMatch(/code 501, message Unsupported method \('DELETE'\)$/);
    expect(t.log[1]).toMatch(/"DELETE \/ HTTP\/1\.1" 501 -$/);
  });

  it('serves pipelined requests on one connection in order', async () => {
    const t = await serve(HelloHandler);
    const raw = await exchange(
      t,
      'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    );
    const bodies = raw.match(/Hello World \/\d/g);
    expect(bodies).toEqual(['Hello World /1', 'Hello World /2', 'Hello World /3']);
    expect(raw.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(3);
  });

  it('keeps an HTTP/1.1 connection alive and closes an HTTP/1.0 one', async () => {
    const t = await serve(HelloHandler);
    const socket = await t.connect();
    const first = new Promise<string>((resolve) => {
      let data = '';
      socket.on('data', (chunk: Buffer) => {
        data += chunk.toString();
        if (data.endsWith('Hello World /k\n')) resolve(data);
      });
    });
    socket.write('GET /k HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(await first).toContain('Connection: keep-alive');
    expect(socket.destroyed).toBe(false);
    socket.destroy();
    const raw = await exchange(t, 'GET /old HTTP/1.0\r\n\r\n');
    expect(raw).toContain('Connection: close');
    expect(raw.endsWith('Hello World /old\n')).toBe(true);
  });

  it('rejects handlers that are not HTTP handlers at construction time of a request', () => {
    expect(
      () =>
        new HTTPServer(['127.0.0.1', 0], HelloHandler, {
          protocolVersion: 'HTTP/2' as 'HTTP/1.1',
          bindAndActivate: false,
        }),
    ).toThrow(expect.objectContaining({ code: 'SRV_ERR_INVALID_OPTION' }));
    expect(
      () =>
        new BaseHTTPRequestHandler(
          null as never,
          { family: 'IPv4', host: '127.0.0.1', port: 1 },
          null as never,
        ),
    ).toThrow(expect.objectContaining({ code: 'SRV_ERR_NOT_HTTP_REQUEST' }));
  });
});
