/**
 * Messages a thread sends in one turn of its event loop, posted as one. Every message posted to a
 * thread that waits wakes it, and on a busy machine the woken thread takes the core from the sender
 * at once: a worker that answered a request with its response bytes, `fin` and `done` as three
 * messages cost the primary three wake-ups and three message callbacks (each with its own tick
 * and microtask pass). Queued messages go together once the current turn is over (`setImmediate`), in
 * order; the receiver takes an array as the messages in it, one after another.
 */
export class MessageBatch<M> {
  readonly #post: (message: M | M[], transfer?: ArrayBuffer[]) => void;
  #queue: M[] = [];
  #transfer: ArrayBuffer[] = [];
  #scheduled: NodeJS.Immediate | undefined;

  constructor(post: (message: M | M[], transfer?: ArrayBuffer[]) => void) {
    this.#post = post;
  }

  /** Queues `message` (with the buffers it transfers) for the end of this turn. */
  send(message: M, transfer?: ArrayBuffer[]): void {
    this.#queue.push(message);
    if (transfer !== undefined) this.#transfer.push(...transfer);
    this.#scheduled ??= setImmediate(this.flush);
  }

  /**
   * Queues `message` as the last of its batch and posts the batch now: the sender knows nothing
   * follows it this turn (a worker's `done`), so waiting for the turn's end would only cost a timer.
   */
  sendLast(message: M): void {
    this.#queue.push(message);
    this.flush();
  }

  /** Posts what is queued now (before the port closes, say). */
  readonly flush = (): void => {
    if (this.#scheduled !== undefined) {
      clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
    }
    const queue = this.#queue;
    if (queue.length === 0) return;
    const transfer = this.#transfer;
    this.#queue = [];
    this.#transfer = [];
    const message = queue.length === 1 ? queue[0]! : queue;
    if (transfer.length > 0) this.#post(message, transfer);
    else this.#post(message);
  };
}

/** Calls `receive` for each message of what arrived: one message, or a batch of them. */
export function unbatch<M>(arrived: M | M[], receive: (message: M) => void): void {
  if (Array.isArray(arrived)) for (const message of arrived) receive(message);
  else receive(arrived);
}
