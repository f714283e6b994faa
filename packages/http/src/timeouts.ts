/**
 * srv's own connection timeouts. The internal `node:http` server never listens, so Node's header,
 * request and keep-alive checks do not run; one ticker per server walks its connections instead, a
 * few times per shortest limit (at least every second), and costs a request nothing.
 */
import type { Logger } from '@srv/core';
import { displayHost } from '@srv/core/internal';
import type { Connection } from './connection.js';
import { formatLogDate } from './format.js';

/** The limits, in milliseconds (0: none). */
export interface TimeoutLimits {
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  readonly keepAliveTimeout: number;
  readonly sendTimeout: number;
}

/** What the ticker needs of its server. */
export interface TimeoutHost extends TimeoutLimits {
  readonly logger: Logger;
  readonly quiet: boolean;
  /** Answers a connection whose request did not arrive in time (408). */
  requestTimedOut(connection: Connection): void;
}

/** One server's live connections and the ticker over them (it runs while there is one). */
export class ConnectionTimeouts {
  readonly #host: TimeoutHost;
  readonly #connections = new Set<Connection>();
  #ticker: NodeJS.Timeout | undefined;

  constructor(host: TimeoutHost) {
    this.#host = host;
  }

  /** The connections being tracked. */
  get connections(): ReadonlySet<Connection> {
    return this.#connections;
  }

  /** Tracks a connection (its limits are checked from now on). */
  track(connection: Connection): void {
    this.#connections.add(connection);
    this.start();
  }

  /** Stops tracking a connection; the ticker stops with the last one. */
  untrack(connection: Connection): void {
    this.#connections.delete(connection);
    if (this.#connections.size === 0) this.stop();
  }

  /** The clock the limits are measured on. */
  now(): number {
    return performance.now();
  }

  /** Starts ticking (once; no-op without limits). */
  start(): void {
    if (this.#ticker) return;
    const host = this.#host;
    const limits = [host.headersTimeout, host.requestTimeout, host.keepAliveTimeout, host.sendTimeout].filter(
      (value) => value > 0,
    );
    if (limits.length === 0) return;
    const interval = Math.min(1000, Math.max(5, Math.floor(Math.min(...limits) / 8)));
    this.#ticker = setInterval(() => this.tick(this.now()), interval);
    this.#ticker.unref();
  }

  /** Stops ticking (no connection left). */
  stop(): void {
    if (this.#ticker) clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  /** One pass over the connections at time `now`. */
  tick(now: number): void {
    const sendTimeout = this.#host.sendTimeout;
    for (const connection of this.#connections) {
      if (connection.socket.destroyed) continue;
      if (sendTimeout > 0 && this.#checkSending(connection, now)) continue;
      if (connection.closing) continue;
      if (connection.pending === 0) this.#checkWaiting(connection, now);
      else if (connection.bodyRequest && !connection.bodyRequest.complete) this.#checkBody(connection, now);
    }
  }

  /** Closes a connection whose client has taken no byte of its output for `sendTimeout`; true if so. */
  #checkSending(connection: Connection, now: number): boolean {
    const host = this.#host;
    const unsent = connection.unsentBytes();
    const sent = connection.sentBytes();
    const progressed = sent === undefined ? unsent < connection.unsent : sent !== connection.sent;
    connection.sent = sent ?? 0;
    if (unsent === 0 || progressed) {
      // Nothing waits, or the client took some since the last tick.
      connection.unsent = unsent;
      connection.sendingSince = now;
      return false;
    }
    connection.unsent = unsent;
    if (now - connection.sendingSince < host.sendTimeout) return false;
    connection.cut = true;
    connection.closing = true;
    if (!host.quiet) {
      host.logger.warn(
        `${displayHost(connection.clientAddress.host)} - - [${formatLogDate()}] client took no data for ${Math.round(host.sendTimeout / 1000)} s (${unsent} bytes waiting); connection closed`,
      );
    }
    connection.socket.destroy();
    return true;
  }

  #checkWaiting(connection: Connection, now: number): void {
    const host = this.#host;
    if (connection.phase === 'idle') {
      if (connection.bytes() === connection.mark) {
        const limit = connection.fresh ? host.headersTimeout : host.keepAliveTimeout;
        if (limit > 0 && now - connection.since >= limit) connection.close();
        return;
      }
      connection.phase = 'reading';
      connection.readingSince = connection.fresh ? connection.started : now;
    }
    const elapsed = now - connection.readingSince;
    if (
      (host.headersTimeout > 0 && elapsed >= host.headersTimeout) ||
      (host.requestTimeout > 0 && elapsed >= host.requestTimeout)
    ) {
      host.requestTimedOut(connection);
    }
  }

  #checkBody(connection: Connection, now: number): void {
    const host = this.#host;
    if (host.requestTimeout > 0 && now - connection.bodySince >= host.requestTimeout) {
      host.logger.warn(
        `request body from ${displayHost(connection.clientAddress.host)} not complete after ${host.requestTimeout} ms; closing`,
      );
      connection.closing = true;
      connection.socket.destroy();
    }
  }
}
