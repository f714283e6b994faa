/**
 * The queueing and bookkeeping shared by the threading and forking dispatchers: a pool of workers,
 * each serving one request at a time; requests wait in a bounded queue while every worker is busy; a
 * worker that dies is replaced and only its own request is lost.
 *
 * The pool grows when it is stalled, not merely busy: requests wait and no worker has finished one
 * for `stallMs`. Fast handlers keep finishing, so a steady load runs on the warm workers (starting a
 * Node worker costs tens of milliseconds of CPU that the requests would have used); handlers that
 * block (Python's reason for ThreadingMixIn) stop finishing, and then every waiting request gets a
 * worker of its own, up to the maximum.
 */
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import type { Duplex } from 'node:stream';
import type { BaseServer, Dispatcher, Logger, ServerRequest, WorkerServerSpec } from '@srv/core';
import { createError, restoreLogFields } from './errors.js';
import { closeRequest, type PoolJob, type PoolLimits, type PoolWorker } from './pool-parts.js';
import type { FromWorker, ToWorker } from './protocol.js';

export { checkLimits, closeRequest, type PoolJob, type PoolLimits, type PoolWorker } from './pool-parts.js';

/** How long waiting requests may see no worker finish before the pool grows (milliseconds). */
export const stallMs = 50;

/** Workers started at the same time: about one per core. */
const startsAtOnce = Math.max(2, availableParallelism());

/**
 * A dispatcher that runs each request in a worker of its pool.
 *
 * Events: `spawn (name)` when a worker is ready, `exit (name)` when one is gone.
 */
export abstract class PoolDispatcher<W extends PoolWorker> extends EventEmitter implements Dispatcher {
  /** `threading` or `forking`, for logs. */
  abstract readonly name: string;
  /** Requests run in another thread or process: servers dispatch connections whose request exists. */
  readonly runsElsewhere = true;
  protected readonly limits: PoolLimits;
  protected server: BaseServer<unknown> | undefined;
  protected spec: WorkerServerSpec | undefined;
  readonly #workers = new Set<W>();
  readonly #idle: W[] = [];
  readonly #queue: PoolJob[] = [];
  readonly #jobs = new Set<PoolJob>();
  /** Callers of `drain()` waiting for the last job to end. */
  readonly #drainWaiters: Array<() => void> = [];
  #starting = 0;
  readonly #spawning = new Set<Promise<unknown>>();
  #nextId = 0;
  #closing = false;
  #shuttingDown = false;
  #retiring = 0;
  #closed: Promise<void> | undefined;
  /** Requests finished so far, and the count when the stall timer was armed. */
  #finished = 0;
  #finishedAtArm = 0;
  #stallTimer: NodeJS.Timeout | undefined;
  /** Workers a stall asked for that have not been started yet. */
  #wanted = 0;

  constructor(limits: PoolLimits) {
    super();
    this.limits = limits;
  }

  /** Starts a worker; resolves once it has rebuilt the server and is ready for requests. */
  protected abstract spawn(): Promise<W>;
  /** Posts a control message to a worker. */
  protected abstract post(worker: W, message: ToWorker): void;
  /** Hands a job to a worker (which is marked busy already). */
  protected abstract send(worker: W, job: PoolJob): void;
  /** Stops a worker at once; resolves when it is gone. */
  protected abstract terminate(worker: W): Promise<void>;
  /** Keeps the process alive while `busy` (or not). */
  protected abstract setBusy(worker: W, busy: boolean): void;

  /** Workers running now (busy or idle). */
  get size(): number {
    return this.#workers.size;
  }

  /** Workers serving a request now. */
  get busyCount(): number {
    return this.#workers.size - this.#idle.length;
  }

  /** Requests waiting for a worker. */
  get queueLength(): number {
    return this.#queue.length;
  }

  /** The workers, for subclasses (pids, names). */
  protected get workers(): ReadonlySet<W> {
    return this.#workers;
  }

