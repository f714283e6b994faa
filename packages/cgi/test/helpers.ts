import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInput, Logger } from '@srv/core';
import { startServer, type TestServer } from '@srv/core/testing';
import { HTTPServer } from '@srv/http';
import { inject, onTestFinished } from 'vitest';
import { CGIHTTPRequestHandler, type CGIOptions } from '../src/index.js';

/**
 * The document root of the fixtures (real path: scripts see real paths): a copy everyone can reach when
 * the tests run as root (see global-setup.ts).
 */
export const www = inject('cgiFixtures');

/** True when `command` is on the PATH. */
function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' }).status === 0;
}

const warned = new Set<string>();

/**
 * True when a tool the test's scripts are written for (`perl`, `python3`) is not installed: the test is
 * then skipped (`it.skipIf(lacks('python3'))`), and the run says so on stderr, once per tool. Never in
 * CI, which installs them (.ci/run): there a missing tool fails the tests that need it.
 */
export function lacks(...tools: string[]): boolean {
  if (process.env.CI) return false;
  const missing = tools.filter((tool) => !hasCommand(tool));
  for (const tool of missing) {
    if (warned.has(tool)) continue;
    warned.add(tool);
    console.warn(`${tool} is not installed: the tests whose CGI scripts need it are skipped`);
  }
  return missing.length > 0;
}

/** True when the tests run as root, so scripts run as `nobody`. */
export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export interface CgiTestServer extends TestServer<HTTPServer> {
  /** Every log line so far. */
  readonly lines: string[];
  /** Resolves with the first log line (past or future) matching `pattern`. */
  waitForLine(pattern: RegExp): Promise<string>;
}

/** Starts an HTTPServer with the CGI handler on the fixtures, logging into memory; closed after the test. */
export async function startCgi(
  options: CGIOptions = {},
  address: AddressInput = ['127.0.0.1', 0],
): Promise<CgiTestServer> {
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const record = (fieldsOrMessage: object | string, message?: string) => {
    const line = typeof fieldsOrMessage === 'string' ? fieldsOrMessage : (message ?? '');
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  const logger: Logger = { info: record, warn: record, error: record };
  // The `direct` test project runs the same suites with scripts spawned by the server itself.
  const launcher = process.env.SRV_CGI_LAUNCHER === 'direct' ? ({ launcher: 'direct' } as const) : {};
  const Handler = CGIHTTPRequestHandler.withOptions({ directory: www, ...launcher, ...options });
  const server = new HTTPServer(address, Handler, { logger, quiet: true });
  const helper = await startServer(server);
  onTestFinished(() => helper.close());
  return Object.assign(helper, {
    lines,
    waitForLine(pattern: RegExp) {
      const found = lines.find((line) => pattern.test(line));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise<string>((resolve) => waiters.push({ pattern, resolve }));
    },
  });
}

/** A parsed raw HTTP/1.1 response (chunked bodies decoded). */
export interface RawResponse {
  readonly status: number;
  readonly reason: string;
  /** Header lines in order, names lower-cased. */
  readonly headers: Array<[string, string]>;
  readonly body: string;
  header(name: string): string | undefined;
}

/** Parses one response from raw bytes. */
export function parseResponse(bytes: Buffer): RawResponse {
  const text = bytes.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) throw new Error(`no complete response: ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine ?? '');
  if (!match) throw new Error(`bad status line ${statusLine}`);
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
  });
  const header = (name: string) => headers.find(([key]) => key === name.toLowerCase())?.[1];
  let body = text.slice(end + 4);
  if (header('transfer-encoding') === 'chunked') {
    let decoded = '';
    let rest = body;
    for (;;) {
      const lineEnd = rest.indexOf('\r\n');
      const size = Number.parseInt(rest.slice(0, lineEnd), 16);
      if (!(size > 0)) break;
      decoded += rest.slice(lineEnd + 2, lineEnd + 2 + size);
      rest = rest.slice(lineEnd + 2 + size + 2);
    }
    body = decoded;
  }
  return { status: Number(match[1]), reason: match[2] ?? '', headers, body, header };
}

/** Sends a raw request (with `Connection: close` added) and parses the answer. */
export async function rawRequest(t: TestServer<HTTPServer>, head: string, body = ''): Promise<RawResponse> {
  const bytes = await t.exchange(`${head}\r\nHost: localhost\r\nConnection: close\r\n\r\n${body}`);
  return parseResponse(bytes);
}

/** `NAME=value` lines into a record (the sh and perl fixtures print that). */
export function parseEnvLines(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const equals = line.indexOf('=');
    if (equals > 0) result[line.slice(0, equals)] = line.slice(equals + 1);
  }
  return result;
}

/**
 * True while a process with this id runs. A zombie does not count: an orphaned script is reaped by
 * whatever the system's init is, which may take its time (or, in a container, never come).
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // Field 3 of /proc/<pid>/stat, after the parenthesised name: Z (zombie), X (dead).
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return process.platform !== 'linux';
  }
}

/**
 * Resolves once process `pid` has stopped running; rejects after `timeout` ms. There is no event
 * for the end of a process that is not this one's child, so this polls `/proc`.
 */
export async function waitForExit(pid: number, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still runs after ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
