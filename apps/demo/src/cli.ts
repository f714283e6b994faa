/**
 * `srv-demo`: runs the servers of the socketserver tutorial by name (`srv-demo pages --slow 5`), or
 * all nine at once (`srv-demo all`, what `pnpm demo` starts). Ctrl-C and SIGTERM drain and exit 0.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BaseServer, isSrvError, type SocketAddress } from '@srv/core';
import {
  describeStartError,
  exitCodes,
  formatBanner,
  formatEndpoint,
  formatReachLine,
  runCommand,
  usage,
  watchStopSignals,
} from '@srv/core/cli';
import { type Command, parseCommand } from './args.js';
import { type Demo, type DemoServer, demos, findDemo } from './demos.js';
import { serveSample } from './sample.js';

type RunCommand = Extract<Command, { command: 'run' }>;

interface Started {
  readonly demo: Demo;
  readonly port: number;
  readonly server: DemoServer;
}

function names(demos: readonly Demo[]): string {
  const list = demos.map((demo) => demo.name);
  return list.length > 1 ? `${list.slice(0, -1).join(', ')} and ${list.at(-1)}` : (list[0] ?? '');
}

function selectDemos(command: RunCommand): readonly Demo[] {
  if (command.target === 'all') return demos;
  const demo = findDemo(command.target);
  if (!demo) usage(`no server named ${JSON.stringify(command.target)}; try srv-demo list`);
  if (command.slow > 0 && !demo.slow) {
    usage(`--slow applies to ${names(demos.filter((d) => d.slow))}, not ${demo.name}`);
  }
  if (command.directory !== undefined && !demo.directory) {
    usage(`--directory applies to ${names(demos.filter((d) => d.directory))}, not ${demo.name}`);
  }
  return [demo];
}

function resolveDirectory(directory: string | undefined, selected: readonly Demo[]): string {
  if (directory === undefined) {
    // Only the servers that serve a directory need the sample (and, run as root, perhaps a copy of it).
    if (!selected.some((demo) => demo.directory)) return '';
    const sample = serveSample();
    if (sample.note !== undefined) process.stderr.write(`srv-demo: ${sample.note}\n`);
    return sample.directory;
  }
  const absolute = resolve(directory);
  let isDirectory = false;
  try {
    isDirectory = statSync(absolute).isDirectory();
  } catch {
    isDirectory = false;
  }
  if (!isDirectory) usage(`--directory ${JSON.stringify(directory)} is not a directory`);
  return absolute;
}

/** `Serving HTTP on 0.0.0.0 port 6789 (http://0.0.0.0:6789/) ...`, Python's banner. */
function banner(demo: Demo, address: SocketAddress): string {
  return formatBanner(demo.protocol, address, demo.protocol === 'HTTP' ? 'http' : 'tcp');
}

/** Where a browser or `nc` on this machine reaches a server. */
function localUrl(demo: Demo, address: SocketAddress): string {
  const host =
    address.host === '0.0.0.0' ? 'localhost' : address.host === '::' ? '[::1]' : formatHost(address.host);
  return demo.protocol === 'HTTP' ? `http://${host}:${address.port}/` : `tcp://${host}:${address.port}`;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function list(): void {
  const rows = [
    ['NAME', 'PORT', 'IN ALL', 'SHOWS'],
    ...demos.map((demo) => {
      const where = demo.host === '' ? '' : `${formatHost(demo.host)}:`;
      return [demo.name, `${where}${demo.port}`, `${where}${demo.allPort}`, demo.shows];
    }),
  ];
  process.stdout.write(`${table(rows)}\n`);
}

async function run(command: RunCommand): Promise<number> {
  const selected = selectDemos(command);
  const directory = resolveDirectory(command.directory, selected);
  // Python's way (`request_queue_size` is a class attribute): every server class of this process
  // inherits the static field unless it sets its own.
  if (command.backlog !== undefined) BaseServer.backlog = command.backlog;
  const all = command.target === 'all';
  const started: Started[] = [];
  const closeAll = () => Promise.allSettled(started.map(({ server }) => server.close()));

  let stopping: Promise<unknown> | undefined;
  const stop = watchStopSignals({
    onSignal: (signal) => {
      process.stderr.write(`\nsrv-demo: ${signal} received, finishing the requests in flight ...\n`);
      stopping = closeAll();
    },
  });
  try {
    for (const demo of selected) {
      if (stopping) break;
      const port = all ? demo.allPort : (command.port ?? demo.port);
      const host = command.bind ?? demo.host;
      try {
        const server = await demo.create({
          host,
          port,
          directory,
          slow: demo.slow ? command.slow : 0,
          quiet: command.quiet,
          fd: command.fd,
        });
        started.push({ demo, port, server });
      } catch (error) {
        await closeAll();
        if (isSrvError(error, 'SRV_ERR_INVALID_ADDRESS')) {
          usage(describeStartError(error, formatEndpoint(host || '0.0.0.0', port)).message);
        }
        throw error;
      }
    }

    const outcomes = await Promise.allSettled(started.map(({ server }) => server.ready));
    const failures = outcomes.flatMap((outcome, index) =>
      outcome.status === 'rejected' ? [{ ...started[index]!, error: outcome.reason as unknown }] : [],
    );
    if (failures.length > 0) {
      await closeAll();
      let code: number = exitCodes.failure;
      for (const { demo, port, error } of failures) {
        const host = command.bind ?? demo.host;
        const described = describeStartError(error, formatEndpoint(host || '0.0.0.0', port));
        code = Math.max(code, described.code);
        process.stderr.write(`srv-demo: ${demo.name}: ${described.message}\n`);
      }
      return code;
    }
    if (stopping) {
      // Stopped while starting: whatever was created after the signal is closed too.
      await closeAll();
      return 0;
    }

    const serving = started.map(({ server }) => server.serveForever());
    for (const { demo, server } of started) {
      const reach = all ? '' : formatReachLine(server.address, demo.protocol === 'HTTP' ? 'http' : 'tcp');
      process.stdout.write(`${banner(demo, server.address)}\n${reach ? `${reach}\n` : ''}`);
    }
    if (all) {
      const rows = [
        ['SERVER', 'URL', 'SHOWS'],
        ...started.map(({ demo, server }) => [demo.name, localUrl(demo, server.address), demo.shows]),
      ];
      process.stdout.write(`\n${table(rows)}\n\nPress Ctrl-C to stop.\n`);
    }
    await Promise.all(serving);
    await stopping;
    return 0;
  } finally {
    stop.dispose();
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const command = parseCommand(argv);
  if (command.command === 'help') {
    process.stdout.write(command.output);
    return exitCodes.ok;
  }
  if (command.command === 'list') {
    list();
    return exitCodes.ok;
  }
  return run(command);
}

process.exitCode = await runCommand('srv-demo', () => main(process.argv.slice(2)));
// Everything is closed; a handle someone forgot to release must not keep the command alive.
setTimeout(() => process.exit(), 3000).unref();
