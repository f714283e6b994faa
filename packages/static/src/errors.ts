/**
 * Every coded error of @srv/static. Callers branch on `code`; HTTP-facing errors also carry the status
 * the handler answers with. The list is pinned by a test against the README's error table.
 */
import { SrvError, type SrvErrorOptions } from '@srv/core';

/** The stable codes of @srv/static's errors. */
export const staticErrorCodes = [
  'SRV_ERR_INVALID_PATH',
  'SRV_ERR_NOT_A_DIRECTORY',
  'SRV_ERR_CGI_UNAVAILABLE',
] as const;

/** A code from {@link staticErrorCodes}. */
export type StaticErrorCode = (typeof staticErrorCodes)[number];

/** Options of a {@link StaticError}. */
export interface StaticErrorOptions extends SrvErrorOptions {
  /** The HTTP status a handler answers with (400 or 414 for a bad path). */
  status?: number;
}

/**
 * An error of @srv/static. Those raised while mapping a request carry the `status` to answer with.
 */
export class StaticError extends SrvError {
  /** The HTTP status that answers this error (500 when it is not a request error). */
  readonly status: number;

  constructor(code: StaticErrorCode, message: string, options: StaticErrorOptions = {}) {
    super(code, message, 'cause' in options ? { cause: options.cause } : {});
    this.name = 'StaticError';
    this.status = options.status ?? 500;
  }
}

/** Creates an error of this package; the one place its codes meet their messages. */
export function createStaticError(
  code: StaticErrorCode,
  message: string,
  options: StaticErrorOptions = {},
): StaticError {
  return new StaticError(code, message, options);
}
