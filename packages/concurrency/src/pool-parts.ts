/**
 * What the threading and forking pools are made of: a job (one request on its way through), the
 * pool's view of a worker, and the limits both pools check the same way.
 */
import type { Duplex } from 'node:stream';
import type { ServerRequest } from '@srv/core';
import { createError } from './errors.js';

/** One request on its way through the pool. */
export interface PoolJob {
  readonly id: number;
  readonly request: ServerRequest;
  /** While the job waits for a worker: takes it out of the queue when its client goes. */
  onClose: (() => void) | undefined;
  /** Settles the job's `dispatch()` promise once the worker and (if any) the relay are done. */
  finish(error?: unknown): void;
  /** Resolved when the worker reported the request done (or died). */
  workerDone(): void;
  /** What else must end before the job is over (the relay of a threading connection). */
  extra: Promise<void> | undefined;
}

/** The pool's view of one worker. */
export interface PoolWorker {
  readonly name: string;
  job: PoolJob | undefined;
  idleTimer: NodeJS.Timeout | undefined;
  exited: boolean;
}

/** Limits shared by both pools. */
export interface PoolLimits {
  readonly max: number;
  readonly min: number;
  readonly maxQueue: number;
  readonly blockOnClose: boolean;
  readonly idleTimeout: number;
}

function checkCount(name: string, value: number, minimum: number): number {
  if (!Number.isInteger(value) || value < minimum) {
    throw createError('SRV_ERR_INVALID_OPTION', `${name} must be an integer >= ${minimum}, got ${value}`);
  }
  return value;
}

/** Validates counts and timeouts. */
export function checkLimits(names: { max: string; min: string }, limits: PoolLimits): PoolLimits {
  checkCount(names.max, limits.max, 1);
  checkCount(names.min, limits.min, 0);
  checkCount('maxQueue', limits.maxQueue, 0);
  if (limits.min > limits.max) {
    throw createError(
      'SRV_ERR_INVALID_OPTION',
      `${names.min} (${limits.min}) exceeds ${names.max} (${limits.max})`,
    );
  }
  if (!(limits.idleTimeout >= 0)) {
    throw createError('SRV_ERR_INVALID_OPTION', `idleTimeout must be >= 0, got ${limits.idleTimeout}`);
  }
  return limits;
}

/** Closes a connection nobody will serve (datagrams need nothing). */
export function closeRequest(request: ServerRequest): void {
  if (request.kind === 'stream') (request.request as Duplex).destroy();
}
