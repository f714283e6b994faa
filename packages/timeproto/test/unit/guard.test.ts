import { describe, expect, it } from 'vitest';
import { UdpGuard } from '../../src/index.js';

const from = (host: string, port: number) => ({ family: 'IPv4' as const, host, port });

describe('UdpGuard', () => {
  it('refuses source ports below 1024 and the server’s own port by default', () => {
    const guard = new UdpGuard();
    expect(guard.isRefusedPort(0, 8765)).toBe(true);
    expect(guard.isRefusedPort(7, 8765)).toBe(true);
    expect(guard.isRefusedPort(1023, 8765)).toBe(true);
    expect(guard.isRefusedPort(8765, 8765)).toBe(true);
    expect(guard.isRefusedPort(1024, 8765)).toBe(false);
    expect(guard.isRefusedPort(54321, 8765)).toBe(false);
  });

  it('takes another list of ports and ranges, and still refuses its own port', () => {
    const guard = new UdpGuard({ refusedSourcePorts: [53, [5000, 5010]] });
    expect(guard.isRefusedPort(7, 8765)).toBe(false);
    expect(guard.isRefusedPort(53, 8765)).toBe(true);
    expect(guard.isRefusedPort(5005, 8765)).toBe(true);
    expect(guard.isRefusedPort(8765, 8765)).toBe(true);
  });

  it('answers a burst of 40, then 20 a second per source; other sources are not affected', () => {
    let now = 0;
    const guard = new UdpGuard({}, () => now);
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    const answered = (host: string, count: number) =>
      Array.from({ length: count }, () => guard.check(from(host, 40000), 8765, log)).filter(
        (reason) => reason === undefined,
      ).length;
    expect(answered('192.0.2.1', 100)).toBe(40);
    expect(answered('192.0.2.2', 5)).toBe(5);
    now += 1000;
    expect(answered('192.0.2.1', 100)).toBe(20);
    // One line per source per minute, counting the drops.
    expect(lines).toEqual(['dropped 1 datagram from 192.0.2.1 (over 20/s)']);
    now += 60_000;
    expect(answered('192.0.2.1', 41)).toBe(40);
    expect(lines.at(-1)).toBe('dropped 140 datagrams from 192.0.2.1 in the last minute (over 20/s)');
  });

  it('udpRate 0 turns the rate limit off (the port rules stay)', () => {
    const guard = new UdpGuard({ udpRate: 0 }, () => 0);
    for (let index = 0; index < 1000; index += 1) {
      expect(guard.check(from('192.0.2.1', 40000), 8765, () => {})).toBeUndefined();
    }
    expect(guard.check(from('192.0.2.1', 123), 8765, () => {})).toBe('refused-port');
  });

  it('forgets idle sources, so a spoofed flood from ever-new addresses cannot grow it without bound', () => {
    let now = 0;
    const guard = new UdpGuard({}, () => now);
    for (let index = 0; index < 25_000; index += 1) {
      guard.check(
        from(`10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`, 40000),
        8765,
        () => {},
      );
      now += 1;
    }
    expect(guard.trackedSources).toBeLessThanOrEqual(10_000);
  });

  it('rejects a negative rate', () => {
    expect(() => new UdpGuard({ udpRate: -1 })).toThrow(RangeError);
  });
});
