import { type ChildProcess, fork } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { decodeMessage, encodeMessage } from './child-channel.js';
import { workerEntry } from './entry.js';
import { createError, deserializeError } from './errors.js';
import { checkLimits, closeRequest, PoolDispatcher, type PoolJob, type PoolWorker } from './pool.js';
import { childNameVariable, type FromWorker, type ToWorker } from './protocol.js';
import { judgeStall } from './stall.js';

/** Options of {@link forking}. Python's `ForkingMixIn` fields, plus the pool's limits. */
export interface ForkingOptions {
  /** Python's `max_children`: most child processes at once. Default 40. */
  maxChildren?: number;
  /** Children started before `ready` and kept while idle. Default 2. */
  minChildren?: number;
  /** Milliseconds an idle child beyond `minChildren` lives. Default 30000; 0 = forever. */
  idleTimeout?: number;
  /**
   * Connections that may wait for a child when all `maxChildren` are busy. Beyond it a connection is
   * closed at once and the request fails with `SRV_ERR_QUEUE_FULL` (logged). Default 1024.
   */
  maxQueue?: number;
  /** Python's `block_on_close`: `close()` waits for running requests before stopping children. Default true. */
  blockOnClose?: boolean;
  /** Node flags for the children (e.g. `['--import', 'tsx']`). Default none. */
  execArgv?: string[];
  /** Milliseconds a stopping child may take before it is killed. Default 5000. */
  killTimeout?: number;
}

interface ChildSlot extends PoolWorker {
  readonly child: ChildProcess;
  readonly exit: Promise<void>;
  /** When a stalled pool asked this busy child whether its event loop turns (0: not asked). */
  pingedAt: number;
  /** It answered since, and how busy its event loop has been with its connection (0 to 1). */
  answered: boolean;
  busy: number;
}

let childCounter = 0;

/**
 * Runs each connection in a pre-started child process (one at a time per child: Python's per-request
 * isolation). The accepted socket itself is handed over, with the bytes the server read to know its
 * request exists (`ServerRequest.head`); TLS is wrapped in the child. Datagrams are relayed to
 * children and their replies sent back. Children exit when the parent disappears, even after a
 * SIGKILL.
 */
export class ForkingDispatcher extends PoolDispatcher<ChildSlot> {
  readonly name = 'forking';
  /** Accepted sockets stay paused until a child has them, so no byte is read here. */
  readonly pauseOnConnect = true;
  /** The plain socket is handed over and TLS wrapped in the child. */
  readonly handlesTls = true;
  readonly #execArgv: string[];
  readonly #killTimeout: number;

  constructor(options: ForkingOptions = {}) {
    const max = options.maxChildren ?? 40;
    super(
      checkLimits(
        { max: 'maxChildren', min: 'minChildren' },
        {
          max,
          min: options.minChildren ?? Math.min(2, max),
          maxQueue: options.maxQueue ?? 1024,
          idleTimeout: options.idleTimeout ?? 30_000,
          blockOnClose: options.blockOnClose ?? true,
        },
      ),
    );
    this.#execArgv = options.execArgv ?? [];
    this.#killTimeout = options.killTimeout ?? 5000;
  }

  /** Process ids of the running children. */
  get pids(): number[] {
    return [...this.workers].flatMap((slot) => (slot.child.pid === undefined ? [] : [slot.child.pid]));
  }

