import path from 'node:path';
import type { Readable } from 'node:stream';
import { type SimpleHTTPOptions, SimpleHTTPRequestHandler } from '@srv/static';
import { explainRefusal } from './access.js';
import { buildEnvironment } from './environment.js';
import { CgiError, createCgiError } from './errors.js';
import { startScript } from './launcher.js';
import { ConcurrencyLimiter } from './limiter.js';
import { type ScriptResponder, serveScript } from './output.js';
import { type DecodedTarget, decodeTarget, matchCgiDirectory, type ResolvedScript } from './path.js';
import type { ScriptLauncherKind, ScriptProcess } from './process.js';
import type { ScriptHeaders } from './response.js';
import { ScriptCache } from './script-cache.js';
import { type SpooledBody, spoolBody } from './spool.js';
import { resolveScriptUser, type UserIds } from './user.js';

/** Options of {@link CGIHTTPRequestHandler}: static fields, or `CGIHTTPRequestHandler.withOptions({…})`. */
export interface CGIOptions extends SimpleHTTPOptions {
  /** URL directories whose files are scripts (subdirectories included). Default `['/cgi-bin', '/htbin']`. */
  cgiDirectories?: readonly string[];
  /** Who scripts run as when the server is root: a user name or id; `null` keeps root. Default `'nobody'`. */
  scriptUser?: string | number | null;
  /** Interpreters for scripts without an execute bit, by extension: `{ '.py': 'python3' }`. Default none. */
  interpreters?: Readonly<Record<string, string | readonly string[]>>;
  /** Server environment variables passed on besides `PATH` and `LD_LIBRARY_PATH`. Default none. */
  inheritEnv?: readonly string[];
  /** Variables set for every script; they override everything else. Default none. */
  env?: Readonly<Record<string, string>>;
  /** Pass `Authorization` / `Proxy-Authorization` to scripts as `HTTP_*`. Default false. */
  passAuthorization?: boolean;
  /** Pass the words of a query without `=` as arguments (GET/HEAD, no word starting with `-`). Default false. */
  queryArgv?: boolean;
  /** Largest request body, in bytes (413 above). Default 10 MiB. */
  maxBodySize?: number;
  /** Largest header block a script may print, in bytes (502 above). Default 64 KiB. */
  maxScriptHeaderSize?: number;
  /** Milliseconds a script has to finish its header block (504 after). Default 30000. */
  scriptHeaderTimeout?: number;
  /** Milliseconds a script may run in all; 0 = no limit. Default 300000. */
  scriptTimeout?: number;
  /** Milliseconds between SIGTERM and SIGKILL when a script is stopped. Default 2000. */
  killGrace?: number;
  /** Scripts running at once, per server. Default 32. */
  maxScripts?: number;
  /** Requests waiting for a script slot before 503. Default 64. */
  maxQueuedScripts?: number;
  /** Milliseconds a request waits for a script slot before 503. Default 10000. */
  queueTimeout?: number;
  /** Local redirects (`Location: /path`) followed for one request before 500. Default 10. */
  maxLocalRedirects?: number;
  /** Where chunked request bodies are spooled. Default the system's temporary directory. */
  tempDirectory?: string | undefined;
  /**
   * Who spawns scripts. `'helper'` (default): a small launcher process, started with the first script,
   * so the fork neither copies the server's memory nor blocks its event loop; scripts' stdio is
   * relayed to the server with backpressure. `'direct'`: the server spawns them itself. Worker threads
   * always spawn directly.
   */
  launcher?: ScriptLauncherKind;
}

type CGIStatics = Required<Omit<CGIOptions, keyof SimpleHTTPOptions | 'tempDirectory'>> &
  Pick<CGIOptions, 'tempDirectory'>;

const limiters = new WeakMap<object, ConcurrencyLimiter>();
// A lookup in flight is a promise; once it has settled the ids themselves, so later requests need no await.
const users = new Map<string, Promise<UserIds | undefined> | UserIds | undefined>();
// Resolutions are checked against the file on every request (one lstat), so one cache serves all servers.
const scripts = new ScriptCache();

/** The ids scripts run as; synchronous once the user has been looked up. */
function scriptUserIds(user: string | number | null): UserIds | undefined | Promise<UserIds | undefined> {
  const key = typeof user === 'string' ? `s${user}` : String(user);
  if (users.has(key)) return users.get(key);
  const ids = resolveScriptUser(user);
  users.set(key, ids);
  ids.then(
    (found) => users.set(key, found),
    () => users.delete(key),
  );
  return ids;
}

