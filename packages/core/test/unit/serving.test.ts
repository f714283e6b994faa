import { describe, expect, it } from 'vitest';
import type { SocketAddress } from '../../src/address.js';
import { printStartFailureOnce, serveUntilStopped } from '../../src/serving.js';

const address: SocketAddress = { family: 'IPv4', host: '127.0.0.1', port: 8000 };

describe('serveUntilStopped', () => {
  it('announces, serves, and on abort drains with the delay, closes and resolves 0', async () => {
    const steps: string[] = [];
    let finish!: () => void;
    const server = {
      address,
      serveForever: () => {
        steps.push('serve');
        return new Promise<void>((resolve) => {
          finish = resolve;
        });
      },
      beginDrain: async (delayMs: number) => {
        steps.push(`drain ${delayMs}`);
      },
      close: async () => {
        steps.push('close');
        finish();
      },
    };
    const controller = new AbortController();
    const sigints = process.listenerCount('SIGINT');
    const done = serveUntilStopped(server, {
      announce: (served) => {
        steps.push(`announce ${served.port}`);
        controller.abort();
      },
      drainDelayMs: 250,
      signal: controller.signal,
    });
    expect(process.listenerCount('SIGINT')).toBe(sigints + 1);
    await expect(done).resolves.toBe(0);
    expect(steps).toEqual(['announce 8000', 'serve', 'drain 250', 'close']);
    expect(process.listenerCount('SIGINT')).toBe(sigints);
  });

  it('removes the signal listeners when the drain fails', async () => {
    const sigterms = process.listenerCount('SIGTERM');
    const server = {
      address,
      serveForever: async () => {},
      close: async () => {
        throw new Error('close failed');
      },
    };
    const controller = new AbortController();
    controller.abort();
    await expect(
      serveUntilStopped(server, { announce: () => {}, drainDelayMs: 0, signal: controller.signal }),
    ).rejects.toThrow('close failed');
    expect(process.listenerCount('SIGTERM')).toBe(sigterms);
  });
});

describe('printStartFailureOnce', () => {
  it("prints the first worker's reason only, and ignores other messages", () => {
    const written: string[] = [];
    const listener = printStartFailureOnce({ write: (text: string) => written.push(text) });
    listener(undefined, { other: true });
    listener(undefined, null);
    listener(undefined, { srvStartFailure: 'srv-x: port in use\n' });
    listener(undefined, { srvStartFailure: 'srv-x: port in use (again)\n' });
    expect(written).toEqual(['srv-x: port in use\n']);
  });
});
