import type { MessagePort } from 'node:worker_threads';
import type { ConnectionInfo, SocketAddress, WorkerServerSpec } from '@srv/core';
import type { SerializedError } from './errors.js';

/** What a primary tells a worker (thread or child process). */
export type ToWorker =
  | { readonly t: 'init'; readonly spec: WorkerServerSpec; readonly name: string }
  | { readonly t: 'conn'; readonly id: number; readonly info: ConnectionInfo; readonly port?: MessagePort }
  | {
      readonly t: 'datagram';
      readonly id: number;
      readonly data: Uint8Array;
      readonly local: SocketAddress;
      readonly remote: SocketAddress;
    }
  | { readonly t: 'shutdown' }
  | { readonly t: 'stop' };

/** What a worker tells its primary. */
export type FromWorker =
  | { readonly t: 'ready' }
  | { readonly t: 'failed'; readonly error: SerializedError }
  | { readonly t: 'done'; readonly id: number }
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
