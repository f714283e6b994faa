/** How a command runs and stops: one-line errors, exit codes, SIGINT/SIGTERM. */

import { exitCodes, isUsageError } from './cli-command.js';
import type { CommandOutput } from './cli-output.js';
import { isSrvError } from './errors.js';

/**
 * An error as one line a user can read: its message, and its code for srv errors — never a stack or
 * a class name such as `_SrvError`.
 */
export function describeError(error: unknown): string {
  if (isSrvError(error)) return `${error.message} (${error.code})`;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Options of {@link watchStopSignals}. */
export interface WatchStopOptions {
  /** Stops the wait too (tests, embedding). */
  readonly signal?: AbortSignal;
  /** Called once, on the first SIGINT or SIGTERM, before the drain (e.g. to print a notice). */
  readonly onSignal?: (signal: NodeJS.Signals) => void;
}

/** What {@link watchStopSignals} returns. */
export interface StopWatch extends Disposable {
  /** Resolves on the first SIGINT or SIGTERM (with its name), or `'abort'` when `signal` aborts. */
  readonly stopped: Promise<NodeJS.Signals | 'abort'>;
  /** Removes the signal listeners (after the drain); `[Symbol.dispose]` does the same. */
  dispose(): void;
}

// A terminal's Ctrl-C reaches every process of the group, and `pnpm` forwards it once more: a second
// signal this soon is the same keystroke, not a request to stop at once.
const duplicateSignalWindowMs = 500;

/**
 * Watches SIGINT and SIGTERM for a serving command: `stopped` resolves on the first, and the caller
 * then drains (`server.close()`), disposes the watch and exits 0. A second signal during the drain,
 * later than the echo of the first, exits at once with {@link exitCodes}`.interrupted` (130).
 */
export function watchStopSignals(options: WatchStopOptions = {}): StopWatch {
  let firstAt = 0;
  let resolveStopped!: (reason: NodeJS.Signals | 'abort') => void;
  const stopped = new Promise<NodeJS.Signals | 'abort'>((resolve) => {
    resolveStopped = resolve;
  });
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstAt !== 0) {
      if (Date.now() - firstAt > duplicateSignalWindowMs) process.exit(exitCodes.interrupted);
      return;
    }
    firstAt = Date.now();
    options.onSignal?.(signal);
    resolveStopped(signal);
  };
  const onAbort = () => {
    if (firstAt !== 0) return;
    firstAt = Date.now();
    resolveStopped('abort');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  const dispose = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    options.signal?.removeEventListener('abort', onAbort);
  };
  return { stopped, dispose, [Symbol.dispose]: dispose };
}

/**
 * Runs a command's `main` as the bin does: its resolved number is the exit code; a {@link UsageError}
 * prints `name: message (see --help)` and exits 2; anything else prints `name: message` and exits 1
 * (with the stack only for errors that are not srv's own, which are bugs). `--help`-style answers are
 * `main`'s to print.
 */
export async function runCommand(
  name: string,
  main: () => Promise<number>,
  stderr: CommandOutput = process.stderr,
): Promise<number> {
  try {
    return await main();
  } catch (error) {
    if (isUsageError(error)) {
      stderr.write(`${name}: ${error.message} (see --help)\n`);
      return exitCodes.usage;
    }
    if (isSrvError(error) || !(error instanceof Error)) {
      stderr.write(`${name}: ${describeError(error)}\n`);
    } else {
      stderr.write(`${name}: ${error.message}\n${error.stack ?? ''}\n`);
    }
    return exitCodes.failure;
  }
}

/**
 * The message of a server's failed `ready` as a sentence for the command's user, with the exit code:
 * invalid addresses are the user's flag (2), everything else (in use, permission) a failure to start (1).
 */
export function describeStartError(error: unknown, where: string): { message: string; code: number } {
  if (isSrvError(error, 'SRV_ERR_INVALID_ADDRESS')) {
    return { message: `cannot bind ${where}: not an IP address or host name this machine resolves`, code: 2 };
  }
  if (isSrvError(error, 'SRV_ERR_ADDRESS_IN_USE')) {
    return { message: `${where} is already in use (another server there?)`, code: 1 };
  }
  if (isSrvError(error, 'SRV_ERR_PERMISSION_DENIED')) {
    return { message: `permission denied binding ${where} (ports below 1024 need privileges)`, code: 1 };
  }
  if (isSrvError(error, 'SRV_ERR_ADDRESS_NOT_AVAILABLE')) {
    return { message: `${where} is not an address of this machine`, code: 1 };
  }
  return { message: describeError(error), code: 1 };
}
