/**
 * `@srv/core/cli`: the one kit every srv command is built from (`srv-static`, `srv-cgi`, `srv-time`,
 * `srv-demo`), so they agree on what a user sees: the banner, the help, one-line usage errors, exit
 * codes, `--version`, and what SIGINT/SIGTERM do.
 *
 * A command declares its options once ({@link CommandSpec}: flag, placeholder, help line, validation);
 * {@link parseCommandLine} parses, validates and answers `--help`/`--version` from that declaration.
 * Options several commands share live in {@link commonOptions}, so a new shared flag is added in one place.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { dirname, join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatUrl, listenFds, type SocketAddress } from './address.js';
import { supportsReusePort } from './endpoint.js';
import { isSrvError, SrvError } from './errors.js';
import { createTrustList } from './proxy-protocol.js';

/** The exit codes of every srv command (the root README's table). */
export const exitCodes = {
  /** Served and stopped cleanly (SIGINT, SIGTERM), or answered `--help` / `--version`. */
  ok: 0,
  /** Could not start or run: address in use, permission denied, a failed query, an unexpected error. */
  failure: 1,
  /** A bad command line: unknown option, bad value, missing argument. One line on stderr. */
  usage: 2,
  /** A second SIGINT during the drain stopped the command at once (128 + SIGINT). */
  interrupted: 130,
} as const;

/** The code of {@link UsageError}. */
export const usageErrorCode = 'SRV_ERR_USAGE';

/** A command line the command cannot run: printed as one line (`name: message (see --help)`), exit 2. */
export class UsageError extends SrvError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(usageErrorCode, message, options);
    this.name = 'UsageError';
  }
}
Object.defineProperty(UsageError, 'name', { value: 'UsageError' });

/** True for a {@link UsageError}, also one thrown by another copy of the package. */
export function isUsageError(value: unknown): value is SrvError {
  return isSrvError(value, usageErrorCode);
}

/** One option of a command: parsing, validation and its help line, declared together. */
export interface OptionSpec {
  /** The long name, without `--` (`'port'` is `--port`). */
  readonly name: string;
  /** One letter, without `-` (`'p'` is `-p`). */
  readonly short?: string;
  /** The value's placeholder in the help (`'N'`, `'DIR'`); without it the option is a boolean flag. */
  readonly value?: string;
  /** The option may be given more than once; the values are collected in order. */
  readonly multiple?: boolean;
  /** The help text (one line, or several joined with `\n`). */
  readonly description: string;
  /**
   * Checks and converts a value; throws {@link UsageError} (see {@link usage}) for a bad one.
   * `flag` is how the user wrote the option (`-p`, `--port`).
   */
  readonly parse?: (text: string, flag: string) => unknown;
  /** Left out of the help (an alias or a legacy spelling). */
  readonly hidden?: boolean;
}

/** A positional argument, for the help's `Arguments:` section. */
export interface ArgumentSpec {
  readonly name: string;
  readonly description: string;
}

/** What a command is: its name, version and options. */
export interface CommandSpec {
  /** The command's name, the prefix of every message (`srv-static`). */
  readonly name: string;
  /** Printed by `--version` / `-v`. */
  readonly version: string;
  /** The usage lines, without the leading `Usage: ` (`'srv-static [options] [port]'`). */
  readonly usage: readonly string[];
  /** What the command does: a paragraph after the usage lines. */
  readonly summary: string;
  /** Positional arguments, for the help. */
  readonly arguments?: readonly ArgumentSpec[];
  /** The options; `--help`/`-h` and `--version`/`-v` are added by the kit. */
  readonly options: readonly OptionSpec[];
  /** Largest number of positional arguments (default: unlimited). */
  readonly maxPositionals?: number;
  /** Text after the options (examples, notes). */
  readonly footer?: string;
}

