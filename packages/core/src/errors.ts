/**
 * Every coded error of @srv/core. Callers branch on `code`, never on message text; the list is pinned
 * by a test against the README's error table, so adding or renaming a code is a visible act.
 */

const brand = Symbol.for('srv.error');

/** The stable codes of @srv/core's errors. */
export const coreErrorCodes = [
  'SRV_ERR_ADDRESS_IN_USE',
  'SRV_ERR_ADDRESS_NOT_AVAILABLE',
  'SRV_ERR_PERMISSION_DENIED',
  'SRV_ERR_INVALID_ADDRESS',
  'SRV_ERR_INVALID_OPTION',
  'SRV_ERR_UNSUPPORTED_OPTION',
  'SRV_ERR_INVALID_HANDLER',
  'SRV_ERR_HANDLER_IMPORTS_ITSELF',
  'SRV_ERR_LISTEN_FAILED',
  'SRV_ERR_SOCKET_ACTIVATION',
  'SRV_ERR_SERVER_CLOSED',
  'SRV_ERR_LINE_TOO_LONG',
  'SRV_ERR_TIMEOUT',
  'SRV_ERR_QUEUE_FULL',
  'SRV_ERR_USAGE',
] as const;

/** A code from {@link coreErrorCodes}. */
export type CoreErrorCode = (typeof coreErrorCodes)[number];

/** Options accepted by every srv error. */
export interface SrvErrorOptions {
  /** The lower-level error this one explains. */
  cause?: unknown;
}

/**
 * The base of every error thrown by srv packages. `instanceof SrvError` works across duplicate copies
 * of the package (the check uses a `Symbol.for` brand, not the prototype chain).
 */
export class SrvError extends Error {
  /** The stable, documented code (`SRV_ERR_…`). */
  readonly code: string;

  constructor(code: string, message: string, options: SrvErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.name = 'SrvError';
    Object.defineProperty(this, brand, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== SrvError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}

// The build renames the class binding (`class _SrvError`), and `util.inspect` — what Node prints for an
// uncaught error — shows the constructor's name: keep it the documented one.
Object.defineProperty(SrvError, 'name', { value: 'SrvError' });

/** True when `value` is an srv error, optionally with the given code. */
export function isSrvError(value: unknown, code?: string): value is SrvError {
  return value instanceof SrvError && (code === undefined || value.code === code);
}

/** Creates a core error; the one place messages are built, so codes and texts stay together. */
export function createError(code: CoreErrorCode, message: string, options: SrvErrorOptions = {}): SrvError {
  return new SrvError(code, message, options);
}

/** A server's start failure as a coded error: coded ones as they are, anything else `SRV_ERR_LISTEN_FAILED`. */
export function toStartError(error: unknown): SrvError {
  return error instanceof SrvError
    ? error
    : createError('SRV_ERR_LISTEN_FAILED', String(error), { cause: error });
}

/** Maps a system error from bind/listen to the coded error a caller can branch on. */
export function toBindError(error: unknown, where: string): SrvError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return createError('SRV_ERR_ADDRESS_IN_USE', `address already in use: ${where}`, { cause: error });
    case 'EADDRNOTAVAIL':
      return createError('SRV_ERR_ADDRESS_NOT_AVAILABLE', `address not available on this host: ${where}`, {
        cause: error,
      });
    case 'EACCES':
    case 'EPERM':
      return createError('SRV_ERR_PERMISSION_DENIED', `permission denied binding ${where}`, { cause: error });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return createError('SRV_ERR_INVALID_ADDRESS', `cannot resolve host of ${where}`, { cause: error });
    case 'ENOTSUP':
    case 'EOPNOTSUPP':
      return createError('SRV_ERR_UNSUPPORTED_OPTION', `option not supported by this system for ${where}`, {
        cause: error,
      });
    default:
      if (isSrvError(error)) return error;
      return createError(
        'SRV_ERR_LISTEN_FAILED',
        `cannot listen on ${where}: ${(error as Error | undefined)?.message ?? String(error)}`,
        { cause: error },
      );
  }
}
