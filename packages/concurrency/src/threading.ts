import type { EventLoopUtilization } from 'node:perf_hooks';
import { MessageChannel, Worker } from 'node:worker_threads';
import { MessageBatch, unbatch } from './batch.js';
import { workerEntry } from './entry.js';
import { createError, deserializeError } from './errors.js';
import { MuxRouter } from './mux-port.js';
import { checkLimits, PoolDispatcher, type PoolJob, type PoolWorker } from './pool.js';
import type { FromWorker, ThreadWorkerData, ToWorker } from './protocol.js';
import { defaultRelayWindow, exchangeHead, isExchange, type RelayPort, relaySocket } from './relay.js';
import { judgeStall } from './stall.js';

/** Options of {@link threading}. Python's `ThreadingMixIn` fields, plus the pool's limits. */
export interface ThreadingOptions {
  /** Most worker threads at once (each serves one request at a time). Default 64. */
  maxThreads?: number;
  /**
   * Threads started with the server and kept while idle. Default 2 (or `maxThreads` if smaller): with
   * requests, not connections, going to threads, two warm threads serve the common keep-alive load
   * without either waiting for the other's round trip, and one handler that blocks leaves a warm
   * thread for everyone else; each idle thread costs about 8 MB.
   */
  minThreads?: number;
  /** Milliseconds an idle thread beyond `minThreads` lives. Default 30000; 0 = forever. */
  idleTimeout?: number;
  /**
   * Requests that may wait for a thread when all `maxThreads` are busy. Beyond it a connection is
   * closed at once and the request fails with `SRV_ERR_QUEUE_FULL` (logged). Default 1024.
   */
  maxQueue?: number;
  /**
   * Python's `daemon_threads`: threads never keep the process alive, and `close()` does not wait for
   * running handlers (it stops them). Default false.
   */
  daemonThreads?: boolean;
  /** Python's `block_on_close`: `close()` waits for running handlers before stopping the threads. Default true. */
  blockOnClose?: boolean;
  /** Bytes in flight per direction on a relayed connection before the sender waits. Default 262144. */
  relayWindow?: number;
}

interface ThreadSlot extends PoolWorker {
  readonly worker: Worker;
  readonly exit: Promise<void>;
  /** The thread's HTTP exchanges, on its own channel. */
  readonly router: MuxRouter;
  /** What this thread is told in one turn goes as one message (see batch.ts). */
  readonly batch: MessageBatch<ToWorker>;
  /** The thread's event-loop figures when it got its current request. */
  jobLoop: EventLoopUtilization | undefined;
  /** When the pool pinged this busy thread (0: not pinged), and whether it answered since. */
  pingedAt: number;
  answered: boolean;
}

let threadCounter = 0;

/** See {@link ThreadingOptions.minThreads}. */
const defaultMinThreads = 2;

/**
 * Runs each request's handler in a pool of `worker_threads`, so a handler that blocks (synchronous
 * work) stalls only its own client. Sockets stay in the main thread, and TLS ends there. An
 * `HTTPServer` parses its connections here (`forwardsRequests`) and sends each request, head then
 * body, to a free thread; the response streams back, and a keep-alive connection holds no thread
 * between requests. A stream handler's connection is the unit: its bytes are relayed to a socket-like
 * `Duplex` in the worker for the connection's life. Both ways hold backpressure (a credit window).
 */
export class ThreadingDispatcher extends PoolDispatcher<ThreadSlot> {
  readonly name = 'threading';
  /** Sockets stay in this thread, so they may flow at once. */
  readonly pauseOnConnect = false;
  /** TLS ends in the main thread; workers get plaintext. */
  readonly handlesTls = false;
  /** `HTTPServer` keeps its connections here and sends each request to a free thread. */
  readonly forwardsRequests = true;
  readonly #daemon: boolean;
  readonly #window: number;

  constructor(options: ThreadingOptions = {}) {
    const daemon = options.daemonThreads ?? false;
    super(
      checkLimits(
        { max: 'maxThreads', min: 'minThreads' },
        {
          max: options.maxThreads ?? 64,
          min: options.minThreads ?? Math.min(defaultMinThreads, options.maxThreads ?? 64),
          maxQueue: options.maxQueue ?? 1024,
          idleTimeout: options.idleTimeout ?? 30_000,
          // Python never joins daemon threads.
          blockOnClose: (options.blockOnClose ?? true) && !daemon,
        },
      ),
    );
    this.#daemon = daemon;
    this.#window = options.relayWindow ?? defaultRelayWindow;
  }

  /** Names of the running threads (`Thread-<n>`). */
  get threadNames(): string[] {
    return [...this.workers].map((slot) => slot.name);
  }