/** Query words as arguments, the old CGI way (RFC 3875 §4.4): only for a query without `=`. */
function queryArguments(query: string): string[] {
  if (query === '' || query.includes('=')) return [];
  let words: string[];
  try {
    words = query.split('+').map((word) => decodeURIComponent(word));
  } catch {
    return [];
  }
  // A word like `-e` would be read as an option by the script or its interpreter.
  if (words.some((word) => word.startsWith('-') || word.includes('\0'))) return [];
  return words;
}

type RequestBody = { length: number; source: Readable; spooled?: SpooledBody };

/** A local redirect to follow: the new target, and how many have been followed for this request. */
interface Dispatch {
  readonly target: string;
  readonly depth: number;
}

const allowHeaders: ReadonlyArray<readonly [string, string]> = [['Allow', 'GET, HEAD, OPTIONS']];
const retryHeaders: ReadonlyArray<readonly [string, string]> = [['Retry-After', '1']];

/**
 * Python's `CGIHTTPRequestHandler`, RFC 3875 complete and safe by default. Paths under
 * `cgiDirectories` run as scripts (GET, HEAD, POST); everything else is served by
 * {@link SimpleHTTPRequestHandler}. Scripts get a clean environment, their status and redirects are
 * honoured, their output streams with backpressure and is never trusted for framing, and they are
 * bounded in time and number.
 */
export class CGIHTTPRequestHandler extends SimpleHTTPRequestHandler {
  /** URL of this module, so workers (threading, forking) can load the handler. */
  static override readonly moduleUrl: string = import.meta.url;
  static override readonly exportName: string = 'CGIHTTPRequestHandler';

  static cgiDirectories: readonly string[] = ['/cgi-bin', '/htbin'];
  static scriptUser: string | number | null = 'nobody';
  static interpreters: Readonly<Record<string, string | readonly string[]>> = {};
  static inheritEnv: readonly string[] = [];
  static env: Readonly<Record<string, string>> = {};
  static passAuthorization = false;
  static queryArgv = false;
  static maxBodySize = 10 * 1024 * 1024;
  static maxScriptHeaderSize = 64 * 1024;
  static scriptHeaderTimeout = 30_000;
  static scriptTimeout = 300_000;
  static killGrace = 2_000;
  static maxScripts = 32;
  static maxQueuedScripts = 64;
  static queueTimeout = 10_000;
  static maxLocalRedirects = 10;
  static tempDirectory: string | undefined = undefined;
  static launcher: ScriptLauncherKind = 'helper';

  /**
   * Set by a subclass that authenticated the client (e.g. in an overridden `doGET` before calling
   * `super.doGET()`): becomes `AUTH_TYPE` and `REMOTE_USER`. Never taken from the request itself.
   */
  remoteUser: { readonly type: string; readonly user: string } | undefined = undefined;

  /** A subclass with these options (the static fields above). */
  static override withOptions<T extends typeof SimpleHTTPRequestHandler>(this: T, options: CGIOptions): T {
    return SimpleHTTPRequestHandler.withOptions.call(this, options) as T;
  }

  /** The class's CGI settings. */
  protected get cgiOptions(): CGIStatics {
    return this.constructor as unknown as CGIStatics;
  }

