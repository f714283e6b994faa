import { once } from 'node:events';
import net from 'node:net';
import { describe, expect, onTestFinished, test } from 'vitest';
import { parseCommand, UsageError } from '../src/args.js';
import { runToEnd } from './helpers.js';

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

  test('--help prints the usage and exits 0', async () => {
    const { exit, stdout } = await runToEnd(['--help']);
    expect(exit.code).toBe(0);
    expect(stdout).toContain('srv-demo <name> [--port N] [--bind H] [--directory D] [--slow S]');
  });

  test.each([
    [['--nope'], /Unknown option '--nope'/],
    [[], /which server\?/],
    [['nosuch'], /no server named "nosuch"/],
    [['hello', '--slow', '1'], /--slow applies to pages, threading and forking, not hello/],
    [['pages', '--directory', '.'], /--directory applies to static, static-threading and cgi, not pages/],
    [['static', '--directory', '/no/such/dir'], /--directory "\/no\/such\/dir" is not a directory/],
    [['hello', '--port', '70000'], /--port must be a number from 0 to 65535/],
    [['pages', '--slow', 'abc'], /--slow must be a number of seconds/],
    [['all', '--port', '1'], /--port and --bind do not apply/],
    [['hello', '--bind', 'not a host!', '--port', '0'], /invalid address/],
  ])('srv-demo %j → usage on stderr, exit 2', async (args, message) => {
    const { exit, stdout, stderr } = await runToEnd(args);
    expect(exit.code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toContain('Usage: srv-demo list');
    expect(stdout).toBe('');
  });

  test('a busy port: "srv-demo: <name>: port N in use", exit 1', async () => {
    const blocker = net.createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    onTestFinished(() => {
      blocker.close();
    });
    const { port } = blocker.address() as net.AddressInfo;
    const { exit, stdout, stderr } = await runToEnd(['hello', '--bind', '127.0.0.1', '--port', String(port)]);
    expect(exit.code).toBe(1);
    expect(stderr.trim()).toBe(`srv-demo: hello: port ${port} in use`);
    expect(stdout).toBe('');
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
    });
    expect(parseCommand(['static', '--backlog', '8192'])).toMatchObject({ backlog: 8192 });
    expect(() => parseCommand(['static', '--backlog', '0'])).toThrow(UsageError);
  });

  test('list and help', () => {
    expect(parseCommand(['list'])).toEqual({ command: 'list' });
    expect(parseCommand(['-h'])).toEqual({ command: 'help' });
    expect(() => parseCommand(['list', '--port', '1'])).toThrow(UsageError);
    expect(() => parseCommand(['hello', 'extra'])).toThrow(/unexpected argument "extra"/);
  });
});
