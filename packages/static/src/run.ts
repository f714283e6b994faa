/**
 * The `srv-static` command as a library function, so `srv-cgi` (and anyone) runs the same command
 * with another handler class instead of copying it.
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { formatUrl, isSrvError } from '@srv/core';
import { HTTPServer, type HTTPServerOptions, HTTPSServer, type ProtocolVersion } from '@srv/http';
import { createStaticError } from './errors.js';
import { SimpleHTTPRequestHandler } from './handler.js';

/** The flags of `srv-static`, parsed. */
export interface StaticCliArgs {
  readonly port: number;
  readonly bind: string;
  /** True when `-b` was not given (the default `::` may then fall back to `0.0.0.0`). */
  readonly bindIsDefault: boolean;
  readonly directory: string;
  readonly protocol: ProtocolVersion;
  readonly cgi: boolean;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly cors: boolean;
  readonly single: boolean;
  readonly listing: boolean;
  readonly dotfiles: boolean;
  readonly quiet: boolean;
  /** Milliseconds (from `--send-timeout SECONDS`); undefined keeps the server's default (60 s). */
  readonly sendTimeout: number | undefined;
  /** The kernel accept queue (`--backlog N`); undefined keeps the server's default. */
  readonly backlog: number | undefined;
  readonly help: boolean;
}

/** Options of {@link runStaticCli}. */
export interface StaticCliOptions {
  /** The command's name in messages and usage. Default `'srv-static'`. */
  name?: string;
  /** The handler class served (configured from the flags with `withOptions`). Default: `SimpleHTTPRequestHandler`, or @srv/cgi's `CGIHTTPRequestHandler` with `--cgi`. */
  handler?: typeof SimpleHTTPRequestHandler;
  /** Where the banner and help go. Default `process.stdout`. */
  stdout?: { write(text: string): unknown };
  /** Where usage errors go. Default `process.stderr`. */
  stderr?: { write(text: string): unknown };
  /** Settles the command (drain, exit 0) when aborted; SIGINT and SIGTERM do the same. */
  signal?: AbortSignal;
}

/** The help text of the command. */
export function staticUsage(name = 'srv-static'): string {
  return `Usage: ${name} [options] [port]

Serve a directory over HTTP: the python -m http.server of Node.

Arguments:
  port                      port to listen on (default 8000; 0 picks a free one)

Options:
  -b, --bind ADDRESS        address to bind (default :: — all interfaces, IPv6 and IPv4)
  -d, --directory DIR       directory to serve (default: the current directory)
  -p, --protocol VERSION    HTTP/1.0 or HTTP/1.1 (default HTTP/1.1)
      --cgi                 run CGI scripts in cgi-bin/ and htbin/ (needs @srv/cgi)
      --tls-cert FILE       serve HTTPS with this certificate (PEM; needs --tls-key)
      --tls-key FILE        the certificate's private key (PEM)
  -H, --header 'N: V'       add a header to every response (repeatable)
      --cors                allow cross-origin requests (Access-Control-Allow-Origin: *)
      --single              single-page app: unknown paths without an extension get /index.html
      --no-listing          do not list directories without an index page
      --dotfiles            serve and list dotfiles (hidden by default; /.well-known/ is always served)
      --send-timeout SECONDS  close a connection whose client takes no byte of its response for this
                            long (default 60; 0 = never)
      --backlog N           length of the kernel's accept queue (default 4096; capped by somaxconn)
      --quiet               no access log lines and no per-request error lines
  -h, --help                show this help
`;
}

function usageError(message: string): never {
  throw createStaticError('SRV_ERR_USAGE', message);
}