  protected spawn(): Promise<ChildSlot> {
    const name = `Process-${++childCounter}`;
    const child = fork(workerEntry('child-worker'), [], {
      execArgv: this.#execArgv,
      // Small per-connection messages are far cheaper as JSON; see child-channel.ts.
      serialization: 'json',
      env: { ...process.env, [childNameVariable]: name },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const slot: ChildSlot = {
      name,
      child,
      exit,
      job: undefined,
      idleTimer: undefined,
      exited: false,
      pingedAt: 0,
      answered: false,
      busy: 0,
    };
    // Children never keep the parent alive on their own; the listening server does while it serves.
    child.unref();
    child.channel?.unref();
    return new Promise<ChildSlot>((resolve, reject) => {
      let ready = false;
      child.on('message', (received: FromWorker) => {
        const message = decodeMessage(received);
        if (message.t === 'pong') {
          slot.answered = slot.pingedAt !== 0;
          slot.busy = message.busy;
        } else if (ready) {
          this.onMessage(slot, message);
        } else if (message.t === 'ready') {
          ready = true;
          resolve(slot);
        } else if (message.t === 'failed') {
          reject(deserializeError(message.error));
        }
      });
      child.on('error', (error) => {
        if (!ready)
          reject(createError('SRV_ERR_WORKER_START_FAILED', `${name} failed to start`, { cause: error }));
      });
      child.once('exit', (code, signal) => {
        if (!ready) {
          reject(
            createError('SRV_ERR_WORKER_START_FAILED', `${name} exited (${signal ?? code}) while starting`),
          );
        } else {
          this.onExit(slot, `(pid ${child.pid}) exited with ${signal ?? `code ${code}`}`);
        }
      });
      child.send(encodeMessage<ToWorker>({ t: 'init', spec: this.spec!, name }), (error) => {
        if (error)
          reject(createError('SRV_ERR_WORKER_START_FAILED', `${name} unreachable`, { cause: error }));
      });
    });
  }

  protected post(slot: ChildSlot, message: ToWorker): void {
    if (slot.child.connected) slot.child.send(encodeMessage(message), () => {});
  }

  /**
   * A pool whose children finish nothing for a while is not always stalled: children that have just
   * started serve their first requests slowly (none of their code is compiled yet), and starting more
   * then takes the CPU they need. So a stalled pool asks its busy children (see stall.ts); a child
   * answers with how busy its event loop has been with its connection.
   */
  protected override stallGrowth(progressed: boolean, waiting: number): number | undefined {
    return judgeStall(this.busyWorkers, progressed, waiting, {
      loopBusy: (slot) => slot.busy,
      ping: (slot) => this.post(slot, { t: 'ping' }),
    });
  }

  protected send(slot: ChildSlot, job: PoolJob): void {
    slot.pingedAt = 0;
    slot.answered = false;
    const { request } = job;
    const fail = (error: Error | null) => {
      if (!error || slot.job !== job) return;
      this.logger?.warn({ err: error }, `forking: hand-off to ${slot.name} failed`);
      closeRequest(request);
      this.onMessage(slot, { t: 'done', id: job.id });
    };
    if (request.kind === 'stream') {
      // The hand-off waits for the child's acknowledgement before the next one on this channel; a
      // child takes one connection at a time, so hand-offs are spread over the children.
      const socket = request.request;
      const message: ToWorker =
        request.head === undefined || request.head.length === 0
          ? { t: 'conn', id: job.id, info: request.info }
          : { t: 'conn', id: job.id, info: request.info, head: request.head.toString('base64') };
      // Node tracks a socket its net.Server accepted across the processes it is sent to: a socket list
      // per child and a close listener per socket there, a message to every child that ever got one
      // when the server closes, and a connection taken off the server's count here as well as by the
      // destroy() below. srv counts and closes its connections itself: hand over the bare handle.
      (socket as Duplex & { server?: unknown }).server = null;
      slot.child.send(message, socket as never, {}, (error) => {
        if (error) fail(error);
        // The handle now belongs to the child; the parent's socket object is an empty shell that Node
        // never closes: close it, so the server stops counting it as an open connection.
        else socket.destroy();
      });
    } else {
      slot.child.send(
        encodeMessage<ToWorker>({
          t: 'datagram',
          id: job.id,
          data: new Uint8Array(request.request.data),
          local: request.info.local,
          remote: request.info.remote,
        }),
        fail,
      );
    }
  }

  protected async terminate(slot: ChildSlot): Promise<void> {
    const { child } = slot;
    if (child.exitCode === null && child.signalCode === null) {
      // An idle child exits on its own once the channel closes; a busy one may be blocked in its handler.
      if (child.connected && slot.job === undefined) child.disconnect();
      else child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), this.#killTimeout);
      await slot.exit;
      clearTimeout(timer);
    }
  }

  protected setBusy(): void {}
}

/** The forking dispatcher: `new TCPServer(addr, Handler, { dispatcher: forking(), handlerModule })`. */
export function forking(options: ForkingOptions = {}): ForkingDispatcher {
  return new ForkingDispatcher(options);
}
