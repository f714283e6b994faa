/**
 * Every coded error of @srv/timeproto. Invalid arguments use @srv/core's `SRV_ERR_INVALID_OPTION` and
 * `SRV_ERR_INVALID_ADDRESS`; the codes below are the client's own. The list is pinned by a test against
 * the README's error table.
 */
import { SrvError, type SrvErrorOptions } from '@srv/core';

/** The stable codes of @srv/timeproto's errors. */
export const timeErrorCodes = [
  'SRV_ERR_TIME_QUERY_TIMEOUT',
  'SRV_ERR_TIME_CONNECT_FAILED',
  'SRV_ERR_TIME_BAD_REPLY',
] as const;

/** A code from {@link timeErrorCodes}. */
export type TimeErrorCode = (typeof timeErrorCodes)[number];

/** Creates an error of this package; the one place its codes meet their messages. */
export function createTimeError(
  code: TimeErrorCode,
  message: string,
  options: SrvErrorOptions = {},
): SrvError {
  return new SrvError(code, message, options);
}

/** Creates `SRV_ERR_INVALID_OPTION` (a @srv/core code) for a bad argument. */
export function invalidOption(message: string): SrvError {
  return new SrvError('SRV_ERR_INVALID_OPTION', message);
}
