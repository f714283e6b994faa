import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { ConcurrencyLimiter } from '../../src/limiter.js';
import { forEachLine } from '../../src/process.js';
import { spoolBody } from '../../src/spool.js';
import { findUser } from '../../src/user.js';

describe('spoolBody', () => {
  it('spools a stream and reads it back with its length', async () => {
    const spooled = await spoolBody(Readable.from([Buffer.from('hello '), Buffer.from('world')]), 100);
    try {
      expect(spooled.length).toBe(11);
      expect(await text(spooled.open())).toBe('hello world');
    } finally {
      await spooled.close();
      await spooled.close();
    }
  });

  it('stops at the limit with 413', async () => {
    await expect(spoolBody(Readable.from([Buffer.alloc(60), Buffer.alloc(60)]), 100)).rejects.toMatchObject({
      code: 'SRV_ERR_CGI_BODY_TOO_LARGE',
      status: 413,
    });
  });
});

describe('forEachLine', () => {
  it('splits bytes into lines, keeping a UTF-8 character cut between chunks whole', async () => {
    const euro = Buffer.from('€');
    const stream = Readable.from([
      Buffer.from('one\r\ntwo '),
      euro.subarray(0, 1),
      Buffer.concat([euro.subarray(1), Buffer.from('\nxxxxxx')]),
      Buffer.from('yy\nlast'),
    ]);
    const lines: string[] = [];
    const ended = new Promise((resolve) => stream.once('end', resolve));
    forEachLine(stream, (line) => lines.push(line), 6);
    await ended;
    // A line longer than the limit is cut there; the rest of it is dropped.
    expect(lines).toEqual(['one', 'two €', 'xxxxxx', 'last']);
  });
});

describe('ConcurrencyLimiter', () => {
  it('tryAcquire takes a free slot at once, never one that a waiting request is owed', async () => {
    const limiter = new ConcurrencyLimiter(1, 1, 10_000);
    const first = limiter.tryAcquire();
    expect(first).toBeTypeOf('function');
    expect(limiter.tryAcquire()).toBeUndefined();
    const waiting = limiter.acquire();
    first!();
    expect(limiter.tryAcquire()).toBeUndefined();
    (await waiting)();
    expect(limiter.running).toBe(0);
    limiter.tryAcquire()!();
    expect(limiter.running).toBe(0);
  });

  it('runs up to the limit, queues, then refuses with 503', async () => {
    const limiter = new ConcurrencyLimiter(1, 1, 10_000);
    const first = await limiter.acquire();
    const second = limiter.acquire();
    expect(limiter.queued).toBe(1);
    await expect(limiter.acquire()).rejects.toMatchObject({ code: 'SRV_ERR_CGI_BUSY', status: 503 });
    first();
    first();
    const release = await second;
    expect(limiter.running).toBe(1);
    release();
    expect(limiter.running).toBe(0);
  });

  it('gives up a queued request on timeout or abort', async () => {
    const limiter = new ConcurrencyLimiter(1, 5, 20);
    const held = await limiter.acquire();
    await expect(limiter.acquire()).rejects.toMatchObject({ code: 'SRV_ERR_CGI_BUSY' });
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'SRV_ERR_CGI_BUSY' });
    expect(limiter.queued).toBe(0);
    held();
    expect(limiter.running).toBe(0);
  });
});

describe('findUser', () => {
  const passwd =
    'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n';
  it('finds by name or id', () => {
    expect(findUser(passwd, 'nobody')).toEqual({ uid: 65534, gid: 65534 });
    expect(findUser(passwd, 0)).toEqual({ uid: 0, gid: 0 });
    expect(findUser(passwd, 'ghost')).toBeUndefined();
  });
});
