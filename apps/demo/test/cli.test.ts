import { once } from 'node:events';
import net from 'node:net';
import { UsageError } from '@srv/core/cli';
import { describe, expect, onTestFinished, test } from 'vitest';
import { parseCommand } from '../src/args.js';
import { runDemo, runToEnd } from './helpers.js';

const names = [
  'hello',
  'pages',
  'threading',
  'forking',
  'static',
  'static-threading',
  'cgi',
  'time',
  'time6',
];

describe('srv-demo list and usage', () => {
  test('list prints every server with its port and what it shows', async () => {
    const { exit, stdout } = await runToEnd(['list']);
    expect(exit.code).toBe(0);
    const rows = stdout.split('\n').slice(1);
    expect(rows.map((row) => row.split(/\s+/)[0])).toEqual(names);
    expect(rows.map((row) => row.split(/\s+/).slice(1, 3))).toEqual([
      ['6789', '6789'],
      ['7890', '7890'],
      ['7890', '7891'],
      ['7890', '7892'],
      ['9876', '9876'],
      ['9876', '9877'],
      ['9876', '9878'],
      ['0.0.0.0:8765', '0.0.0.0:8765'],
      ['[::]:8765', '[::]:8765'],
    ]);
    expect(stdout).toContain('Hello World');
  });

  test('--help prints its own usage with the flags the README documents, and exits 0', async () => {
    const { exit, stdout, stderr } = await runToEnd(['--help']);
    expect(exit.code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Usage: srv-demo list\n {7}srv-demo <name> \[port\] \[options\]\n/);
    for (const line of [
      /^ {2}-p, --port N +port to listen on/m,
      /^ {2}-b, --bind ADDRESS +address to bind/m,
      /^ {2}-d, --directory DIR +directory served/m,
      /^ {6}--slow S /m,
      /^ {6}--backlog N /m,
      /^ {2}-q, --quiet /m,
      /^ {2}-v, --version /m,
      /^ {2}-h, --help /m,
    ]) {
      expect(stdout).toMatch(line);
    }
  });

  test('--version and -v print the version and exit 0', async () => {
    for (const flag of ['--version', '-v']) {
      const { exit, stdout, stderr } = await runToEnd([flag]);
      expect([flag, exit.code, stdout, stderr]).toEqual([flag, 0, 'srv-demo 0.0.0', '']);
    }
  });

  test.each([
    [['--nope'], /^srv-demo: unknown option --nope \(see --help\)\n$/],
    [[], /which server\?/],
    [['nosuch'], /no server named "nosuch"/],
    [['hello', '--slow', '1'], /--slow applies to pages, threading and forking, not hello/],
    [['pages', '--directory', '.'], /--directory applies to static, static-threading and cgi, not pages/],
    [['static', '--directory', '/no/such/dir'], /--directory "\/no\/such\/dir" is not a directory/],
    [['hello', '--port', '70000'], /--port must be a number from 0 to 65535/],
    [['pages', '--slow', 'abc'], /--slow must be a number of seconds/],
    [['all', '--port', '1'], /a port and --bind do not apply/],
    [['all', '8000'], /a port and --bind do not apply/],
    [['hello', '1', '--port', '2'], /^srv-demo: give the port once: 1 and --port 2 \(see --help\)\n$/],
    [
      ['hello', '--bind', 'not a host!', '--port', '0'],
      /--bind "not a host!" is not an IP address or a host name/,
    ],
    [
      ['hello', '-b', 'unix:/x'],
      /^srv-demo: -b unix:\/x: this command serves over TCP\/IP; give an IP address or a host name \(see --help\)\n$/,
    ],
  ])('srv-demo %j → one usage line on stderr, exit 2', async (args, message) => {
    const { exit, stdout, stderr } = await runToEnd(args);
    expect(exit.code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toMatch(/^srv-demo: [^\n]+ \(see --help\)\n$/);
    expect(stdout).toBe('');
  });

  test('a busy port: "srv-demo: <name>: <host>:<port> is already in use", exit 1', async () => {
    const blocker = net.createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    onTestFinished(() => {
      blocker.close();
    });
    const { port } = blocker.address() as net.AddressInfo;
    const { exit, stdout, stderr } = await runToEnd(['hello', '--bind', '127.0.0.1', '--port', String(port)]);
    expect(exit.code).toBe(1);
    expect(stderr).toBe(`srv-demo: hello: 127.0.0.1:${port} is already in use (another server there?)\n`);
    expect(stdout).toBe('');
  });
});

describe('srv-demo serving', () => {
  test('takes the port positionally, prints the banner then where to open it, and --quiet logs nothing', async () => {
    const run = runDemo(['hello', '0', '--quiet']);
    await run.lines(/./, 2);
    const port = Number(/ port (\d+) /.exec(run.stdout[0]!)?.[1]);
    expect(run.stdout[0]).toBe(`Serving HTTP on 0.0.0.0 port ${port} (http://0.0.0.0:${port}/) ...`);
    expect(run.stdout[1]).toMatch(
      new RegExp(
        `^Open http://localhost:${port}/ in a browser( \\(from the network: http://[\\d.]+:${port}/\\))?$`,
      ),
    );
    const response = await fetch(`http://localhost:${port}/`);
    expect(response.status).toBe(200);
    await response.text();
    expect(await run.stop('SIGINT')).toEqual({ code: 0, signal: null });
    expect(run.stderr()).toBe('\nsrv-demo: SIGINT received, finishing the requests in flight ...\n');
    expect(run.stdout).toHaveLength(2);
  });

  test('without --quiet the access line names the client as plain IPv4; no reach line on one address', async () => {
    const run = runDemo(['hello', '0', '-b', '127.0.0.1']);
    await run.line(/^Serving /);
    const port = Number(/ port (\d+) /.exec(run.stdout[0]!)?.[1]);
    await (await fetch(`http://127.0.0.1:${port}/x`)).text();
    await run.stderrMatch(/"GET \/x HTTP\/1\.1" 200 -/);
    expect(run.stderr()).toMatch(/^127\.0\.0\.1 - - \[/);
    expect(await run.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(run.stdout).toEqual([`Serving HTTP on 127.0.0.1 port ${port} (http://127.0.0.1:${port}/) ...`]);
  });
});

describe('parseCommand', () => {
  test('reads a server with its flags', () => {
    expect(parseCommand(['pages', '--port', '0', '--bind', '::1', '--slow', '2.5'])).toEqual({
      command: 'run',
      target: 'pages',
      port: 0,
      bind: '::1',
      directory: undefined,
      slow: 2.5,
      backlog: undefined,
      quiet: false,
    });
    expect(parseCommand(['pages', '0', '-q'])).toMatchObject({ target: 'pages', port: 0, quiet: true });
    expect(parseCommand(['static', '--backlog', '8192'])).toMatchObject({ backlog: 8192 });
    expect(() => parseCommand(['static', '--backlog', '0'])).toThrow(UsageError);
  });

  test('list and help', () => {
    expect(parseCommand(['list'])).toEqual({ command: 'list' });
    expect(parseCommand(['-h'])).toMatchObject({ command: 'help' });
    expect(() => parseCommand(['list', '--port', '1'])).toThrow(UsageError);
    expect(() => parseCommand(['hello', '1', 'extra'])).toThrow(/unexpected argument "extra"/);
  });
});
