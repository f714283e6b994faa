/**
 * A bounded in-memory cache of small files. An entry is trusted only while one `fs.stat` of the
 * request's path still shows the same file (device, inode, size, mtime and ctime in nanoseconds), so
 * a changed, replaced or deleted file is served correctly on the very next request, and a symlink
 * swapped to point elsewhere misses (its target is a different inode).
 */
import type { BigIntStats } from 'node:fs';

/** The identity of a file version, from a bigint stat. */
export interface FileVersion {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
}

/** Copies the fields that identify a file version out of a bigint stat. */
export function versionOf(stat: BigIntStats): FileVersion {
  return { dev: stat.dev, ino: stat.ino, size: stat.size, mtimeNs: stat.mtimeNs, ctimeNs: stat.ctimeNs };
}

/** True when `stat` shows the same version of the same file. */
export function isSameVersion(version: FileVersion, stat: BigIntStats): boolean {
  return (
    version.ino === stat.ino &&
    version.mtimeNs === stat.mtimeNs &&
    version.ctimeNs === stat.ctimeNs &&
    version.size === stat.size &&
    version.dev === stat.dev
  );
}

/** Least-recently-used cache bounded by total bytes; values larger than `maxEntryBytes` are not kept. */
export class LruCache<V extends { readonly bytes: number }> {
  readonly maxBytes: number;
  readonly maxEntryBytes: number;
  readonly #entries = new Map<string, V>();
  #bytes = 0;
  /** The most recently used key: a hit on it (a hot file, request after request) moves nothing. */
  #newest: string | undefined;

  constructor(maxBytes: number, maxEntryBytes: number) {
    this.maxBytes = maxBytes;
    this.maxEntryBytes = Math.min(maxEntryBytes, maxBytes);
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** The value, marked most recently used. */
  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    if (key !== this.#newest) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
      this.#newest = key;
    }
    return value;
  }

  /** Stores a value, evicting the least recently used; returns false when it is too large to keep. */
  set(key: string, value: V): boolean {
    this.delete(key);
    if (value.bytes > this.maxEntryBytes) return false;
    this.#entries.set(key, value);
    this.#newest = key;
    this.#bytes += value.bytes;
    for (const [oldest, old] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= old.bytes;
    }
    return true;
  }

  /** Forgets a key. */
  delete(key: string): void {
    const value = this.#entries.get(key);
    if (value === undefined) return;
    this.#entries.delete(key);
    if (key === this.#newest) this.#newest = undefined;
    this.#bytes -= value.bytes;
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
    this.#newest = undefined;
    this.#bytes = 0;
  }
}
