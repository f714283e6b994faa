import type { Dirent } from 'node:fs';
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BaseHTTPRequestHandler } from '@srv/http';
import mime from 'mime-types';
import { StaticError } from './errors.js';
import { chunkSourceOf, FileRangeStream } from './file-stream.js';
import { type ListingEntry, renderListingHtml, renderListingJson, wantsJson } from './listing.js';
import { hasExtension, isHiddenPath, type RequestPath, redirectLocation } from './path.js';
import { defaultMaxRanges } from './range.js';
import { sendFile } from './representation.js';
import {
  type FileResolver,
  type FoundFile,
  isAllowedRealPath,
  type Resolved,
  type Root,
  resolverOf,
} from './resolver.js';

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
  /** Memory the small-file cache may hold, per server (released by `close()`). Default 32 MiB; 0 disables it. */
  cacheMaxBytes?: number;
  /** Extension (`.md`, lower case) → content type, consulted before the MIME database. */
  extensionsMap?: Readonly<Record<string, string>>;
}

const allowed = 'GET, HEAD, OPTIONS';
const lookUpType = (extension: string): string =>
  (extension && mime.contentType(extension)) || 'application/octet-stream';
const allowHeader: ReadonlyArray<readonly [string, string]> = [['Allow', allowed]];

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

  /** The request path `sendHead()` is answering (a CGI local redirect passes its own). */
  #request: RequestPath | undefined;
  #head = false;

  #resolver: FileResolver | undefined;

  /** The server's resolution state and caches (released when the server closes). */
  protected get resolver(): FileResolver {
    // Asked for several times per request: looked up once.
    this.#resolver ??= resolverOf(this.server, this.options);
    return this.#resolver;
  }

  /** The directory served, absolute. */
  get directory(): string {
    const directory = this.options.directory;
    if (directory === undefined) return process.cwd();
    return this.resolver.absoluteDirectory(directory);
  }

  /** GET: the file, an index page or a listing. */
  doGET(): void | Promise<void> {
    return this.sendHead(false);
  }

  /** HEAD: what GET would send, without the body. */
  doHEAD(): void | Promise<void> {
    return this.sendHead(true);
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
  override handle(): void | Promise<void> {
    const command = this.command;
    // GET and HEAD (nearly every request) are found without building their method's name.
    const method =
      command === 'GET'
        ? this.doGET
        : command === 'HEAD'
          ? this.doHEAD
          : (this as unknown as Record<string, unknown>)[`do${command}`];
    if (typeof method !== 'function') {
      this.sendError(405, undefined, undefined, allowHeader);
      return;
    }
    // What the base class's handle() would find and call, without finding it a second time.
    return (method as () => void | Promise<void>).call(this);
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
   * `sendHead()` serves what this returns; whatever it returns, the real path must still lie inside
   * the directory (unless `followSymlinks`) and not be hidden (unless `dotfiles`).
   */
  translatePath(path: string = this.path): string {
    return this.resolver.translate(path, this.directory);
  }

  /** Python's `guess_type`: the content type for a file name, with a charset for text. */
  guessType(path: string): string {
    const resolver = this.resolver;
    const extension = resolver.extensionOf(path);
    const mapped = this.options.extensionsMap[extension];
    if (mapped !== undefined) return mapped;
    return resolver.contentType(extension, lookUpType);
  }

  /**
   * Python's `copyfile`: copies a file's bytes (one range of it) into the response, with backpressure;
   * resolves false when the client went away first. Small cached files go out in one write without
   * it, unless a subclass overrides it.
   */
  copyfile(source: Readable, outputfile: BaseHTTPRequestHandler['wfile'] = this.wfile): Promise<boolean> {
    return outputfile.pipeFrom(source, (error) => this.logError('read error: %s', error.message));
  }

  /**
   * Python's `send_head`, with the body: answers a GET (or HEAD, with `head`) for `path` (default the
   * request's) with the file, an index page, a redirect, a listing or an error. Subclasses (CGI) call
   * it for requests that are not theirs. Returns a promise only when it has to wait (a file not cached,
   * a directory, an error page after a lookup): a cached file is answered before it returns.
   */
  sendHead(head: boolean = this.command === 'HEAD', path: string = this.path): void | Promise<void> {
    let request: RequestPath;
    let fsPath: string;
    let directory: string | undefined;
    const resolver = this.resolver;
    try {
      if (this.translatePath === SimpleHTTPRequestHandler.prototype.translatePath) {
        // What parse() and translatePath() give, from one look-up, with the directory asked for once.
        directory = this.directory;
        const target = resolver.translateTarget(path, directory);
        request = target.request;
        fsPath = target.path;
      } else {
        request = resolver.parse(path);
        fsPath = this.translatePath(path);
      }
    } catch (error) {
      if (error instanceof StaticError) {
        this.sendError(error.status, error.status === 414 ? undefined : 'Bad request path');
        return;
      }
      throw error;
    }
    this.#request = request;
    this.#head = head;
    const options = this.options;
    if (!options.dotfiles && isHiddenPath(request.segments)) {
      this.sendError(404, 'File not found');
      return;
    }
    let real: string | Promise<string>;
    try {
      real = resolver.realRoot(directory ?? this.directory);
    } catch {
      this.sendError(404, 'File not found');
      return;
    }
    if (typeof real !== 'string') return this.#answerOnceRooted(real, request, fsPath, head);
    const root = resolver.rootOf(real);
    const resolving = resolver.resolve(root, fsPath, options);
    if (resolving instanceof Promise) return this.#answerFound(root, request, fsPath, head, resolving);
    if (resolving.kind === 'file' && !request.hasTrailingSlash) {
      return this.#sendFile(root, resolving, request.segments, head);
    }
    return this.#answerFound(root, request, fsPath, head, resolving);
  }

  /** `sendHead` once the served directory's real path is known (its first request). */
  async #answerOnceRooted(
    real: Promise<string>,
    request: RequestPath,
    fsPath: string,
    head: boolean,
  ): Promise<void> {
    let root: Root;
    try {
      root = this.resolver.rootOf(await real);
    } catch {
      this.sendError(404, 'File not found');
      return;
    }
    await this.#answerFound(root, request, fsPath, head, this.resolver.resolve(root, fsPath, this.options));
  }

  /** The rest of `sendHead`: a file, a directory (index page, redirect or listing), or a 404. */
  async #answerFound(
    root: Root,
    request: RequestPath,
    fsPath: string,
    head: boolean,
    resolving: Resolved | Promise<Resolved>,
  ): Promise<void> {
    const resolver = this.resolver;
    const options = this.options;
    const found = resolving instanceof Promise ? await resolving : resolving;
    if (found.kind === 'directory') {
      if (!request.hasTrailingSlash) {
        this.#redirect(redirectLocation(request));
        return;
      }
      for (const index of options.indexPages) {
        const page = await resolver.resolve(root, join(fsPath, index), options);
        if (page.kind === 'file') {
          await this.#sendFile(root, page, [...request.segments, index], head);
          return;
        }
      }
      if (!options.listing) {
        this.sendError(404, 'File not found');
        return;
      }
      await this.listDirectory(found.path);
      return;
    }
    if (found.kind === 'file' && !request.hasTrailingSlash) {
      await this.#sendFile(root, found, request.segments, head);
      return;
    }
    if (found.kind === 'missing' && options.single && !hasExtension(request.segments)) {
      for (const index of options.indexPages) {
        const page = await resolver.resolve(root, join(root.real, index), options);
        if (page.kind === 'file') {
          await this.#sendFile(root, page, [index], head);
          return;
        }
      }
    }
    this.sendError(404, 'File not found');
  }

  #sendFile(root: Root, found: FoundFile, segments: readonly string[], head: boolean): void | Promise<void> {
    return sendFile(
      this,
      {
        resolver: this.resolver,
        root,
        found,
        segments,
        head,
        readRange: (handle, start, end) => this.createReadStream(handle, start, end),
        mayEndFromMemory: this.copyfile === SimpleHTTPRequestHandler.prototype.copyfile,
      },
      this.options,
    );
  }

  /**
   * The read stream of one range (both ends inclusive), over an already open file: reads of 64 KiB
   * growing to 1 MiB while the client keeps up (file-stream.ts). Tests override it to watch reads stop
   * when the client leaves.
   */
  protected createReadStream(handle: FileHandle, start: number, end: number): Readable {
    // Only srv's own copy loop is known to let go of a chunk once written (a worker thread's relay
    // may then move its memory instead of copying it).
    const own = this.copyfile === SimpleHTTPRequestHandler.prototype.copyfile;
    return new FileRangeStream(handle, start, end, own, own ? chunkSourceOf(this.request) : undefined);
  }

  #redirect(location: string): void {
    this.sendResponse(301);
    this.sendHeader('Location', location);
    this.sendHeader('Content-Length', '0');
    this.endHeaders();
  }

  /**
   * Python's `list_directory`: answers with the listing of the directory at `path` (a filesystem
   * path, as `translatePath` gives), HTML, or JSON for `Accept: application/json`. Dotfiles, links
   * that leave the directory and special files are left out.
   */
  listDirectory(path: string): void | Promise<void> {
    return this.#listDirectory(path);
  }

  async #listDirectory(path: string): Promise<void> {
    const request = this.#request ?? this.resolver.parse(this.path);
    const segments = request.segments;
    const head = this.#request === undefined ? this.command === 'HEAD' : this.#head;
    let dirents: Dirent[];
    let root: Root;
    try {
      const real = this.resolver.realRoot(this.directory);
      root = { real: typeof real === 'string' ? real : await real };
      dirents = await fsp.readdir(path, { withFileTypes: true });
    } catch {
      this.sendError(404, 'No permission to list directory');
      return;
    }
    const entries = (
      await Promise.all(dirents.map((dirent) => this.#describeEntry(root, path, segments, dirent)))
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
    if (!head) void this.wfile.end(body);
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
      if (!isAllowedRealPath(root, real, options)) return undefined;
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
