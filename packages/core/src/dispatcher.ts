import { createError } from './errors.js';
import type { ServerRequest } from './handler.js';
import type { BaseServer } from './server.js';

/**
 * Decides *where* a request's handler runs. The server verifies each request, then calls
 * `dispatch(request, run)`: an in-process dispatcher calls `run()`; a threading or forking one ships
 * `request` elsewhere, using `server.describeForWorker()` to rebuild the server and handler there.
 */
export interface Dispatcher {
  /** A short name for logs (`serial`, `async`, `threading`, `forking`). */
  readonly name: string;
  /** Wants accepted sockets paused (to pass them to another process without losing bytes). */
  readonly pauseOnConnect?: boolean;
  /** Wraps TLS itself (after hand-off) instead of receiving already wrapped sockets. */
  readonly handlesTls?: boolean;
  /** Called once the server is bound; may start workers. The server's `ready` waits for it. */
  start(server: BaseServer<unknown>): void | Promise<void>;
  /**
   * Runs one request; settles when its handling is over. `run` handles it in this process (handler,
   * errors, closing). A dispatcher that handles elsewhere is responsible for closing the request.
   */
  dispatch(request: ServerRequest, run: () => Promise<void>): Promise<void>;
  /** Resolves when every dispatched request has finished. */
  drain(): Promise<void>;
  /** Releases what `start` created; called once, after `drain`. */
  close(): Promise<void>;
}

/** Names of the in-process dispatchers. */
export type DispatcherName = 'serial' | 'async';

/**
 * Concurrent handling on the event loop: the Node default. Handlers that block the loop
 * (synchronous work) still stall everything; use `@srv/concurrency` for those.
 */
export class AsyncDispatcher implements Dispatcher {
  readonly name = 'async';
  readonly #inFlight = new Set<Promise<void>>();

  start(): void {}

  dispatch(_request: ServerRequest, run: () => Promise<void>): Promise<void> {
    const job = run();
    this.#inFlight.add(job);
    // then() rather than finally(): one reaction, no extra promise per request.
    const forget = () => {
      this.#inFlight.delete(job);
    };
    job.then(forget, forget);
    return job;
  }

  /** Requests being handled now. */
  get size(): number {
    return this.#inFlight.size;
  }

  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async close(): Promise<void> {}
}

/**
 * One request at a time, like Python's plain `TCPServer`: the next request waits until the previous
 * handler has finished, even an async one. Node accepts eagerly, so at most `limit` requests wait
 * (the server's backlog by default); the ones beyond are closed at once.
 */
export class SerialDispatcher implements Dispatcher {
  readonly name = 'serial';
  #limit: number;
  #tail: Promise<void> = Promise.resolve();
  #waiting = 0;

  constructor(options: { limit?: number } = {}) {
    this.#limit = options.limit ?? Number.POSITIVE_INFINITY;
  }

  start(server: BaseServer<unknown>): void {
    if (!Number.isFinite(this.#limit)) this.#limit = Math.max(1, server.backlog);
  }

  /** Requests accepted and not finished (running or waiting). */
  get size(): number {
    return this.#waiting;
  }

  dispatch(request: ServerRequest, run: () => Promise<void>): Promise<void> {
    if (this.#waiting > this.#limit) {
      if (request.kind === 'stream') request.request.destroy();
      return Promise.reject(
        createError('SRV_ERR_QUEUE_FULL', `more than ${this.#limit} requests waiting; closed`),
      );
    }
    this.#waiting += 1;
    const job = this.#tail.then(run).finally(() => {
      this.#waiting -= 1;
    });
    this.#tail = job.catch(() => {});
    return job;
  }

  async drain(): Promise<void> {
    while (this.#waiting > 0) await this.#tail;
  }

  async close(): Promise<void> {}
}

/** Turns the `dispatcher` option into a dispatcher instance. */
export function resolveDispatcher(option: DispatcherName | Dispatcher | undefined): Dispatcher {
  if (option === undefined || option === 'async') return new AsyncDispatcher();
  if (option === 'serial') return new SerialDispatcher();
  if (typeof option === 'object' && option !== null && typeof option.dispatch === 'function') return option;
  throw createError(
    'SRV_ERR_INVALID_OPTION',
    `dispatcher must be 'serial', 'async' or a Dispatcher, got ${JSON.stringify(option)}`,
  );
}
