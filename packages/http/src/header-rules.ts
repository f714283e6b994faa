/**
 * The rules a response head's lines obey: Node's own (a header name is a token; a value or reason
 * phrase holds no control character but tab) plus the one Python adds (no CR, LF or NUL anywhere, which
 * is response splitting). Pure functions, so the handler keeps only the head's state.
 */
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { createHttpError } from './errors.js';
import { pythonRepr } from './format.js';
import { responses } from './status.js';

// Reason phrases go on the status line: anything outside visible Latin-1 would be rejected by Node
// (or, in Python, could split the response), so it becomes a space.
const reasonUnsafe = /[^\t\x20-\x7e\x80-\xff]/g;
// Node's rule for status phrases and header values alike: no control character but tab.
const hasUnsafeFieldChar = /[^\t\x20-\x7e\x80-\xff]/;
const headerNameToken = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** CR, LF or NUL: what splits a response. */
export const headerValueUnsafe = /[\r\n\0]/;

/** A reason phrase with anything Node would refuse on a status line replaced by a space. */
export function cleanReason(reason: string): string {
  return hasUnsafeFieldChar.test(reason) ? reason.replace(reasonUnsafe, ' ') : reason;
}

/** Phrases of the default table that pass both checks: they skip them on every response. */
export const safeReasons: ReadonlySet<string> = new Set<string>(
  Object.values(responses)
    .map(([reason]) => reason)
    .filter((reason) => !hasUnsafeFieldChar.test(reason) && !headerValueUnsafe.test(reason)),
);

/** `//host/…` and `/\host/…` are scheme-relative to browsers (an open redirect): one slash stays. */
export function collapseLeadingSlashes(location: string): string {
  return location.replace(/^[/\\]{2,}/, '/');
}

// The last line that passed, per name: a handler sends the same names (and mostly the same values,
// often the very same strings) on every response, so most lines need no regular expression.
const passedLines = new Map<string, string>();
const maxPassedNames = 64;

/** Node's own rules for a header line: the name a token, the value free of control characters. */
export function isValidLine(name: string, value: string): boolean {
  if (passedLines.get(name) === value) return true;
  if (!headerNameToken.test(name) || hasUnsafeFieldChar.test(value)) return false;
  if (passedLines.size < maxPassedNames || passedLines.has(name)) passedLines.set(name, value);
  return true;
}

/** The coded error for a header Node would refuse, with Node's own error as its cause. */
export function invalidHeader(name: string, values: readonly string[]): Error {
  try {
    validateHeaderName(name);
    for (const value of values) validateHeaderValue(name, value);
  } catch (cause) {
    return createHttpError('SRV_ERR_INVALID_HEADER', `invalid header ${pythonRepr(name)}`, { cause });
  }
  return createHttpError('SRV_ERR_INVALID_HEADER', `invalid header ${pythonRepr(name)}`);
}

/** Python's check of a header line: a token name, no CR, LF or NUL in any value. */
export function validateHeader(name: string, value: string | readonly string[]): void {
  if (!headerNameToken.test(name)) {
    throw createHttpError('SRV_ERR_INVALID_HEADER', `invalid header name ${pythonRepr(name)}`);
  }
  for (const item of [value].flat()) {
    if (headerValueUnsafe.test(item)) {
      throw createHttpError('SRV_ERR_INVALID_HEADER', `header ${name} contains CR, LF or NUL`);
    }
  }
}
