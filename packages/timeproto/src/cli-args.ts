import { isIP } from 'node:net';
import { parseArgs } from 'node:util';

/** What `srv-time` serves or asks for. */
export type Service = 'line' | 'daytime' | 'time';

/** The words `srv-time query` accepts. */
export type QueryWord = 'asctime' | 'seconds' | 'rfc822';

/** A parsed `srv-time` command line. */
export type CliCommand =
  | { readonly command: 'help' }
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

export const USAGE = `usage: srv-time serve [port] [-b/--bind host] [--udp] [--service line|daytime|time] [--interactive] [--threading] [-q/--quiet] [--udp-rate N] [--backlog N]
       srv-time query [host:port] [asctime|seconds|rfc822] [--udp] [--service line|daytime|time]

serve   answer time requests (port ${DEFAULT_PORT}, bind :: dual-stack; --threading handles each in a
        worker thread; --quiet logs no connection lines; over UDP, datagrams from ports below 1024
        or the server's own port get no answer, and one source gets at most --udp-rate N replies a
        second, default 20; --backlog N sets the TCP accept queue, default 4096)
query   ask a server (localhost:${DEFAULT_PORT}, seconds)
`;

/** A command line that does not parse: the CLI prints the usage on stderr and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const services: readonly Service[] = ['line', 'daytime', 'time'];
const words: readonly QueryWord[] = ['asctime', 'seconds', 'rfc822'];

function parseService(value: string | undefined): Service {
  if (value === undefined) return 'line';
  if ((services as readonly string[]).includes(value)) return value as Service;
  throw new UsageError(`--service must be line, daytime or time, not ${JSON.stringify(value)}`);
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

function parseServe(args: string[]): CliCommand {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      bind: { type: 'string', short: 'b' },
      udp: { type: 'boolean', default: false },
      service: { type: 'string' },
      interactive: { type: 'boolean', default: false },
      threading: { type: 'boolean', default: false },
      quiet: { type: 'boolean', short: 'q', default: false },
      'udp-rate': { type: 'string' },
      backlog: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { command: 'help' };
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  const udpRate = values['udp-rate'];
  if (udpRate !== undefined && !/^\d{1,7}$/.test(udpRate)) {
    throw new UsageError(
      `--udp-rate wants a whole number of replies per second, got ${JSON.stringify(udpRate)}`,
    );
  }
  const backlog = values.backlog;
  if (backlog !== undefined && (!/^\d{1,9}$/.test(backlog) || Number(backlog) < 1)) {
    throw new UsageError(`--backlog wants a positive integer, got ${JSON.stringify(backlog)}`);
  }
  const service = parseService(values.service);
  if (values.interactive && (service !== 'line' || values.udp)) {
    throw new UsageError('--interactive applies to the line service over TCP');
  }
  const bind = values.bind ?? '::';
  if (bind === '') throw new UsageError('--bind needs a host');
  return {
    command: 'serve',
    port: positionals[0] === undefined ? DEFAULT_PORT : parsePort(positionals[0], true),
    bind: bind.startsWith('[') && bind.endsWith(']') ? bind.slice(1, -1) : bind,
    udp: values.udp,
    service,
    interactive: values.interactive,
    threading: values.threading,
    quiet: values.quiet,
    udpRate: udpRate === undefined ? undefined : Number(udpRate),
    backlog: backlog === undefined ? undefined : Number(backlog),
  };
}

function parseQuery(args: string[]): CliCommand {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      udp: { type: 'boolean', default: false },
      service: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { command: 'help' };
  if (positionals.length > 2) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[2])}`);
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
    udp: values.udp,
    service: parseService(values.service),
  };
}

/** Parses `srv-time`'s arguments (without `node` and the script). Throws {@link UsageError}. */
export function parseCli(argv: readonly string[]): CliCommand {
  const [command, ...rest] = argv;
  try {
    if (command === 'serve') return parseServe(rest);
    if (command === 'query') return parseQuery(rest);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // parseArgs reports unknown flags and missing values with ERR_PARSE_ARGS_* codes.
    throw new UsageError((error as Error).message);
  }
  if (command === '-h' || command === '--help' || command === 'help') return { command: 'help' };
  throw new UsageError(
    command === undefined ? 'missing command' : `unknown command ${JSON.stringify(command)}`,
  );
}
