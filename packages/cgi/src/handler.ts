import path from 'node:path';
import type { Readable } from 'node:stream';
import { type SimpleHTTPOptions, SimpleHTTPRequestHandler } from '@srv/static';
import { findUnreachablePath, formatOwnership } from './access.js';
import { buildEnvironment } from './environment.js';
import { CgiError, createCgiError } from './errors.js';
import { ConcurrencyLimiter } from './limiter.js';
import { type DecodedTarget, decodeTarget, matchCgiDirectory, type ResolvedScript } from './path.js';
import { forEachLine, type ScriptExit, type ScriptLauncherKind, ScriptProcess } from './process.js';
import { classifyResponse, HeaderBlockReader, type ScriptHeaders } from './response.js';
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

/**
 * The system refused to start a script (EACCES): finds out why, for the log and the 403 page. The usual
 * cause is a server running as root from a checkout under a private directory (root's home, a `chmod
 * 700` parent), whose scripts run as `nobody`, who cannot enter it.
 */
async function explainRefusal(
  error: CgiError,
  command: string,
  script: ResolvedScript,
  user: UserIds | undefined,
  scriptUser: string | number | null,
): Promise<CgiError> {
  const ids = user ?? { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
  const who =
    user === undefined
      ? `the server's own user (uid ${ids.uid})`
      : typeof scriptUser === 'string'
        ? `${scriptUser} (uid ${ids.uid})`
        : `uid ${ids.uid}`;
  const found = await findUnreachablePath(script.scriptFilename, ids, true).catch(() => undefined);
  if (found === undefined) {
    return createCgiError(
      'SRV_ERR_CGI_FORBIDDEN',
      `${error.message}: the system refused to start it as ${who}, although the permission bits allow ` +
        'it (a noexec mount, a security module, or a supplementary group?)',
      { cause: error },
    );
  }
  const action = found.lacks === 'search' ? 'enter' : found.lacks;
  const fix =
    user === undefined
      ? 'let that user reach it (chmod u+x on each directory above the script, u+rx on the script)'
      : 'let that user reach it (chmod o+x on each directory above the script, o+rx on the script), keep ' +
        'the scripts in a directory it can reach, or set scriptUser to a user that can';
  return createCgiError(
    'SRV_ERR_CGI_FORBIDDEN',
    `not allowed to run ${command}: scripts run as ${who}, who cannot ${action} ${found.path} ` +
      `(${formatOwnership(found)}); ${fix}`,
    {
      cause: error,
      explain:
        'The user CGI scripts run as cannot reach this script: a directory above it, or the script ' +
        'itself, does not let that user in. Make the script readable and executable, and every ' +
        'directory above it searchable, for that user (the server log names the path)',
    },
  );
}

type RequestBody = { length: number; source: Readable; spooled?: SpooledBody };

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

/** Thrown inside a request to answer with a local redirect's target instead. */
interface Dispatch {
  readonly target: string;
  readonly depth: number;
}

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
        this.res.setHeader('Allow', 'GET, HEAD, OPTIONS');
        this.#fail(createCgiError('SRV_ERR_CGI_METHOD_NOT_ALLOWED', `POST to ${decodeTarget(target).path}`));
        return;
      }
      await this.sendHead(this.command === 'HEAD');
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
    // A local redirect is a new GET for the new path (RFC 3875 §6.2.2); HEAD stays HEAD.
    Object.defineProperty(this, 'path', { value: next.target, configurable: true });
    if (this.command !== 'HEAD') Object.defineProperty(this, 'command', { value: 'GET', configurable: true });
    await this.#route(next.target, next.depth);
  }

  #fail(error: CgiError): void {
    if (error.status >= 500 || error.code === 'SRV_ERR_CGI_FORBIDDEN') this.logError('%s', error.message);
    if (this.res.headersSent || this.res.destroyed) {
      this.res.destroy();
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
    if (error.status === 503) this.res.setHeader('Retry-After', '1');
    this.sendError(error.status, messages[error.status], error.explain);
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
  #command(script: ResolvedScript, query: string): { command: string; args: string[] } {
    const options = this.cgiOptions;
    const args =
      options.queryArgv && (this.command === 'GET' || this.command === 'HEAD') ? queryArguments(query) : [];
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
    const { command, args } = this.#command(script, decoded.query);
    const userIds = scriptUserIds(options.scriptUser);
    const user = userIds instanceof Promise ? await userIds : userIds;
    const bodyOrPromise = this.#requestBody(depth);
    const body = bodyOrPromise instanceof Promise ? await bodyOrPromise : bodyOrPromise;
    try {
      const environment = buildEnvironment(
        {
          method: this.command,
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
        this.res.once('close', onClose);
        try {
          release = await limiter.acquire(aborted.signal);
        } finally {
          this.res.off('close', onClose);
        }
      }
      let child: ScriptProcess;
      try {
        const started = ScriptProcess.start({
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
      return await this.#serveScript(child, script, body?.source, depth);
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

  async #serveScript(
    script: ScriptProcess,
    resolved: ResolvedScript,
    input: Readable | undefined,
    depth: number,
  ): Promise<Dispatch | undefined> {
    const options = this.cgiOptions;
    const name = resolved.scriptName;
    forEachLine(script.stderr, (line) => this.logError('CGI script %s: %s', name, line));
    if (input && script.stdin) input.pipe(script.stdin);

    let failure: CgiError | undefined;
    const stop = (error: CgiError) => {
      failure ??= error;
      void script.kill(error.message);
    };
    const onClientGone = () => {
      if (!this.res.writableFinished)
        stop(createCgiError('SRV_ERR_CGI_BAD_RESPONSE', `client went away; stopped ${name}`));
    };
    this.res.once('close', onClientGone);
    // Gone already (the connection was cut while the script started): its 'close' has been and gone.
    if (this.res.destroyed) onClientGone();
    // The request's ties to the script: the client-gone watch and the request body's pipe.
    const detach = () => {
      this.res.off('close', onClientGone);
      if (input && script.stdin) input.unpipe(script.stdin);
    };
    const overall =
      options.scriptTimeout > 0
        ? setTimeout(
            () =>
              stop(
                createCgiError('SRV_ERR_CGI_TIMEOUT', `${name} ran longer than ${options.scriptTimeout} ms`),
              ),
            options.scriptTimeout,
          )
        : undefined;
    // Set once the script has answered in full (its stdout ended): from then on the request is done
    // and the rest (time limit, exit status) is the exit's business.
    let answered = false;
    try {
      let head: { headers: ScriptHeaders; body: Buffer };
      try {
        head = await this.#readHead(script, name);
      } catch (error) {
        if (!(error instanceof CgiError)) throw error;
        stop(error);
        await script.exited;
        throw failure ?? error;
      }
      const kind = classifyResponse(head.headers);
      if (kind === 'local-redirect') {
        script.stdout.resume();
        await script.exited;
        return { target: head.headers.location!, depth: depth + 1 };
      }
      const discard = this.command === 'HEAD';
      const start = await this.#collectOutput(script.stdout, head.body, () => failure !== undefined);
      if (start.ended && failure === undefined) {
        // The whole output is here: one write, framed with its length instead of chunks.
        this.#sendScriptHeaders(head.headers, kind, start.length);
        if (discard || start.chunks.length === 0) this.res.end();
        else this.res.end(start.chunks.length === 1 ? start.chunks[0] : Buffer.concat(start.chunks));
      } else {
        this.#sendScriptHeaders(head.headers, kind);
        for (const chunk of discard ? [] : start.chunks) {
          const written = this.wfile.tryWrite(chunk);
          if (written) await written;
        }
        if (!start.ended) await this.#copyOutput(script.stdout, discard, () => failure !== undefined);
      }
      if (failure) {
        // The client must not mistake a cut-off body for a complete one.
        this.res.destroy();
        const exit = await script.exited;
        this.logError('%s; script ended by %s', failure.message, exit.signal ?? `status ${exit.code}`);
        return undefined;
      }
      // The script closed its output: the response is complete now, without waiting for the exit
      // (the script keeps its slot and its time limit until then; how it ended is logged).
      answered = true;
      detach();
      const ended = (exit: ScriptExit) => {
        if (overall) clearTimeout(overall);
        const ending = exit.signal ?? `status ${exit.code}`;
        if (failure) this.logError('%s; script ended by %s', failure.message, ending);
        else if (exit.code !== 0 || exit.signal !== null)
          this.logError('CGI script %s exited with %s', name, ending);
      };
      if (script.exit) ended(script.exit);
      else void script.exited.then(ended);
      return undefined;
    } catch (error) {
      if (!script.hasExited) await script.kill(failure?.message ?? 'request failed');
      if (error instanceof CgiError) throw error;
      if (failure && this.res.headersSent) {
        this.res.destroy();
        const exit = await script.exited;
        this.logError('%s; script ended by %s', failure.message, exit.signal ?? `status ${exit.code}`);
        return undefined;
      }
      throw failure ?? error;
    } finally {
      if (!answered) {
        if (overall) clearTimeout(overall);
        detach();
        if (!script.hasExited) await script.kill('request finished');
      }
    }
  }

  /**
   * Reads on after the header block, holding the output instead of sending it, for as long as more
   * of it (or its end) follows within the next event-loop turns and it stays small: a script that
   * prints a short page and exits is then answered in one write with a Content-Length. A script
   * that keeps its output open, or writes more than `maxBytes`, is answered as it writes after at
   * most two turns' delay. Leaves stdout paused unless it ended.
   */
  #collectOutput(
    stdout: Readable,
    first: Buffer,
    isStopped: () => boolean,
    maxBytes = 64 * 1024,
  ): Promise<{ chunks: Buffer[]; length: number; ended: boolean }> {
    const chunks = first.length > 0 ? [first] : [];
    let length = first.length;
    if (length > maxBytes || stdout.readableEnded || stdout.destroyed) {
      return Promise.resolve({ chunks, length, ended: stdout.readableEnded });
    }
    return new Promise((resolve) => {
      let turns = 0;
      let immediate: NodeJS.Immediate | undefined;
      const finish = (ended: boolean) => {
        if (immediate) clearImmediate(immediate);
        stdout.off('data', onData);
        stdout.off('end', onEnd);
        stdout.off('close', onClose);
        if (!ended) stdout.pause();
        resolve({ chunks, length, ended });
      };
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        length += chunk.length;
        turns = 0;
        if (length > maxBytes || isStopped()) finish(false);
      };
      const onEnd = () => finish(true);
      // Destroyed without an end (an error): what was read is sent, and the copy sees the rest.
      const onClose = () => finish(false);
      const tick = () => {
        turns += 1;
        if (turns >= 2 || isStopped()) {
          immediate = undefined;
          finish(false);
        } else immediate = setImmediate(tick);
      };
      stdout.on('data', onData);
      stdout.once('end', onEnd);
      stdout.once('close', onClose);
      immediate = setImmediate(tick);
      stdout.resume();
    });
  }

  /**
   * Copies the rest of the script's output into the response (or reads and drops it for HEAD), with
   * backpressure: the script's stdout is paused while the response drains. Resolves when the output
   * ends or `isStopped()` turns true (the stream is then destroyed); rejects when a write fails.
   */
  #copyOutput(stdout: Readable, discard: boolean, isStopped: () => boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (error?: unknown) => {
        if (done) return;
        done = true;
        stdout.off('data', onData);
        stdout.off('end', onEnd);
        stdout.off('close', onEnd);
        stdout.off('error', finish);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onEnd = () => finish();
      const onData = (chunk: Buffer) => {
        if (isStopped()) {
          stdout.destroy();
          finish();
          return;
        }
        if (discard) return;
        const written = this.wfile.tryWrite(chunk);
        if (written === undefined) return;
        stdout.pause();
        written.then(
          () => {
            if (!done) stdout.resume();
          },
          (error: unknown) => {
            stdout.destroy();
            finish(error);
          },
        );
      };
      if (stdout.readableEnded || stdout.destroyed) {
        finish(stdout.errored ?? undefined);
        return;
      }
      stdout.on('data', onData);
      stdout.once('end', onEnd);
      // A stream destroyed without an end (the script was stopped) ends the copy too.
      stdout.once('close', onEnd);
      stdout.once('error', finish);
      stdout.resume();
    });
  }

  /** Reads stdout until the header block ends; 502 on malformed output or early end, 504 on timeout. */
  #readHead(script: ScriptProcess, name: string): Promise<{ headers: ScriptHeaders; body: Buffer }> {
    const { stdout } = script;
    const reader = new HeaderBlockReader(this.cgiOptions.maxScriptHeaderSize);
    const timeout = this.cgiOptions.scriptHeaderTimeout;
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        stdout.off('data', onData);
        stdout.off('end', onEnd);
        this.res.off('close', onClose);
      };
      let settled = false;
      const settle = (action: () => void) => {
        if (settled) return;
        settled = true;
        done();
        action();
      };
      const onData = (chunk: Buffer) => {
        try {
          const head = reader.push(chunk);
          if (head) {
            stdout.pause();
            settle(() => resolve(head));
          }
        } catch (error) {
          settle(() => reject(error));
        }
      };
      const onEnd = () =>
        settle(() =>
          reject(
            createCgiError(
              'SRV_ERR_CGI_BAD_RESPONSE',
              reader.length === 0
                ? `${name} produced no output`
                : `${name} ended its output before the end of its header block`,
            ),
          ),
        );
      const onClose = () =>
        settle(() => reject(createCgiError('SRV_ERR_CGI_BAD_RESPONSE', `client went away; stopped ${name}`)));
      const timer = setTimeout(
        () =>
          settle(() =>
            reject(
              createCgiError(
                'SRV_ERR_CGI_TIMEOUT',
                `${name} sent no complete header block within ${timeout} ms`,
              ),
            ),
          ),
        timeout,
      );
      stdout.on('data', onData);
      stdout.once('end', onEnd);
      this.res.once('close', onClose);
    });
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
