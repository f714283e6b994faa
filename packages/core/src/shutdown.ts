/** Helpers of a server's shutdown. */

/**
 * The middle of `shutdown()`: waits for the jobs in flight (and those they start) and the dispatcher
 * to drain, at most `graceMs`. Resolves `'deadline'` when time ran out, with `drained` still pending
 * (the caller destroys the connections, then gives it a last second).
 */
export async function drainWithin(
  inFlight: ReadonlySet<Promise<void>>,
  drainDispatcher: () => Promise<void>,
  graceMs: number,
): Promise<{ outcome: 'drained' | 'deadline'; drained: Promise<void> }> {
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
  return { outcome, drained };
}

/** Calls `close` when `signal` aborts (at once, on the next microtask, when it already has). */
export function closeOnAbort(signal: AbortSignal | undefined, close: () => unknown): void {
  if (!signal) return;
  if (signal.aborted) queueMicrotask(() => void close());
  else signal.addEventListener('abort', () => void close(), { once: true });
}
