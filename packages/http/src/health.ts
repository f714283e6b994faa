import { type EventEmitter, once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type SocketAddress, SrvError } from '@srv/core';

/** What the health path says: 200 while serving, 503 once draining (the orchestrator stops routing here). */
function answer(res: ServerResponse, draining: boolean, head: boolean): void {
  const body = draining ? 'draining\n' : 'ok\n';
  res.writeHead(draining ? 503 : 200, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(head ? undefined : body);
}

/** The request target's path (no query), for comparing with the health path. */
function pathOf(url: string | undefined): string {
  const target = url ?? '';
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}

/**
 * Health and drain state of one HTTP server: the health path on its own port (answered before any
 * handler or dispatcher queue, so a busy serial server still answers its probes), an optional plain
 * listener for it, and whether a drain has begun.
 */
export class HealthCheck {
  readonly path: string | undefined;
  draining = false;
  #listener: http.Server | undefined;
  #address: SocketAddress | undefined;

  constructor(path: string | undefined) {
    if (path !== undefined && (typeof path !== 'string' || !path.startsWith('/') || /[\s?#]/.test(path))) {
      throw new SrvError(
        'SRV_ERR_INVALID_OPTION',
        `healthPath must be a path starting with / (no spaces, query or fragment), got ${JSON.stringify(path)}`,
      );
    }
    this.path = path;
  }

  /** Answers `req` when it is a GET or HEAD of the health path; true when it did. */
  intercept(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.path === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    if (pathOf(req.url) !== this.path) return false;
    answer(res, this.draining, req.method === 'HEAD');
    return true;
  }

  /**
   * Starts the plain health listener (no TLS, no PROXY header: orchestrators' probes send neither).
   * It answers the health path (`/` when none is set) and 404 for anything else.
   */
  async listen(host: string, port: number): Promise<SocketAddress> {
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new SrvError('SRV_ERR_INVALID_OPTION', `healthPort must be a port number, got ${port}`);
    }
    const path = this.path ?? '/';
    const server = http.createServer((req, res) => {
      if ((req.method === 'GET' || req.method === 'HEAD') && pathOf(req.url) === path) {
        answer(res, this.draining, req.method === 'HEAD');
        return;
      }
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 10 });
      res.end('not found\n');
    });
    server.keepAliveTimeout = 5000;
    this.#listener = server;
    server.listen({ host, port });
    try {
      await once(server, 'listening');
    } catch (error) {
      this.#listener = undefined;
      throw new SrvError('SRV_ERR_LISTEN_FAILED', `health listener on ${host}:${port}: ${String(error)}`, {
        cause: error,
      });
    }
    const bound = server.address() as AddressInfo;
    this.#address = {
      family: bound.family === 'IPv6' ? 'IPv6' : 'IPv4',
      host: bound.address,
      port: bound.port,
    };
    return this.#address;
  }

  /** The health listener's address, once listening. */
  get address(): SocketAddress | undefined {
    return this.#address;
  }

  /** Closes the health listener and its connections. Idempotent. */
  async close(): Promise<void> {
    const server = this.#listener;
    this.#listener = undefined;
    if (!server?.listening) return;
    const closed = once(server, 'close');
    server.close();
    server.closeAllConnections();
    await closed;
  }
}

/** Waits `delayMs`, or less when `server` emits `shutdown` first (a drain's delay ends with it). */
export function waitUnlessShutdown(server: EventEmitter, delayMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, delayMs);
    server.once('shutdown', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const v2Signature = '\r\n\r\n\0\r\nQUIT\n';

/**
 * A PROXY protocol header sent to a listener that does not expect one: llhttp fails on it, and the
 * answer says why instead of a confusing "bad request version". The header's addresses are never
 * believed (the access log shows the connection's own peer).
 */
export function proxyHeaderProblem(
  raw: string,
  lineStart: number,
): { code: number; message: string; explain: string; requestline: string } | undefined {
  const line = raw.slice(lineStart);
  const v1 = lineStart === 0 && line.startsWith('PROXY ');
  if (!v1 && !raw.startsWith(v2Signature)) return undefined;
  const end = raw.indexOf('\r\n');
  return {
    code: 400,
    message: 'Bad Request',
    explain: 'PROXY protocol header on a listener without PROXY protocol',
    requestline: v1 ? raw.slice(0, end === -1 ? Math.min(raw.length, 107) : end) : v2Signature,
  };
}
