import { isIP } from 'node:net';
import {
  type CommandSpec,
  commonOptions,
  type DeployArgs,
  formatHelp,
  type OptionSpec,
  parseCommandLine,
  parsePort as parseListenPort,
  parsePositiveInteger,
  readDeployOptions,
  readPackageVersion,
  UsageError,
} from '@srv/core/cli';

export { UsageError };

/** What `srv-time` serves or asks for. */
export type Service = 'line' | 'daytime' | 'time';

/** The words `srv-time query` accepts. */
export type QueryWord = 'asctime' | 'seconds' | 'rfc822';

/** A parsed `srv-time` command line. */
export type CliCommand =
  /** `--help` or `--version`: print `output` on stdout, exit 0. */
  | { readonly command: 'help'; readonly output: string }
  | {
      readonly command: 'serve';
      readonly port: number;
      readonly bind: string;
      readonly udp: boolean;
      readonly service: Service;
      readonly interactive: boolean;
      readonly threading: boolean;
      readonly quiet: boolean;
      /** `--udp-rate N`: replies per second to one source over UDP (undefined: the default, 20). */
      readonly udpRate: number | undefined;
      /** `--backlog N`: the kernel's accept queue for TCP (undefined: the default). */
      readonly backlog: number | undefined;
      /**
       * `--workers`, `--reuse-port`, `--proxy-protocol`, `--trusted-proxy`, `--fd` (or systemd's
       * `LISTEN_FDS`), `--drain-delay`, `--grace`; no health flags (the time protocol is not HTTP).
       */
      readonly deploy: DeployArgs;
    }
  | {
      readonly command: 'query';
      readonly host: string;
      readonly port: number;
      readonly word: QueryWord;
      readonly udp: boolean;
      readonly service: Service;
    };

export const DEFAULT_PORT = 8765;

const version = readPackageVersion(import.meta.url);

const serviceOption: OptionSpec = {
  name: 'service',
  value: 'NAME',
  description: "line (the tutorial's), daytime (RFC 867) or time (RFC 868); default line",
  parse: (text) => parseService(text),
};
const udpOption: OptionSpec = { name: 'udp', description: 'over UDP instead of TCP' };

const serveSpec: CommandSpec = {
  name: 'srv-time',
  version,
  usage: ['srv-time serve [port] [options]'],
  summary: `Answer time requests (port ${DEFAULT_PORT}; bind :: dual-stack). Over UDP, datagrams from ports below
1024 or the server's own port get no answer, and one source gets at most --udp-rate N replies a second.`,
  arguments: [
    { name: 'port', description: `port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)` },
  ],
  options: [
    commonOptions.bind,
    udpOption,
    serviceOption,
    { name: 'interactive', description: 'answer several lines per connection (line service over TCP)' },
    { name: 'threading', description: 'handle each connection in a worker thread' },
    { ...commonOptions.quiet, description: 'no connection lines' },
    {
      name: 'udp-rate',
      value: 'N',
      description: 'replies a second to one UDP source (default 20; 0 = no limit)',
      parse: (text, flag) =>
        /^\d{1,7}$/.test(text)
          ? Number(text)
          : usage(`${flag} wants a whole number of replies per second, got ${JSON.stringify(text)}`),
    },
    { ...commonOptions.backlog, parse: (text, flag) => parsePositiveInteger(text, flag) },
    commonOptions.workers,
    commonOptions.reusePort,
    { ...commonOptions.proxyProtocol, description: `${commonOptions.proxyProtocol.description} (TCP only)` },
    commonOptions.trustedProxy,
    { ...commonOptions.fd, description: `${commonOptions.fd.description} (TCP only)` },
    {
      ...commonOptions.drainDelay,
      description:
        'on SIGTERM keep accepting S seconds before the drain (default 0); no\nhealth path: the time protocol is not HTTP',
    },
    {
      ...commonOptions.grace,
      description: 'seconds open connections get to finish after the drain begins (default 30)',
    },
  ],
  maxPositionals: 1,
};

const querySpec: CommandSpec = {
  name: 'srv-time',
  version,
  usage: ['srv-time query [host:port] [asctime|seconds|rfc822] [options]'],
  summary: `Ask a server for the time (default localhost:${DEFAULT_PORT}, seconds).`,
  options: [udpOption, serviceOption],
  maxPositionals: 2,
};

/** The help of `srv-time`: both commands. */
export const USAGE = `${formatHelp(serveSpec)}
${formatHelp(querySpec)}`;

const topSpec: CommandSpec = {
  name: 'srv-time',
  version,
  usage: [...serveSpec.usage, ...querySpec.usage],
  summary: "The tutorial's time server and its client (also RFC 867 daytime and RFC 868 time).",
  options: [],
  footer: "'srv-time serve --help' and 'srv-time query --help' list their options.",
};

