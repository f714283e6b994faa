/** Helpers of a server's shutdown. */
import type { Duplex } from 'node:stream';

/**
 * Counts the jobs in flight (what `shutdown()` waits for): `begin()` when one starts, `end()` when it
 * is over. A counter rather than a set of promises: no closure, derived promise or set entry per
 * request, which on a one-request-per-connection protocol is work every connection pays.
 */
export class JobCounter {
  #running = 0;
  readonly #waiters: Array<() => void> = [];

  /** Jobs started and not over. */
  get size(): number {
    return this.#running;
  }

  begin(): void {
    this.#running += 1;
  }

  end(): void {
    this.#running -= 1;
    if (this.#running === 0 && this.#waiters.length > 0) {
      for (const wake of this.#waiters.splice(0)) wake();
    }
  }

  /** Resolves once no job is running (at once when none is). */
  idle(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}

/**
 * The middle of `shutdown()`: waits for the jobs in flight (and those they start) and the dispatcher
 * to drain, at most `graceMs`. When time runs out, `busy` is told how many connections are still
 * open; then every connection left is destroyed (a drained server has none), and a late drain gets a
 * last second.
 */
export async function drainThenDestroy(
  inFlight: JobCounter,
  connections: ReadonlySet<Duplex>,
  drainDispatcher: () => Promise<void>,
  graceMs: number,
  busy: (count: number) => void,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), graceMs);
  });
  const drained = (async () => {
    await inFlight.idle();
    await drainDispatcher();
  })();
  const outcome = await Promise.race([drained.then(() => 'drained' as const), deadline]);
  if (timer) clearTimeout(timer);
  if (outcome === 'deadline') busy(connections.size);
  for (const stream of connections) stream.destroy();
  if (outcome === 'deadline')
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 1000))]);
}

/** Calls `close` when `signal` aborts (at once, on the next microtask, when it already has). */
export function closeOnAbort(signal: AbortSignal | undefined, close: () => unknown): void {
  if (!signal) return;
  if (signal.aborted) queueMicrotask(() => void close());
  else signal.addEventListener('abort', () => void close(), { once: true });
}
