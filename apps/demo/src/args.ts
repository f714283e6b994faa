import {
  type CommandSpec,
  commonOptions,
  formatHelp,
  parseCommandLine,
  parsePort,
  readDeployOptions,
  readPackageVersion,
  usage,
} from '@srv/core/cli';

/** srv-demo's options, declared once: the parser and the help both come from here. */
export const spec: CommandSpec = {
  name: 'srv-demo',
  version: readPackageVersion(import.meta.url),
  usage: ['srv-demo list', 'srv-demo <name> [port] [options]', 'srv-demo all [options]'],
  summary: `Runs the servers of the socketserver tutorial. Names: hello, pages, threading, forking, static,
static-threading, cgi, time, time6 ('srv-demo list' tells their ports and what each shows).`,
  arguments: [
    { name: 'name', description: 'the server to run, all of them (all), or list' },
    {
      name: 'port',
      description: "port to listen on, as --port (0 picks a free one); default: the server's own",
    },
  ],
  options: [
    {
      ...commonOptions.port,
      short: 'p',
      description: "port to listen on (0 picks a free one); default: the server's documented port",
    },
    { ...commonOptions.bind, description: "address to bind; default: all interfaces ('::' for time6)" },
    {
      ...commonOptions.directory,
      description: 'directory served by static, static-threading and cgi; default: the bundled sample',
    },
    {
      name: 'slow',
      value: 'S',
      description: 'seconds each page blocks on pages, threading and forking; default 0',
      parse: (text, flag) => parseSlow(text, flag),
    },
    {
      ...commonOptions.backlog,
      description: "length of the kernel's accept queue of each server; default 4096 (capped by somaxconn)",
    },
    { ...commonOptions.quiet, description: 'no access lines, no Handling with … lines, no connection lines' },
    {
      ...commonOptions.fd,
      description:
        'serve the one named server on the listening socket inherited as descriptor N\n(systemd: LISTEN_FDS/LISTEN_PID are honoured without this flag)',
    },
  ],
  maxPositionals: 2,
};

/** The usage text, printed by `--help`. */
export const USAGE = formatHelp(spec);

/** What the command line asks for. */
export type Command =
  /** `--help` or `--version`: print `output` on stdout and exit 0. */
  | { readonly command: 'help'; readonly output: string }
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
      /** `--quiet`: no per-request or per-connection lines. */
      readonly quiet: boolean;
      /** `--fd N`, or systemd's first socket (`LISTEN_FDS`/`LISTEN_PID`): serve it instead of binding. */
      readonly fd: number | undefined;
    };

function parseSlow(text: string, flag: string): number {
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds < 0 || seconds > 3600) {
    usage(`${flag} must be a number of seconds from 0 to 3600, got ${JSON.stringify(text)}`);
  }
  return seconds;
}

/**
 * Parses srv-demo's arguments; a bad command line throws `UsageError` (`SRV_ERR_USAGE`). Which flags a given
 * server accepts is checked by the caller, which knows the servers.
 */
export function parseCommand(argv: readonly string[]): Command {
  const args = parseCommandLine(spec, argv);
  if (args.answered) return { command: 'help', output: args.output };
  const [target, portText] = args.positionals;
  if (target === undefined) usage('which server? give a name, all or list');
  if (target === 'list') {
    if (args.values.size > 0 || portText !== undefined) usage('list takes no options');
    return { command: 'list' };
  }
  const flagged = args.get<number>('port');
  if (portText !== undefined && flagged !== undefined) {
    usage(`give the port once: ${portText} and ${args.spelled.get('port')} ${flagged}`);
  }
  const port = portText === undefined ? flagged : parsePort(portText, 'port');
  const bind = args.get<string>('bind');
  if (target === 'all' && (port !== undefined || bind !== undefined)) {
    usage('all runs every server on its fixed port: a port and --bind do not apply');
  }
  const { fd } = readDeployOptions(args, port !== undefined || bind !== undefined);
  if (target === 'all' && fd !== undefined) {
    usage('an inherited socket (--fd, LISTEN_FDS) serves one server: name it instead of all');
  }
  return {
    command: 'run',
    target,
    port,
    bind,
    directory: args.get<string>('directory'),
    slow: args.get<number>('slow') ?? 0,
    backlog: args.get<number>('backlog'),
    quiet: args.flag('quiet'),
    fd,
  };
}