  protected get logger(): Logger | undefined {
    return this.server?.logger;
  }

  /** Describes the server for workers and starts the pool's minimum; rejects (coded) when one cannot start. */
  async start(server: BaseServer<unknown>): Promise<void> {
    this.server = server;
    this.spec = await server.describeForWorker();
    server.once('shutdown', () => {
      this.#shuttingDown = true;
      for (const worker of this.#workers) this.#tellShutdown(worker);
    });
    const started = await Promise.allSettled(Array.from({ length: this.limits.min }, () => this.#grow()));
    const failure = started.find((outcome) => outcome.status === 'rejected');
    if (failure) {
      await this.close();
      throw failure.reason;
    }
  }

  #grow(): Promise<W> {
    const growing = this.#doGrow();
    const settled = growing.catch(() => {});
    this.#spawning.add(settled);
    void settled.finally(() => this.#spawning.delete(settled));
    return growing;
  }

  async #doGrow(): Promise<W> {
    this.#starting += 1;
    try {
      const worker = await this.spawn();
      this.#workers.add(worker);
      if (this.#closing) {
        await this.#stop(worker);
        throw createError('SRV_ERR_DISPATCHER_CLOSED', `${this.name} dispatcher closed`);
      }
      this.emit('spawn', worker.name);
      if (this.#shuttingDown) this.#tellShutdown(worker);
      this.#becomeIdle(worker);
      return worker;
    } finally {
      this.#starting -= 1;
    }
  }

  /**
   * Hands the request to an idle worker, starts one (up to the maximum), or queues it; beyond
   * `maxQueue` closes it and rejects with `SRV_ERR_QUEUE_FULL`. Settles when the request is over.
   */
  dispatch(request: ServerRequest, _run: () => Promise<void>): Promise<void> {
    if (this.#closing) {
      closeRequest(request);
      return Promise.reject(createError('SRV_ERR_DISPATCHER_CLOSED', `${this.name} dispatcher closed`));
    }
    const waiting = this.#queue.length - this.#canStart();
    if (this.#idle.length === 0 && waiting >= this.limits.maxQueue) {
      closeRequest(request);
      return Promise.reject(
        createError(
          'SRV_ERR_QUEUE_FULL',
          `all ${this.limits.max} ${this.name} workers busy and ${this.limits.maxQueue} requests waiting; closed`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      // One promise per request and plain callbacks: this runs for every connection a pool hands off.
      let settled = false;
      const finish = (error?: unknown) => {
        if (settled) return;
        settled = true;
        this.#jobs.delete(job);
        if (this.#jobs.size === 0) for (const wake of this.#drainWaiters.splice(0)) wake();
        if (error === undefined) resolve();
        else reject(error);
      };
      const job: PoolJob = {
        id: ++this.#nextId,
        request,
        onClose: undefined,
        finish,
        workerDone: () => {
          if (job.extra === undefined) finish();
          else void job.extra.then(() => finish());
        },
        extra: undefined,
      };
      this.#jobs.add(job);
      if (this.#queue.length === 0 && this.#idle.length > 0) {
        this.#assign(this.#idle.shift()!, job);
        return;
      }
      if (request.kind === 'stream') {
        // A client that leaves while it waits (a probe, an impatient browser) frees its place.
        job.onClose = () => {
          const index = this.#queue.indexOf(job);
          if (index === -1) return;
          this.#queue.splice(index, 1);
          job.workerDone();
        };
        request.request.once('close', job.onClose);
      }
      this.#queue.push(job);
      this.#pump();
    });
  }

  /** Workers that could still be started for waiting requests. */
  #canStart(): number {
    return Math.max(0, this.limits.max - this.#workers.size - this.#starting) + this.#starting;
  }

  #pump(): void {
    while (this.#queue.length > 0 && this.#idle.length > 0) {
      const worker = this.#idle.shift()!;
      this.#assign(worker, this.#queue.shift()!);
    }
    if (this.#closing || this.#queue.length === 0) {
      // Nobody waits any more: workers asked for and not yet started are not needed.
      this.#wanted = 0;
      return;
    }
    // An empty pool (minimum 0, or every worker died) has nobody to finish anything: grow now.
    if (this.#workers.size === 0 && this.#starting === 0) this.#growFor(1);
    else this.#armStallTimer();
  }

  #armStallTimer(): void {
    if (this.#stallTimer) return;
    this.#finishedAtArm = this.#finished;
    this.#stallTimer = setTimeout(() => {
      // Timers run before the loop reads its I/O: a busy primary may have `done` messages waiting.
      // Judge after they are in (setImmediate runs after the poll phase), or a lagging event loop
      // would look like stalled workers and start a crowd of them when the CPU is already short.
      setImmediate(() => {
        this.#stallTimer = undefined;
        if (this.#closing || this.#queue.length === 0) return;
        const wanted = this.stallGrowth(
          this.#finished !== this.#finishedAtArm,
          this.#queue.length - this.#starting,
        );
        if (wanted === 0) this.#wanted = 0;
        else if (wanted !== undefined) this.#growFor(wanted);
        this.#armStallTimer();
        // Not unref'd: an unref'd immediate waits for the next I/O event, which a pool whose children
        // all block may not see for as long as they block.
      });
    }, stallMs);
    this.#stallTimer.unref();
  }

  /**
   * Workers to start for `waiting` requests, asked every `stallMs` while requests wait: `progressed`
   * tells whether a worker finished one meanwhile. `undefined` leaves the workers already asked for
   * as they are; 0 cancels those not started yet. Default: one per waiting request once stalled.
   */
  protected stallGrowth(progressed: boolean, waiting: number): number | undefined {
    return progressed ? undefined : waiting;
  }

  /** The workers serving a request now, for subclasses that judge a stall themselves. */
  protected get busyWorkers(): W[] {
    return [...this.#workers].filter((worker) => worker.job !== undefined);
  }

  /** Asks for `count` more workers (within the maximum), started a few at a time. */
  #growFor(count: number): void {
    this.#wanted = Math.max(this.#wanted, count);
    this.#startWanted();
  }

  /**
   * Starting a Node worker is CPU work (tens of milliseconds): many at once share the CPU and none is
   * ready until nearly all are, while serving stops. A few at a time, each serves as soon as it is up.
   */
  #startWanted(): void {
    while (
      this.#wanted > 0 &&
      this.#starting < startsAtOnce &&
      this.#workers.size + this.#starting < this.limits.max &&
      !this.#closing
    ) {
      this.#wanted -= 1;
      this.#grow().then(
        () => {
          this.#pump();
          this.#startWanted();
        },
        (error: unknown) => this.#startFailed(error),
      );
    }
  }

  #startFailed(error: unknown): void {
    if (this.#closing) return;
    this.logger?.error({ err: error }, `${this.name}: a worker failed to start`);
    // Without a worker to come, the oldest waiting request is answered now rather than never.
    if (this.#workers.size === 0 && this.#starting === 0) {
      for (const job of this.#queue.splice(0)) {
        closeRequest(job.request);
        job.finish(error);
      }
    }
  }

  #tellShutdown(worker: W): void {
    try {
      this.post(worker, { t: 'shutdown' });
    } catch {}
  }

  #assign(worker: W, job: PoolJob): void {
    if (job.onClose && job.request.kind === 'stream') job.request.request.off('close', job.onClose);
    job.onClose = undefined;
    if (job.request.kind === 'stream' && (job.request.request as Duplex).destroyed) {
      // The client left while its request waited (a port probe, an impatient client): nothing to serve.
      job.workerDone();
      this.#idle.unshift(worker);
      return;
    }
    if (worker.idleTimer) clearTimeout(worker.idleTimer);
    worker.idleTimer = undefined;
    worker.job = job;
    this.setBusy(worker, true);
    try {
      this.send(worker, job);
    } catch (error) {
      worker.job = undefined;
      closeRequest(job.request);
      job.finish(error);
      this.#becomeIdle(worker);
    }
  }

