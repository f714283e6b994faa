import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { displayHost } from '../../src/address.js';
import {
  type CommandSpec,
  commonOptions,
  describeStartError,
  exitCodes,
  formatBanner,
  formatReachLine,
  isUsageError,
  parseCommandLine,
  runCommand,
  UsageError,
  usage,
} from '../../src/cli.js';
import { SrvError } from '../../src/errors.js';

const spec: CommandSpec = {
  name: 'srv-x',
  version: '1.2.3',
  usage: ['srv-x [options] [port]', 'srv-x list'],
  summary: 'Does x.',
  arguments: [{ name: 'port', description: 'where' }],
  options: [
    commonOptions.bind,
    commonOptions.quiet,
    { name: 'tag', short: 't', value: 'T', multiple: true, description: 'a tag\nrepeatable' },
    { name: 'secret', description: 'not shown', hidden: true },
  ],
  maxPositionals: 1,
};

function usageMessage(argv: string[]): string {
  try {
    parseCommandLine(spec, argv);
  } catch (error) {
    expect(isUsageError(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('no usage error');
}

describe('parseCommandLine', () => {
  it('reads declared options, validated, with how each was spelled', () => {
    const args = parseCommandLine(spec, ['8', '-b', '[::1]', '--tag', 'a', '-tb', '-q', '--secret']);
    expect(args.answered).toBe(false);
    expect(args.positionals).toEqual(['8']);
    expect(args.get('bind')).toBe('::1');
    expect(args.get('tag')).toEqual(['a', 'b']);
    expect(args.flag('quiet')).toBe(true);
    expect(args.flag('secret')).toBe(true);
    expect(args.spelled.get('bind')).toBe('-b');
    expect(args.has('port')).toBe(false);
  });

  it('answers --help and --version from the declaration', () => {
    expect(parseCommandLine(spec, ['-v']).output).toBe('srv-x 1.2.3\n');
    expect(parseCommandLine(spec, ['--version', 'a', 'b']).output).toBe('srv-x 1.2.3\n');
    expect(parseCommandLine(spec, ['-h']).output).toBe(
      [
        'Usage: srv-x [options] [port]',
        '       srv-x list',
        '',
        'Does x.',
        '',
        'Arguments:',
        '  port  where',
        '',
        'Options:',
        '  -b, --bind ADDRESS  address to bind (default :: — all interfaces, IPv6 and IPv4)',
        '  -q, --quiet         no per-request or per-connection log lines',
        '  -t, --tag T         a tag',
        '                      repeatable',
        '  -v, --version       print the version and exit',
        '  -h, --help          show this help and exit',
        '',
      ].join('\n'),
    );
  });

  it('turns every mistake into one line', () => {
    expect(usageMessage(['--frobnicate'])).toBe('unknown option --frobnicate');
    expect(usageMessage(['-z'])).toBe('unknown option -z');
    expect(usageMessage(['--bind'])).toBe('--bind needs a value (ADDRESS)');
    expect(usageMessage(['--quiet=yes'])).toBe('--quiet takes no value');
    expect(usageMessage(['1', '2'])).toBe('unexpected argument "2"');
    expect(usageMessage(['-b', 'unix:/x'])).toBe(
      '-b unix:/x: this command serves over TCP/IP; give an IP address or a host name',
    );
    expect(usageMessage(['--bind', 'not a host'])).toBe(
      '--bind "not a host" is not an IP address or a host name',
    );
  });
});

describe('messages', () => {
  it("keeps Python's banner and adds where to open it only on every interface", () => {
    const any = { family: 'IPv6', host: '::', port: 8000 };
    expect(formatBanner('HTTP', any, 'http')).toBe('Serving HTTP on :: port 8000 (http://[::]:8000/) ...');
    expect(formatReachLine(any, 'http', '192.168.1.5')).toBe(
      'Open http://localhost:8000/ in a browser (from the network: http://192.168.1.5:8000/)',
    );
    expect(formatReachLine({ family: 'IPv4', host: '0.0.0.0', port: 8765 }, 'tcp', null)).toBe(
      'Reach it at tcp://localhost:8765/',
    );
    expect(formatReachLine({ family: 'IPv4', host: '127.0.0.1', port: 1 }, 'http', '10.0.0.1')).toBe('');
  });

  it('shows IPv4 clients of a dual-stack socket as plain IPv4', () => {
    expect(displayHost('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(displayHost('::1')).toBe('::1');
    expect(displayHost('10.1.2.3')).toBe('10.1.2.3');
  });

  it('describes start errors without tuples, with the exit code of the table', () => {
    const invalid = new SrvError('SRV_ERR_INVALID_ADDRESS', 'invalid address ["x",0]: …');
    expect(describeStartError(invalid, 'x:0')).toEqual({
      message: 'cannot bind x:0: not an IP address or host name this machine resolves',
      code: exitCodes.usage,
    });
    expect(describeStartError(new SrvError('SRV_ERR_ADDRESS_IN_USE', 'in use'), '127.0.0.1:80')).toEqual({
      message: '127.0.0.1:80 is already in use (another server there?)',
      code: exitCodes.failure,
    });
  });

  it('runCommand prints one line per error and returns the exit code', async () => {
    let err = '';
    const stderr = { write: (text: string) => (err += text) };
    expect(await runCommand('srv-x', async () => usage('bad'), stderr)).toBe(2);
    expect(
      await runCommand('srv-x', async () => Promise.reject(new SrvError('SRV_ERR_TIMEOUT', 'slow')), stderr),
    ).toBe(1);
    expect(await runCommand('srv-x', async () => 0, stderr)).toBe(0);
    expect(err).toBe('srv-x: bad (see --help)\nsrv-x: slow (SRV_ERR_TIMEOUT)\n');
  });

  it('errors of the built package inspect under their own names, not the bundler’s _SrvError', async () => {
    // The built files, by a specifier the type checker does not resolve: typecheck runs before this
    // package's own build in a fresh clone (the test itself runs after it).
    const load = (specifier: string): Promise<unknown> => import(specifier);
    const built = (await load('@srv/core')) as typeof import('../../src/index.js');
    const cli = (await load('@srv/core/cli')) as typeof import('../../src/cli.js');
    expect(inspect(new built.SrvError('SRV_ERR_TIMEOUT', 'slow'))).toMatch(/^SrvError: slow\n/);
    expect(inspect(new cli.UsageError('bad'))).toMatch(/^UsageError: bad\n/);
    expect(new UsageError('x').code).toBe('SRV_ERR_USAGE');
  });
});
