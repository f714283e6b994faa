/**
 * `Accept-Encoding` negotiation for precompressed siblings (`app.js.br`, `app.js.gz`), RFC 9110 §12.5.3:
 * q-values decide, `q=0` means "not acceptable", `*` covers codings not named, `identity` is always
 * available as the fallback here (we never refuse to send the plain file).
 */

/** A precompressed coding srv serves, with the sibling's file suffix. */
export interface PrecompressedCoding {
  readonly coding: 'br' | 'gzip';
  readonly suffix: '.br' | '.gz';
}

/** Codings in server preference order (brotli is smaller), used when q-values tie. */
export const precompressedCodings: readonly PrecompressedCoding[] = [
  { coding: 'br', suffix: '.br' },
  { coding: 'gzip', suffix: '.gz' },
];

/** Parses `Accept-Encoding` into coding → q (lower-case names; `x-gzip` counts as `gzip`). */
export function parseAcceptEncoding(header: string): Map<string, number> {
  const weights = new Map<string, number>();
  for (const part of header.split(',')) {
    const [rawName, ...params] = part.split(';');
    let name = rawName!.trim().toLowerCase();
    if (name === '') continue;
    if (name === 'x-gzip') name = 'gzip';
    let q = 1;
    for (const param of params) {
      const match = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(param);
      if (match) {
        const value = Number(match[1]);
        q = Number.isFinite(value) ? Math.min(Math.max(value, 0), 1) : 0;
      }
    }
    // A repeated coding keeps its most restrictive weight, so `br, br;q=0` is not a way back in.
    const previous = weights.get(name);
    weights.set(name, previous === undefined ? q : Math.min(previous, q));
  }
  return weights;
}

/**
 * The precompressed codings acceptable to the client, best first (by q, then server preference).
 * Empty when the header is absent: without it any coding is acceptable by RFC, but sending brotli to a
 * client that did not ask breaks too many tools.
 */
export function acceptableCodings(header: string | undefined): PrecompressedCoding[] {
  if (header === undefined || header.trim() === '') return [];
  const weights = parseAcceptEncoding(header);
  const wildcard = weights.get('*');
  const scored: Array<{ coding: PrecompressedCoding; q: number; order: number }> = [];
  precompressedCodings.forEach((coding, order) => {
    const q = weights.get(coding.coding) ?? wildcard ?? 0;
    if (q > 0) scored.push({ coding, q, order });
  });
  // Identity is acceptable unless excluded, but it only outranks a coding when the client weighed it.
  const identity = weights.get('identity') ?? wildcard ?? 0;
  return scored
    .filter(({ q }) => q >= identity)
    .sort((a, b) => b.q - a.q || a.order - b.order)
    .map(({ coding }) => coding);
}
