import type { Duplex } from 'node:stream';

/** How long a half-closed peer may read before the connection is cut, and how often that is checked. */
const lingerMs = 2000;
const lingerSweepMs = 500;

/**
 * Half-closed connections (`shutdownRequest`) and when they are cut if the peer has not closed: within
 * 2 s (± the 500 ms sweep). One shared timer for all of them: a timer per connection costs more than
 * the connection's own work on a one-request-per-connection protocol.
 */
export class Lingering {
  readonly #deadlines = new Map<Duplex, number>();
  #timer: NodeJS.Timeout | undefined;

  /** Starts the wait of `stream`; `watched` when its owner already calls `delete()` on its close. */
  add(stream: Duplex, watched: boolean): void {
    if (this.#deadlines.has(stream)) return;
    this.#deadlines.set(stream, performance.now() + lingerMs);
    if (!watched) stream.once('close', () => this.#deadlines.delete(stream));
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#sweep(), lingerSweepMs);
    this.#timer.unref();
  }

  /** Forgets a stream (it closed). */
  delete(stream: Duplex): void {
    this.#deadlines.delete(stream);
  }

  #sweep(): void {
    const now = performance.now();
    for (const [stream, deadline] of this.#deadlines) {
      if (stream.destroyed) this.#deadlines.delete(stream);
      else if (now >= deadline) {
        this.#deadlines.delete(stream);
        stream.destroy();
      }
    }
    if (this.#deadlines.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