function usage(message: string): never {
  throw new UsageError(message);
}

const services: readonly Service[] = ['line', 'daytime', 'time'];
const words: readonly QueryWord[] = ['asctime', 'seconds', 'rfc822'];

function parseService(value: string | undefined): Service {
  if (value === undefined) return 'line';
  if ((services as readonly string[]).includes(value)) return value as Service;
  return usage(`--service must be line, daytime or time, not ${JSON.stringify(value)}`);
}

function parsePort(value: string, allowZero: boolean): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port <= 65535) || (!allowZero && port === 0)) {
    throw new UsageError(`bad port ${JSON.stringify(value)}`);
  }
  return port;
}

/** `host:port`, `[v6]:port`, `host`, `[v6]`, a bare IPv6 address or `:port`; the missing half defaults. */
export function parseTarget(value: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (bracketed) {
    if (isIP(bracketed[1]!) !== 6) throw new UsageError(`bad IPv6 address ${JSON.stringify(value)}`);
    return { host: bracketed[1]!, port: bracketed[2] ? parsePort(bracketed[2], false) : DEFAULT_PORT };
  }
  if (isIP(value) === 6) return { host: value, port: DEFAULT_PORT };
  const colon = value.lastIndexOf(':');
  if (colon === -1) {
    if (value === '') throw new UsageError('empty host');
    return { host: value, port: DEFAULT_PORT };
  }
  const host = value.slice(0, colon);
  if (host.includes(':')) throw new UsageError(`write an IPv6 address in brackets: [${host}]:port`);
  return { host: host === '' ? 'localhost' : host, port: parsePort(value.slice(colon + 1), false) };
}

function parseServe(argv: string[]): CliCommand {
  const args = parseCommandLine(serveSpec, argv);
  if (args.answered) return { command: 'help', output: args.output };
  const service = args.get<Service>('service') ?? 'line';
  const udp = args.flag('udp');
  const interactive = args.flag('interactive');
  if (interactive && (service !== 'line' || udp)) usage('--interactive applies to the line service over TCP');
  const port = args.positionals[0];
  const deploy = readDeployOptions(args, port !== undefined || args.has('bind'));
  if (udp && deploy.proxyProtocol) usage('--proxy-protocol applies to TCP, not --udp');
  if (udp && deploy.fd !== undefined) usage('--fd and LISTEN_FDS serve a stream socket; not with --udp');
  return {
    command: 'serve',
    port: port === undefined ? DEFAULT_PORT : parseListenPort(port, 'port'),
    bind: args.get<string>('bind') ?? '::',
    udp,
    service,
    interactive,
    threading: args.flag('threading'),
    quiet: args.flag('quiet'),
    udpRate: args.get<number>('udp-rate'),
    backlog: args.get<number>('backlog'),
    deploy,
  };
}

function parseQuery(argv: string[]): CliCommand {
  const args = parseCommandLine(querySpec, argv);
  if (args.answered) return { command: 'help', output: args.output };
  const { positionals } = args;
  const isWord = (value: string | undefined) =>
    value !== undefined && (words as readonly string[]).includes(value.toLowerCase());
  // `srv-time query rfc822` names the word and keeps the default server.
  const [first, second] =
    positionals.length === 1 && isWord(positionals[0]) ? [undefined, positionals[0]] : positionals;
  if (second !== undefined && !isWord(second)) {
    throw new UsageError(`the word must be asctime, seconds or rfc822, not ${JSON.stringify(second)}`);
  }
  const target = first === undefined ? { host: 'localhost', port: DEFAULT_PORT } : parseTarget(first);
  return {
    command: 'query',
    ...target,
    word: (second?.toLowerCase() ?? 'seconds') as QueryWord,
    udp: args.flag('udp'),
    service: args.get<Service>('service') ?? 'line',
  };
}

/** Parses `srv-time`'s arguments (without `node` and the script). Throws {@link UsageError}. */
export function parseCli(argv: readonly string[]): CliCommand {
  const [command, ...rest] = argv;
  if (command === 'serve') return parseServe(rest);
  if (command === 'query') return parseQuery(rest);
  if (command === 'help') return { command: 'help', output: USAGE };
  if (command === undefined) usage('missing command: serve or query');
  if (command.startsWith('-')) {
    const args = parseCommandLine(topSpec, argv);
    if (args.answered) return { command: 'help', output: args.flag('help') ? USAGE : args.output };
  }
  return usage(`unknown command ${JSON.stringify(command)}: serve or query`);
}
