import type net from 'node:net';
import type { Logger } from '@srv/core';
import { startServer, type TestServer } from '@srv/core/testing';
import { onTestFinished } from 'vitest';
import { type HTTPHandlerClass, HTTPServer, type HTTPServerOptions } from '../src/index.js';

/** A logger that keeps every line (message text only) for assertions. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (fields: object | string, message?: string) => {
    lines.push(typeof fields === 'string' ? fields : (message ?? ''));
  };
  return { lines, info: log, warn: log, error: log };
}

/** Starts an HTTPServer on 127.0.0.1:0 with a recording logger; closed when the test finishes. */
export async function serve(
  Handler: HTTPHandlerClass,
  options: HTTPServerOptions = {},
): Promise<TestServer<HTTPServer> & { log: string[] }> {
  const logger = recordingLogger();
  const t = await startServer(new HTTPServer(['127.0.0.1', 0], Handler, { logger, ...options }));
  onTestFinished(() => t.close());
  return Object.assign(t, { log: logger.lines });
}

/** Sends raw bytes, half-closes after `endAfter` ms (never when undefined) and collects the reply until close. */
export async function exchange(
  t: { connect(): Promise<net.Socket> },
  data: string | Buffer,
  options: { end?: boolean } = {},
): Promise<string> {
  const socket = await t.connect();
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(data);
  if (options.end) socket.end();
  await closed;
  return Buffer.concat(chunks).toString('latin1');
}

/** Splits a raw response stream into [head, body] of its first response. */
export function splitResponse(raw: string): { status: string; headers: string[]; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, end).split('\r\n');
  return { status: head[0] ?? '', headers: head.slice(1), body: raw.slice(end + 4) };
}
