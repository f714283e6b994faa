import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as concurrency from '../src/index.js';
import { concurrencyErrorCodes } from '../src/index.js';

describe('public API', () => {
  it('exports exactly these names', () => {
    expect(Object.keys(concurrency).sort()).toMatchInlineSnapshot(`
      [
        "ForkingDispatcher",
        "ForkingMixIn",
        "ForkingTCPServer",
        "ForkingUDPServer",
        "ForkingUnixStreamServer",
        "ThreadingDispatcher",
        "ThreadingMixIn",
        "ThreadingTCPServer",
        "ThreadingUDPServer",
        "ThreadingUnixStreamServer",
        "concurrencyErrorCodes",
        "currentThreadName",
        "forking",
        "isPrimary",
        "isWorker",
        "threading",
      ]
    `);
  });

  it("pins the error codes against the README's table", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const documented = [...readme.matchAll(/^\| `(SRV_ERR_[A-Z_]+)` \|/gm)].map((match) => match[1]);
    expect(documented).toEqual([...concurrencyErrorCodes]);
  });

  it('names the main thread like Python and knows it is the primary', () => {
    expect(concurrency.currentThreadName()).toBe('MainThread');
    expect(concurrency.isPrimary).toBe(true);
    expect(concurrency.isWorker).toBe(false);
  });

  it('rejects impossible pool sizes with SRV_ERR_INVALID_OPTION', () => {
    expect(() => concurrency.threading({ maxThreads: 0 })).toThrow(
      expect.objectContaining({ code: 'SRV_ERR_INVALID_OPTION' }),
    );
    expect(() => concurrency.forking({ maxChildren: 2, minChildren: 3 })).toThrow(
      expect.objectContaining({ code: 'SRV_ERR_INVALID_OPTION' }),
    );
    expect(() => concurrency.threading({ maxQueue: -1 })).toThrow(
      expect.objectContaining({ code: 'SRV_ERR_INVALID_OPTION' }),
    );
  });

  it('documents the defaults it uses', () => {
    const threads = concurrency.threading();
    const children = concurrency.forking();
    expect([threads.name, threads.pauseOnConnect, threads.handlesTls]).toEqual(['threading', false, false]);
    expect([children.name, children.pauseOnConnect, children.handlesTls]).toEqual(['forking', true, true]);
  });
});
