import { randomBytes } from 'node:crypto';
import { type BigIntStats, type Dirent, promises as fsp, statSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { BaseHTTPRequestHandler } from '@srv/http';
import mime from 'mime-types';
import { type FileVersion, isSameVersion, LruCache, versionOf } from './cache.js';
import { evaluatePreconditions, isIfRangeSatisfied, lastModifiedMs, makeETag } from './conditional.js';
import { acceptableCodings, type PrecompressedCoding } from './encoding.js';
import { StaticError } from './errors.js';
import { type ListingEntry, renderListingHtml, renderListingJson, wantsJson } from './listing.js';
import {
  hasExtension,
  isHiddenPath,
  isInsideRoot,
  parseRequestPath,
  type RequestPath,
  redirectLocation,
} from './path.js';
import { type ByteRange, contentRange, defaultMaxRanges, resolveRanges } from './range.js';

/** Options of {@link SimpleHTTPRequestHandler}; each is also a static field of the class. */
export interface SimpleHTTPOptions {
  /** The directory served. Default: the current directory (read per request, like Python). */
  directory?: string | undefined;
  /** Files served for a directory, first found wins. Default `['index.html', 'index.htm']`. */
  indexPages?: readonly string[];
  /** List directories without an index page. Default true. */
  listing?: boolean;
  /** Serve and list dotfiles (names starting with `.`). Default false; `/.well-known/` is always served. */
  dotfiles?: boolean;
  /** Serve files whose real path (symlinks resolved) lies outside the directory. Default false. */
  followSymlinks?: boolean;
  /** Serve `x.br` / `x.gz` for `x` when the client accepts that coding. Default true. */
  precompressed?: boolean;
  /** Single-page apps: a missing path without a file extension gets `/index.html`. Default false. */
  single?: boolean;
  /** `Cache-Control` of files: a value, or a function of the URL path (`undefined`: no header). */
  cacheControl?: string | ((urlPath: string) => string | undefined) | undefined;
  /** Extra headers sent with every response (`[name, value]` pairs, repeatable names). */
  headers?: ReadonlyArray<readonly [string, string]>;
  /** Send `Access-Control-Allow-Origin: *` and answer CORS preflights. Default false. */
  cors?: boolean;
  /** Most ranges one request may ask for; more → 416. Default 16. */
  maxRanges?: number;
  /** Files up to this size are kept in memory. Default 64 KiB. */
  cacheMaxFileSize?: number;
  /** Memory the small-file cache may hold, per handler class. Default 32 MiB; 0 disables it. */
  cacheMaxBytes?: number;
  /** Extension (`.md`, lower case) → content type, consulted before the MIME database. */
  extensionsMap?: Readonly<Record<string, string>>;
}

interface CachedFile extends FileVersion {
  readonly bytes: number;
  readonly body: Buffer;
  readonly etag: string;
  readonly lastModified: number;
  readonly httpDate: string;
}

interface Representation {
  readonly file: Extract<Resolved, { kind: 'file' }>;
  readonly coding: PrecompressedCoding | undefined;
}

/** A path resolved on disk: a file (with its stat and maybe cached bytes), a directory, or nothing. */
type Resolved =
  | { kind: 'file'; key: string; path: string; stat: BigIntStats; cached: CachedFile | undefined }
  | { kind: 'directory'; path: string }
  | { kind: 'missing' }
  | { kind: 'refused' };

interface Root {
  readonly real: string;
}

const allowed = 'GET, HEAD, OPTIONS';
const roots = new Map<string, Promise<string>>();
const caches = new WeakMap<object, LruCache<CachedFile>>();
// What a connection holds of a file it streams is about two chunks (one written and waiting, one read
// ahead): 64 KiB keeps 200 slow readers of a large file under 30 MB, where 1 MiB chunks cost 330 MB.
const streamChunk = 64 * 1024;
// The MIME database never changes while running: one lookup per extension.
const types = new Map<string, string>();
const absoluteDirectories = new Map<string, string>();
// Request targets repeat: parsing is pure, so the last few hundred results are kept.
const parsedPaths = new Map<string, RequestPath>();
const maxParsedPaths = 512;

function parseCached(target: string): RequestPath {
  let parsed = parsedPaths.get(target);
  if (parsed === undefined) {
    parsed = parseRequestPath(target);
    if (parsedPaths.size >= maxParsedPaths) parsedPaths.delete(parsedPaths.keys().next().value!);
    parsedPaths.set(target, parsed);
  }
  return parsed;
}

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

const resolvedRoots = new Map<string, string>();

/** The real path of a served directory: synchronous once known, so a cached file never waits. */
function realRoot(directory: string): string | Promise<string> {
  const known = resolvedRoots.get(directory);
  if (known !== undefined) return known;
  let real = roots.get(directory);
  if (!real) {
    real = fsp.realpath(directory);
    roots.set(directory, real);
    // A root that does not exist yet may exist later: do not remember the failure.
    real.then(
      (path) => resolvedRoots.set(directory, path),
      () => roots.delete(directory),
    );
  }
  return real;
}

/**
 * Python's `SimpleHTTPRequestHandler`: serves the files below `directory` for GET and HEAD, with
 * directory listings, conditional and range requests, precompressed siblings and a small-file cache.
 * Safe by default: no path leaves the directory (symlinks included), dotfiles are neither served nor
 * listed, and every malformed path gets an answer (400), never a dropped connection.
 *
 * Configure with static fields in a subclass (Python's class attributes) or
 * `SimpleHTTPRequestHandler.withOptions({ directory })` (Python's `partial(Handler, directory=…)`).
 */
export class SimpleHTTPRequestHandler extends BaseHTTPRequestHandler {
  /** Where workers import this class from (threading and forking dispatchers). */
  static readonly moduleUrl: string = import.meta.url;
  static readonly exportName: string = 'SimpleHTTPRequestHandler';
  static override serverVersion = 'SimpleHTTP/0.6';

  static directory: string | undefined = undefined;
  static indexPages: readonly string[] = ['index.html', 'index.htm'];
  static listing = true;
  static dotfiles = false;
  static followSymlinks = false;
  static precompressed = true;
  static single = false;
  static cacheControl: SimpleHTTPOptions['cacheControl'] = undefined;
  static headers: ReadonlyArray<readonly [string, string]> = [];
  static cors = false;
  static maxRanges = defaultMaxRanges;
  static cacheMaxFileSize = 64 * 1024;
  static cacheMaxBytes = 32 * 1024 * 1024;
  static extensionsMap: Readonly<Record<string, string>> = {};

  /**
   * A subclass with these options (the static fields above). Python's
   * `functools.partial(SimpleHTTPRequestHandler, directory=…)`.
   */
  static withOptions<T extends typeof SimpleHTTPRequestHandler>(this: T, options: SimpleHTTPOptions): T {
    const Configured = class extends (this as typeof SimpleHTTPRequestHandler) {};
    for (const [key, value] of Object.entries(options)) {
      if (value !== undefined) Object.defineProperty(Configured, key, { value, writable: true });
    }
    Object.defineProperty(Configured, 'name', { value: this.name });
    return Configured as T;
  }

  /** The class's static fields. */
  protected get options(): Required<Omit<SimpleHTTPOptions, 'directory' | 'cacheControl'>> &
    Pick<SimpleHTTPOptions, 'directory' | 'cacheControl'> {
    return this.constructor as typeof SimpleHTTPRequestHandler;
  }

  /** The directory served, absolute. */
  get directory(): string {
    const directory = this.options.directory;
    if (directory === undefined) return process.cwd();
    let absolute = absoluteDirectories.get(directory);
    if (absolute === undefined) {
      absolute = resolve(directory);
      if (absoluteDirectories.size < 64) absoluteDirectories.set(directory, absolute);
    }
    return absolute;
  }

  /** GET: the file, an index page or a listing. */
  async doGET(): Promise<void> {
    await this.sendHead(false);
  }

  /** HEAD: what GET would send, without the body. */
  async doHEAD(): Promise<void> {
    await this.sendHead(true);
  }

  /** OPTIONS: 204 with `Allow` (and the CORS preflight answer when `cors` is on). */
  doOPTIONS(): void {
    this.sendResponse(204);
    this.sendHeader('Allow', allowed);
    if (this.options.cors) {
      this.sendHeader('Access-Control-Allow-Methods', allowed);
      const requested = this.headers.get('access-control-request-headers');
      if (requested !== undefined) this.sendHeader('Access-Control-Allow-Headers', requested);
      this.sendHeader('Access-Control-Max-Age', '86400');
    }
    this.sendHeader('Content-Length', '0');
    this.endHeaders();
  }

  /** Methods without a `do<METHOD>()` get 405 with `Allow` (the resource exists; the method does not apply). */
  override async handle(): Promise<void> {
    const method = (this as unknown as Record<string, unknown>)[`do${this.command}`];
    if (typeof method !== 'function') {
      this.res.setHeader('Allow', allowed);
      this.sendError(405);
      return;
    }
    await super.handle();
  }

  /** Adds the configured extra headers and CORS origin to every final response, errors included. */
  override sendResponse(code: number, message?: string): void {
    super.sendResponse(code, message);
    if (code < 200) return;
    const options = this.options;
    if (options.cors) this.sendHeader('Access-Control-Allow-Origin', '*');
    for (const [name, value] of options.headers) this.sendHeader(name, value);
  }

  /**
   * Python's `translate_path`: the filesystem path a request path maps to (below `directory`, dot
   * segments resolved, symlinks not yet). Throws `SRV_ERR_INVALID_PATH` for a path that must be refused.
   */
  translatePath(path: string = this.path): string {
    const { segments } = parseRequestPath(path);
    return join(this.directory, ...segments);
  }

  /** Python's `guess_type`: the content type for a file name, with a charset for text. */
  guessType(path: string): string {
    const dot = path.lastIndexOf('.');
    const extension = dot === -1 ? '' : path.slice(dot).toLowerCase();
    const mapped = this.options.extensionsMap[extension];
    if (mapped !== undefined) return mapped;
    let type = types.get(extension);
    if (type === undefined) {
      type = (extension && mime.contentType(extension)) || 'application/octet-stream';
      types.set(extension, type);
    }
    return type;
  }

  /**
   * Answers a GET (or HEAD, with `head`): Python's `send_head` and `copyfile` in one. Subclasses (CGI)
   * call it for requests that are not theirs.
   */
  async sendHead(head: boolean): Promise<void> {
    let request: RequestPath;
    try {
      request = parseCached(this.path);
    } catch (error) {
      if (error instanceof StaticError) {
        this.sendError(error.status, error.status === 414 ? undefined : 'Bad request path');
        return;
      }
      throw error;
    }
    const options = this.options;
    if (!options.dotfiles && isHiddenPath(request.segments)) {
      this.sendError(404, 'File not found');
      return;
    }
    let root: Root;
    try {
      const real = realRoot(this.directory);
      root = { real: typeof real === 'string' ? real : await real };
    } catch {
      this.sendError(404, 'File not found');
      return;
    }
    // Segments hold no separator, `.` or `..` (parseRequestPath): joining needs no normalising.
    const fsPath =
      request.segments.length === 0
        ? root.real
        : `${root.real.endsWith(sep) ? root.real : root.real + sep}${request.segments.join(sep)}`;
    const resolving = this.#resolve(root, fsPath);
    const found = resolving instanceof Promise ? await resolving : resolving;
    if (found.kind === 'directory') {
      if (!request.hasTrailingSlash) {
        this.#redirect(redirectLocation(request));
        return;
      }
      for (const index of options.indexPages) {
        const page = await this.#resolve(root, join(fsPath, index));
        if (page.kind === 'file') {
          await this.#sendFile(root, page, [...request.segments, index], head);
          return;
        }
      }
      if (!options.listing) {
        this.sendError(404, 'File not found');
        return;
      }
      await this.#sendListing(root, found.path, request.segments, head);
      return;
    }
    if (found.kind === 'file' && !request.hasTrailingSlash) {
      await this.#sendFile(root, found, request.segments, head);
      return;
    }
    if (found.kind === 'missing' && options.single && !hasExtension(request.segments)) {
      for (const index of options.indexPages) {
        const page = await this.#resolve(root, join(root.real, index));
        if (page.kind === 'file') {
          await this.#sendFile(root, page, [index], head);
          return;
        }
      }
    }
    this.sendError(404, 'File not found');
  }

  #cache(): LruCache<CachedFile> | undefined {
    const options = this.options;
    if (options.cacheMaxBytes <= 0) return undefined;
    let cache = caches.get(this.constructor);
    if (!cache) {
      cache = new LruCache<CachedFile>(options.cacheMaxBytes, options.cacheMaxFileSize);
      caches.set(this.constructor, cache);
    }
    return cache;
  }

  /**
   * Finds what `fsPath` is. A cached file costs one `stat`: the same device, inode, size and times
   * prove it is the very file whose real path was checked when it was cached. Anything else has its
   * real path checked against the root (and for hidden segments) before it is used.
   */
  #resolve(root: Root, fsPath: string): Resolved | Promise<Resolved> {
    const cache = this.#cache();
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
    return this.#check(root, fsPath, stat);
  }

  /** The slow half of `#resolve`: real path, containment and visibility. */
  async #check(root: Root, fsPath: string, stat: BigIntStats): Promise<Resolved> {
    let real: string;
    try {
      real = await fsp.realpath(fsPath);
    } catch {
      return { kind: 'missing' };
    }
    if (!this.#isAllowedRealPath(root, real)) return { kind: 'refused' };
    if (stat.isDirectory()) return { kind: 'directory', path: real };
    return { kind: 'file', key: fsPath, path: real, stat, cached: undefined };
  }

  #isAllowedRealPath(root: Root, real: string): boolean {
    const options = this.options;
    if (!isInsideRoot(root.real, real)) return options.followSymlinks;
    if (options.dotfiles) return true;
    const rel = relative(root.real, real);
    return rel === '' || !isHiddenPath(rel.split(sep));
  }

  /** Picks the representation: a precompressed sibling the client accepts, else the file itself. */
  #selectRepresentation(
    root: Root,
    file: Extract<Resolved, { kind: 'file' }>,
  ): Representation | Promise<Representation> {
    if (!this.options.precompressed) return { file, coding: undefined };
    const codings = acceptableCodings(this.headers.get('accept-encoding'));
    const next = (index: number): Representation | Promise<Representation> => {
      const coding = codings[index];
      if (coding === undefined) return { file, coding: undefined };
      const resolving = this.#resolve(root, file.key + coding.suffix);
      const pick = (sibling: Resolved) =>
        sibling.kind === 'file' ? { file: sibling, coding } : next(index + 1);
      return resolving instanceof Promise ? resolving.then(pick) : pick(resolving);
    };
    return next(0);
  }

  async #sendFile(
    root: Root,
    found: Extract<Resolved, { kind: 'file' }>,
    segments: readonly string[],
    head: boolean,
  ): Promise<void> {
    const options = this.options;
    const selecting = this.#selectRepresentation(root, found);
    const { file, coding } = selecting instanceof Promise ? await selecting : selecting;
    const urlPath = `/${segments.join('/')}`;
    const contentType = this.guessType(segments[segments.length - 1] ?? '');
    const cached =
      file.cached ??
      (file.stat.size <= BigInt(this.options.cacheMaxFileSize) ? await this.#load(file) : undefined);
    const stat = file.stat;
    const size = cached ? cached.body.length : Number(stat.size);
    const etag = cached ? cached.etag : makeETag(stat);
    const modified = cached ? cached.lastModified : lastModifiedMs(stat);
    const cacheControl =
      typeof options.cacheControl === 'function' ? options.cacheControl(urlPath) : options.cacheControl;

    // Headers computed from the file go out with replaceHeader(): they replace any configured extra
    // header of the same name instead of repeating it.
    const validators = () => {
      this.replaceHeader('ETag', etag);
      this.replaceHeader('Last-Modified', cached ? cached.httpDate : this.dateTimeString(modified));
      if (cacheControl !== undefined) this.sendHeader('Cache-Control', cacheControl);
      if (options.precompressed) this.replaceHeader('Vary', 'Accept-Encoding');
    };

    const headers = this.headers;
    const isConditional =
      headers.has('if-match') ||
      headers.has('if-none-match') ||
      headers.has('if-modified-since') ||
      headers.has('if-unmodified-since');
    const precondition = !isConditional
      ? 'proceed'
      : evaluatePreconditions(
          {
            'if-match': this.headers.get('if-match'),
            'if-none-match': this.headers.get('if-none-match'),
            'if-modified-since': this.headers.get('if-modified-since'),
            'if-unmodified-since': this.headers.get('if-unmodified-since'),
            'cache-control': this.headers.get('cache-control'),
          },
          etag,
          modified,
        );
    if (precondition === 'failed') {
      this.sendError(412);
      return;
    }
    if (precondition === 'not-modified') {
      this.sendResponse(304);
      validators();
      this.endHeaders();
      return;
    }

    let ranges: readonly ByteRange[] | undefined;
    const rangeHeader = this.headers.get('range');
    if (
      !head &&
      rangeHeader !== undefined &&
      isIfRangeSatisfied(this.headers.get('if-range'), etag, modified)
    ) {
      const result = resolveRanges(rangeHeader, size, options.maxRanges);
      if (result.kind === 'unsatisfiable') {
        this.sendResponse(416);
        this.replaceHeader('Content-Range', `bytes */${size}`);
        this.replaceHeader('Content-Length', '0');
        validators();
        this.endHeaders();
        return;
      }
      if (result.kind === 'partial') ranges = result.ranges;
    }

    if (ranges === undefined) {
      this.sendResponse(200);
      this.replaceHeader('Content-Type', contentType);
      this.replaceHeader('Content-Length', String(size));
      if (coding) this.replaceHeader('Content-Encoding', coding.coding);
      this.replaceHeader('Accept-Ranges', 'bytes');
      validators();
      this.endHeaders();
      if (head) return;
      if (cached) this.res.end(cached.body);
      else await this.#stream(file, [{ start: 0, end: size - 1 }], undefined);
      return;
    }

    if (ranges.length === 1) {
      const range = ranges[0]!;
      this.sendResponse(206);
      this.replaceHeader('Content-Type', contentType);
      this.replaceHeader('Content-Range', contentRange(range, size));
      this.replaceHeader('Content-Length', String(range.end - range.start + 1));
      if (coding) this.replaceHeader('Content-Encoding', coding.coding);
      this.replaceHeader('Accept-Ranges', 'bytes');
      validators();
      this.endHeaders();
      if (cached) this.res.end(cached.body.subarray(range.start, range.end + 1));
      else await this.#stream(file, ranges, undefined);
      return;
    }

    const boundary = randomBytes(12).toString('hex');
    const partHeads = ranges.map(
      (range, index) =>
        `${index === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${contentType}\r\n` +
        `Content-Range: ${contentRange(range, size)}\r\n\r\n`,
    );
    const tail = `\r\n--${boundary}--\r\n`;
    let length = Buffer.byteLength(tail);
    for (let index = 0; index < ranges.length; index++) {
      length += Buffer.byteLength(partHeads[index]!) + ranges[index]!.end - ranges[index]!.start + 1;
    }
    this.sendResponse(206);
    this.replaceHeader('Content-Type', `multipart/byteranges; boundary=${boundary}`);
    this.replaceHeader('Content-Length', String(length));
    if (coding) this.replaceHeader('Content-Encoding', coding.coding);
    this.replaceHeader('Accept-Ranges', 'bytes');
    validators();
    this.endHeaders();
    if (cached) {
      const parts: Buffer[] = [];
      ranges.forEach((range, index) => {
        parts.push(Buffer.from(partHeads[index]!), cached.body.subarray(range.start, range.end + 1));
      });
      parts.push(Buffer.from(tail));
      this.res.end(Buffer.concat(parts));
      return;
    }
    await this.#stream(file, ranges, { heads: partHeads, tail });
  }

  /** Reads a small file into the cache; undefined for large files (they are streamed). */
  async #load(file: Extract<Resolved, { kind: 'file' }>): Promise<CachedFile | undefined> {
    const cache = this.#cache();
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
      const entry: CachedFile = {
        ...versionOf(stat),
        bytes: size + 256,
        body,
        etag: makeETag(stat),
        lastModified: lastModifiedMs(stat),
        httpDate: this.dateTimeString(lastModifiedMs(stat)),
      };
      cache.set(file.key, entry);
      return entry;
    } catch {
      return undefined;
    } finally {
      await handle?.close().catch(() => {});
    }
  }

  /**
   * Streams ranges of a file with backpressure, in large chunks; a client that goes away stops the
   * read at once (the read stream is destroyed and the descriptor closed).
   */
  async #stream(
    file: Extract<Resolved, { kind: 'file' }>,
    ranges: readonly ByteRange[],
    multipart: { heads: readonly string[]; tail: string } | undefined,
  ): Promise<void> {
    const res = this.res;
    let handle: FileHandle;
    try {
      handle = await fsp.open(file.path, 'r');
    } catch (error) {
      res.destroy(error as Error);
      return;
    }
    try {
      const stat = await handle.stat({ bigint: true });
      if (stat.ino !== file.stat.ino || stat.dev !== file.stat.dev) {
        res.destroy();
        return;
      }
      for (let index = 0; index < ranges.length; index++) {
        if (res.destroyed) return;
        if (multipart) res.write(multipart.heads[index]!);
        const range = ranges[index]!;
        if (range.end >= range.start) {
          const stream = this.createReadStream(handle, range.start, range.end);
          if (!(await this.#pump(stream))) return;
        }
      }
      if (multipart) res.write(multipart.tail);
      res.end();
    } finally {
      await handle.close().catch(() => {});
    }
  }

  /**
   * The read stream of one range (both ends inclusive), over an already open file. Tests override it
   * to watch reads stop when the client leaves.
   */
  protected createReadStream(handle: FileHandle, start: number, end: number): Readable {
    return handle.createReadStream({ start, end, highWaterMark: streamChunk, autoClose: false });
  }

  /** Copies one stream to the response; resolves false when the client went away first. */
  #pump(stream: Readable): Promise<boolean> {
    const res = this.res;
    return new Promise<boolean>((done) => {
      let settled = false;
      const finish = (ok: boolean) => {
        if (settled) return;
        settled = true;
        res.off('close', onClose);
        res.off('drain', onDrain);
        if (!ok) stream.destroy();
        done(ok);
      };
      const onClose = () => finish(false);
      const onDrain = () => stream.resume();
      res.on('close', onClose);
      res.on('drain', onDrain);
      stream.on('data', (chunk: Buffer) => {
        if (!res.write(chunk)) stream.pause();
      });
      stream.once('end', () => finish(true));
      stream.once('error', (error: Error) => {
        this.logError('read error: %s', error.message);
        res.destroy();
        finish(false);
      });
      if (res.destroyed) finish(false);
    });
  }

  #redirect(location: string): void {
    this.sendResponse(301);
    this.sendHeader('Location', location);
    this.sendHeader('Content-Length', '0');
    this.endHeaders();
  }

  /** Python's `list_directory`: HTML, or JSON for `Accept: application/json`. */
  async #sendListing(
    root: Root,
    directory: string,
    segments: readonly string[],
    head: boolean,
  ): Promise<void> {
    let dirents: Dirent[];
    try {
      dirents = await fsp.readdir(directory, { withFileTypes: true });
    } catch {
      this.sendError(404, 'No permission to list directory');
      return;
    }
    const entries = (
      await Promise.all(dirents.map((dirent) => this.#describeEntry(root, directory, segments, dirent)))
    ).filter((entry): entry is ListingEntry => entry !== undefined);
    const json = wantsJson(this.headers.get('accept'));
    const body = Buffer.from(
      json ? renderListingJson(entries) : renderListingHtml(segments, entries),
      'utf8',
    );
    this.sendResponse(200);
    this.sendHeader('Content-Type', json ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8');
    this.sendHeader('Content-Length', String(body.length));
    this.sendHeader('Vary', 'Accept');
    this.endHeaders();
    if (!head) this.res.end(body);
  }

  /** One listing entry, or undefined for what must not be shown (dotfiles, escaping links, specials). */
  async #describeEntry(
    root: Root,
    directory: string,
    segments: readonly string[],
    dirent: Dirent,
  ): Promise<ListingEntry | undefined> {
    const options = this.options;
    const name = dirent.name;
    if (!options.dotfiles && isHiddenPath([...segments, name])) return undefined;
    const full = join(directory, name);
    const isLink = dirent.isSymbolicLink();
    if (isLink) {
      let real: string;
      try {
        real = await fsp.realpath(full);
      } catch {
        return undefined;
      }
      if (!this.#isAllowedRealPath(root, real)) return undefined;
    }
    let stat: Awaited<ReturnType<typeof fsp.stat>>;
    try {
      stat = await fsp.stat(full);
    } catch {
      return undefined;
    }
    const isDirectory = stat.isDirectory();
    if (!isDirectory && !stat.isFile()) return undefined;
    return {
      name,
      type: isLink ? 'symlink' : isDirectory ? 'directory' : 'file',
      isDirectory,
      size: isDirectory ? 0 : stat.size,
      mtime: stat.mtime,
    };
  }
}
