import { once } from 'node:events';
import { readdirSync, readlinkSync } from 'node:fs';
import { startServer } from '@srv/core/testing';
import { HTTPServer } from '@srv/http';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CGIHTTPRequestHandler } from '../src/index.js';
import { rawRequest, startCgi, www } from './helpers.js';

/** Open descriptors of this process that point at an (unlinked) spooled request body. */
function spoolDescriptors(): number {
  if (process.platform !== 'linux') return 0;
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (/srv-cgi-.*\(deleted\)/.test(readlinkSync(`/proc/self/fd/${fd}`))) count += 1;
    } catch {}
  }
  return count;
}

describe('PATH_INFO with control characters', () => {
  it.each([
    '/cgi-bin/env.sh/a%0ab',
    '/cgi-bin/env.sh/%1b[31mred',
    '/cgi-bin/env.sh/a%7f',
    '/cgi-bin/env.sh/a%0d%0aX-Evil:%201',
  ])('%s → 400, and the script never runs', async (target) => {
    const t = await startCgi();
    const response = await rawRequest(t, `GET ${target} HTTP/1.1`);
    expect(response.status).toBe(400);
    expect(response.body).not.toContain('PATH_INFO');
  });
});

describe('a chunked upload whose framing breaks', () => {
  it('in the bytes that came with the head: one 400, no script, no spool file left', async () => {
    const t = await startCgi();
    const before = spoolDescriptors();
    const socket = await t.connect();
    let raw = '';
    socket.on('data', (chunk: Buffer) => {
      raw += chunk.toString('latin1');
    });
    const closed = once(socket, 'close');
    socket.write(
      'POST /cgi-bin/cat.sh HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n',
    );
    await closed;
    expect(raw.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 400']);
    await t.server.shutdown();
    expect(spoolDescriptors()).toBe(before);
  });

  it('after the script’s body was being spooled: closed at once, no response, the spool file closed', async () => {
    let spooling: (() => void) | undefined;
    const started = new Promise<void>((resolve) => {
      spooling = resolve;
    });
    class Watched extends CGIHTTPRequestHandler.withOptions({ directory: www }) {
      override async doPOST(): Promise<void> {
        spooling?.();
        await super.doPOST();
      }
    }
    const lines: string[] = [];
    const record = (fields: object | string, message?: string) => {
      lines.push(typeof fields === 'string' ? fields : (message ?? ''));
    };
    const logger = { info: record, warn: record, error: record };
    const t = await startServer(new HTTPServer(['127.0.0.1', 0], Watched, { logger, quiet: false }));
    onTestFinished(() => t.close());
    const before = spoolDescriptors();
    const socket = await t.connect();
    let raw = '';
    socket.on('data', (chunk: Buffer) => {
      raw += chunk.toString('latin1');
    });
    const closed = once(socket, 'close');
    socket.write(
      'POST /cgi-bin/cat.sh HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n',
    );
    await started;
    socket.write('zz\r\n');
    await closed;
    expect(raw).toBe('');
    await t.server.shutdown();
    expect(spoolDescriptors()).toBe(before);
    const aborted = lines.filter((line) => /aborted|Exception/.test(line));
    expect(aborted).toEqual([
      expect.stringMatching(/"POST \/cgi-bin\/cat\.sh HTTP\/1\.1" aborted: bad request body/),
    ]);
  });
});
