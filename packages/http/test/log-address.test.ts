import { once } from 'node:events';
import net from 'node:net';
import { startServer } from '@srv/core/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { BaseHTTPRequestHandler, HTTPServer, type HTTPServerOptions } from '../src/index.js';
import { HelloHandler } from './fixtures.js';
import { recordingLogger } from './helpers.js';

/** Reads the request body through `rfile`, then answers. */
class Upload extends BaseHTTPRequestHandler {
  async doPOST(): Promise<void> {
    await this.rfile.read();
    this.sendResponse(200);
    this.sendHeader('Content-Length', '2');
    this.endHeaders();
    await this.wfile.write('ok');
  }
}

/** Streams 32 MiB in 64 KiB writes (more than a stalled client's buffers take). */
class Big extends BaseHTTPRequestHandler {
  async doGET(): Promise<void> {
    const total = 32 * 1024 * 1024;
    this.sendResponse(200);
    this.sendHeader('Content-Length', String(total));
    this.endHeaders();
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let sent = 0; sent < total; sent += chunk.length) await this.wfile.write(chunk);
  }
}

/**
 * A dual-stack server (`::`) and an IPv4 client: Node reports the client as `::ffff:127.0.0.1`; every
 * log line must show it as `127.0.0.1`, as the access line does. Resolves once a line matches `until`.
 */
async function dualStack(
  Handler: typeof BaseHTTPRequestHandler,
  options: HTTPServerOptions,
  until: RegExp,
): Promise<{ socket: net.Socket; logged: Promise<string>; lines: string[] }> {
  const logger = recordingLogger();
  let found: ((line: string) => void) | undefined;
  const logged = new Promise<string>((resolve) => {
    found = resolve;
  });
  const record = (fields: object | string, message?: string) => {
    const line = typeof fields === 'string' ? fields : (message ?? '');
    logger.lines.push(line);
    if (until.test(line)) found?.(line);
  };
  const server = new HTTPServer(['::', 0], Handler, {
    ...options,
    logger: { info: record, warn: record, error: record },
  });
  const t = await startServer(server);
  onTestFinished(() => t.close());
  const socket = net.connect({ host: '127.0.0.1', port: server.address.port });
  onTestFinished(() => {
    socket.destroy();
  });
  socket.on('error', () => {});
  await once(socket, 'connect');
  return { socket, logged, lines: logger.lines };
}

describe('log lines name a dual-stack IPv4 client as plain IPv4', () => {
  it('the access line', async () => {
    const { socket, logged } = await dualStack(HelloHandler, {}, /"GET \/ HTTP\/1\.1" 200/);
    socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(await logged).toMatch(/^127\.0\.0\.1 - - \[/);
  });

  it('a request body that breaks mid-handling ("aborted")', async () => {
    let reading: (() => void) | undefined;
    const readingStarted = new Promise<void>((resolve) => {
      reading = resolve;
    });
    class Reading extends Upload {
      override doPOST(): Promise<void> {
        reading?.();
        return super.doPOST();
      }
    }
    const { socket, logged } = await dualStack(Reading, {}, /aborted/);
    socket.write('POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
    // Once the handler reads the body, bad framing is an abort (before, it is a 400).
    await readingStarted;
    socket.write('zz\r\n');
    expect(await logged).toMatch(/^127\.0\.0\.1 - - \[.+\] "POST \/up HTTP\/1\.1" aborted: bad request body/);
  });

  it('a body that trickles past requestTimeout', async () => {
    const { socket, logged } = await dualStack(
      Upload,
      { requestTimeout: 200, headersTimeout: 200 },
      /not complete after/,
    );
    socket.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\nx');
    expect(await logged).toBe('request body from 127.0.0.1 not complete after 200 ms; closing');
  });

  it('a client that takes no data for sendTimeout', async () => {
    const { socket, logged } = await dualStack(Big, { sendTimeout: 200 }, /took no data/);
    socket.pause();
    socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(await logged).toMatch(
      /^127\.0\.0\.1 - - \[.+\] client took no data for 0 s \(\d+ bytes waiting\)/,
    );
  });
});