/** What {@link parseCommandLine} found. */
export interface ParsedCommandLine {
  /** `--help` or `--version` was given: print {@link ParsedCommandLine.output} on stdout and exit 0. */
  readonly answered: boolean;
  /** The help or version text when {@link ParsedCommandLine.answered}. */
  readonly output: string;
  readonly positionals: readonly string[];
  /** Options given, by long name: the parsed value (`parse`), the text, `true` for a flag, or a list (`multiple`). */
  readonly values: ReadonlyMap<string, unknown>;
  /** How each given option was written last (`-p` or `--port`), by long name. */
  readonly spelled: ReadonlyMap<string, string>;
  /** True when the option was given. */
  has(name: string): boolean;
  /** The option's value (after its `parse`), or undefined when not given. */
  get<T>(name: string): T | undefined;
  /** A boolean flag. */
  flag(name: string): boolean;
}

/** Throws a {@link UsageError}: the one way a parser rejects a value. */
export function usage(message: string): never {
  throw new UsageError(message);
}

const builtInOptions: readonly OptionSpec[] = [
  { name: 'version', short: 'v', description: 'print the version and exit' },
  { name: 'help', short: 'h', description: 'show this help and exit' },
];

/** A port number `0`–`65535` (`0` picks a free one); throws {@link UsageError} otherwise. */
export function parsePort(text: string, flag = 'port'): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    usage(`${flag} must be a number from 0 to 65535, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** A whole number of at least 1; throws {@link UsageError} otherwise. */
export function parsePositiveInteger(text: string, flag: string): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1) {
    usage(`${flag} wants a positive integer, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/**
 * A host to bind: an IP address or a host name (`[v6]` brackets allowed). A Unix socket path
 * (`unix:/x`) is refused with the same message and exit code by every command, which all serve over IP.
 */
export function parseBindHost(text: string, flag = '--bind'): string {
  if (text === '') usage(`${flag} needs a host`);
  if (text.startsWith('unix:') || text.startsWith('/')) {
    usage(`${flag} ${text}: this command serves over TCP/IP; give an IP address or a host name`);
  }
  const host = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!/^[0-9A-Za-z.:%_-]+$/.test(host)) {
    usage(`${flag} ${JSON.stringify(text)} is not an IP address or a host name`);
  }
  return host;
}

/**
 * Options several commands share, declared once: a command lists the ones it takes
 * (`options: [commonOptions.bind, commonOptions.quiet, …]`), so the flag, its help line and its
 * validation are the same everywhere.
 */
