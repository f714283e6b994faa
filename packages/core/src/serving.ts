/**
 * What the srv commands do around a server they run: serve until SIGINT, SIGTERM or an abort, then
 * drain and close; and, under `--workers`, hand a worker's start failure to the primary to print once.
 */
import type { SocketAddress } from './address.js';
import { exitCodes } from './cli-command.js';
import type { CommandOutput } from './cli-output.js';
import { watchStopSignals } from './cli-run.js';

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
