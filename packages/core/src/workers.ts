/**
 * Several processes serving one endpoint, on node:cluster: what the commands' `--workers N` runs.
 * The primary forks the workers and prints nothing of its own; each worker builds its server with
 * the command's own code (`start`), drains it on SIGTERM and exits; the primary forwards its signals,
 * and exits 0 once every worker has exited 0.
 *
 * How the workers share the endpoint:
 * - by default, cluster's hand-off: the primary owns the listening socket and passes each accepted
 *   connection to a worker in turn;
 * - with `reusePort`, each worker binds its own SO_REUSEPORT socket and the kernel spreads the
 *   connections (Node ≥ 22.12 on Linux; else `SRV_ERR_UNSUPPORTED_OPTION` before any fork);
 * - with socket activation, the primary holds the systemd sockets (`LISTEN_PID` names it); the
 *   workers listen on `{ fd }` through the primary, which owns those descriptors.
 */
import cluster, { type Worker } from 'node:cluster';
import net from 'node:net';
import { availableParallelism } from 'node:os';
import { listenFds, type SocketAddress } from './address.js';
import { supportsReusePort } from './endpoint.js';
import { createError } from './errors.js';
import { type Logger, stderrLogger } from './logger.js';

/** What a worker's server must offer the helper: the shape of `HTTPServer` and `TCPServer`. */
export interface WorkerServer {
  readonly ready: Promise<void>;
  readonly address: SocketAddress;
  /** Started by the helper once `ready` (every srv server has it). */
  serveForever?(): Promise<void>;
  shutdown(): Promise<void>;
  /** Used when present (HTTPServer): health 503 and `Connection: close` for the delay, then shutdown. */
  beginDrain?(delayMs: number): Promise<void>;
  /** Called after the drain when present: releases dispatchers (thread and process pools). */
  close?(): Promise<void>;
}

/** What `start` is told about the process it runs in. */
export interface WorkerContext {
  /** 0 … workers-1 in a worker; 0 when the server runs in the only process. */
  readonly index: number;
  /** Descriptors passed by socket activation (listen on `{ fd }`), when the primary got any. */
  readonly fds: readonly number[];
  /** With `reusePort` and port 0: the port the primary picked, for every worker to bind. */
  readonly port: number | undefined;
  /** True when the server must set `reusePort` (each worker binds its own socket). */
  readonly reusePort: boolean;
}

/** Options of {@link runWorkers}. */
export interface RunWorkersOptions {
  /** How many processes serve; `'auto'` = the available cores. 1 runs the server in this process. */
  workers: number | 'auto';
  /** Builds and starts this process's server (called in each worker, or here when `workers` is 1). */
  start(context: WorkerContext): WorkerServer | Promise<WorkerServer>;
  /** Called once, in the primary (or the only process), when every worker listens: print `Serving …` here. */
  onServing?(address: SocketAddress): void;
  /** Each worker binds its own SO_REUSEPORT socket instead of cluster's hand-off. Default false. */
  reusePort?: boolean;
  /** With `reusePort` and port 0, the primary picks a free port on this host first. */
  host?: string;
  /** The requested port (0 = any), for `reusePort`. */
  port?: number;
  /** Milliseconds a worker keeps serving (health 503) after SIGTERM before it shuts down. Default 0. */
  drainDelayMs?: number;
  /** Milliseconds after the drain delay before the primary kills a worker still running. Default 30000. */
  graceMs?: number;
  /** Where the primary reports workers that died. Default: stderr. */
  logger?: Logger;
  /** Use the systemd sockets (`LISTEN_FDS` / `LISTEN_PID`) of this process. Default: when `LISTEN_FDS` is set. */
  socketActivation?: boolean;
}

const fdsVariable = 'SRV_WORKER_FDS';
const indexVariable = 'SRV_WORKER_INDEX';
const portVariable = 'SRV_WORKER_PORT';
const reusePortVariable = 'SRV_WORKER_REUSE_PORT';

/** Parses a `--workers` value: a positive integer or `auto`; a coded error otherwise. */
export function resolveWorkerCount(value: number | string): number {
  if (value === 'auto') return availableParallelism();
  const count = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(count) || count < 1 || count > 1024) {
    throw createError(
      'SRV_ERR_INVALID_OPTION',
      `workers must be a positive integer or "auto", got ${String(value)}`,
    );
  }
  return count;
}

/** Picks a free port for SO_REUSEPORT workers (they must all bind the same one). */
async function pickPort(host: string): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen({ host, port: 0, reusePort: true } as net.ListenOptions, resolve);
  });
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Drains `server` (or shuts it down), bounded by nothing here: the primary enforces the grace. */
async function drain(server: WorkerServer, delayMs: number): Promise<void> {
  await (server.beginDrain ? server.beginDrain(delayMs) : server.shutdown());
  await server.close?.();
}

