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
  /**
   * Ships requests to another thread or process instead of calling `run`. A server then dispatches a
   * connection only once its first request exists (for HTTP: its head has fully arrived), passing the
   * bytes it read to learn that as `ServerRequest.head`; it keeps serving that connection elsewhere.
   * In-process dispatchers (`serial`, `async`) leave it unset and are given each request.
   */
  readonly runsElsewhere?: boolean;
  /**
   * With `runsElsewhere`: a protocol server that parses its connections itself (`HTTPServer`) keeps
   * each connection here and dispatches every request on it as a stream of its own (for HTTP: the
   * request's head and body; the response comes back on the same stream), so a keep-alive connection
   * holds no worker between requests. Stream handlers still get the connection (threading).
   */
  readonly forwardsRequests?: boolean;
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
 * (synchronous work) still stall everything; use `@srv/concurrency` for those. It runs each request
 * at once and keeps no books of its own: the server already tracks every request it dispatched, and
 * drains them before it drains the dispatcher (this runs for every HTTP request, so it stays free).
 */
export class AsyncDispatcher implements Dispatcher {
  readonly name = 'async';

  start(): void {}

  dispatch(_request: ServerRequest, run: () => Promise<void>): Promise<void> {
    return run();
  }

  async drain(): Promise<void> {}

  async close(): Promise<void> {}
}

/** A request waiting its turn in the {@link SerialDispatcher}. */
interface SerialJob {
  readonly request: ServerRequest;
  readonly run: () => Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  /** Set while a connection waits: it leaves the queue when its client goes. */
  onClose: (() => void) | undefined;
}

/**
 * One request at a time, like Python's plain `TCPServer`: the next request waits until the previous
 * handler has finished, even an async one, in arrival order. A request whose connection closes while
 * it waits leaves the queue at once (a load balancer's probe, a client that gave up): nobody is there
 * to answer. At most `limit` requests wait (the server's backlog by default); `dispatch` rejects the
 * ones beyond with `SRV_ERR_QUEUE_FULL` and the server closes them.
 */
export class SerialDispatcher implements Dispatcher {
  readonly name = 'serial';
  #limit: number;
  readonly #queue: SerialJob[] = [];
  #running: SerialJob | undefined;
  readonly #drainWaiters: Array<() => void> = [];

  constructor(options: { limit?: number } = {}) {
    this.#limit = options.limit ?? Number.POSITIVE_INFINITY;
  }

  start(server: BaseServer<unknown>): void {
    if (!Number.isFinite(this.#limit)) this.#limit = Math.max(1, server.backlog);
  }

  /** Requests accepted and not finished (running or waiting). */
  get size(): number {
    return this.#queue.length + (this.#running ? 1 : 0);
  }

  dispatch(request: ServerRequest, run: () => Promise<void>): Promise<void> {
    if (this.#queue.length >= this.#limit) {
      return Promise.reject(
        createError('SRV_ERR_QUEUE_FULL', `more than ${this.#limit} requests waiting; closed`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const job: SerialJob = { request, run, resolve, reject, onClose: undefined };
      if (this.#running === undefined) {
        this.#start(job);
        return;
      }
      if (request.kind === 'stream') {
        const stream = request.request;
        job.onClose = () => {
          const index = this.#queue.indexOf(job);
          if (index !== -1) this.#queue.splice(index, 1);
          resolve();
        };
        stream.once('close', job.onClose);
      }
      this.#queue.push(job);
    });
  }

  #start(job: SerialJob): void {
    this.#running = job;
    let outcome: Promise<void>;
    try {
      outcome = job.run();
    } catch (error) {
      outcome = Promise.reject(error);
    }
    outcome.then(
      () => this.#next(job, undefined),
      (error: unknown) => this.#next(job, error ?? new Error('request failed')),
    );
  }

  #next(finished: SerialJob, error: unknown): void {
    this.#running = undefined;
    if (error === undefined) finished.resolve();
    else finished.reject(error);
    const job = this.#queue.shift();
    if (job) {
      if (job.onClose && job.request.kind === 'stream') job.request.request.off('close', job.onClose);
      this.#start(job);
    } else {
      for (const wake of this.#drainWaiters.splice(0)) wake();
    }
  }

  async drain(): Promise<void> {
    while (this.size > 0) await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
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