  /** Refuses a body over `maxBodySize` before the client sends it, instead of after `100 Continue`. */
  override handleExpect100(): boolean | Promise<boolean> {
    const length = Number(this.headers.get('content-length'));
    if (Number.isFinite(length) && length > this.cgiOptions.maxBodySize) {
      this.closeConnection = true;
      this.#fail(
        createCgiError(
          'SRV_ERR_CGI_BODY_TOO_LARGE',
          `request body of ${length} bytes, limit ${this.cgiOptions.maxBodySize}`,
        ),
      );
      return false;
    }
    return super.handleExpect100();
  }

  /** GET: a script under a CGI directory, any other path a file. */
  override async doGET(): Promise<void> {
    await this.#route(this.path, 0);
  }

  /** HEAD: as GET; a script's body is read and discarded. */
  override async doHEAD(): Promise<void> {
    await this.#route(this.path, 0);
  }

  /** POST: only to scripts; 405 elsewhere. */
  async doPOST(): Promise<void> {
    await this.#route(this.path, 0);
  }

  /**
   * Python's `is_cgi`: the decoded, collapsed path and its CGI directory when the request names a
   * script, `undefined` otherwise. Throws `SRV_ERR_CGI_BAD_REQUEST` for a target that must be refused.
   */
  isCgi(target: string = this.path): DecodedTarget | undefined {
    const decoded = decodeTarget(target);
    return matchCgiDirectory(decoded.path, this.cgiOptions.cgiDirectories) ? decoded : undefined;
  }

  async #route(target: string, depth: number): Promise<void> {
    let decoded: DecodedTarget | undefined;
    try {
      decoded = this.isCgi(target);
    } catch (error) {
      if (error instanceof CgiError) {
        this.sendError(error.status, 'Bad request path');
        return;
      }
      throw error;
    }
    if (decoded === undefined) {
      if (this.command === 'POST' && depth === 0) {
        this.#fail(createCgiError('SRV_ERR_CGI_METHOD_NOT_ALLOWED', `POST to ${decodeTarget(target).path}`));
        return;
      }
      await this.sendHead(this.command === 'HEAD', target);
      return;
    }
    let next: Dispatch | undefined;
    try {
      next = await this.runCgi(decoded, target, depth);
    } catch (error) {
      if (!(error instanceof CgiError)) throw error;
      this.#fail(error);
      return;
    }
    if (next === undefined) return;
    if (next.depth > this.cgiOptions.maxLocalRedirects) {
      this.#fail(
        createCgiError(
          'SRV_ERR_CGI_REDIRECT_LOOP',
          `more than ${this.cgiOptions.maxLocalRedirects} local redirects`,
        ),
      );
      return;
    }
    // A local redirect is a new GET for the new path (RFC 3875 §6.2.2; HEAD stays HEAD): the target
    // and depth are arguments, the request as received stays as it was.
    await this.#route(next.target, next.depth);
  }

  #fail(error: CgiError): void {
    if (error.status >= 500 || error.code === 'SRV_ERR_CGI_FORBIDDEN') this.logError('%s', error.message);
    if (this.headersSent || this.wfile.closed) {
      this.wfile.destroy();
      return;
    }
    const messages: Record<number, string> = {
      400: 'Bad request',
      403: 'CGI script not allowed',
      404: 'No such CGI script',
      405: 'Can only POST to CGI scripts',
      413: 'Request body too large',
      500: 'CGI script could not be run',
      502: 'CGI script did not produce a valid response',
      503: 'Too many CGI scripts running',
      504: 'CGI script did not answer in time',
    };
    const headers = error.status === 503 ? retryHeaders : error.status === 405 ? allowHeaders : undefined;
    this.sendError(error.status, messages[error.status], error.explain, headers);
  }

  /** The method a script sees: the request's, or GET after a local redirect (HEAD stays HEAD). */
  #method(depth: number): string {
    return depth > 0 && this.command !== 'HEAD' ? 'GET' : this.command;
  }

  /**
   * The body the script reads: streamed with its length, spooled when chunked, none otherwise.
   * Synchronous unless there is a body to spool.
   */
  #requestBody(depth: number): RequestBody | undefined | Promise<RequestBody> {
    if (depth > 0) return undefined;
    const { maxBodySize, tempDirectory } = this.cgiOptions;
    const lengthHeader = this.headers.get('content-length');
    if (this.headers.has('transfer-encoding')) {
      return spoolBody(this.req, maxBodySize, tempDirectory).then((spooled) => ({
        length: spooled.length,
        source: spooled.open(),
        spooled,
      }));
    }
    if (lengthHeader === undefined) return undefined;
    const length = Number(lengthHeader);
    if (!Number.isSafeInteger(length) || length < 0) {
      throw createCgiError('SRV_ERR_CGI_BAD_REQUEST', `bad Content-Length ${JSON.stringify(lengthHeader)}`);
    }
    if (length > maxBodySize) {
      this.closeConnection = true;
      throw createCgiError(
        'SRV_ERR_CGI_BODY_TOO_LARGE',
        `request body of ${length} bytes, limit ${maxBodySize}`,
      );
    }
    if (length === 0) return undefined;
    return { length, source: this.req };
  }

  /** The program and arguments that run a script: itself, or its configured interpreter. */
  #command(script: ResolvedScript, query: string, method: string): { command: string; args: string[] } {
    const options = this.cgiOptions;
    const args = options.queryArgv && (method === 'GET' || method === 'HEAD') ? queryArguments(query) : [];
    if (script.isExecutable) return { command: script.scriptFilename, args };
    const interpreter = options.interpreters[path.extname(script.scriptFilename).toLowerCase()];
    if (interpreter === undefined) {
      throw createCgiError('SRV_ERR_CGI_FORBIDDEN', `CGI script is not executable: ${script.scriptFilename}`);
    }
    const [command, ...extra] = typeof interpreter === 'string' ? [interpreter] : interpreter;
    if (command === undefined) {
      throw createCgiError('SRV_ERR_CGI_SPAWN_FAILED', `empty interpreter for ${script.scriptFilename}`);
    }
    return { command, args: [...extra, script.scriptFilename, ...args] };
  }

  /**
   * Runs the script a decoded CGI path names and answers with its output. Resolves with the target of
   * a local redirect when the script asked for one; throws a {@link CgiError} when the request or the
   * script failed before any of the response was sent.
   */
  protected async runCgi(
    decoded: DecodedTarget,
    target: string,
    depth: number,
  ): Promise<Dispatch | undefined> {
    const options = this.cgiOptions;
    const root = this.directory;
    // Each await below is skipped when its value is already known: a request that needs no file
    // system trip reaches the spawn in the same tick it arrived in.
    const resolving = scripts.resolve(root, decoded.path, options.cgiDirectories, {
      dotfiles: this.options.dotfiles,
    });
    const script = resolving instanceof Promise ? await resolving : resolving;
    const method = this.#method(depth);
    const { command, args } = this.#command(script, decoded.query, method);
    const userIds = scriptUserIds(options.scriptUser);
    const user = userIds instanceof Promise ? await userIds : userIds;
    const bodyOrPromise = this.#requestBody(depth);
    const body = bodyOrPromise instanceof Promise ? await bodyOrPromise : bodyOrPromise;
    try {
      const environment = buildEnvironment(
        {
          method,
          target,
          query: decoded.query,
          protocol: this.requestVersion,
          scriptName: script.scriptName,
          scriptFilename: script.scriptFilename,
          pathInfo: script.pathInfo,
          pathTranslated: path.join(root, script.pathInfo),
          rawHeaders: this.headers.raw,
          local: this.info.local,
          remote: this.clientAddress,
          tls: 'tls' in this.info && this.info.tls === true,
          serverSoftware: this.versionString(),
          ...(body ? { body: { length: body.length } } : {}),
          ...(this.remoteUser ? { auth: this.remoteUser } : {}),
        },
        { inheritEnv: options.inheritEnv, env: options.env, passAuthorization: options.passAuthorization },
      );
      const limiter = this.#limiter();
      let release = limiter.tryAcquire();
      if (release === undefined) {
        const aborted = new AbortController();
        const onClose = () => aborted.abort();
        this.wfile.stream.once('close', onClose);
        try {
          release = await limiter.acquire(aborted.signal);
        } finally {
          this.wfile.stream.off('close', onClose);
        }
      }
      let child: ScriptProcess;
      try {
        const started = startScript({
          command,
          args,
          cwd: script.directory,
          env: environment,
          user,
          killGrace: options.killGrace,
          hasInput: body !== undefined,
          launcher: options.launcher,
        });
        child = started instanceof Promise ? await started : started;
      } catch (error) {
        release();
        if (error instanceof CgiError && error.code === 'SRV_ERR_CGI_FORBIDDEN') {
          throw await explainRefusal(error, command, script, user, options.scriptUser);
        }
        throw error;
      }
      // The slot is the process's: it is given back when the script has exited, even when the
      // response was complete before that (a script that closed its output and still runs).
      void child.exited.then(release);
      const redirect = await serveScript(this.#responder(), child, script.scriptName, body?.source, options);
      return redirect === undefined ? undefined : { target: redirect.location!, depth: depth + 1 };
    } finally {
      await body?.spooled?.close();
    }
  }

  #limiter(): ConcurrencyLimiter {
    let limiter = limiters.get(this.server);
    if (limiter === undefined) {
      const { maxScripts, maxQueuedScripts, queueTimeout } = this.cgiOptions;
      limiter = new ConcurrencyLimiter(maxScripts, maxQueuedScripts, queueTimeout);
      limiters.set(this.server, limiter);
    }
    return limiter;
  }

  /** What the script's output needs of this handler (output.ts). */
  #responder(): ScriptResponder {
    return {
      wfile: this.wfile,
      isHead: this.command === 'HEAD',
      logError: (format, ...args) => this.logError(format, ...args),
      sendScriptHeaders: (headers, kind, length) => this.#sendScriptHeaders(headers, kind, length),
    };
  }

  /** The status line and the script's headers; `contentLength` when the whole body is known. */
  #sendScriptHeaders(
    headers: ScriptHeaders,
    kind: 'document' | 'client-redirect',
    contentLength?: number,
  ): void {
    const status = headers.status;
    const code = status?.code ?? (kind === 'client-redirect' ? 302 : 200);
    this.sendResponse(code, status?.reason || undefined);
    if (headers.location !== undefined) this.sendHeader('Location', headers.location);
    if (headers.contentType !== undefined) this.sendHeader('Content-Type', headers.contentType);
    for (const [name, value] of headers.fields) this.sendHeader(name, value);
    // The length is the server's own count: a script's Content-Length is never passed on.
    if (contentLength !== undefined && code !== 204 && code !== 304) {
      this.sendHeader('Content-Length', contentLength);
    }
    this.endHeaders();
  }
}