export const commonOptions = {
  port: {
    name: 'port',
    value: 'N',
    description: 'port to listen on (0 picks a free one)',
    parse: (text: string, flag: string) => parsePort(text, flag),
  },
  bind: {
    name: 'bind',
    short: 'b',
    value: 'ADDRESS',
    description: 'address to bind (default :: — all interfaces, IPv6 and IPv4)',
    parse: (text: string, flag: string) => parseBindHost(text, flag),
  },
  directory: {
    name: 'directory',
    short: 'd',
    value: 'DIR',
    description: 'directory to serve (default: the current directory)',
    parse: (text: string, flag: string) => (text === '' ? usage(`${flag} needs a path`) : text),
  },
  quiet: {
    name: 'quiet',
    short: 'q',
    description: 'no per-request or per-connection log lines',
  },
  backlog: {
    name: 'backlog',
    value: 'N',
    description: "length of the kernel's accept queue (default 4096; capped by somaxconn)",
    parse: (text: string, flag: string) => parsePositiveInteger(text, flag),
  },
  workers: {
    name: 'workers',
    value: 'N|auto',
    description:
      'serve with N processes on node:cluster (auto = one per available core;\ndefault 1); the Serving line is printed once',
    parse: (text: string, flag: string) => parseWorkers(text, flag),
  },
  reusePort: {
    name: 'reuse-port',
    description:
      "each worker binds its own SO_REUSEPORT socket (Node >= 22.12 on Linux)\ninstead of cluster's hand-off",
  },
  proxyProtocol: {
    name: 'proxy-protocol',
    description:
      'every connection starts with a PROXY protocol v1/v2 header naming the\nclient (from a load balancer); others are closed without an answer',
  },
  trustedProxy: {
    name: 'trusted-proxy',
    value: 'CIDR',
    multiple: true,
    description: 'who may send a PROXY header (repeatable; default 127.0.0.0/8 and ::1)',
    parse: (text: string, flag: string) => parseCidr(text, flag),
  },
  fd: {
    name: 'fd',
    value: 'N',
    description:
      'serve the listening socket inherited as descriptor N (systemd passes\nLISTEN_FDS/LISTEN_PID, which are honoured without this flag)',
    parse: (text: string, flag: string) =>
      /^\d{1,6}$/.test(text)
        ? Number(text)
        : usage(`${flag} wants a descriptor number, got ${JSON.stringify(text)}`),
  },
  healthPath: {
    name: 'health-path',
    value: 'PATH',
    description:
      'answer GET/HEAD of PATH (like /healthz) 200 while serving, 503 while\ndraining; not logged (default: off)',
    parse: (text: string, flag: string) =>
      text.startsWith('/') && !/[\s?#]/.test(text)
        ? text
        : usage(
            `${flag} wants a path starting with / (no spaces, query or fragment), got ${JSON.stringify(text)}`,
          ),
  },
  healthPort: {
    name: 'health-port',
    value: 'N',
    description:
      'also answer the health path (or /) on a plain HTTP listener on port N\n(no TLS, no PROXY header)',
    parse: (text: string, flag: string) => parsePort(text, flag),
  },
  drainDelay: {
    name: 'drain-delay',
    value: 'S',
    description:
      'on SIGTERM keep accepting S seconds (health 503, responses Connection:\nclose) before the drain (default 0)',
    parse: (text: string, flag: string) => parseSeconds(text, flag),
  },
  grace: {
    name: 'grace',
    value: 'S',
    description:
      'seconds in-flight requests get to finish after the drain begins; then\nthey are closed (default 30)',
    parse: (text: string, flag: string) => parseSeconds(text, flag),
  },
} as const satisfies Record<string, OptionSpec>;

function parseWorkers(text: string, flag: string): number | 'auto' {
  if (text === 'auto') return 'auto';
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1 || Number(text) > 1024) {
    usage(`${flag} wants a number of processes from 1 to 1024 or auto, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function parseCidr(text: string, flag: string): string {
  try {
    createTrustList([text]);
  } catch {
    usage(
      `${flag} wants an address or CIDR block (like 10.0.0.0/8 or fd00::/8), got ${JSON.stringify(text)}`,
    );
  }
  return text;
}

/** Seconds (a decimal number ≥ 0, at most a day) as milliseconds. */
function parseSeconds(text: string, flag: string): number {
  if (!/^\d{1,5}(\.\d{1,3})?$/.test(text) || Number(text) > 86_400) {
    usage(`${flag} wants a number of seconds from 0 to 86400, got ${JSON.stringify(text)}`);
  }
  return Math.round(Number(text) * 1000);
}

/**
 * The deployment options (issue 23's flags), in the order the help lists them: a serving command adds
 * the ones that apply (`srv-time` takes no health flags) with {@link readDeployOptions} reading them.
 */
export const deployOptions: readonly OptionSpec[] = [
  commonOptions.workers,
  commonOptions.reusePort,
  commonOptions.proxyProtocol,
  commonOptions.trustedProxy,
  commonOptions.fd,
  commonOptions.healthPath,
  commonOptions.healthPort,
  commonOptions.drainDelay,
  commonOptions.grace,
];

/** The deployment flags of a serving command, read by {@link readDeployOptions}. */
export interface DeployArgs {
  /** `--workers`: a count, or `'auto'` for the available cores. Default 1. */
  readonly workers: number | 'auto';
  /** `--reuse-port`. */
  readonly reusePort: boolean;
  /** `--proxy-protocol`. */
  readonly proxyProtocol: boolean;
  /** `--trusted-proxy` (every one given); undefined keeps the default (loopback). */
  readonly trustedProxies: readonly string[] | undefined;
  /**
   * The inherited listening descriptor to serve: `--fd N`, or the first of systemd's
   * (`LISTEN_FDS`/`LISTEN_PID`) when this process is the one they name. Undefined: bind an address.
   */
  readonly fd: number | undefined;
  /** True when {@link DeployArgs.fd} came from `LISTEN_FDS` (the primary of `--workers` then owns it). */
  readonly socketActivated: boolean;
  /** `--health-path`. */
  readonly healthPath: string | undefined;
  /** `--health-port`. */
  readonly healthPort: number | undefined;
  /** `--drain-delay`, in milliseconds. Default 0. */
  readonly drainDelayMs: number;
  /** `--grace`, in milliseconds. Default 30000. */
  readonly graceMs: number;
}

/**
 * Reads the deployment flags of a parsed command line and checks them together: `--fd` (or socket
 * activation) excludes `--reuse-port` and an address (`--bind`, a port: `hasAddress`); `--reuse-port`
 * needs a Node that has it (`SRV_ERR_UNSUPPORTED_OPTION`, exit 1, not a usage error: the flag is right,
 * the runtime lacks it). Flags the command did not declare read as their defaults.
 * `env` and `pid` are systemd's variables and this process's id (for tests).
 */
export function readDeployOptions(
  parsed: ParsedCommandLine,
  hasAddress = false,
  env: NodeJS.ProcessEnv = process.env,
  pid: number = process.pid,
): DeployArgs {
  const flagFd = parsed.get<number>('fd');
  const reusePort = parsed.flag('reuse-port');
  // A cluster worker sees LISTEN_FDS='' (the primary owns systemd's sockets and clears it).
  const activated = flagFd === undefined && env.LISTEN_FDS !== undefined && env.LISTEN_FDS !== '';
  // sd_listen_fds(3): the variables are for LISTEN_PID only; a child that inherited them ignores them.
  const fd =
    flagFd ??
    (activated && (env.LISTEN_PID === undefined || Number(env.LISTEN_PID) === pid)
      ? listenFds(env, pid)[0]
      : undefined);
  if (fd !== undefined && reusePort) {
    usage(
      `--reuse-port binds a socket of its own; it cannot serve an inherited one (${flagFd !== undefined ? '--fd' : 'LISTEN_FDS'})`,
    );
  }
  if (flagFd !== undefined && hasAddress)
    usage('--fd serves an inherited socket: give no port or --bind with it');
  if (reusePort && !supportsReusePort()) {
    throw new SrvError(
      'SRV_ERR_UNSUPPORTED_OPTION',
      `--reuse-port needs Node >= 22.12 on Linux; this is Node ${process.versions.node} on ${process.platform}`,
    );
  }
  return {
    workers: parsed.get<number | 'auto'>('workers') ?? 1,
    reusePort,
    proxyProtocol: parsed.flag('proxy-protocol'),
    trustedProxies: parsed.get<string[]>('trusted-proxy'),
    fd,
    socketActivated: fd !== undefined && flagFd === undefined,
    healthPath: parsed.get<string>('health-path'),
    healthPort: parsed.get<number>('health-port'),
    drainDelayMs: parsed.get<number>('drain-delay') ?? 0,
    graceMs: parsed.get<number>('grace') ?? 30_000,
  };
}

/** The help text of a command, built from its declaration. */
export function formatHelp(spec: CommandSpec): string {
  const [first = spec.name, ...rest] = spec.usage;
  const lines = [`Usage: ${first}`, ...rest.map((line) => `       ${line}`), '', spec.summary.trimEnd(), ''];
  const rows = (entries: ReadonlyArray<readonly [string, string]>) => {
    const width = Math.max(...entries.map(([left]) => left.length)) + 2;
    for (const [left, description] of entries) {
      const [head = '', ...more] = description.split('\n');
      lines.push(`  ${left.padEnd(width)}${head}`.trimEnd());
      for (const line of more) lines.push(`  ${' '.repeat(width)}${line}`);
    }
  };
  if (spec.arguments && spec.arguments.length > 0) {
    lines.push('Arguments:');
    rows(spec.arguments.map((argument) => [argument.name, argument.description] as const));
    lines.push('');
  }
  lines.push('Options:');
  rows(
    [...spec.options, ...builtInOptions]
      .filter((option) => !option.hidden)
      .map((option) => {
        const short = option.short ? `-${option.short}, ` : '    ';
        const value = option.value ? ` ${option.value}` : '';
        return [`${short}--${option.name}${value}`, option.description] as const;
      }),
  );
  if (spec.footer) lines.push('', spec.footer.trimEnd());
  return `${lines.join('\n')}\n`;
}

/**
 * Parses `argv` (without node and the script) against the declaration: unknown options, missing or
 * unexpected values, too many positionals and values an option's `parse` rejects throw {@link UsageError}
 * with a one-line message. `--help`/`-h` and `--version`/`-v` come back as `answered`.
 */
export function parseCommandLine(spec: CommandSpec, argv: readonly string[]): ParsedCommandLine {
  const all = [...spec.options, ...builtInOptions];
  const byName = new Map(all.map((option) => [option.name, option]));
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const option of all) {
    config[option.name] = {
      type: option.value ? 'string' : 'boolean',
      ...(option.short ? { short: option.short } : {}),
      ...(option.multiple ? { multiple: true } : {}),
    };
  }
  // Not strict: the tokens tell which option was unknown or lacked a value, so the message is one
  // line of our own instead of parseArgs' paragraph.
  const { tokens } = parseArgs({
    args: [...argv],
    options: config,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values = new Map<string, unknown>();
  const spelled = new Map<string, string>();
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const option = byName.get(token.name);
    if (!option) usage(`unknown option ${token.rawName}`);
    if (option.value) {
      if (token.value === undefined) usage(`${token.rawName} needs a value (${option.value})`);
      const value = option.parse ? option.parse(token.value, token.rawName) : token.value;
      if (option.multiple)
        values.set(option.name, [...((values.get(option.name) as unknown[]) ?? []), value]);
      else values.set(option.name, value);
    } else {
      if (token.value !== undefined) usage(`${token.rawName} takes no value`);
      values.set(option.name, true);
    }
    spelled.set(option.name, token.rawName);
  }
  const answer = values.has('help')
    ? formatHelp(spec)
    : values.has('version')
      ? `${spec.name} ${spec.version}\n`
      : '';
  if (!answer && spec.maxPositionals !== undefined && positionals.length > spec.maxPositionals) {
    usage(`unexpected argument ${JSON.stringify(positionals[spec.maxPositionals])}`);
  }
  return {
    answered: answer !== '',
    output: answer,
    positionals,
    values,
    spelled,
    has: (name) => values.has(name),
    get: <T>(name: string) => values.get(name) as T | undefined,
    flag: (name) => values.get(name) === true,
  };
}

/** The `version` of the package.json nearest above `moduleUrl` (a bin's `import.meta.url`). */
export function readPackageVersion(moduleUrl: string): string {
  let directory = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as {
        version?: string;
      };
      return manifest.version ?? '0.0.0';
    } catch {}
    const parent = dirname(directory);
    if (parent === directory) return '0.0.0';
    directory = parent;
  }
}

/** Where a command writes. */
export interface CommandOutput {
  write(text: string): unknown;
}

/** The address fields the banner needs (a server's `address`). */
export interface BannerAddress {
  readonly family: string;
  readonly host: string;
  readonly port: number;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The first stdout line of every command, Python's:
 * `Serving HTTP on :: port 8000 (http://[::]:8000/) ...`. `note` goes inside the parentheses after
 * the URL (`, RFC 867 daytime`).
 */
export function formatBanner(protocol: string, address: BannerAddress, scheme: string, note = ''): string {
  const url = formatUrl(address as SocketAddress, scheme);
  return `Serving ${protocol} on ${address.host} port ${address.port} (${url}${note}) ...`;
}

/** The first IPv4 address of this host that other machines can reach, if any. */
export function lanAddress(): string | undefined {
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.family === 'IPv4' && !entry.internal) return entry.address;
    }
  }
  return undefined;
}

/**
 * The line after the banner when the server listens on every interface (`::`, `0.0.0.0`), whose URL a
 * browser cannot open: where to reach it from this machine and from the network (`lan`, default the
 * first non-internal IPv4 address; `null` for none). Empty otherwise.
 * For `http`/`https` it reads `Open http://localhost:8000/ in a browser (from the network: http://192.168.1.5:8000/)`;
 * for other schemes, `Reach it at tcp://localhost:8765/ (from the network: tcp://192.168.1.5:8765/)`.
 */
export function formatReachLine(
  address: BannerAddress,
  scheme: string,
  lan: string | null | undefined = lanAddress(),
): string {
  if (address.host !== '::' && address.host !== '0.0.0.0') return '';
  const isWeb = scheme === 'http' || scheme === 'https';
  const url = (host: string) => `${scheme}://${host}:${address.port}/`;
  const network = lan == null ? '' : ` (from the network: ${url(lan)})`;
  return isWeb
    ? `Open ${url('localhost')} in a browser${network}`
    : `Reach it at ${url('localhost')}${network}`;
}

/**
 * The TLS certificate and key of `--tls-cert`/`--tls-key`, read and checked together, so a mistake is
 * a sentence (files swapped, key of another certificate) instead of an OpenSSL code. Throws
 * {@link UsageError}.
 */
export function loadTlsFiles(certPath: string, keyPath: string): { cert: Buffer; key: Buffer } {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(certPath);
    key = readFileSync(keyPath);
  } catch (error) {
    const { code, path } = error as NodeJS.ErrnoException;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
    return usage(`cannot read the TLS ${path === keyPath ? 'key' : 'certificate'} ${path}: ${why}`);
  }
  const isKey = (pem: Buffer) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem.toString('latin1'));
  const isCert = (pem: Buffer) => pem.includes('-----BEGIN CERTIFICATE-----');
  if (isKey(cert) && isCert(key)) {
    usage(
      `--tls-cert and --tls-key are swapped: ${certPath} holds a private key and ${keyPath} a certificate`,
    );
  }
  if (!isCert(cert)) usage(`--tls-cert ${certPath} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  if (!isKey(key)) usage(`--tls-key ${keyPath} holds no PEM private key (-----BEGIN … PRIVATE KEY-----)`);
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    const reason = (error as { reason?: string; message?: string }).reason ?? (error as Error).message;
    if (/key values mismatch/i.test(reason)) {
      usage(`the private key in ${keyPath} does not belong to the certificate in ${certPath}`);
    }
    usage(`cannot use the TLS certificate ${certPath} with the key ${keyPath} (${reason})`);
  }
  return { cert, key };
}

/**
 * An error as one line a user can read: its message, and its code for srv errors — never a stack or
 * a class name such as `_SrvError`.
 */
export function describeError(error: unknown): string {
  if (isSrvError(error)) return `${error.message} (${error.code})`;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Options of {@link watchStopSignals}. */
export interface WatchStopOptions {
  /** Stops the wait too (tests, embedding). */
  readonly signal?: AbortSignal;
  /** Called once, on the first SIGINT or SIGTERM, before the drain (e.g. to print a notice). */
  readonly onSignal?: (signal: NodeJS.Signals) => void;
}

/** What {@link watchStopSignals} returns. */
export interface StopWatch extends Disposable {
  /** Resolves on the first SIGINT or SIGTERM (with its name), or `'abort'` when `signal` aborts. */
  readonly stopped: Promise<NodeJS.Signals | 'abort'>;
  /** Removes the signal listeners (after the drain); `[Symbol.dispose]` does the same. */
  dispose(): void;
}

// A terminal's Ctrl-C reaches every process of the group, and `pnpm` forwards it once more: a second
// signal this soon is the same keystroke, not a request to stop at once.
const duplicateSignalWindowMs = 500;

/**
 * Watches SIGINT and SIGTERM for a serving command: `stopped` resolves on the first, and the caller
 * then drains (`server.close()`), disposes the watch and exits 0. A second signal during the drain,
 * later than the echo of the first, exits at once with {@link exitCodes}`.interrupted` (130).
 */
export function watchStopSignals(options: WatchStopOptions = {}): StopWatch {
  let firstAt = 0;
  let resolveStopped!: (reason: NodeJS.Signals | 'abort') => void;
  const stopped = new Promise<NodeJS.Signals | 'abort'>((resolve) => {
    resolveStopped = resolve;
  });
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstAt !== 0) {
      if (Date.now() - firstAt > duplicateSignalWindowMs) process.exit(exitCodes.interrupted);
      return;
    }
    firstAt = Date.now();
    options.onSignal?.(signal);
    resolveStopped(signal);
  };
  const onAbort = () => {
    if (firstAt !== 0) return;
    firstAt = Date.now();
    resolveStopped('abort');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  const dispose = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    options.signal?.removeEventListener('abort', onAbort);
  };
  return { stopped, dispose, [Symbol.dispose]: dispose };
}

/**
 * Runs a command's `main` as the bin does: its resolved number is the exit code; a {@link UsageError}
 * prints `name: message (see --help)` and exits 2; anything else prints `name: message` and exits 1
 * (with the stack only for errors that are not srv's own, which are bugs). `--help`-style answers are
 * `main`'s to print.
 */
export async function runCommand(
  name: string,
  main: () => Promise<number>,
  stderr: CommandOutput = process.stderr,
): Promise<number> {
  try {
    return await main();
  } catch (error) {
    if (isUsageError(error)) {
      stderr.write(`${name}: ${error.message} (see --help)\n`);
      return exitCodes.usage;
    }
    if (isSrvError(error) || !(error instanceof Error)) {
      stderr.write(`${name}: ${describeError(error)}\n`);
    } else {
      stderr.write(`${name}: ${error.message}\n${error.stack ?? ''}\n`);
    }
    return exitCodes.failure;
  }
}

/**
 * The message of a server's failed `ready` as a sentence for the command's user, with the exit code:
 * invalid addresses are the user's flag (2), everything else (in use, permission) a failure to start (1).
 */
export function describeStartError(error: unknown, where: string): { message: string; code: number } {
  if (isSrvError(error, 'SRV_ERR_INVALID_ADDRESS')) {
    return { message: `cannot bind ${where}: not an IP address or host name this machine resolves`, code: 2 };
  }
  if (isSrvError(error, 'SRV_ERR_ADDRESS_IN_USE')) {
    return { message: `${where} is already in use (another server there?)`, code: 1 };
  }
  if (isSrvError(error, 'SRV_ERR_PERMISSION_DENIED')) {
    return { message: `permission denied binding ${where} (ports below 1024 need privileges)`, code: 1 };
  }
  if (isSrvError(error, 'SRV_ERR_ADDRESS_NOT_AVAILABLE')) {
    return { message: `${where} is not an address of this machine`, code: 1 };
  }
  return { message: describeError(error), code: 1 };
}

/** `host port N` as the messages name an endpoint (`[::1]:80` style, without tuples). */
export function formatEndpoint(host: string, port: number): string {
  return `${urlHost(host)}:${port}`;
}
