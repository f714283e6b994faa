import { SrvError, type SrvErrorOptions } from '@srv/core';

/** The stable codes of @srv/http's errors (pinned by a test against the README's error table). */
export const httpErrorCodes = [
  'SRV_ERR_INVALID_HEADER',
  'SRV_ERR_HEADERS_SENT',
  'SRV_ERR_INVALID_STATUS',
  'SRV_ERR_NOT_HTTP_REQUEST',
  'SRV_ERR_BAD_REQUEST_BODY',
] as const;

/** A code from {@link httpErrorCodes}. */
export type HttpErrorCode = (typeof httpErrorCodes)[number];

/** Creates an @srv/http error; the one place messages are built, so codes and texts stay together. */
export function createHttpError(
  code: HttpErrorCode,
  message: string,
  options: SrvErrorOptions = {},
): SrvError {
  return new SrvError(code, message, options);
}
