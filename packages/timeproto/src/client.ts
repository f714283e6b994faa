import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { parseAddress } from '@srv/core';
import { createTimeError, invalidOption } from './errors.js';
import { decodeRfc868 } from './format.js';

/** How a query travels. */
export type Transport = 'tcp' | 'udp';

/** Where a query goes: `'host:port'`, `'[::1]:8765'`, `[host, port]`, `{ host, port }` or a port on this machine. */
export type QueryAddress =
  | string
  | number
  | readonly [host: string, port: number]
  | { host?: string; port: number };

/** Options of {@link queryTime}, {@link queryDaytime} and {@link queryRfc868}. */
export interface QueryOptions {
  /** `'tcp'` (default) or `'udp'`. */
  transport?: Transport;
  /** Milliseconds for the whole exchange (connect, send, answer) before `SRV_ERR_TIME_QUERY_TIMEOUT`. Default 5000. */
  timeout?: number;
  /** Aborting it ends the query with the signal's reason. */
  signal?: AbortSignal;
  /** Longest reply accepted, in bytes; a longer one is `SRV_ERR_TIME_BAD_REPLY`. Default 65536. */
  maxReplyLength?: number;
}

interface Target {
  host: string;
  port: number;
}

function resolveTarget(address: QueryAddress): Target {
  const parsed = parseAddress(address);
  if (parsed.kind !== 'inet') {
    throw invalidOption(`a time query needs a host and port, got ${JSON.stringify(address)}`);
  }
  // The "all interfaces" forms name no host to reach: ask this machine.
  const host = parsed.host === '0.0.0.0' ? '127.0.0.1' : parsed.host === '::' ? '::1' : parsed.host;
  if (parsed.port === 0) throw invalidOption('a time query needs a port other than 0');
  return { host, port: parsed.port };
}

interface Settings {
  transport: Transport;
  timeout: number;
  signal: AbortSignal | undefined;
  maxReplyLength: number;
}

function settingsOf(options: QueryOptions): Settings {
  const transport = options.transport ?? 'tcp';
  if (transport !== 'tcp' && transport !== 'udp') {
    throw invalidOption(`transport must be 'tcp' or 'udp', got ${JSON.stringify(transport)}`);
  }
  const timeout = options.timeout ?? 5000;
  if (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout)) {
    throw invalidOption(`timeout must be a positive number of milliseconds, got ${String(timeout)}`);
  }
  const maxReplyLength = options.maxReplyLength ?? 65536;
  if (!Number.isInteger(maxReplyLength) || maxReplyLength < 1) {
    throw invalidOption(`maxReplyLength must be a positive integer, got ${String(maxReplyLength)}`);
  }
  return { transport, timeout, signal: options.signal, maxReplyLength };
}

function where(target: Target): string {
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

/**
 * Runs one exchange with a deadline and an optional abort signal; `start` gets `settle` and returns
 * the cleanup that releases its socket.
 */
function withDeadline<T>(
  target: Target,
  settings: Settings,
  start: (settle: (error: Error | undefined, value?: T) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    settings.signal?.throwIfAborted();
    let done = false;
    let cleanup: () => void = () => {};
    const settle = (error: Error | undefined, value?: T) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      settings.signal?.removeEventListener('abort', onAbort);
      cleanup();
      if (error) reject(error);
      else resolve(value as T);
    };
    const onAbort = () => settle(settings.signal?.reason as Error);
    const timer = setTimeout(
      () =>
        settle(
          createTimeError(
            'SRV_ERR_TIME_QUERY_TIMEOUT',
            `no answer from ${where(target)} within ${settings.timeout} ms`,
          ),
        ),
      settings.timeout,
    );
    settings.signal?.addEventListener('abort', onAbort, { once: true });
    cleanup = start(settle);
    if (done) cleanup();
  });
}

function connectFailed(target: Target, error: Error): Error {
  return createTimeError(
    'SRV_ERR_TIME_CONNECT_FAILED',
    `cannot query ${where(target)}: ${(error as NodeJS.ErrnoException).code ?? error.message}`,
    { cause: error },
  );
}

function tooLong(target: Target, limit: number): Error {
  return createTimeError(
    'SRV_ERR_TIME_BAD_REPLY',
    `reply from ${where(target)} is longer than ${limit} bytes`,
  );
}

