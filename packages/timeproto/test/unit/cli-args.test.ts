import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCli, parseTarget, UsageError } from '../../src/cli-args.js';

// What `--version` must print: the version in this package's package.json (0.1.0 in the first release),
// so a release needs no edit here.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('srv-time arguments', () => {
  it('serve defaults to port 8765 on :: with the line service, async', () => {
    expect(parseCli(['serve'])).toEqual({
      command: 'serve',
      port: 8765,
      bind: '::',
      udp: false,
      service: 'line',
      interactive: false,
      threading: false,
      quiet: false,
      udpRate: undefined,
      backlog: undefined,
      deploy: {
        workers: 1,
        reusePort: false,
        proxyProtocol: false,
        trustedProxies: undefined,
        fd: undefined,
        socketActivated: false,
        healthPath: undefined,
        healthPort: undefined,
        drainDelayMs: 0,
        graceMs: 30_000,
      },
    });
  });

  it('serve takes --udp-rate N (0 = no limit) and --backlog N; refuses anything else', () => {
    expect(parseCli(['serve', '--udp', '--udp-rate', '5', '--backlog', '1024'])).toMatchObject({
      udpRate: 5,
      backlog: 1024,
    });
    expect(parseCli(['serve', '--udp-rate=0'])).toMatchObject({ udpRate: 0 });
    for (const bad of [
      ['--udp-rate', '-1'],
      ['--udp-rate', 'x'],
      ['--backlog', '0'],
      ['--backlog', '1.5'],
    ]) {
      expect(() => parseCli(['serve', ...bad])).toThrow(UsageError);
    }
  });

  it('serve takes a port, -b/--bind (brackets allowed) and the flags', () => {
    expect(
      parseCli(['serve', '0', '-b', '[::1]', '--udp', '--service', 'daytime', '--threading']),
    ).toMatchObject({ port: 0, bind: '::1', udp: true, service: 'daytime', threading: true });
    expect(parseCli(['serve', '--bind=127.0.0.1', '--interactive', '-q'])).toMatchObject({
      bind: '127.0.0.1',
      interactive: true,
      quiet: true,
    });
  });

  it('query defaults to localhost:8765 and seconds; a lone word keeps the default server', () => {
    expect(parseCli(['query'])).toEqual({
      command: 'query',
      host: 'localhost',
      port: 8765,
      word: 'seconds',
      udp: false,
      service: 'line',
    });
    expect(parseCli(['query', 'ASCTIME'])).toMatchObject({ host: 'localhost', port: 8765, word: 'asctime' });
    expect(parseCli(['query', 'example.org:37', 'rfc822', '--udp', '--service', 'time'])).toMatchObject({
      host: 'example.org',
      port: 37,
      word: 'rfc822',
      udp: true,
      service: 'time',
    });
  });

  it('reads host:port in its usual forms', () => {
    expect(parseTarget('[::1]:13')).toEqual({ host: '::1', port: 13 });
    expect(parseTarget('[::1]')).toEqual({ host: '::1', port: 8765 });
    expect(parseTarget('::1')).toEqual({ host: '::1', port: 8765 });
    expect(parseTarget('time.example')).toEqual({ host: 'time.example', port: 8765 });
    expect(parseTarget(':9000')).toEqual({ host: 'localhost', port: 9000 });
  });

  it.each([
    [[]],
    [['nope']],
    [['serve', '65536']],
    [['serve', '-1']],
    [['serve', '--udp', '--interactive']],
    [['serve', '--service', 'daytime', '--interactive']],
    [['serve', '--unknown']],
    [['query', 'a:1', 'b']],
    [['query', 'a:0']],
    [['query', '[nothost]:1']],
    [['query', 'a:1', 'seconds', 'extra']],
  ])('rejects %j with a UsageError', (argv) => {
    expect(() => parseCli(argv)).toThrow(UsageError);
  });

  it('help is a command of its own', () => {
    expect(parseCli(['--help'])).toMatchObject({ command: 'help' });
    expect(parseCli(['query', '-h'])).toMatchObject({ command: 'help' });
    expect(parseCli(['-v'])).toEqual({ command: 'help', output: `srv-time ${version}\n` });
  });
});
