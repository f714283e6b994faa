/**
 * The request headers, case-insensitive and aware of repeated fields (Python's `self.headers`, an
 * `email.message.Message`). Built from Node's `rawHeaders`, so nothing is dropped or merged early.
 */
export class HTTPHeaders implements Iterable<[string, string]> {
  /** `[name, value, name, value, …]` exactly as received (Node's `rawHeaders`). */
  readonly raw: readonly string[];
  readonly #byName = new Map<string, string[]>();

  constructor(rawHeaders: readonly string[]) {
    this.raw = rawHeaders;
    for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
      const name = rawHeaders[index]!.toLowerCase();
      const values = this.#byName.get(name);
      if (values) values.push(rawHeaders[index + 1]!);
      else this.#byName.set(name, [rawHeaders[index + 1]!]);
    }
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
    return this.#byName.has(name.toLowerCase());
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
