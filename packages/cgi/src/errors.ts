import { SrvError, type SrvErrorOptions } from '@srv/core';

/**
 * Every coded error of @srv/cgi, with the HTTP status it answers with. Callers branch on `code`; the
 * list is pinned by a test against the README's error table.
 */
export const cgiErrorStatus = {
  SRV_ERR_CGI_BAD_REQUEST: 400,
  SRV_ERR_CGI_FORBIDDEN: 403,
  SRV_ERR_CGI_NOT_FOUND: 404,
  SRV_ERR_CGI_METHOD_NOT_ALLOWED: 405,
  SRV_ERR_CGI_BODY_TOO_LARGE: 413,
  SRV_ERR_CGI_SPAWN_FAILED: 500,
  SRV_ERR_CGI_REDIRECT_LOOP: 500,
  SRV_ERR_CGI_BAD_RESPONSE: 502,
  SRV_ERR_CGI_BUSY: 503,
  SRV_ERR_CGI_TIMEOUT: 504,
} as const;

/** A code of @srv/cgi's errors. */
export type CgiErrorCode = keyof typeof cgiErrorStatus;

/** The stable codes of @srv/cgi's errors. */
export const cgiErrorCodes = Object.keys(cgiErrorStatus) as CgiErrorCode[];

/** Options of a {@link CgiError}: its `cause`, and an `explain` text safe to show the client. */
export interface CgiErrorOptions extends SrvErrorOptions {
  /** The error page's explanation (no server paths: it goes to the client). Default the status's own. */
  readonly explain?: string;
}

/**
 * An error that knows the HTTP status it becomes: a request the CGI host refuses or a script that
 * misbehaved. `status` is what the client sees; `message` is for the log and may name server paths,
 * so it is never put in the response page.
 */
export class CgiError extends SrvError {
  /** The HTTP status this error is answered with. */
  readonly status: number;
  /** The error page's explanation, when the error has a better one than its status's: never a path. */
  readonly explain: string | undefined;

  constructor(code: CgiErrorCode, message: string, options: CgiErrorOptions = {}) {
    super(code, message, options);
    this.name = 'CgiError';
    this.status = cgiErrorStatus[code];
    this.explain = options.explain;
  }
}

/** Creates an @srv/cgi error; the one place messages are built, so codes and texts stay together. */
export function createCgiError(code: CgiErrorCode, message: string, options: CgiErrorOptions = {}): CgiError {
  return new CgiError(code, message, options);
}
