import type { Logger } from '@srv/core';

function text(fieldsOrMessage: object | string, message: string | undefined): string {
  if (typeof fieldsOrMessage === 'string') return fieldsOrMessage;
  const { err } = fieldsOrMessage as { err?: unknown };
  return err instanceof Error ? `${message ?? ''}: ${err.message}` : (message ?? '');
}

/** Notices on stdout, as the tutorial's `print` shows them; problems on stderr. */
export const printLogger: Logger = {
  info: (fieldsOrMessage, message) => process.stdout.write(`${text(fieldsOrMessage, message)}\n`),
  warn: (fieldsOrMessage, message) => process.stderr.write(`${text(fieldsOrMessage, message)}\n`),
  error: (fieldsOrMessage, message) => process.stderr.write(`${text(fieldsOrMessage, message)}\n`),
};
