/**
 * The `srv-static` command as a library function, so `srv-cgi` (and anyone) runs the same command
 * with another handler class instead of copying it.
 */
import cluster from 'node:cluster';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type AddressInput, isSrvError, type SocketAddress } from '@srv/core';
import {
  type CommandSpec,
  commonOptions,
  type DeployArgs,
  deployOptions,
  describeStartError,
  exitCodes,
  formatBanner,
  formatEndpoint,
  formatReachLine,
  loadTlsFiles,
  type OptionSpec,
  parseCommandLine,
  parsePort,
  readDeployOptions,
  readPackageVersion,
  runCommand,
  usage,
} from '@srv/core/cli';
import { serveCommand, type WorkerContext } from '@srv/core/internal';
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
  /** The deployment flags (`--workers`, `--proxy-protocol`, `--fd`, `--health-path`, `--drain-delay`, …). */
  readonly deploy: DeployArgs;
  /** `--help` was given. */
  readonly help: boolean;
  /** `--version` was given. */
  readonly version: boolean;
}

/** Options of {@link runStaticCli}. */
export interface StaticCliOptions {
  /** The command's name in messages and usage. Default `'srv-static'`. */
  name?: string;
  /** What `--help` says the command does. Default: srv-static's description. */
  summary?: string;
  /** What `--version` prints after the name. Default: this package's version. */
  version?: string;
  /** The handler class served (configured from the flags with `withOptions`). Default: `SimpleHTTPRequestHandler`, or @srv/cgi's `CGIHTTPRequestHandler` with `--cgi`. With a handler, `--cgi` is not offered. */
  handler?: typeof SimpleHTTPRequestHandler;
  /** Where the banner and help go. Default `process.stdout`. */
  stdout?: { write(text: string): unknown };
  /** Where usage errors go. Default `process.stderr`. */
  stderr?: { write(text: string): unknown };
  /** Settles the command (drain, exit 0) when aborted; SIGINT and SIGTERM do the same. */
  signal?: AbortSignal;
}

const staticSummary = 'Serve a directory over HTTP: the python -m http.server of Node.';

const headerName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function parseProtocol(text: string, flag: string): ProtocolVersion {
  if (text === 'HTTP/1.0' || text === 'HTTP/1.1') return text;
  // Python's `-p` is the protocol; a user used to other servers writes `-p 8080` for a port.
  if (/^\d+$/.test(text)) {
    usage(
      `${flag} is the protocol (HTTP/1.0 or HTTP/1.1); for port ${text} write --port ${text} or just ${text}`,
    );
  }
  return usage(`${flag} must be HTTP/1.0 or HTTP/1.1, got ${JSON.stringify(text)}`);
}

function parseHeader(line: string, flag: string): [string, string] {
  const colon = line.indexOf(':');
  const name = colon === -1 ? '' : line.slice(0, colon).trim();
  const value = colon === -1 ? '' : line.slice(colon + 1).trim();
  if (!headerName.test(name) || /[\r\n\0]/.test(value)) {
    usage(`${flag} wants 'Name: value', got ${JSON.stringify(line)}`);
  }
  return [name, value];
}

function staticOptions(withCgi: boolean): OptionSpec[] {
  return [
    {
      ...commonOptions.port,
      description: 'port to listen on, as the positional port (default 8000; 0 picks a free one)',
    },
    commonOptions.bind,
    commonOptions.directory,
    {
      name: 'protocol',
      short: 'p',
      value: 'VERSION',
      description: "HTTP/1.0 or HTTP/1.1 (default HTTP/1.1), as Python's -p",
      parse: parseProtocol,
    },
    {
      name: 'cgi',
      description: 'run CGI scripts in cgi-bin/ and htbin/ (needs @srv/cgi)',
      hidden: !withCgi,
    },
    {
      name: 'tls-cert',
      value: 'FILE',
      description: 'serve HTTPS with this certificate (PEM; needs --tls-key)',
    },
    { name: 'tls-key', value: 'FILE', description: "the certificate's private key (PEM)" },
    {
      name: 'header',
      short: 'H',
      value: "'N: V'",
      multiple: true,
      description: 'add a header to every response (repeatable)',
      parse: parseHeader,
    },
    { name: 'cors', description: 'allow cross-origin requests (Access-Control-Allow-Origin: *)' },
    { name: 'single', description: 'single-page app: unknown paths without an extension get /index.html' },
    { name: 'no-listing', description: 'do not list directories without an index page' },
    {
      name: 'dotfiles',
      description: 'serve and list dotfiles (hidden by default; /.well-known/ is always served)',
    },
    {
      name: 'send-timeout',
      value: 'SECONDS',
      description:
        'close a connection whose client takes no byte of its response for this\nlong (default 60; 0 = never)',
      parse: (text, flag) =>
        /^\d+(\.\d+)?$/.test(text)
          ? Math.round(Number(text) * 1000)
          : usage(`${flag} wants a number of seconds, got ${JSON.stringify(text)}`),
    },
    commonOptions.backlog,
    { ...commonOptions.quiet, description: 'no access log lines and no per-request error lines' },
    ...deployOptions,
  ];
}

