import type { Duplex } from 'node:stream';

/** How often lingering connections are checked, and after how many checks one is cut (2–2.5 s). */
const lingerSweepMs = 500;
const lingerSweeps = 5;

/**
 * Half-closed connections (`shutdownRequest`) and when they are cut if the peer has not closed: after
 * 2 to 2.5 s. One shared timer for all of them: a timer per connection costs more than the connection's
 * own work on a one-request-per-connection protocol. Deadlines count the timer's sweeps rather than
 * read a clock, so adding a connection reads no clock either.
 */
export class Lingering {
  /** Each connection and the sweep at which it is cut. */
  readonly #deadlines = new Map<Duplex, number>();
  #timer: NodeJS.Timeout | undefined;
  /** Sweeps so far. */
  #sweeps = 0;

  /** Starts the wait of `stream`; `watched` when its owner already calls `delete()` on its close. */
  add(stream: Duplex, watched: boolean): void {
    if (this.#deadlines.has(stream)) return;
    this.#deadlines.set(stream, this.#sweeps + lingerSweeps);
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
    this.#sweeps += 1;
    const now = this.#sweeps;
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
