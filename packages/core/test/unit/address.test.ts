import { describe, expect, it } from 'vitest';
import { formatAddress, isSrvError, listenFds, parseAddress } from '../../src/index.js';

describe('parseAddress', () => {
  it.each([
    [['', 6789], { kind: 'inet', host: '0.0.0.0', port: 6789 }],
    [['127.0.0.1', 0], { kind: 'inet', host: '127.0.0.1', port: 0 }],
    ['localhost:8080', { kind: 'inet', host: 'localhost', port: 8080 }],
    ['[::1]:8765', { kind: 'inet', host: '::1', port: 8765 }],
    ['[::]:8765', { kind: 'inet', host: '::', port: 8765 }],
    [':8080', { kind: 'inet', host: '0.0.0.0', port: 8080 }],
    ['8080', { kind: 'inet', host: '0.0.0.0', port: 8080 }],
    [8080, { kind: 'inet', host: '0.0.0.0', port: 8080 }],
    [
      { host: '::1', port: 1 },
      { kind: 'inet', host: '::1', port: 1 },
    ],
    [{ port: 1 }, { kind: 'inet', host: '0.0.0.0', port: 1 }],
    [{ path: '/tmp/x.sock' }, { kind: 'unix', path: '/tmp/x.sock' }],
    ['unix:/tmp/x.sock', { kind: 'unix', path: '/tmp/x.sock' }],
    [{ fd: 3 }, { kind: 'fd', fd: 3 }],
  ] as const)('%j', (input, expected) => {
    expect(parseAddress(input)).toEqual(expected);
  });

  it("makes '' mean :: with addressFamily IPv6", () => {
    expect(parseAddress(['', 8765], { addressFamily: 'IPv6' })).toEqual({
      kind: 'inet',
      host: '::',
      port: 8765,
    });
    expect(parseAddress(':1', { addressFamily: 'IPv6' })).toEqual({ kind: 'inet', host: '::', port: 1 });
  });

  it.each([
    ['::1:8080'],
    ['host'],
    ['host:99999'],
    ['host:-1'],
    ['host:1.5'],
    ['bad host:80'],
    ['[nope]:80'],
    [['', 70000]],
    [['', 1, 2]],
    [{ path: '' }],
    [{ fd: -1 }],
    [{}],
  ] as const)('rejects %j with SRV_ERR_INVALID_ADDRESS naming the input', (input) => {
    let caught: unknown;
    try {
      parseAddress(input as never);
    } catch (error) {
      caught = error;
    }
    expect(isSrvError(caught, 'SRV_ERR_INVALID_ADDRESS')).toBe(true);
    expect((caught as Error).message).toContain(JSON.stringify(input));
  });
});

describe('formatAddress', () => {
  it('brackets IPv6 and shows paths as they are', () => {
    expect(formatAddress({ family: 'IPv4', host: '127.0.0.1', port: 54321 })).toBe('127.0.0.1:54321');
    expect(formatAddress({ family: 'IPv6', host: '::1', port: 8765 })).toBe('[::1]:8765');
    expect(formatAddress({ family: 'unix', host: '/tmp/s', port: 0 })).toBe('/tmp/s');
  });
});

describe('listenFds', () => {
  it('returns the descriptors systemd passed', () => {
    expect(listenFds({ LISTEN_FDS: '2', LISTEN_PID: '42' }, 42)).toEqual([3, 4]);
  });
  it('refuses descriptors meant for another process, or none', () => {
    expect(() => listenFds({ LISTEN_FDS: '1', LISTEN_PID: '41' }, 42)).toThrow(/LISTEN_PID/);
    expect(() => listenFds({}, 42)).toThrow(expect.objectContaining({ code: 'SRV_ERR_SOCKET_ACTIVATION' }));
  });
});
