import type { ServerResponse } from 'node:http';
import { StreamWriter } from '@srv/core';

/**
 * `wfile` of an HTTP handler: core's {@link StreamWriter} over the `ServerResponse`. A write the
 * response takes without asking to wait costs no allocation (core's fast path); one that fills the
 * response's buffer waits until everything written has gone out (or the response closed), and a
 * write to a full or closed response goes core's general way (wait for `drain`, or reject).
 */
export class ResponseWriter extends StreamWriter {
  readonly #res: ServerResponse;

  constructor(res: ServerResponse) {
    super(res);
    this.#res = res;
  }

  override tryWrite(chunk: Uint8Array | string): Promise<void> | undefined {
    const res = this.#res;
    if (res.destroyed || res.writableEnded || res.writableNeedDrain) return super.tryWrite(chunk);
    return res.write(chunk) ? undefined : this.#drained();
  }

  #drained(): Promise<void> {
    // The chunk is queued; what is left is to wait until the response can take more.
    return this.flush();
  }
}
