import type { ServerRequest } from './handler.js';

/** Starts a request's job (the server's own processing, tracked until it is over). */
type Start = (request: ServerRequest) => Promise<void>;
type Waiter = (request: ServerRequest | undefined) => Promise<void> | undefined;

const settled: Promise<void> = Promise.resolve();

/**
 * Requests that arrive while nobody serves them: before `serveForever()` they wait, as they would in
 * the kernel's backlog; a `handleRequest()` call waiting for one takes the next (Python's
 * `handle_request`).
 */
export class RequestQueue {
  /** Requests accepted before `serveForever()`, and how each tells its `attach()` caller about its job. */
  readonly #pending: Array<{ request: ServerRequest; settle: (job: Promise<void>) => void }> = [];
  /** `handleRequest()` calls waiting for a request: each starts the job and returns it. */
  readonly #waiters: Waiter[] = [];

  /**
   * Gives a request to a waiting `handleRequest()`, else starts it when `serving`, else holds it
   * (up to `backlog`; `refuse` is called for one more). Resolves when its job is over.
   */
  accept(
    request: ServerRequest,
    serving: boolean,
    backlog: number,
    start: Start,
    refuse: Start,
  ): Promise<void> {
    const waiter = this.#waiters.shift();
    if (waiter) return waiter(request) ?? settled;
    if (serving) return start(request);
    if (this.#pending.length >= backlog) {
      void refuse(request);
      return settled;
    }
    return new Promise<void>((settle) => this.#pending.push({ request, settle }));
  }

  /** Starts every held request (`serveForever()` began). */
  startAll(start: Start): void {
    for (const { request, settle } of this.#pending.splice(0)) settle(start(request));
  }

  /**
   * The job of one request (`handleRequest()`): a held one at once, else the next to arrive within
   * `timeout` ms (0: no limit); undefined when none came (or the server shut down). The job is
   * wrapped, so awaiting this does not wait for it.
   */
  async takeOne(start: Start, timeout: number): Promise<{ job: Promise<void> } | undefined> {
    const pending = this.#pending.shift();
    if (pending) {
      const job = start(pending.request);
      pending.settle(job);
      return { job };
    }
    let timer: NodeJS.Timeout | undefined;
    let waiter: Waiter | undefined;
    // Wrapped: resolving with the job itself would adopt it, and the caller would wait for its end.
    const taken = await new Promise<{ job: Promise<void> } | undefined>((resolve) => {
      waiter = (request) => {
        const started = request ? start(request) : undefined;
        resolve(started ? { job: started } : undefined);
        return started;
      };
      this.#waiters.push(waiter);
      if (timeout > 0) timer = setTimeout(() => resolve(undefined), timeout);
    });
    if (timer) clearTimeout(timer);
    const index = waiter ? this.#waiters.indexOf(waiter) : -1;
    if (index !== -1) this.#waiters.splice(index, 1);
    return taken;
  }

  /** Shutdown: waiting `handleRequest()` calls get nothing. */
  wakeWaiters(): void {
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }

  /** Shutdown: held requests are refused. */
  refuseHeld(refuse: (request: ServerRequest) => void): void {
    for (const { request, settle } of this.#pending.splice(0)) {
      refuse(request);
      settle(settled);
    }
  }
}
