/** Options several commands share ({@link commonOptions}) and the deployment flags ({@link deployOptions}, {@link readDeployOptions}). */
import { listenFds } from './address.js';
import {
  type OptionSpec,
  type ParsedCommandLine,
  parseBindHost,
  parsePort,
  parsePositiveInteger,
  usage,
} from './cli-command.js';
import { supportsReusePort } from './endpoint.js';
import { SrvError } from './errors.js';
import { createTrustList } from './proxy-protocol.js';

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
