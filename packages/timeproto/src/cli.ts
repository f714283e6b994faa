/**
 * The `srv-time` command. It imports the library through `./index.js`, which the build keeps as a
 * separate module, so the handler classes' `moduleUrl` points at the entry threading workers load.
 */
import cluster from 'node:cluster';
import { setTimeout as delay } from 'node:timers/promises';
import { type AddressInput, type BaseServer, isSrvError, type Logger, type SocketAddress } from '@srv/core';
import {
  describeError,
  describeStartError,
  exitCodes,
  formatBanner,
  formatEndpoint,
  formatReachLine,
  runCommand,
  usage,
} from '@srv/core/cli';
import { type ServedServer, serveCommand, type WorkerContext, type WorkerServer } from '@srv/core/internal';
import { type CliCommand, parseCli, type Service } from './cli-args.js';
import {
  DaytimeDatagramHandler,
  DaytimeRequestHandler,
  formatAsctime,
  formatRfc822,
  formatSeconds,
  queryDaytime,
  queryRfc868,
  queryTime,
  Rfc868DatagramHandler,
  Rfc868RequestHandler,
  TimeDatagramHandler,
  TimeRequestHandler,
  TimeServer,
  TimeUDPServer,
} from './index.js';

type ServeCommand = Extract<CliCommand, { command: 'serve' }>;
type QueryCommand = Extract<CliCommand, { command: 'query' }>;

const serviceNotes: Record<Service, string> = {
  line: '',
  daytime: ', RFC 867 daytime',
  time: ', RFC 868 time',
};

// Connection lines go to stdout as the tutorial's `print` does; problems go to stderr.
const cliLogger: Logger = {
  info: (fieldsOrMessage, message) =>
    process.stdout.write(`${typeof fieldsOrMessage === 'string' ? fieldsOrMessage : (message ?? '')}\n`),
  warn: (fieldsOrMessage, message) => process.stderr.write(`${describe(fieldsOrMessage, message)}\n`),
  error: (fieldsOrMessage, message) => process.stderr.write(`${describe(fieldsOrMessage, message)}\n`),
};

function describe(fieldsOrMessage: object | string, message: string | undefined): string {
  if (typeof fieldsOrMessage === 'string') return fieldsOrMessage;
  const { err } = fieldsOrMessage as { err?: unknown };
  return err instanceof Error ? `${message ?? ''}: ${err.message}` : (message ?? '');
}

function createServer(command: ServeCommand, address: AddressInput, reusePort: boolean): BaseServer<unknown> {
  const { deploy } = command;
  const options = {
    graceMs: deploy.graceMs,
    ...(reusePort ? { reusePort } : {}),
    ...(deploy.proxyProtocol ? { proxyProtocol: true } : {}),
    ...(deploy.trustedProxies ? { trustedProxies: deploy.trustedProxies } : {}),
    logger: cliLogger,
    interactive: command.interactive,
    ...(command.quiet ? { logConnections: false } : {}),
    ...(command.threading ? {} : { dispatcher: 'async' as const }),
    ...(command.udpRate !== undefined ? { udpRate: command.udpRate } : {}),
    ...(command.backlog !== undefined ? { backlog: command.backlog } : {}),
  };
  if (command.udp) {
    const handler = {
      line: TimeDatagramHandler,
      daytime: DaytimeDatagramHandler,
      time: Rfc868DatagramHandler,
    }[command.service];
    return new TimeUDPServer(address, handler, options) as BaseServer<unknown>;
  }
  const handler = {
    line: TimeRequestHandler,
    daytime: DaytimeRequestHandler,
    time: Rfc868RequestHandler,
  }[command.service];
  return new TimeServer(address, handler, options) as BaseServer<unknown>;
}

/**
 * The time server as {@link runWorkers} drives it: `--drain-delay` keeps it accepting for the delay
 * after SIGTERM (there is no health path to turn 503: the protocol is not HTTP), then it shuts down.
 */
function drainable(server: BaseServer<unknown>): WorkerServer & ServedServer {
  return {
    ready: server.ready,
    get address() {
      return server.address;
    },
    serveForever: () => server.serveForever(),
    shutdown: () => server.shutdown(),
    beginDrain: async (delayMs) => {
      if (delayMs > 0) await delay(delayMs);
      await server.shutdown();
    },
    close: () => server.close(),
  };
}

async function serve(command: ServeCommand): Promise<number> {
  const { deploy } = command;
  let failure = '';
  /** This process's server, or the exit code after saying why it could not start. */
  const open = async (context: WorkerContext): Promise<BaseServer<unknown> | number> => {
    const fd = deploy.fd ?? context.fds[0];
    const port = context.port ?? command.port;
    const where = fd !== undefined ? `descriptor ${fd}` : formatEndpoint(command.bind, port);
    let server: BaseServer<unknown>;
    try {
      server = createServer(command, fd !== undefined ? { fd } : [command.bind, port], context.reusePort);
    } catch (error) {
      if (isSrvError(error, 'SRV_ERR_INVALID_ADDRESS')) usage(describeStartError(error, where).message);
      throw error;
    }
    try {
      await server.ready;
      return server;
    } catch (error) {
      await server.close().catch(() => {});
      const { message, code } = describeStartError(error, where);
      failure = `srv-time: ${message}\n`;
      // A worker leaves the line to the primary, which prints it once for all of them.
      if (!cluster.isWorker) process.stderr.write(failure);
      return code;
    }
  };
  const scheme = command.udp ? 'udp' : 'tcp';
  const announce = (address: SocketAddress) => {
    const reach = formatReachLine(address, scheme);
    process.stdout.write(
      `${formatBanner('TIME', address, scheme, serviceNotes[command.service])}\n${reach ? `${reach}\n` : ''}`,
    );
  };

  return serveCommand({
    deploy,
    host: command.bind,
    port: command.port,
    open: async (context) => {
      const server = await open(context);
      return typeof server === 'number' ? server : drainable(server);
    },
    failure: () => failure,
    announce,
  });
}

async function query(command: QueryCommand): Promise<number> {
  const address: [string, number] = [command.host, command.port];
  const options = { transport: command.udp ? ('udp' as const) : ('tcp' as const) };
  try {
    let text: string;
    if (command.service === 'line') text = await queryTime(address, command.word, options);
    else if (command.service === 'daytime') text = await queryDaytime(address, options);
    else {
      const date = await queryRfc868(address, options);
      text =
        command.word === 'asctime'
          ? formatAsctime(date)
          : command.word === 'rfc822'
            ? formatRfc822(date)
            : formatSeconds(date);
    }
    process.stdout.write(`${text}\n`);
    return 0;
  } catch (error) {
    if (isSrvError(error, 'SRV_ERR_INVALID_ADDRESS')) usage(error.message);
    process.stderr.write(`srv-time: ${describeError(error)}\n`);
    return exitCodes.failure;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const command: CliCommand = parseCli(argv);
  if (command.command === 'help') {
    process.stdout.write(command.output);
    return exitCodes.ok;
  }
  return command.command === 'serve' ? serve(command) : query(command);
}

process.exitCode = await runCommand('srv-time', () => main(process.argv.slice(2)));
