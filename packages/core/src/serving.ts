/**
 * What the srv commands do around a server they run: serve until SIGINT, SIGTERM or an abort, then
 * drain and close; and, under `--workers`, hand a worker's start failure to the primary to print once.
 */
import cluster from 'node:cluster';
import type { SocketAddress } from './address.js';
import { exitCodes } from './cli-command.js';
import type { DeployArgs } from './cli-deploy.js';
import type { CommandOutput } from './cli-output.js';
import { watchStopSignals } from './cli-run.js';
import { resolveWorkerCount, runWorkers, type WorkerContext, type WorkerServer } from './workers.js';

/** A started server as {@link serveUntilStopped} drives it (a `BaseServer`, an `HTTPServer`). */
export interface ServedServer {
  readonly address: SocketAddress;
  serveForever(): Promise<void>;
  /** Used when present (HTTPServer): health 503 and `Connection: close` for the delay. */
  beginDrain?(delayMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link serveUntilStopped}. */
export interface ServeUntilStoppedOptions {
  /** Prints the banner; called once the stop signals are watched (a reader may signal at once). */
  readonly announce: (address: SocketAddress) => void;
  /** `--drain-delay`, in milliseconds, passed to the server's `beginDrain`. */
  readonly drainDelayMs: number;
  /** Stops the command too (tests, embedding). */
  readonly signal?: AbortSignal;
  /** Called once, on the first SIGINT or SIGTERM, before the drain. */
  readonly onSignal?: (signal: NodeJS.Signals) => void;
}

/**
 * Serves a started server until the first SIGINT/SIGTERM (or `signal`), then begins the drain
 * (`beginDrain(drainDelayMs)`), closes it and waits for `serveForever` to return. Resolves with
 * {@link exitCodes}`.ok`.
 */
export async function serveUntilStopped(
  server: ServedServer,
  options: ServeUntilStoppedOptions,
): Promise<number> {
  const stop = watchStopSignals({
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onSignal ? { onSignal: options.onSignal } : {}),
  });
  options.announce(server.address);
  const serving = server.serveForever();
  try {
    await stop.stopped;
    await server.beginDrain?.(options.drainDelayMs);
    await server.close();
    await serving;
  } finally {
    stop.dispose();
  }
  return exitCodes.ok;
}

/** In a cluster worker that cannot start: hands its one-line reason to the primary, then exits. */
export async function relayStartFailure(line: string, code: number): Promise<never> {
  await new Promise<void>((resolve) => {
    if (process.send) process.send({ srvStartFailure: line }, () => resolve());
    else resolve();
  });
  process.exit(code);
}

/**
 * The primary's `cluster` `message` listener for {@link relayStartFailure}: every worker fails alike, so the
 * first reason is printed, once.
 */
export function printStartFailureOnce(
  stderr: CommandOutput = process.stderr,
): (worker: unknown, message: unknown) => void {
  let printed = false;
  return (_worker, message) => {
    if (printed || typeof message !== 'object' || message === null || !('srvStartFailure' in message)) return;
    printed = true;
    stderr.write(String(message.srvStartFailure));
  };
}

/** Options of {@link serveCommand}. */
export interface ServeCommandOptions extends Omit<ServeUntilStoppedOptions, 'drainDelayMs'> {
  /** The deployment flags (`--workers`, `--reuse-port`, `--drain-delay`, `--grace`, socket activation). */
  readonly deploy: Pick<DeployArgs, 'workers' | 'reusePort' | 'drainDelayMs' | 'graceMs' | 'socketActivated'>;
  /** The address every worker listens on (`--bind`, the port). */
  readonly host: string;
  readonly port: number;
  /**
   * Starts this process's server; when it cannot, returns the exit code after putting the reason in
   * what `failure()` returns (printed here, by the primary under `--workers`).
   */
  readonly open: (context: WorkerContext) => Promise<(WorkerServer & ServedServer) | number>;
  /** The one-line reason of the last failed `open` (`name: message\n`). */
  readonly failure: () => string;
  /** Where the primary prints a worker's start failure. Default `process.stderr`. */
  readonly stderr?: CommandOutput;
}

/**
 * Runs a serving command's server: one process ({@link serveUntilStopped}), or under `--workers` (and
 * in each cluster worker, which runs the bin again and comes back here) {@link runWorkers}, whose
 * primary prints the banner once every worker listens and the first worker's start failure once.
 * In the primary of `--workers`, `onSignal` hears SIGINT only. Resolves with the exit code.
 */
export async function serveCommand(options: ServeCommandOptions): Promise<number> {
  const { deploy, onSignal } = options;
  const workers = resolveWorkerCount(deploy.workers);
  if (workers > 1 || cluster.isWorker) {
    const onInterrupt = () => onSignal?.('SIGINT');
    const onFailure = printStartFailureOnce(options.stderr);
    if (cluster.isPrimary) {
      if (onSignal) process.once('SIGINT', onInterrupt);
      cluster.on('message', onFailure);
    }
    try {
      return await runWorkers({
        workers,
        reusePort: deploy.reusePort,
        host: options.host,
        port: options.port,
        drainDelayMs: deploy.drainDelayMs,
        graceMs: deploy.graceMs,
        socketActivation: deploy.socketActivated,
        start: async (context) => {
          const server = await options.open(context);
          // The primary prints the reason, sees the exit and stops the others.
          if (typeof server === 'number') return relayStartFailure(options.failure(), server);
          return server;
        },
        onServing: options.announce,
      });
    } finally {
      process.off('SIGINT', onInterrupt);
      cluster.off('message', onFailure);
    }
  }
  const server = await options.open({ index: 0, fds: [], port: undefined, reusePort: deploy.reusePort });
  if (typeof server === 'number') return server;
  return serveUntilStopped(server, {
    announce: options.announce,
    drainDelayMs: deploy.drainDelayMs,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(onSignal ? { onSignal } : {}),
  });
}
