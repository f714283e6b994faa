import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { displayHost } from '../../src/address.js';
import {
  type CommandSpec,
  commonOptions,
  deployOptions,
  describeStartError,
  exitCodes,
  formatBanner,
  formatReachLine,
  isUsageError,
  parseCommandLine,
  readDeployOptions,
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

describe('deployment options (issue 23)', () => {
  const spec: CommandSpec = {
    name: 'srv-x',
    version: '1.0.0',
    usage: ['srv-x [options]'],
    summary: 'x',
    options: [commonOptions.bind, ...deployOptions],
  };
  const read = (argv: string[], env: NodeJS.ProcessEnv = {}, pid = 4242) =>
    readDeployOptions(parseCommandLine(spec, argv), argv.includes('--bind'), env, pid);

  it('defaults: one process, no PROXY protocol, no health path, no delay, 30 s grace', () => {
    expect(read([])).toEqual({
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
    });
  });

  it('reads every flag, seconds as milliseconds and --trusted-proxy repeated', () => {
    const args = read([
      '--workers',
      'auto',
      '--proxy-protocol',
      '--trusted-proxy',
      '10.0.0.0/8',
      '--trusted-proxy',
      '::ffff:192.0.2.1',
      '--fd',
      '3',
      '--health-path',
      '/healthz',
      '--health-port',
      '8081',
      '--drain-delay',
      '2.5',
      '--grace',
      '10',
    ]);
    expect(args).toMatchObject({
      workers: 'auto',
      proxyProtocol: true,
      trustedProxies: ['10.0.0.0/8', '::ffff:192.0.2.1'],
      fd: 3,
      socketActivated: false,
      healthPath: '/healthz',
      healthPort: 8081,
      drainDelayMs: 2500,
      graceMs: 10_000,
    });
  });

  it('takes systemd’s first socket when LISTEN_PID names this process, and ignores it otherwise', () => {
    expect(read([], { LISTEN_FDS: '2', LISTEN_PID: '4242' })).toMatchObject({ fd: 3, socketActivated: true });
    expect(read([], { LISTEN_FDS: '1' })).toMatchObject({ fd: 3, socketActivated: true });
    expect(read([], { LISTEN_FDS: '1', LISTEN_PID: '1' })).toMatchObject({
      fd: undefined,
      socketActivated: false,
    });
    // A cluster worker: the primary cleared the variables.
    expect(read([], { LISTEN_FDS: '', LISTEN_PID: '' })).toMatchObject({ fd: undefined });
    expect(read(['--fd', '5'], { LISTEN_FDS: '1' })).toMatchObject({ fd: 5, socketActivated: false });
  });

  it.each([
    [['--workers', '0'], '--workers wants a number of processes from 1 to 1024 or auto, got "0"'],
    [['--workers', 'lots'], '--workers wants a number of processes from 1 to 1024 or auto, got "lots"'],
    [
      ['--trusted-proxy', '10.0.0.0/33'],
      '--trusted-proxy wants an address or CIDR block (like 10.0.0.0/8 or fd00::/8), got "10.0.0.0/33"',
    ],
    [['--fd', '-1'], '--fd wants a descriptor number, got "-1"'],
    [
      ['--health-path', 'healthz'],
      '--health-path wants a path starting with / (no spaces, query or fragment), got "healthz"',
    ],
    [['--health-port', '70000'], '--health-port must be a number from 0 to 65535, got "70000"'],
    [['--drain-delay', '-1'], '--drain-delay wants a number of seconds from 0 to 86400, got "-1"'],
    [['--grace', 'soon'], '--grace wants a number of seconds from 0 to 86400, got "soon"'],
    [['--fd', '3', '--bind', '::'], '--fd serves an inherited socket: give no port or --bind with it'],
    [
      ['--fd', '3', '--reuse-port'],
      '--reuse-port binds a socket of its own; it cannot serve an inherited one (--fd)',
    ],
  ])('%j is a usage error', (argv, message) => {
    expect(() => read(argv)).toThrow(new UsageError(message));
    try {
      read(argv);
    } catch (error) {
      expect(isUsageError(error)).toBe(true);
    }
  });

  it('--reuse-port where Node lacks SO_REUSEPORT is SRV_ERR_UNSUPPORTED_OPTION (exit 1), not a usage error', () => {
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    const supported =
      process.platform === 'linux' &&
      (major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12));
    if (supported) {
      expect(read(['--reuse-port']).reusePort).toBe(true);
      return;
    }
    expect(() => read(['--reuse-port'])).toThrow(
      expect.objectContaining({ code: 'SRV_ERR_UNSUPPORTED_OPTION' }) as Error,
    );
  });

  it('lists every deployment flag with a help line', () => {
    const help = parseCommandLine(spec, ['--help']).output;
    for (const flag of [
      '--workers N|auto',
      '--reuse-port',
      '--proxy-protocol',
      '--trusted-proxy CIDR',
      '--fd N',
      '--health-path PATH',
      '--health-port N',
      '--drain-delay S',
      '--grace S',
    ]) {
      expect(help).toContain(`    ${flag}  `);
    }
  });
});
