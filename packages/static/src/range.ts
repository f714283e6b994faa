/**
 * `Range: bytes=…` (RFC 9110 §14). Parsing is range-parser's; the policy around it is ours: other units
 * and malformed values are ignored (the full file is sent), overlapping and adjacent ranges are merged
 * so a request can never make us send more bytes than the file has, and more than `maxRanges` ranges
 * are refused with 416 (§14.2 allows rejecting "many small ranges": each part costs a header).
 */
import parseRange from 'range-parser';

/** One satisfiable byte range, both ends inclusive. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** What a `Range` header asks of a representation of a given size. */
export type RangeResult =
  | { readonly kind: 'full' }
  | { readonly kind: 'unsatisfiable' }
  | { readonly kind: 'partial'; readonly ranges: readonly ByteRange[] };

/** Default cap on the ranges one request may ask for. */
export const defaultMaxRanges = 16;

/** Interprets a `Range` header for a representation of `size` bytes. */
export function resolveRanges(
  header: string | undefined,
  size: number,
  maxRanges: number = defaultMaxRanges,
): RangeResult {
  if (header === undefined) return { kind: 'full' };
  const equals = header.indexOf('=');
  if (equals === -1 || header.slice(0, equals).trim().toLowerCase() !== 'bytes') return { kind: 'full' };
  let count = 1;
  for (let index = equals; index < header.length; index++) if (header.charCodeAt(index) === 0x2c) count++;
  if (count > maxRanges) return { kind: 'unsatisfiable' };
  const parsed = parseRange(size, `bytes=${header.slice(equals + 1)}`, { combine: true });
  if (parsed === -2) return { kind: 'full' };
  if (parsed === -1) return { kind: 'unsatisfiable' };
  return { kind: 'partial', ranges: parsed.map(({ start, end }) => ({ start, end })) };
}

/** `bytes 0-99/1234`. */
export function contentRange(range: ByteRange, size: number): string {
  return `bytes ${range.start}-${range.end}/${size}`;
}