  protected spawn(): Promise<ThreadSlot> {
    const name = `Thread-${++threadCounter}`;
    const workerData: ThreadWorkerData = { spec: this.spec!, name, relayWindow: this.#window };
    const worker = new Worker(workerEntry('thread-worker'), { workerData });
    worker.unref();
    let resolveExit!: () => void;
    const exit = new Promise<void>((resolve) => {
      resolveExit = resolve;
    });
    const batch = new MessageBatch<ToWorker>((message, transfer) => worker.postMessage(message, transfer));
    const router = new MuxRouter((envelope, transfer) => batch.send(envelope, transfer));
    const slot: ThreadSlot = {
      name,
      worker,
      exit,
      router,
      batch,
      job: undefined,
      idleTimer: undefined,
      exited: false,
      jobLoop: undefined,
      pingedAt: 0,
      answered: false,
    };
    return new Promise<ThreadSlot>((resolve, reject) => {
      let ready = false;
      const receive = (message: FromWorker) => {
        if (message.t === 'x') router.route(message);
        else if (message.t === 'pong') {
          if (slot.pingedAt !== 0) slot.answered = true;
        } else if (ready) {
          this.onMessage(slot, message);
        } else if (message.t === 'ready') {
          ready = true;
          resolve(slot);
        } else if (message.t === 'failed') {
          reject(deserializeError(message.error));
          void worker.terminate();
        }
      };
      worker.on('message', (arrived: FromWorker | FromWorker[]) => unbatch(arrived, receive));
      worker.on('error', (error) => {
        if (ready) this.logger?.error({ err: error }, `${name}: uncaught exception; thread replaced`);
        else reject(createError('SRV_ERR_WORKER_START_FAILED', `${name} failed to start`, { cause: error }));
      });
      worker.on('exit', (code) => {
        resolveExit();
        router.closeAll();
        if (!ready) {
          reject(
            createError('SRV_ERR_WORKER_START_FAILED', `${name} exited with code ${code} while starting`),
          );
        } else this.onExit(slot, `exited with code ${code}`);
      });
    });
  }

  protected post(slot: ThreadSlot, message: ToWorker): void {
    slot.batch.send(message);
  }

  protected send(slot: ThreadSlot, job: PoolJob): void {
    const { request } = job;
    if (request.kind === 'stream') {
      if (isExchange(request.request)) {
        // One HTTP request: on the thread's own channel (see mux-port.ts).
        const port = slot.router.open(job.id);
        // The parsed head, as plain data: the worker parses nothing (see `Exchange` in @srv/http).
        const b = exchangeHead(request.request)!;
        slot.batch.send({
          t: 'conn',
          id: job.id,
          info: request.info,
          exchange: true,
          b,
        } satisfies ToWorker);
        job.extra = relaySocket(request.request, port, this.#window, request.head);
        return;
      }
      const { port1, port2 } = new MessageChannel();
      // The worker's end travels first: a client already gone closes port1 at once, and a port closed
      // before its twin was transferred never tells the worker, whose handler would wait forever.
      slot.worker.postMessage({ t: 'conn', id: job.id, info: request.info, port: port2 } satisfies ToWorker, [
        port2,
      ]);
      job.extra = relaySocket(request.request, port1 as unknown as RelayPort, this.#window, request.head);
    } else {
      const data = new Uint8Array(request.request.data);
      slot.worker.postMessage(
        {
          t: 'datagram',
          id: job.id,
          data,
          local: request.info.local,
          remote: request.info.remote,
        } satisfies ToWorker,
        [data.buffer],
      );
    }
  }

  protected async terminate(slot: ThreadSlot): Promise<void> {
    await slot.worker.terminate();
    await slot.exit;
  }

  /**
   * Grows only for threads that are stuck, as forking does for its children (see stall.ts); how busy a
   * thread's event loop has been is read here from its figures, the ping tells a blocked thread. Measured: `srv-demo threading` under 50 clients
   * grew from 4 to 8 threads with the old rule ("no request finished for 50 ms").
   */
  protected override stallGrowth(progressed: boolean, waiting: number): number | undefined {
    return judgeStall(this.busyWorkers, progressed, waiting, {
      loopBusy: (slot) => slot.worker.performance.eventLoopUtilization(slot.jobLoop).utilization,
      ping: (slot) => slot.batch.sendLast({ t: 'ping' }),
    });
  }

  protected setBusy(slot: ThreadSlot, busy: boolean): void {
    if (busy) {
      slot.jobLoop = slot.worker.performance.eventLoopUtilization();
    } else slot.jobLoop = undefined;
    slot.pingedAt = 0;
    slot.answered = false;
    // A busy thread keeps the process alive like Python's non-daemon threads; idle ones never do.
    if (busy && !this.#daemon) slot.worker.ref();
    else slot.worker.unref();
  }
}

/** The threading dispatcher: `new TCPServer(addr, Handler, { dispatcher: threading(), handlerModule })`. */
export function threading(options: ThreadingOptions = {}): ThreadingDispatcher {
  return new ThreadingDispatcher(options);
}
