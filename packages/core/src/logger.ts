/**
 * A logger with `info`/`warn`/`error`, called pino-style: `(message)` or `(fields, message)`.
 * A pino logger fits as is.
 */
export interface Logger {
  info(fieldsOrMessage: object | string, message?: string): void;
  warn(fieldsOrMessage: object | string, message?: string): void;
  error(fieldsOrMessage: object | string, message?: string): void;
}

function write(fieldsOrMessage: object | string, message?: string): void {
  if (typeof fieldsOrMessage === 'string') {
    process.stderr.write(`${fieldsOrMessage}\n`);
    return;
  }
  const { err } = fieldsOrMessage as { err?: unknown };
  const detail =
    err instanceof Error ? `\n${err.stack ?? err.message}` : err !== undefined ? `\n${String(err)}` : '';
  process.stderr.write(`${message ?? ''}${detail}\n`);
}

/** The default logger: plain lines on stderr, like Python's servers. */
export const stderrLogger: Logger = { info: write, warn: write, error: write };

/** A logger that drops everything. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
