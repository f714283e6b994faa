/**
 * Every coded error of @srv/concurrency. Callers branch on `code`, never on message text; the list is
 * pinned by a test against the README's error table. A full queue is reported with core's
 * `SRV_ERR_QUEUE_FULL`, like the serial dispatcher does.
 */
import { SrvError, type SrvErrorOptions } from '@srv/core';
import type { SerializedError } from './protocol.js';

/** The stable codes of @srv/concurrency's errors. */
export const concurrencyErrorCodes = [
  'SRV_ERR_WORKER_START_FAILED',
  'SRV_ERR_WORKER_EXITED',
  'SRV_ERR_DISPATCHER_CLOSED',
] as const;

/** A code from {@link concurrencyErrorCodes}. */
export type ConcurrencyErrorCode = (typeof concurrencyErrorCodes)[number];

/** Creates a concurrency error; the one place messages are built, so codes and texts stay together. */
export function createError(
  code: ConcurrencyErrorCode | 'SRV_ERR_QUEUE_FULL' | 'SRV_ERR_INVALID_OPTION',
  message: string,
  options: SrvErrorOptions = {},
): SrvError {
  return new SrvError(code, message, options);
}

/** Rebuilds an error sent by {@link serializeError}: an `SrvError` when it had an srv code. */
export function deserializeError(data: SerializedError): Error {
  const error = data.code?.startsWith('SRV_ERR_')
    ? new SrvError(data.code, data.message)
    : new Error(data.message);
  if (!(error instanceof SrvError)) {
    error.name = data.name;
    if (data.code !== undefined) Object.assign(error, { code: data.code });
  }
  if (data.stack !== undefined) error.stack = data.stack;
  return error;
}

/** A worker's log fields as the primary's logger gets them: errors (sent as `{ $error }`) rebuilt. */
export function restoreLogFields(fields: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    const wrapped = value as { $error?: SerializedError } | null;
    result[key] =
      wrapped !== null && typeof wrapped === 'object' && wrapped.$error
        ? deserializeError(wrapped.$error)
        : value;
  }
  return result;
}
