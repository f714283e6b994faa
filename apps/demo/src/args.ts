import { parseArgs } from 'node:util';

/** The usage text, printed by `--help` and, on stderr, after a bad command line. */
export const USAGE = `Usage: srv-demo list
       srv-demo <name> [--port N] [--bind H] [--directory D] [--slow S] [--backlog N]
       srv-demo all [--directory D] [--slow S] [--backlog N]

Runs the servers of the socketserver tutorial. Names: hello, pages, threading, forking, static,
static-threading, cgi, time, time6 ('srv-demo list' tells their ports and what each shows).

Options:
  --port N       port to listen on (0 picks a free one); default: the server's documented port
  --bind H       address to bind; default: all interfaces ('::' for time6)
  --directory D  directory served by static, static-threading and cgi; default: the bundled sample
  --slow S       seconds each page blocks on pages, threading and forking; default 0
  --backlog N    length of the kernel's accept queue of each server; default 4096 (capped by somaxconn)
  -h, --help     show this help
`;

/** A command line srv-demo cannot run; printed with the usage, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** What the command line asks for. */
export type Command =
  | { readonly command: 'help' }
  | { readonly command: 'list' }
  | {
      readonly command: 'run';
      /** A server's name, or `all`. */
      readonly target: string;
      readonly port: number | undefined;
      readonly bind: string | undefined;
      readonly directory: string | undefined;
      readonly slow: number;
      /** `--backlog N`; undefined keeps the servers' default. */
      readonly backlog: number | undefined;
    };

function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new UsageError(`--port must be a number from 0 to 65535, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function parseSlow(text: string): number {
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds < 0 || seconds > 3600) {
    throw new UsageError(`--slow must be a number of seconds from 0 to 3600, got ${JSON.stringify(text)}`);
  }
  return seconds;
}

function parseBacklog(text: string): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1) {
    throw new UsageError(`--backlog must be a positive integer, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/**
 * Parses srv-demo's arguments; a bad command line throws {@link UsageError}. Which flags a given
 * server accepts is checked by the caller, which knows the servers.
 */
export function parseCommand(argv: readonly string[]): Command {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' };
  const [target, ...extra] = positionals;
  if (target === undefined) throw new UsageError('which server? give a name, all or list');
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  if (target === 'list') {
    if (Object.keys(values).length > 0) throw new UsageError('list takes no options');
    return { command: 'list' };
  }
  if (target === 'all' && (values.port !== undefined || values.bind !== undefined)) {
    throw new UsageError('all runs every server on its fixed port: --port and --bind do not apply');
  }
  if (values.directory === '') throw new UsageError('--directory needs a path');
  return {
    command: 'run',
    target,
    port: values.port === undefined ? undefined : parsePort(values.port),
    bind: values.bind,
    directory: values.directory,
    slow: values.slow === undefined ? 0 : parseSlow(values.slow),
    backlog: values.backlog === undefined ? undefined : parseBacklog(values.backlog),
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      port: { type: 'string', short: 'p' },
      bind: { type: 'string', short: 'b' },
      directory: { type: 'string', short: 'd' },
      slow: { type: 'string' },
      backlog: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
