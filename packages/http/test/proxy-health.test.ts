import { once } from 'node:events';
import net from 'node:net';
import { readUntil } from '@srv/core/testing';
import { describe, expect, it } from 'vitest';
import { BaseHTTPRequestHandler, HTTPServer } from '../src/index.js';
import { exchange, serve, splitResponse } from './helpers.js';

/** Answers with the client address it was given. */
class WhoHandler extends BaseHTTPRequestHandler {
  doGET(): void {
    const body = `${this.clientAddress.host} ${this.clientAddress.port}`;
    this.sendResponse(200);
    this.sendHeader('Content-Length', String(body.length));
    this.endHeaders();
    this.wfile.write(body);
  }
}

const v2Header = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c,
  // 198.51.100.9:40123 → 192.0.2.1:443
  198, 51, 100, 9, 192, 0, 2, 1, 0x9c, 0xbb, 0x01, 0xbb,
]);

describe('PROXY protocol through HTTPServer', () => {
  it('clientAddress and the access log show the client the header names, on every keep-alive request', async () => {
    const t = await serve(WhoHandler, { proxyProtocol: true });
    const socket = await t.connect();
    const twoAnswers = readUntil(
      socket,
      (received) =>
        (received.toString().match(/HTTP\/1\.1 200/g) ?? []).length === 2 &&
        received.toString().endsWith('40123'),
    );
    socket.write(
      Buffer.concat([
        v2Header,
        Buffer.from('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n'),
      ]),
    );
    const text = (await twoAnswers).toString();
    expect(text.match(/\r\n\r\n198\.51\.100\.9 40123/g)).toHaveLength(2);
    const access = t.log.filter((line) => line.includes('"GET /'));
    expect(access).toHaveLength(2);
    for (const line of access) expect(line).toMatch(/^198\.51\.100\.9 - - \[/);
  });

  it('v1 header, then a request in the same segment', async () => {
    const t = await serve(WhoHandler, { proxyProtocol: true });
    const raw = await exchange(
      t,
      'PROXY TCP4 203.0.113.7 127.0.0.1 51000 80\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(splitResponse(raw).body).toBe('203.0.113.7 51000');
  });

  it('a connection that sent only its PROXY header is idle: silent at its timeout, closed at once on shutdown', async () => {
    const t = await serve(WhoHandler, { proxyProtocol: true, headersTimeout: 200 });
    // The header and a FIN, no request: closed without an answer (no 408 for a request never begun).
    const silent = await exchange(t, 'PROXY TCP4 203.0.113.7 127.0.0.1 51000 80\r\n', { end: true });
    expect(silent).toBe('');
    const waiting = await t.connect();
    const closed = once(waiting, 'close');
    const header = readUntil(waiting, () => false);
    waiting.write('PROXY TCP4 203.0.113.7 127.0.0.1 51000 80\r\n');
    // The header has arrived once the server counts the connection.
    while (t.server.connectionCount === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const started = performance.now();
    await t.server.shutdown();
    await closed;
    expect((await header).length).toBe(0);
    expect(performance.now() - started).toBeLessThan(150);
  });

  it('an untrusted sender gets no answer at all, and no log line names the spoofed client', async () => {
    const t = await serve(WhoHandler, { proxyProtocol: true, trustedProxies: ['192.0.2.0/24'] });
    const raw = await exchange(
      t,
      'PROXY TCP4 203.0.113.7 127.0.0.1 51000 80\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    expect(raw).toBe('');
    expect(t.log.join('\n')).not.toContain('203.0.113.7');
  });

  it('a listener without proxyProtocol answers a PROXY header (v1 or v2) with 400 and never believes it', async () => {
    const t = await serve(WhoHandler);
    const v1 = await exchange(
      t,
      'PROXY TCP4 203.0.113.7 127.0.0.1 51000 80\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    expect(splitResponse(v1).status).toBe('HTTP/1.1 400 Bad Request');
    expect(splitResponse(v1).body).toContain('PROXY protocol header on a listener without PROXY protocol');
    const v2 = await exchange(t, Buffer.concat([v2Header, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]));
    expect(splitResponse(v2).status).toBe('HTTP/1.1 400 Bad Request');
    const log = t.log.join('\n');
    expect(log).not.toMatch(/203\.0\.113\.7 - -|198\.51\.100\.9/);
    expect(t.log.filter((line) => line.includes('" 400 -'))).toEqual([
      expect.stringMatching(
        /^127\.0\.0\.1 - - \[.*\] "PROXY TCP4 203\.0\.113\.7 127\.0\.0\.1 51000 80" 400 -$/,
      ),
      expect.stringMatching(/^127\.0\.0\.1 - - \[.*\] "\\x0d\\x0a\\x0d\\x0a\\x00\\x0d\\x0aQUIT\\x0a" 400 -$/),
    ]);
  });
});

describe('health path and drain', () => {
  it('healthPath answers 200 before the handler, unlogged; other paths reach the handler', async () => {
    const t = await serve(WhoHandler, { healthPath: '/healthz', dispatcher: 'serial' });
    const health = await fetch(`${t.origin}/healthz?probe=1`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok\n');
    const head = await fetch(`${t.origin}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('3');
    const other = await fetch(`${t.origin}/healthz/x`);
    expect(await other.text()).toMatch(/^127\.0\.0\.1 \d+$/);
    expect(t.log.some((line) => line.includes('healthz"'))).toBe(false);
  });

  it('without healthPath the path is the handler’s', async () => {
    const t = await serve(WhoHandler);
    const response = await fetch(`${t.origin}/healthz`);
    expect(await response.text()).toMatch(/^127\.0\.0\.1 \d+$/);
  });

  it('beginDrain: keeps accepting for the delay, health 503, Connection: close; then shuts down', async () => {
    const t = await serve(WhoHandler, { healthPath: '/healthz', healthPort: 0 });
    const healthAddress = await t.server.healthReady;
    expect(healthAddress?.port).toBeGreaterThan(0);
    const plainOrigin = `http://127.0.0.1:${healthAddress?.port}`;
    expect((await fetch(`${plainOrigin}/healthz`)).status).toBe(200);
    expect((await fetch(`${plainOrigin}/other`)).status).toBe(404);

    // A keep-alive connection opened before the drain.
    const kept = await t.connect();
    const firstAnswer = readUntil(kept, (received) => received.includes('\r\n\r\n'));
    kept.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await firstAnswer).toString()).not.toMatch(/connection: close/i);

    const draining = once(t.server, 'draining');
    const drained = t.server.beginDrain(60_000);
    expect(await draining).toEqual([60_000]);
    expect(t.server.draining).toBe(true);

    // New connections are still accepted and served, each answer closing its connection.
    const during = await exchange(t, 'GET /x HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(splitResponse(during).status).toBe('HTTP/1.1 200 OK');
    expect(splitResponse(during).headers).toContain('Connection: close');
    const probe = await exchange(t, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(splitResponse(probe).status).toBe('HTTP/1.1 503 Service Unavailable');
    expect(splitResponse(probe).body).toBe('draining\n');
    expect((await fetch(`${plainOrigin}/healthz`)).status).toBe(503);
    // The connection kept alive from before gets its next answer with Connection: close.
    const secondAnswer = readUntil(kept, () => false);
    kept.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await secondAnswer).toString()).toMatch(/\r\nConnection: close\r\n/);

    // shutdown() ends the delay early; the drain settles when the server is shut down.
    await t.server.shutdown();
    await drained;
    expect(t.server.listening).toBe(false);
    const refused = net.connect({ host: '127.0.0.1', port: healthAddress?.port ?? 0 });
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('beginDrain(delay) shuts down by itself after the delay', async () => {
    const t = await serve(WhoHandler, { healthPath: '/healthz' });
    const started = performance.now();
    await t.server.beginDrain(50);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect(t.server.listening).toBe(false);
  });

  it('bad health options and delays are coded errors', async () => {
    expect(
      () => new HTTPServer(['127.0.0.1', 0], WhoHandler, { healthPath: 'healthz', bindAndActivate: false }),
    ).toThrow(expect.objectContaining({ code: 'SRV_ERR_INVALID_OPTION' }));
    const server = new HTTPServer(['127.0.0.1', 0], WhoHandler, { healthPort: 70000 });
    await expect(server.healthReady).rejects.toMatchObject({ code: 'SRV_ERR_INVALID_OPTION' });
    await expect(server.beginDrain(-1)).rejects.toMatchObject({ code: 'SRV_ERR_INVALID_OPTION' });
    await server.close();
  });
});