const headerName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Parses the command's arguments; throws `SRV_ERR_USAGE` on anything it cannot accept. */
export function parseStaticArgs(argv: readonly string[]): StaticCliArgs {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    return usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) usageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  const portText = positionals[0] ?? '8000';
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    usageError(`port must be a number from 0 to 65535, got ${JSON.stringify(portText)}`);
  }
  const protocol = values.protocol ?? 'HTTP/1.1';
  if (protocol !== 'HTTP/1.0' && protocol !== 'HTTP/1.1') {
    usageError(`protocol must be HTTP/1.0 or HTTP/1.1, got ${JSON.stringify(protocol)}`);
  }
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
    usageError('--tls-cert and --tls-key go together');
  }
  const headers = (values.header ?? []).map((line): [string, string] => {
    const colon = line.indexOf(':');
    const name = colon === -1 ? '' : line.slice(0, colon).trim();
    const value = colon === -1 ? '' : line.slice(colon + 1).trim();
    if (!headerName.test(name) || /[\r\n\0]/.test(value)) {
      usageError(`--header wants 'Name: value', got ${JSON.stringify(line)}`);
    }
    return [name, value];
  });
  const sendTimeoutText = values['send-timeout'];
  if (sendTimeoutText !== undefined && !/^\d+(\.\d+)?$/.test(sendTimeoutText)) {
    usageError(`--send-timeout wants a number of seconds, got ${JSON.stringify(sendTimeoutText)}`);
  }
  const backlogText = values.backlog;
  if (backlogText !== undefined && (!/^\d{1,9}$/.test(backlogText) || Number(backlogText) < 1)) {
    usageError(`--backlog wants a positive integer, got ${JSON.stringify(backlogText)}`);
  }
  return {
    port: Number(portText),
    bind: values.bind ?? '::',
    bindIsDefault: values.bind === undefined,
    directory: resolve(values.directory ?? '.'),
    protocol,
    cgi: values.cgi ?? false,
    tlsCert: values['tls-cert'],
    tlsKey: values['tls-key'],
    headers,
    cors: values.cors ?? false,
    single: values.single ?? false,
    listing: !(values['no-listing'] ?? false),
    dotfiles: values.dotfiles ?? false,
    quiet: values.quiet ?? false,
    sendTimeout: sendTimeoutText === undefined ? undefined : Math.round(Number(sendTimeoutText) * 1000),
    backlog: backlogText === undefined ? undefined : Number(backlogText),
    help: values.help ?? false,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      bind: { type: 'string', short: 'b' },
      directory: { type: 'string', short: 'd' },
      protocol: { type: 'string', short: 'p' },
      cgi: { type: 'boolean' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      header: { type: 'string', short: 'H', multiple: true },
      cors: { type: 'boolean' },
      single: { type: 'boolean' },
      'no-listing': { type: 'boolean' },
      dotfiles: { type: 'boolean' },
      quiet: { type: 'boolean' },
      'send-timeout': { type: 'string' },
      backlog: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

// Duck-typed, so a second copy of this package (installed beside @srv/cgi) still qualifies.
function isStaticHandler(value: unknown): value is typeof SimpleHTTPRequestHandler {
  if (typeof value !== 'function') return false;
  const candidate = value as { withOptions?: unknown; prototype?: { sendHead?: unknown } };
  return typeof candidate.withOptions === 'function' && typeof candidate.prototype?.sendHead === 'function';
}

/**
 * Loads `CGIHTTPRequestHandler` from @srv/cgi, which depends on this package: so this package does not
 * name it at all (a peer would make a cycle in the workspace). Tried from this package first (npm's
 * flat node_modules, `npx -p @srv/static -p @srv/cgi`), then from the current directory (a project that
 * installed it).
 */
async function loadCgiHandler(): Promise<typeof SimpleHTTPRequestHandler | undefined> {
  const specifier = '@srv/cgi';
  const attempts: Array<() => Promise<unknown>> = [
    () => import(specifier),
    async () => {
      const require = createRequire(join(process.cwd(), 'package.json'));
      const manifestPath = require.resolve(`${specifier}/package.json`);
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
        exports?: { '.'?: { default?: string; import?: string } };
        main?: string;
      };
      const entry =
        manifest.exports?.['.']?.default ?? manifest.exports?.['.']?.import ?? manifest.main ?? 'index.js';
      return import(pathToFileURL(join(dirname(manifestPath), entry)).href);
    },
  ];
  for (const attempt of attempts) {
    try {
      const namespace = (await attempt()) as Record<string, unknown>;
      const handler = namespace.CGIHTTPRequestHandler;
      if (isStaticHandler(handler)) return handler;
    } catch {}
  }
  return undefined;
}

/**
 * Runs the command: parses `argv` (without node and the script), serves until SIGINT, SIGTERM or
 * `signal`, drains, and resolves with the exit code — 0 after a clean stop or `--help`, 2 for a bad
 * flag (usage on stderr), 1 when the server cannot start.
 */
export async function runStaticCli(argv: readonly string[], options: StaticCliOptions = {}): Promise<number> {
  const name = options.name ?? 'srv-static';
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const fail = (message: string, code: number) => {
    stderr.write(`${name}: ${message}\n`);
    return code;
  };
  let args: StaticCliArgs;
  try {
    args = parseStaticArgs(argv);
  } catch (error) {
    if (isSrvError(error, 'SRV_ERR_USAGE')) {
      stderr.write(`${name}: ${error.message}\n${staticUsage(name)}`);
      return 2;
    }
    throw error;
  }
  if (args.help) {
    stdout.write(staticUsage(name));
    return 0;
  }
  let Base = options.handler ?? SimpleHTTPRequestHandler;
  if (args.cgi && !options.handler) {
    const cgi = await loadCgiHandler();
    if (!cgi) return fail(createStaticError('SRV_ERR_CGI_UNAVAILABLE', '--cgi needs @srv/cgi').message, 2);
    Base = cgi;
  }
  let isDirectory = false;
  try {
    isDirectory = statSync(args.directory).isDirectory();
  } catch {}
  if (!isDirectory) {
    const error = createStaticError('SRV_ERR_NOT_A_DIRECTORY', `${args.directory} is not a directory`);
    return fail(error.message, 2);
  }
  let tls: { cert: Buffer; key: Buffer } | undefined;
  if (args.tlsCert !== undefined && args.tlsKey !== undefined) {
    try {
      tls = { cert: readFileSync(args.tlsCert), key: readFileSync(args.tlsKey) };
    } catch (error) {
      return fail(`cannot read the TLS certificate or key: ${(error as Error).message}`, 2);
    }
  }
  const Handler = Base.withOptions({
    directory: args.directory,
    listing: args.listing,
    dotfiles: args.dotfiles,
    single: args.single,
    cors: args.cors,
    headers: [...Base.headers, ...args.headers],
  });
  const serverOptions: HTTPServerOptions = {
    protocolVersion: args.protocol,
    quiet: args.quiet,
    ...(args.sendTimeout !== undefined ? { sendTimeout: args.sendTimeout } : {}),
    ...(args.backlog !== undefined ? { backlog: args.backlog } : {}),
    ...(tls ? { tls } : {}),
  };
  const start = async (host: string): Promise<HTTPServer> => {
    const server = tls
      ? new HTTPSServer([host, args.port], Handler, serverOptions)
      : new HTTPServer([host, args.port], Handler, serverOptions);
    try {
      await server.ready;
      return server;
    } catch (error) {
      await server.close().catch(() => {});
      throw error;
    }
  };
  let server: HTTPServer;
  try {
    server = await start(args.bind);
  } catch (error) {
    // Like Python, `::` is only the default where IPv6 exists; without it, all IPv4 interfaces.
    const unsupported =
      isSrvError(error, 'SRV_ERR_ADDRESS_NOT_AVAILABLE') ||
      (error as { cause?: { code?: string } }).cause?.code === 'EAFNOSUPPORT';
    if (!args.bindIsDefault || !unsupported) return fail((error as Error).message, 1);
    try {
      server = await start('0.0.0.0');
    } catch (fallback) {
      return fail((fallback as Error).message, 1);
    }
  }
  const { address } = server;
  const scheme = tls ? 'https' : 'http';
  stdout.write(
    `Serving ${scheme.toUpperCase()} on ${address.host} port ${address.port} (${formatUrl(address, scheme)}) ...\n`,
  );
  await new Promise<void>((resolveStop) => {
    let stopping = false;
    const stop = (why: string | undefined) => {
      if (stopping) {
        // A second Ctrl-C while draining means "now".
        process.exit(0);
      }
      stopping = true;
      if (why === 'SIGINT') stdout.write('\nKeyboard interrupt received, exiting.\n');
      resolveStop();
    };
    const onSigint = () => stop('SIGINT');
    const onSigterm = () => stop('SIGTERM');
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    options.signal?.addEventListener('abort', () => stop(undefined), { once: true });
    if (options.signal?.aborted) stop(undefined);
    void server.serveForever().finally(() => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
    });
  });
  await server.close();
  return 0;
}