/** Sends `payload` (then half-closes) and collects everything until the server closes. */
function exchangeTcp(target: Target, payload: string, settings: Settings): Promise<Buffer> {
  return withDeadline<Buffer>(target, settings, (settle) => {
    const socket = net.connect({ host: target.host, port: target.port });
    const chunks: Buffer[] = [];
    let length = 0;
    socket.on('connect', () => socket.end(payload));
    socket.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > settings.maxReplyLength) settle(tooLong(target, settings.maxReplyLength));
      else chunks.push(chunk);
    });
    socket.on('end', () => settle(undefined, Buffer.concat(chunks)));
    socket.on('error', (error) => settle(connectFailed(target, error)));
    socket.on('close', () => settle(undefined, Buffer.concat(chunks)));
    return () => socket.destroy();
  });
}

/** Sends one datagram and resolves with the first reply. */
async function exchangeUdp(target: Target, payload: string, settings: Settings): Promise<Buffer> {
  let family = net.isIP(target.host);
  let host = target.host;
  if (family === 0) {
    try {
      const resolved = await lookup(target.host);
      family = resolved.family;
      host = resolved.address;
    } catch (error) {
      throw connectFailed(target, error as Error);
    }
  }
  return withDeadline<Buffer>(target, settings, (settle) => {
    const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    // A connected UDP socket hears ICMP "port unreachable" as ECONNREFUSED instead of waiting out the timeout.
    socket.on('error', (error) => settle(connectFailed(target, error)));
    socket.on('message', (message: Buffer) => {
      if (message.length > settings.maxReplyLength) settle(tooLong(target, settings.maxReplyLength));
      else settle(undefined, message);
    });
    socket.connect(target.port, host, () => {
      socket.send(payload, (error) => {
        if (error) settle(connectFailed(target, error));
      });
    });
    return () => {
      try {
        socket.close();
      } catch {}
    };
  });
}

function exchange(target: Target, payload: string, settings: Settings): Promise<Buffer> {
  return settings.transport === 'udp'
    ? exchangeUdp(target, payload, settings)
    : exchangeTcp(target, payload, settings);
}

function textOf(reply: Buffer, target: Target): string {
  if (reply.length === 0) {
    throw createTimeError('SRV_ERR_TIME_BAD_REPLY', `empty reply from ${where(target)}`);
  }
  return reply.toString('utf8').replace(/\r?\n$/, '');
}

/**
 * Asks a server of the tutorial's line protocol for the time: sends `word` (`asctime`, `seconds` or
 * `rfc822`; another word gets the help text) and resolves with the reply without its final newline.
 *
 * Fails with `SRV_ERR_TIME_QUERY_TIMEOUT`, `SRV_ERR_TIME_CONNECT_FAILED` or `SRV_ERR_TIME_BAD_REPLY`;
 * bad arguments with `SRV_ERR_INVALID_OPTION` / `SRV_ERR_INVALID_ADDRESS`.
 */
export async function queryTime(
  address: QueryAddress,
  word = 'seconds',
  options: QueryOptions = {},
): Promise<string> {
  if (typeof word !== 'string' || /[\r\n]/.test(word)) {
    throw invalidOption('the word must be a string without line breaks');
  }
  const target = resolveTarget(address);
  const settings = settingsOf(options);
  const payload = settings.transport === 'udp' ? word : `${word}\n`;
  return textOf(await exchange(target, payload, settings), target);
}

/** Asks an RFC 867 Daytime server for its date line (resolved without the line ending). */
export async function queryDaytime(address: QueryAddress, options: QueryOptions = {}): Promise<string> {
  const target = resolveTarget(address);
  const settings = settingsOf(options);
  return textOf(await exchange(target, '', settings), target);
}

/**
 * Asks an RFC 868 Time server for the time and resolves with it as a `Date` (whole seconds). A reply
 * that is not exactly 4 bytes is `SRV_ERR_TIME_BAD_REPLY`.
 */
export async function queryRfc868(address: QueryAddress, options: QueryOptions = {}): Promise<Date> {
  const target = resolveTarget(address);
  const settings = settingsOf(options);
  const reply = await exchange(target, '', settings);
  if (reply.length !== 4) {
    throw createTimeError(
      'SRV_ERR_TIME_BAD_REPLY',
      `RFC 868 reply from ${where(target)} has ${reply.length} bytes, not 4`,
    );
  }
  return decodeRfc868(reply);
}
