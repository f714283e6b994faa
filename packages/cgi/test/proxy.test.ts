import type { Logger } from '@srv/core';
import { readUntil, startServer } from '@srv/core/testing';
import { HTTPServer } from '@srv/http';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CGIHTTPRequestHandler } from '../src/index.js';
import { parseResponse, www } from './helpers.js';

describe('behind a PROXY protocol sender', () => {
  it('REMOTE_ADDR and REMOTE_PORT are the client the header names; the access log agrees', async () => {
    const lines: string[] = [];
    const record = (fields: object | string, message?: string) => {
      lines.push(typeof fields === 'string' ? fields : (message ?? ''));
    };
    const logger: Logger = { info: record, warn: record, error: record };
    const launcher = process.env.SRV_CGI_LAUNCHER === 'direct' ? ({ launcher: 'direct' } as const) : {};
    const Handler = CGIHTTPRequestHandler.withOptions({ directory: www, ...launcher });
    const t = await startServer(new HTTPServer(['127.0.0.1', 0], Handler, { logger, proxyProtocol: true }));
    onTestFinished(() => t.close());
    const socket = await t.connect();
    socket.write(
      'PROXY TCP4 203.0.113.7 127.0.0.1 51000 80\r\n' +
        'GET /cgi-bin/env.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    const response = parseResponse(await readUntil(socket, () => false));
    expect(response.status).toBe(200);
    const { env } = JSON.parse(response.body) as { env: Record<string, string> };
    expect(env).toMatchObject({ REMOTE_ADDR: '203.0.113.7', REMOTE_PORT: '51000' });
    expect(lines.find((line) => line.includes('"GET /cgi-bin/env.js'))).toMatch(/^203\.0\.113\.7 - - \[/);
  });
});
