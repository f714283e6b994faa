/** Helpers of a server's shutdown. */
import type { Duplex } from 'node:stream';

/** Holds `job` in `inFlight` until it settles (what `shutdown()` waits for). */
export function trackJob(inFlight: Set<Promise<void>>, job: Promise<void>): void {
  inFlight.add(job);
  const forget = () => {
    inFlight.delete(job);
  };
  job.then(forget, forget);
}

/**
 * The middle of `shutdown()`: waits for the jobs in flight (and those they start) and the dispatcher
 * to drain, at most `graceMs`. When time runs out, `busy` is told how many connections are still
 * open; then every connection left is destroyed (a drained server has none), and a late drain gets a
 * last second.
 */
export async function drainThenDestroy(
  inFlight: ReadonlySet<Promise<void>>,
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
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
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
