/**
 * What a request path is on disk, and the caches that make finding out cheap: parsed request targets,
 * the served directory's real path, content types and the small-file cache. One {@link FileResolver}
 * belongs to one server (two servers with one handler class share nothing) and is released when that
 * server closes.
 */
import { type BigIntStats, promises as fsp, statSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import { type FileVersion, isSameVersion, LruCache, versionOf } from './cache.js';
import { lastModifiedMs, makeETag } from './conditional.js';
import { isHiddenPath, isInsideRoot, parseRequestPath, type RequestPath } from './path.js';

/** A small file held in memory, with its validators computed once. */
export interface CachedFile extends FileVersion {
  readonly bytes: number;
  readonly body: Buffer;
  /** `body.length` as a header value. */
  readonly contentLength: string;
  readonly etag: string;
  readonly lastModified: number;
  readonly httpDate: string;
}

/** A regular file found for a request: its stat, and its bytes when they are cached. */
export interface FoundFile {
  readonly kind: 'file';
  /** The path it was asked for by (the cache key). */
  readonly key: string;
  /** Its real path (symlinks resolved) once checked; `key` for a cache hit. */
  readonly path: string;
  readonly stat: BigIntStats;
  readonly cached: CachedFile | undefined;
}

/** A path resolved on disk: a file, a directory, nothing, or something that must not be served. */
export type Resolved =
  | FoundFile
  | { kind: 'directory'; path: string }
  | { kind: 'missing' }
  | { kind: 'refused' };

/** The served directory, by its real path. */
export interface Root {
  readonly real: string;
}

/** The options that decide what may be served (the handler's static fields). */
export interface ServingRules {
  readonly dotfiles: boolean;
  readonly followSymlinks: boolean;
}

/** The sizes of the small-file cache. */
export interface CacheLimits {
  readonly cacheMaxBytes: number;
  readonly cacheMaxFileSize: number;
}

// Request targets repeat: parsing is pure, so the last few hundred results are kept.
const maxParsedPaths = 512;
const maxDirectories = 64;

/**
 * The one stat of a request. Synchronous on purpose: a stat of a cached inode takes microseconds,
 * while a trip through libuv's four-thread pool caps a busy server at a fraction of the rate.
 */
function statBigInt(path: string): BigIntStats | undefined {
  try {
    return statSync(path, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** A parsed request target and the file path it maps to. */
export interface TranslatedTarget {
  readonly request: RequestPath;
  readonly path: string;
}

/** A parsed request target and the file path it maps to below `directory` (once asked for). */
interface ParsedTarget {
  readonly request: RequestPath;
  directory: string | undefined;
  path: string;
}

/** A server's resolution state; see the module comment. */
export class FileResolver {
  readonly #cache: LruCache<CachedFile> | undefined;
  readonly #parsed = new Map<string, ParsedTarget>();
  readonly #absolute = new Map<string, string>();
  readonly #roots = new Map<string, Promise<string>>();
  readonly #realRoots = new Map<string, string>();
  readonly #types = new Map<string, string>();
  readonly #extensions = new Map<string, string>();
  readonly #filePaths = new WeakMap<RequestPath, { directory: string; path: string }>();
  readonly #rootObjects = new Map<string, Root>();

  constructor(limits: CacheLimits) {
    this.#cache =
      limits.cacheMaxBytes > 0
        ? new LruCache<CachedFile>(limits.cacheMaxBytes, limits.cacheMaxFileSize)
        : undefined;
  }

  /** Files held in memory now (for tests and diagnostics). */
  get cachedFiles(): number {
    return this.#cache?.size ?? 0;
  }

  /** {@link parseRequestPath}, remembered for the last few hundred targets. */
  parse(target: string): RequestPath {
    return this.#parsedTarget(target).request;
  }

  #parsedTarget(target: string): ParsedTarget {
    let parsed = this.#parsed.get(target);
    if (parsed === undefined) {
      parsed = { request: parseRequestPath(target), directory: undefined, path: '' };
      if (this.#parsed.size >= maxParsedPaths) this.#parsed.delete(this.#parsed.keys().next().value!);
      this.#parsed.set(target, parsed);
    }
    return parsed;
  }

  /**
   * A request target's file path below `directory` (what `parse` then `filePath` give), found by one
   * look-up of the target: remembered with its parse for the last directory asked.
   */
  translate(target: string, directory: string): string {
    return this.translateTarget(target, directory).path;
  }

  /** {@link translate}, with the parsed target beside its path (read both before the next call). */
  translateTarget(target: string, directory: string): TranslatedTarget {
    const parsed = this.#parsedTarget(target);
    if (parsed.directory !== directory) {
      parsed.path = this.filePath(parsed.request, directory);
      parsed.directory = directory;
    }
    return parsed;
  }

  /** `directory` made absolute (against the current directory), remembered. */
  absoluteDirectory(directory: string): string {
    let absolute = this.#absolute.get(directory);
    if (absolute === undefined) {
      absolute = resolve(directory);
      if (this.#absolute.size < maxDirectories) this.#absolute.set(directory, absolute);
    }
    return absolute;
  }

  /**
   * The extension of a file name, lower case with its dot (`.html`; `''` for none), remembered: the
   * same names come request after request.
   */
  extensionOf(name: string): string {
    let extension = this.#extensions.get(name);
    if (extension === undefined) {
      const dot = name.lastIndexOf('.');
      extension = dot === -1 ? '' : name.slice(dot).toLowerCase();
      if (this.#extensions.size >= maxParsedPaths) this.#extensions.clear();
      this.#extensions.set(name, extension);
    }
    return extension;
  }

  /**
   * The file path of a parsed request path below `directory`, remembered per parsed path: the same
   * string each time, so the cache lookup and the `stat` that take it need not build (or hash) it anew.
   */
  filePath(request: RequestPath, directory: string): string {
    const known = this.#filePaths.get(request);
    if (known !== undefined && known.directory === directory) return known.path;
    const segments = request.segments;
    // Segments hold no separator, `.` or `..` (parseRequestPath): joining needs no normalising.
    const path =
      segments.length === 0
        ? directory
        : `${directory.endsWith(sep) ? directory : directory + sep}${segments.join(sep)}`;
    this.#filePaths.set(request, { directory, path });
    return path;
  }

  /** The {@link Root} of a real path (one object per served directory, not one per request). */
  rootOf(real: string): Root {
    let root = this.#rootObjects.get(real);
    if (root === undefined) {
      root = { real };
      if (this.#rootObjects.size < maxDirectories) this.#rootObjects.set(real, root);
    }
    return root;
  }

  /** A content type by extension, looked up once per extension. */
  contentType(extension: string, lookup: (extension: string) => string): string {
    let type = this.#types.get(extension);
    if (type === undefined) {
      type = lookup(extension);
      if (this.#types.size < 1024) this.#types.set(extension, type);
    }
    return type;
  }

  /** The real path of a served directory: synchronous once known, so a cached file never waits. */
  realRoot(directory: string): string | Promise<string> {
    const known = this.#realRoots.get(directory);
    if (known !== undefined) return known;
    let real = this.#roots.get(directory);
    if (!real) {
      real = fsp.realpath(directory);
      this.#roots.set(directory, real);
      // A root that does not exist yet may exist later: do not remember the failure.
      real.then(
        (path) => this.#realRoots.set(directory, path),
        () => this.#roots.delete(directory),
      );
    }
    return real;
  }

  /**
   * Finds what `fsPath` is. A cached file costs one `stat`: the same device, inode, size and times
   * prove it is the very file whose real path was checked when it was cached. Anything else has its
   * real path checked against the root (and for hidden segments) before it is used.
   */
  resolve(root: Root, fsPath: string, rules: ServingRules): Resolved | Promise<Resolved> {
    const cache = this.#cache;
    const cached = cache?.get(fsPath);
    const stat = statBigInt(fsPath);
    if (!stat) {
      if (cached) cache?.delete(fsPath);
      return { kind: 'missing' };
    }
    if (cached && isSameVersion(cached, stat))
      return { kind: 'file', key: fsPath, path: fsPath, stat, cached };
    if (cached) cache?.delete(fsPath);
    if (!stat.isFile() && !stat.isDirectory()) return { kind: 'missing' };
    return this.#check(root, fsPath, stat, rules);
  }

  /** The slow half of `resolve`: real path, containment and visibility. */
  async #check(root: Root, fsPath: string, stat: BigIntStats, rules: ServingRules): Promise<Resolved> {
    let real: string;
    try {
      real = await fsp.realpath(fsPath);
    } catch {
      return { kind: 'missing' };
    }
    if (!isAllowedRealPath(root, real, rules)) return { kind: 'refused' };
    if (stat.isDirectory()) return { kind: 'directory', path: real };
    return { kind: 'file', key: fsPath, path: real, stat, cached: undefined };
  }

  /**
   * Reads a small file into the cache; undefined for large files (they are streamed), with the cache
   * off, or when the file changed while it was read. `httpDate` formats its `Last-Modified`.
   */
  async load(file: FoundFile, httpDate: (ms: number) => string): Promise<CachedFile | undefined> {
    const cache = this.#cache;
    if (!cache || file.stat.size > BigInt(cache.maxEntryBytes)) return undefined;
    let handle: FileHandle | undefined;
    try {
      handle = await fsp.open(file.path, 'r');
      const stat = await handle.stat({ bigint: true });
      // Only the file whose path was checked may be served: a swap after the check is refused here.
      if (stat.ino !== file.stat.ino || stat.dev !== file.stat.dev) return undefined;
      const size = Number(stat.size);
      if (size > cache.maxEntryBytes) return undefined;
      const body = Buffer.allocUnsafe(size);
      let offset = 0;
      while (offset < size) {
        const { bytesRead } = await handle.read(body, offset, size - offset, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
      }
      const after = await handle.stat({ bigint: true });
      // Written to while we read: serve nothing from memory, stream what is there instead.
      if (offset !== size || !isSameVersion(versionOf(stat), after)) return undefined;
      const modified = lastModifiedMs(stat);
      const entry: CachedFile = {
        ...versionOf(stat),
        bytes: size + 256,
        body,
        contentLength: String(size),
        etag: makeETag(stat),
        lastModified: modified,
        httpDate: httpDate(modified),
      };
      cache.set(file.key, entry);
      return entry;
    } catch {
      return undefined;
    } finally {
      await handle?.close().catch(() => {});
    }
  }

  /** Forgets everything: the cached files' memory is free once no response holds them. */
  release(): void {
    this.#cache?.clear();
    this.#parsed.clear();
    this.#absolute.clear();
    this.#roots.clear();
    this.#realRoots.clear();
    this.#types.clear();
    this.#extensions.clear();
    this.#rootObjects.clear();
  }
}

/** True when a real path may be served: inside the root (or `followSymlinks`), and not hidden. */
export function isAllowedRealPath(root: Root, real: string, rules: ServingRules): boolean {
  if (!isInsideRoot(root.real, real)) return rules.followSymlinks;
  if (rules.dotfiles) return true;
  const rel = relative(root.real, real);
  return rel === '' || !isHiddenPath(rel.split(sep));
}

interface Closable {
  once?(event: 'close', listener: () => void): unknown;
}

const resolvers = new WeakMap<object, FileResolver>();

/**
 * The resolver of `server`, made on its first request with `limits`, released (and forgotten) when
 * the server emits `close`.
 */
export function resolverOf(server: object, limits: CacheLimits): FileResolver {
  let resolver = resolvers.get(server);
  if (resolver === undefined) {
    const created = new FileResolver(limits);
    resolver = created;
    resolvers.set(server, created);
    (server as Closable).once?.('close', () => {
      created.release();
      if (resolvers.get(server) === created) resolvers.delete(server);
    });
  }
  return resolver;
}
