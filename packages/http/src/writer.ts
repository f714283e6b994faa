import type { ServerResponse } from 'node:http';
import { StreamWriter } from '@srv/core';

const settled: Promise<void> = Promise.resolve();

/**
 * `wfile` of an HTTP handler: core's {@link StreamWriter} over the `ServerResponse`, with a fast path.
 * A write the response takes without asking to wait resolves with one shared, settled promise, so the
 * common small body costs no allocation; a full buffer or a closed response goes the general way
 * (wait for `drain`, or reject).
 */
export class ResponseWriter extends StreamWriter {
  readonly #res: ServerResponse;

  constructor(res: ServerResponse) {
    super(res);
    this.#res = res;
  }

  override write(chunk: Uint8Array | string): Promise<void> {
    const res = this.#res;
    if (res.destroyed || res.writableEnded || res.writableNeedDrain) return super.write(chunk);
    return res.write(chunk) ? settled : this.#drained();
  }

  #drained(): Promise<void> {
    // The chunk is queued; what is left is to wait until the response can take more.
    return this.flush();
  }
}
