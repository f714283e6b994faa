import { isWorker } from '@srv/concurrency';

/**
 * Keeps a forking server's child process alive through a terminal's Ctrl-C. The terminal signals the
 * whole process group, children included; a child that died of it would drop the request it is
 * serving, while the primary, which also got the signal, is letting in-flight requests finish. The
 * primary stops its children itself once they are done (and a child whose primary is gone exits on
 * its own, when the IPC channel closes). Called when a child imports the handler's module; does
 * nothing in the primary or in worker threads.
 */
export function keepChildThroughCtrlC(): void {
  if (isWorker && typeof process.send === 'function' && process.listenerCount('SIGINT') === 0) {
    process.on('SIGINT', () => {});
  }
}