function staticSpec(name: string, summary: string, version: string, withCgi: boolean): CommandSpec {
  return {
    name,
    version,
    usage: [`${name} [options] [port]`],
    summary,
    arguments: [{ name: 'port', description: 'port to listen on (default 8000; 0 picks a free one)' }],
    options: staticOptions(withCgi),
    maxPositionals: 1,
  };
}

const ownVersion = () => readPackageVersion(import.meta.url);

/** The help text of the command. */
export function staticUsage(name = 'srv-static', summary = staticSummary, withCgi = true): string {
  return parseCommandLine(staticSpec(name, summary, '', withCgi), ['--help']).output;
}

/** Parses the command's arguments; throws `SRV_ERR_USAGE` (`UsageError` of `@srv/core/cli`) on anything it cannot accept. */
export function parseStaticArgs(
  argv: readonly string[],
  spec = staticSpec('srv-static', staticSummary, '', true),
): StaticCliArgs {
  const args = parseCommandLine(spec, argv);
  const positional = args.positionals[0];
  const flagged = args.get<number>('port');
  if (positional !== undefined && flagged !== undefined) {
    usage(`give the port once: ${positional} and ${args.spelled.get('port')} ${flagged}`);
  }
  const port = flagged ?? parsePort(positional ?? '8000', 'port');
  if (args.has('tls-cert') !== args.has('tls-key')) usage('--tls-cert and --tls-key go together');
  const bind = args.get<string>('bind');
  const deploy = readDeployOptions(
    args,
    positional !== undefined || flagged !== undefined || bind !== undefined,
  );
  return {
    port,
    bind: bind ?? '::',
    bindIsDefault: bind === undefined,
    directory: resolve(args.get<string>('directory') ?? '.'),
    protocol: args.get<ProtocolVersion>('protocol') ?? 'HTTP/1.1',
    cgi: args.flag('cgi'),
    tlsCert: args.get<string>('tls-cert'),
    tlsKey: args.get<string>('tls-key'),
    headers: args.get<Array<[string, string]>>('header') ?? [],
    cors: args.flag('cors'),
    single: args.flag('single'),
    listing: !args.flag('no-listing'),
    dotfiles: args.flag('dotfiles'),
    quiet: args.flag('quiet'),
    sendTimeout: args.get<number>('send-timeout'),
    backlog: args.get<number>('backlog'),
    deploy,
    help: args.flag('help'),
    version: args.flag('version'),
  };
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
 * `signal`, drains, and resolves with the exit code (the table of `@srv/core/cli`'s `exitCodes`) —
 * 0 after a clean stop, `--help` or `--version`, 2 for a bad flag (one line on stderr), 1 when the
 * server cannot start.
 */
export async function runStaticCli(argv: readonly string[], options: StaticCliOptions = {}): Promise<number> {
  const name = options.name ?? 'srv-static';
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  return runCommand(name, () => serve(name, argv, options, stdout), stderr);
}

async function serve(
  name: string,
  argv: readonly string[],
  options: StaticCliOptions,
  stdout: { write(text: string): unknown },
): Promise<number> {
  const spec = staticSpec(
    name,
    options.summary ?? staticSummary,
    options.version ?? ownVersion(),
    !options.handler,
  );
  const parsed = parseCommandLine(spec, argv);
  if (parsed.answered) {
    stdout.write(parsed.output);
    return exitCodes.ok;
  }
  const args = parseStaticArgs(argv, spec);
  let Base = options.handler ?? SimpleHTTPRequestHandler;
  if (args.cgi && !options.handler) {
    const cgi = await loadCgiHandler();
    if (!cgi) {
      // Its code is for callers of the library; the user reads the sentence. Exit 2: the flag is theirs.
      const error = createStaticError('SRV_ERR_CGI_UNAVAILABLE', '--cgi needs @srv/cgi');
      (options.stderr ?? process.stderr).write(`${name}: ${error.message}\n`);
      return exitCodes.usage;
    }
    Base = cgi;
  }
  let isDirectory = false;
  try {
    isDirectory = statSync(args.directory).isDirectory();
  } catch {}
  if (!isDirectory) usage(`${args.directory} is not a directory`);
  const tls =
    args.tlsCert !== undefined && args.tlsKey !== undefined
      ? loadTlsFiles(args.tlsCert, args.tlsKey)
      : undefined;
  const Handler = Base.withOptions({
    directory: args.directory,
    listing: args.listing,
    dotfiles: args.dotfiles,
    single: args.single,
    cors: args.cors,
    headers: [...Base.headers, ...args.headers],
  });
  const { deploy } = args;
  const serverOptions: HTTPServerOptions = {
    protocolVersion: args.protocol,
    quiet: args.quiet,
    graceMs: deploy.graceMs,
    ...(args.sendTimeout !== undefined ? { sendTimeout: args.sendTimeout } : {}),
    ...(args.backlog !== undefined ? { backlog: args.backlog } : {}),
    ...(tls ? { tls } : {}),
    ...(deploy.proxyProtocol ? { proxyProtocol: true } : {}),
    ...(deploy.trustedProxies ? { trustedProxies: deploy.trustedProxies } : {}),
    ...(deploy.healthPath !== undefined ? { healthPath: deploy.healthPath } : {}),
    ...(deploy.healthPort !== undefined ? { healthPort: deploy.healthPort } : {}),
  };
  const stderr = options.stderr ?? process.stderr;
  const start = async (address: AddressInput, reusePort: boolean): Promise<HTTPServer> => {
    const all = reusePort ? { ...serverOptions, reusePort } : serverOptions;
    const server = tls ? new HTTPSServer(address, Handler, all) : new HTTPServer(address, Handler, all);
    try {
      await server.ready;
      await server.healthReady;
      return server;
    } catch (error) {
      await server.close().catch(() => {});
      throw error;
    }
  };
  let failure = '';
  const failed = (error: unknown, where: string): number => {
    const { message, code } = describeStartError(error, where);
    failure = `${name}: ${message}\n`;
    // A worker leaves the line to the primary, which prints it once for all of them.
    if (!cluster.isWorker) stderr.write(failure);
    return code;
  };
  /** This process's server: on the inherited descriptor, or on the address (`::` falling back to IPv4). */
  const open = async (context: WorkerContext): Promise<HTTPServer | number> => {
    const fd = deploy.fd ?? context.fds[0];
    if (fd !== undefined) {
      try {
        return await start({ fd }, false);
      } catch (error) {
        return failed(error, `descriptor ${fd}`);
      }
    }
    const port = context.port ?? args.port;
    try {
      return await start([args.bind, port], context.reusePort);
    } catch (error) {
      // Like Python, `::` is only the default where IPv6 exists; without it, all IPv4 interfaces.
      const unsupported =
        isSrvError(error, 'SRV_ERR_ADDRESS_NOT_AVAILABLE') ||
        (error as { cause?: { code?: string } }).cause?.code === 'EAFNOSUPPORT';
      if (!args.bindIsDefault || !unsupported) return failed(error, formatEndpoint(args.bind, port));
      try {
        return await start(['0.0.0.0', port], context.reusePort);
      } catch (fallback) {
        return failed(fallback, formatEndpoint('0.0.0.0', port));
      }
    }
  };
  const scheme = tls ? 'https' : 'http';
  const announce = (address: SocketAddress) => {
    const reach = formatReachLine(address, scheme);
    stdout.write(`${formatBanner(scheme.toUpperCase(), address, scheme)}\n${reach ? `${reach}\n` : ''}`);
  };

  return serveCommand({
    deploy,
    host: args.bind,
    port: args.port,
    open,
    failure: () => failure,
    announce,
    stderr,
    ...(options.signal ? { signal: options.signal } : {}),
    onSignal: (signal) => {
      if (signal === 'SIGINT') stdout.write('\nKeyboard interrupt received, exiting.\n');
    },
  });
}