  #becomeIdle(worker: W): void {
    if (worker.exited) return;
    this.setBusy(worker, false);
    this.#idle.push(worker);
    const { idleTimeout, min } = this.limits;
    if (idleTimeout > 0 && this.#workers.size - this.#retiring > min) {
      worker.idleTimer = setTimeout(() => {
        const index = this.#idle.indexOf(worker);
        // Timers of several idle workers may fire together: count those already on their way out.
        if (index === -1 || this.#workers.size - this.#retiring <= min) return;
        this.#idle.splice(index, 1);
        this.#retiring += 1;
        void this.#stop(worker).finally(() => {
          this.#retiring -= 1;
        });
      }, idleTimeout);
      worker.idleTimer.unref();
    }
    this.#pump();
  }

  /** Subclasses route each worker message here. */
  protected onMessage(worker: W, message: FromWorker): void {
    switch (message.t) {
      case 'done': {
        const job = worker.job;
        if (job?.id !== message.id) return;
        worker.job = undefined;
        this.#finished += 1;
        job.workerDone();
        this.#becomeIdle(worker);
        break;
      }
      case 'reply': {
        const job = worker.job;
        if (job?.id !== message.id || job.request.kind !== 'datagram') return;
        job.request.info
          .reply(Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength))
          .catch((error: unknown) => this.logger?.warn({ err: error }, `${this.name}: reply not sent`));
        break;
      }
      case 'log': {
        const logger = this.logger;
        if (!logger) return;
        if (message.fields === undefined) logger[message.level](message.message);
        else logger[message.level](restoreLogFields(message.fields), message.message);
        break;
      }
      default:
        break;
    }
  }

  /** Subclasses call this when a worker is gone, expectedly or not. */
  protected onExit(worker: W, detail: string): void {
    if (worker.exited) return;
    worker.exited = true;
    if (worker.idleTimer) clearTimeout(worker.idleTimer);
    this.#workers.delete(worker);
    this.emit('exit', worker.name);
    const index = this.#idle.indexOf(worker);
    if (index !== -1) this.#idle.splice(index, 1);
    const job = worker.job;
    worker.job = undefined;
    if (job) {
      // Only this request is lost; the server logs it through handleError like any failed request.
      closeRequest(job.request);
      // Stopped on purpose by close() (blockOnClose off): not an error worth a log line.
      if (this.#closing) job.finish();
      else
        job.finish(
          createError(
            'SRV_ERR_WORKER_EXITED',
            `${this.name}: ${worker.name} ${detail} while serving this request`,
          ),
        );
      job.workerDone();
    }
    if (this.#closing) return;
    if (!this.#shuttingDown && this.#workers.size + this.#starting < this.limits.min) {
      this.#grow().then(
        () => this.#pump(),
        (error: unknown) => this.#startFailed(error),
      );
    }
    this.#pump();
  }

  async #stop(worker: W): Promise<void> {
    await this.terminate(worker);
    this.onExit(worker, 'stopped');
  }

  /** Resolves when every dispatched request is over. */
  async drain(): Promise<void> {
    while (this.#jobs.size > 0) await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Python's `server_close` part: with `blockOnClose`, waits for running requests; then stops every worker. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing = true;
      if (this.#stallTimer) clearTimeout(this.#stallTimer);
      for (const job of this.#queue.splice(0)) {
        closeRequest(job.request);
        job.finish(createError('SRV_ERR_DISPATCHER_CLOSED', `${this.name} dispatcher closed`));
      }
      if (this.limits.blockOnClose) await this.drain();
      // A worker still starting stops itself once ready (it sees the pool closing).
      await Promise.allSettled([...this.#spawning]);
      await Promise.allSettled([...this.#workers].map((worker) => this.#stop(worker)));
    })();
    return this.#closed;
  }
}
