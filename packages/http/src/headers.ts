/** Heads of up to this many lines are searched line by line until something asks for more. */
const maxScannedLines = 16;
const notAscii: unique symbol = Symbol('notAscii');

/** ASCII case-insensitive equality of two strings of one length; {@link notAscii} past ASCII. */
function equalsIgnoringCase(a: string, b: string): boolean | typeof notAscii {
  for (let index = 0; index < b.length; index++) {
    const x = a.charCodeAt(index);
    const y = b.charCodeAt(index);
    if (x > 0x7f || y > 0x7f) return notAscii;
    if (x === y) continue;
    const folded = x | 0x20;
    // Only letters differ by case (0x20): `@` and a backquote are different characters.
    if (folded !== (y | 0x20) || folded < 0x61 || folded > 0x7a) return false;
  }
  return true;
}

/**
 * The request headers, case-insensitive and aware of repeated fields (Python's `self.headers`, an
 * `email.message.Message`). Built from Node's `rawHeaders`, so nothing is dropped or merged early.
 */
export class HTTPHeaders implements Iterable<[string, string]> {
  /** `[name, value, name, value, …]` exactly as received (Node's `rawHeaders`). */
  readonly raw: readonly string[];
  #map: Map<string, string[]> | undefined;

  constructor(rawHeaders: readonly string[]) {
    this.raw = rawHeaders;
  }

  // Built on first use: many handlers never look at a header.
  get #byName(): Map<string, string[]> {
    if (this.#map) return this.#map;
    const map = new Map<string, string[]>();
    const raw = this.raw;
    for (let index = 0; index + 1 < raw.length; index += 2) {
      const name = raw[index]!.toLowerCase();
      const values = map.get(name);
      if (values) values.push(raw[index + 1]!);
      else map.set(name, [raw[index + 1]!]);
    }
    this.#map = map;
    return map;
  }

  /** Number of header lines. */
  get size(): number {
    return this.raw.length / 2;
  }

  /**
   * The field's value: repeated fields joined with `, ` (`; ` for Cookie, as RFC 9110 §5.3 and
   * RFC 6265 §5.4 say); `undefined` when absent.
   */
  get(name: string): string | undefined {
    // A few look-ups in a short head (the usual request) cost less as scans than building the map.
    if (this.#map === undefined && this.raw.length <= maxScannedLines * 2) {
      const found = this.#scan(name);
      if (found !== notAscii) return found;
    }
    const lower = name.toLowerCase();
    const values = this.#byName.get(lower);
    if (!values) return undefined;
    if (values.length === 1) return values[0];
    return values.join(lower === 'cookie' ? '; ' : ', ');
  }

  /** Every value of the field, in order (Python's `get_all`); empty when absent. */
  getAll(name: string): string[] {
    return [...(this.#byName.get(name.toLowerCase()) ?? [])];
  }

  /** True when the field is present. */
  has(name: string): boolean {
    if (this.#map === undefined && this.raw.length <= maxScannedLines * 2) {
      const found = this.#scan(name);
      if (found !== notAscii) return found !== undefined;
    }
    return this.#byName.has(name.toLowerCase());
  }

  /**
   * `get` by a scan of the raw lines, without building the map; {@link notAscii} for a name with a
   * character outside ASCII (its case folding is left to `toLowerCase`, as the map does it).
   */
  #scan(name: string): string | undefined | typeof notAscii {
    const raw = this.raw;
    let first: string | undefined;
    let values: string[] | undefined;
    for (let index = 0; index + 1 < raw.length; index += 2) {
      const field = raw[index]!;
      if (field.length !== name.length) continue;
      const same = equalsIgnoringCase(field, name);
      if (same === notAscii) return notAscii;
      if (!same) continue;
      const value = raw[index + 1]!;
      if (first === undefined) first = value;
      else if (values === undefined) values = [first, value];
      else values.push(value);
    }
    if (values === undefined) return first;
    return values.join(name.length === 6 && name.toLowerCase() === 'cookie' ? '; ' : ', ');
  }

  /** Distinct field names, lower-cased, in order of first appearance. */
  keys(): string[] {
    return [...this.#byName.keys()];
  }

  /** `[name, value]` per header line, names as received. */
  *[Symbol.iterator](): Iterator<[string, string]> {
    for (let index = 0; index + 1 < this.raw.length; index += 2) {
      yield [this.raw[index]!, this.raw[index + 1]!];
    }
  }

  /** The header block as it arrived, one `Name: value` per line (Python's `str(self.headers)`). */
  toString(): string {
    let text = '';
    for (const [name, value] of this) text += `${name}: ${value}\n`;
    return `${text}\n`;
  }
}
