import type { AddressInput } from '@srv/core';

/** What `srv-demo` hands each server module: where to listen and the lesson's knobs. */
export interface DemoOptions {
  /** Host to bind (`''` means all IPv4 interfaces, as in the tutorial's `('', 6789)`). */
  readonly host: string;
  /** Port to bind; 0 picks a free one. */
  readonly port: number;
  /** Directory served by the static and CGI servers. */
  readonly directory: string;
  /** Seconds each page request blocks (pages, threading, forking). */
  readonly slow: number;
  /** `--quiet`: no access lines, no `Handling with …` lines, no connection lines. */
  readonly quiet: boolean;
  /** An inherited listening descriptor (`--fd`, `LISTEN_FDS`) to serve instead of host and port. */
  readonly fd?: number | undefined;
}

/** Where a server listens: the inherited descriptor when there is one, else `[host, port]`. */
export function listenAddress(options: DemoOptions): AddressInput {
  return options.fd !== undefined ? { fd: options.fd } : [options.host, options.port];
}

/** What the page handlers need in every worker: handed over as the server's `workerData`. */
export interface PagesData {
  /** `Date.now()` when the server started, so uptime is the same in every thread and process. */
  readonly startTime: number;
  /** Seconds `doGET` blocks before writing the page. */
  readonly slow: number;
  /** `--quiet`: the handlers print no `Handling with …` line. */
  readonly quiet?: boolean;
}

/** Milliseconds shutdown waits for in-flight requests: long enough for a slow page to finish. */
export function graceFor(slowSeconds: number): number {
  return 5000 + Math.ceil(slowSeconds * 1000);
}
