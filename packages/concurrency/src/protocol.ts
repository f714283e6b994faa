import type { MessagePort } from 'node:worker_threads';
import type { ConnectionInfo, SocketAddress, WorkerServerSpec } from '@srv/core';
import type { MuxEnvelope } from './mux-port.js';
import type { ExchangeHead } from './relay.js';

/** What a primary tells a worker (thread or child process). */
export type ToWorker =
  | { readonly t: 'init'; readonly spec: WorkerServerSpec; readonly name: string }
  | {
      readonly t: 'conn';
      readonly id: number;
      readonly info: ConnectionInfo;
      /** Threading: the worker's end of the relay. */
      readonly port?: MessagePort;
      /** Forking: bytes the parent read before the hand-off (base64), to be read first. */
      readonly head?: string;
      /**
       * Threading: the port carries one HTTP request (its head and body) and its response, not a
       * connection; the worker says when the response is complete (see `Exchange` in @srv/http).
       */
      readonly exchange?: boolean;
      /**
       * With `exchange`: the request's head as the primary's parser read it (the body follows on the
       * exchange's port); the worker builds the handler's request from it without parsing.
       */
      readonly b?: ExchangeHead;
    }
  | {
      readonly t: 'datagram';
      readonly id: number;
      readonly data: Uint8Array;
      readonly local: SocketAddress;
      readonly remote: SocketAddress;
    }
  | MuxEnvelope
  | { readonly t: 'shutdown' }
  | { readonly t: 'stop' }
  /** Is your event loop turning? (a stalled pool asks its busy children or threads) */
  | { readonly t: 'ping' };

/** What a worker tells its primary. */
export type FromWorker =
  | { readonly t: 'ready' }
  | { readonly t: 'failed'; readonly error: SerializedError }
  | { readonly t: 'done'; readonly id: number }
  /**
   * Forking: the answer to `ping`, with the share of the time since the child got its connection that
   * its event loop was busy (0 to 1): a handler that waits (I/O, timers) leaves it low.
   */
  | { readonly t: 'pong'; readonly busy: number }
  | MuxEnvelope
  | { readonly t: 'reply'; readonly id: number; readonly data: Uint8Array }
  | {
      readonly t: 'log';
      readonly level: 'info' | 'warn' | 'error';
      readonly message: string;
      readonly fields: Record<string, unknown> | undefined;
    };

/** What a thread worker receives as `workerData`. */
export interface ThreadWorkerData {
  readonly spec: WorkerServerSpec;
  readonly name: string;
  /** Bytes in flight per direction on a relayed connection. */
  readonly relayWindow: number;
}

/** Environment variable naming a forking child (read by the child entry). */
export const childNameVariable = 'SRV_CONCURRENCY_CHILD';

/** What crosses a thread or process boundary of an error (custom fields like `code` survive). */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly code: string | undefined;
}

/** Flattens an error so it survives structured cloning and JSON. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      code: typeof code === 'string' ? code : undefined,
    };
  }
  return { name: 'Error', message: String(error), stack: undefined, code: undefined };
}

/**
 * Set on `globalThis` by the worker entries before anything else is imported, so every copy of this
 * package in a worker (the entry bundles its own) agrees on what it is.
 */
export const workerMarker = Symbol.for('srv.concurrency.worker');

/** What a worker entry records about itself. */
export interface WorkerIdentity {
  readonly kind: 'thread' | 'process';
  readonly name: string;
}
