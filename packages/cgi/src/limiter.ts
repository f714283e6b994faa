import { createCgiError } from './errors.js';

/**
 * Bounds how many scripts run at once: up to `maxRunning` run, up to `maxQueued` wait (each at most
 * `queueTimeout` ms), and anything beyond is refused with `SRV_ERR_CGI_BUSY` (503) instead of forking
 * without limit.
 */
export class ConcurrencyLimiter {
  readonly maxRunning: number;
  readonly maxQueued: number;
  readonly queueTimeout: number;
  #running = 0;
  readonly #queue: Array<() => void> = [];

  constructor(maxRunning: number, maxQueued: number, queueTimeout: number) {
    this.maxRunning = Math.max(1, maxRunning);
    this.maxQueued = Math.max(0, maxQueued);
    this.queueTimeout = queueTimeout;
  }

  /** Scripts running now. */
  get running(): number {
    return this.#running;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.#queue.length;
  }

  /** A slot when one is free right now (and nobody waits for one): the function that gives it back. */
  tryAcquire(): (() => void) | undefined {
    if (this.#running >= this.maxRunning || this.#queue.length > 0) return undefined;
    this.#running += 1;
    return this.#releaser();
  }

  /** Waits for a slot; resolves with the function that gives it back (call it exactly once). */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.#running < this.maxRunning) {
      this.#running += 1;
      return this.#releaser();
    }
    if (this.#queue.length >= this.maxQueued) {
      throw createCgiError(
        'SRV_ERR_CGI_BUSY',
        `${this.#running} scripts running and ${this.#queue.length} waiting`,
      );
    }
    await new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const at = this.#queue.indexOf(grant);
        if (at !== -1) this.#queue.splice(at, 1);
      };
      const grant = () => {
        cleanup();
        resolve();
      };
      const onAbort = () => {
        cleanup();
        reject(createCgiError('SRV_ERR_CGI_BUSY', 'client went away while waiting for a script slot'));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(createCgiError('SRV_ERR_CGI_BUSY', `no script slot free within ${this.queueTimeout} ms`));
      }, this.queueTimeout);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(grant);
    });
    return this.#releaser();
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue[0];
      if (next) next();
      else this.#running -= 1;
    };
  }
}
