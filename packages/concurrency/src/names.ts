import { isMainThread, threadId } from 'node:worker_threads';
import { type WorkerIdentity, workerMarker } from './protocol.js';

function identity(): WorkerIdentity | undefined {
  return (globalThis as Record<symbol, WorkerIdentity | undefined>)[workerMarker];
}

/** True in a thread or child process started by a threading or forking dispatcher. */
export const isWorker: boolean = identity() !== undefined;

/** True in the process that owns the listening socket (not in a dispatcher's worker). */
export const isPrimary: boolean = !isWorker;

/**
 * The name of the thread running this code, like Python's `threading.current_thread().name`:
 * `'MainThread'` in a process's main thread (also in a forking child), `'Thread-<n>'` in a threading
 * dispatcher's worker.
 */
export function currentThreadName(): string {
  const self = identity();
  if (self?.kind === 'thread') return self.name;
  return isMainThread ? 'MainThread' : `Thread-${threadId}`;
}
