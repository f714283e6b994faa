import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { StreamWriter } from '@srv/core';
import { SrvServerResponse } from './response.js';

const settled: Promise<void> = Promise.resolve();

/**
 * `wfile` of an HTTP handler: core's {@link StreamWriter} over the `ServerResponse`, and the one way a
 * handler writes a body. A write the response takes without asking to wait costs no allocation
 * (core's fast path); one that fills the response's buffer waits until everything written has gone
 * out (or the response closed), and a write to a full or closed response goes core's general way
 * (wait for `drain`, or reject). `end(body)` answers in one write; `pipeFrom(readable)` copies a
 * stream with backpressure and stops reading when the client goes away.
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
    if (res instanceof SrvServerResponse && res.isWholeBody(chunk)) {
      // The whole declared body in one write: the response ends with it, as `end(body)` would (one
      // write of head and body, no uncork turn, no later `end()`); waits like a write while it drains.
      res.end(chunk);
      return res.writableLength > 0 ? this.flush() : undefined;
    }
    return res.write(chunk) ? undefined : this.flush();
  }

  /**
   * Ends the response, with `body` as its last (or only) bytes, so headers and a small body leave in
   * one write. Resolves at once: the server itself sees the response out before it reads the next
   * request of the connection, and a wait here would cost every response two listeners.
   */
  override end(body?: Uint8Array | string): Promise<void> {
    const res = this.#res;
    if (!res.writableEnded && !res.destroyed) {
      if (body === undefined) res.end();
      else res.end(body);
    }
    return settled;
  }

  /** True once the whole response has been handed to the system. */
  get finished(): boolean {
    return this.#res.writableFinished;
  }

  /**
   * Cuts the response off (the connection is destroyed): for a body that cannot be completed, so the
   * client never mistakes a truncated body for a whole one.
   */
  destroy(error?: Error): void {
    this.#res.destroy(error);
  }

  /**
   * Copies `source` into the response with backpressure (the source pauses while the response
   * drains). Resolves true when the source ended, false when the response closed first (the source is
   * then destroyed) or the source failed (the response is then cut off; the error is passed to
   * `onError`). Does not end the response.
   */
  pipeFrom(source: Readable, onError?: (error: Error) => void): Promise<boolean> {
    const res = this.#res;
    return new Promise<boolean>((done) => {
      let isSettled = false;
      const finish = (ok: boolean) => {
        if (isSettled) return;
        isSettled = true;
        res.off('close', onClose);
        res.off('drain', onDrain);
        if (!ok) source.destroy();
        done(ok);
      };
      const onClose = () => finish(false);
      const onDrain = () => source.resume();
      res.on('close', onClose);
      res.on('drain', onDrain);
      source.on('data', (chunk: Buffer) => {
        if (!res.write(chunk)) source.pause();
      });
      source.once('end', () => finish(true));
      source.once('error', (error: Error) => {
        onError?.(error);
        res.destroy();
        finish(false);
      });
      if (res.destroyed) finish(false);
    });
  }
}