/** Runs `start` in this process until SIGTERM/SIGINT, then drains. Resolves with the exit code. */
async function runSingle(options: RunWorkersOptions, context: WorkerContext): Promise<number> {
  const server = await options.start(context);
  await server.ready;
  void server.serveForever?.().catch(() => {});
  return new Promise<number>((resolve) => {
    const onSignal = () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      drain(server, options.drainDelayMs ?? 0).then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    options.onServing?.(server.address);
  });
}

/**
 * Serves with `workers` processes. Call it from the command's entry in every process (cluster runs
 * the entry again in each worker): in the primary it forks and supervises, in a worker it runs
 * `start`. Resolves with the exit code for the process (0 after a clean drain; when a worker exits
 * before every worker listened, its exit code, and the others are stopped: a worker that says why it
 * cannot start on stderr and exits with the command's code makes the primary exit with that code).
 */
export async function runWorkers(options: RunWorkersOptions): Promise<number> {
  if (cluster.isWorker) {
    const env = process.env;
    const context: WorkerContext = {
      index: Number(env[indexVariable] ?? 0),
      fds: env[fdsVariable] ? env[fdsVariable].split(',').map(Number) : [],
      port: env[portVariable] ? Number(env[portVariable]) : undefined,
      reusePort: env[reusePortVariable] === '1',
    };
    const onServing = (address: SocketAddress) => process.send?.({ srvServing: { ...address } });
    const code = await runSingle({ ...options, onServing }, context);
    // The IPC channel keeps a worker alive: let go of it so the process ends on its own.
    if (cluster.worker?.isConnected()) cluster.worker.disconnect();
    return code;
  }
  const count = resolveWorkerCount(options.workers);
  const reusePort = options.reusePort ?? false;
  if (reusePort && !supportsReusePort()) {
    throw createError(
      'SRV_ERR_UNSUPPORTED_OPTION',
      `reusePort needs Node >= 22.12 on Linux; this is Node ${process.versions.node} on ${process.platform}`,
    );
  }
  const activated = options.socketActivation ?? process.env.LISTEN_FDS !== undefined;
  const fds = activated ? listenFds() : [];
  if (reusePort && fds.length > 0) {
    throw createError(
      'SRV_ERR_INVALID_OPTION',
      'reusePort and socket activation exclude each other: systemd owns the socket',
    );
  }
  if (count === 1) return runSingle(options, { index: 0, fds, port: undefined, reusePort });

  const port =
    reusePort && (options.port ?? 0) === 0
      ? await pickPort(options.host ?? '0.0.0.0')
      : reusePort
        ? options.port
        : undefined;
  const logger = options.logger ?? stderrLogger;
  const drainDelayMs = options.drainDelayMs ?? 0;
  const graceMs = options.graceMs ?? 30_000;
  const workers = new Set<Worker>();
  let stopping = false;
  let failed = false;
  let failedCode = 1;
  let servingCount = 0;
  let announced = false;

  return new Promise<number>((resolve) => {
    const fork = (index: number): void => {
      const worker = cluster.fork({
        [indexVariable]: String(index),
        [fdsVariable]: fds.join(','),
        [portVariable]: port === undefined ? '' : String(port),
        [reusePortVariable]: reusePort ? '1' : '',
        // The worker is not the process systemd named: it must not read LISTEN_FDS itself.
        LISTEN_FDS: '',
        LISTEN_PID: '',
      });
      workers.add(worker);
      worker.on('message', (message: unknown) => {
        if (typeof message !== 'object' || message === null || !('srvServing' in message)) return;
        servingCount += 1;
        if (!announced && servingCount >= count) {
          announced = true;
          options.onServing?.(message.srvServing as SocketAddress);
        }
      });
      worker.on('exit', (code, signal) => {
        workers.delete(worker);
        if (!stopping) {
          // A worker that cannot even start (a bad address) would loop: give up after the first round,
          // with its exit code (the command's own: 2 for a bad address, 1 for one in use).
          if (announced) {
            logger.error(
              `worker ${index} (pid ${worker.process.pid}) exited (${signal ?? code}); starting another`,
            );
            fork(index);
          } else {
            if (signal !== null || code === 0) {
              logger.error(
                `worker ${index} (pid ${worker.process.pid}) exited (${signal ?? code}) while starting`,
              );
            }
            failed = true;
            failedCode = code !== null && code > 0 ? code : 1;
            stop();
          }
        } else if (code !== 0) failed = true;
        if (workers.size === 0 && stopping) finish();
      });
    };
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      for (const worker of workers) worker.process.kill('SIGTERM');
      killTimer = setTimeout(
        () => {
          for (const worker of workers) {
            logger.warn(`worker pid ${worker.process.pid} still running after the grace period; killing it`);
            worker.process.kill('SIGKILL');
          }
        },
        drainDelayMs + graceMs + 1000,
      );
      if (workers.size === 0) finish();
    };
    const finish = (): void => {
      if (killTimer) clearTimeout(killTimer);
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve(failed ? failedCode : 0);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    for (let index = 0; index < count; index += 1) fork(index);
  });
}
