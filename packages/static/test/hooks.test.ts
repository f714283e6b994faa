import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SimpleHTTPRequestHandler } from '../src/index.js';
import { createFixture, rawRequest, serve } from './helpers.js';

// Python's hooks, each overridden and seen in the answer.
describe("Python's hooks", () => {
  it('translatePath: what it returns is what is served (still inside the directory)', async () => {
    const fixture = await createFixture();
    class Aliased extends SimpleHTTPRequestHandler {
      override translatePath(path: string = this.path): string {
        // `/docs/x` is `sub/x`; everything else as usual.
        if (path.startsWith('/docs/')) return join(this.directory, 'sub', path.slice('/docs/'.length));
        return super.translatePath(path);
      }
    }
    const t = await serve({ directory: fixture.root }, Aliased);
    const aliased = await rawRequest(t, '/docs/f.txt');
    expect(aliased.status).toBe(200);
    expect(aliased.text).toBe('in sub');
    expect((await rawRequest(t, '/hello.txt')).text).toBe('hello world\n');
    // An override that points outside the directory is refused like a link that does.
    class Escaping extends SimpleHTTPRequestHandler {
      override translatePath(): string {
        return join(fixture.secret, 'f');
      }
    }
    const escaping = await serve({ directory: fixture.root }, Escaping);
    const refused = await rawRequest(escaping, '/anything');
    expect(refused.status).toBe(404);
    expect(refused.text).not.toContain('TOP-SECRET');
  });

  it('sendHead: an override wraps every GET and HEAD', async () => {
    const fixture = await createFixture();
    const seen: string[] = [];
    class Watched extends SimpleHTTPRequestHandler {
      override async sendHead(head?: boolean, path?: string): Promise<void> {
        seen.push(`${this.command} ${path ?? this.path}`);
        await super.sendHead(head, path);
      }
    }
    const t = await serve({ directory: fixture.root }, Watched);
    expect((await rawRequest(t, '/hello.txt')).status).toBe(200);
    expect((await rawRequest(t, '/hello.txt', {}, 'HEAD')).status).toBe(200);
    expect(seen).toEqual(['GET /hello.txt', 'HEAD /hello.txt']);
  });

  it('listDirectory: an override answers for directories without an index page', async () => {
    const fixture = await createFixture();
    class Plain extends SimpleHTTPRequestHandler {
      override listDirectory(path: string): void {
        const body = `listing of ${path}`;
        this.sendResponse(200);
        this.sendHeader('Content-Type', 'text/plain');
        this.sendHeader('Content-Length', Buffer.byteLength(body));
        this.endHeaders();
        void this.wfile.end(body);
      }
    }
    const t = await serve({ directory: fixture.root }, Plain);
    const listing = await rawRequest(t, '/sub/');
    expect(listing.status).toBe(200);
    expect(listing.text).toBe(`listing of ${join(fixture.root, 'sub')}`);
    // A directory with an index page never reaches it.
    expect((await rawRequest(t, '/withindex/')).text).toBe('<h1>index</h1>');
  });

  it('copyfile: an override sees every body, small cached files included', async () => {
    const fixture = await createFixture();
    class Upper extends SimpleHTTPRequestHandler {
      override copyfile(source: Readable, outputfile = this.wfile): Promise<boolean> {
        const upper = source.map((chunk: Buffer) =>
          Buffer.from(chunk.toString('latin1').toUpperCase(), 'latin1'),
        );
        return super.copyfile(Readable.from(upper), outputfile);
      }
    }
    const t = await serve({ directory: fixture.root }, Upper);
    // Twice: the second answer comes from the small-file cache.
    expect((await rawRequest(t, '/hello.txt')).text).toBe('HELLO WORLD\n');
    expect((await rawRequest(t, '/hello.txt')).text).toBe('HELLO WORLD\n');
    const range = await rawRequest(t, '/digits.txt', { Range: 'bytes=2-4' });
    expect(range.status).toBe(206);
    expect(range.text).toBe('234');
  });

  it("copyfile: an override's chunks are its own (never marked for a thread's relay to move)", async () => {
    const fixture = await createFixture();
    const big = Buffer.alloc(300 * 1024, 0x41);
    await writeFile(join(fixture.root, 'big.bin'), big);
    const marks: unknown[] = [];
    const kept: Buffer[] = [];
    class Keeping extends SimpleHTTPRequestHandler {
      override copyfile(source: Readable, outputfile = this.wfile): Promise<boolean> {
        const seen = source.map((chunk: Buffer) => {
          marks.push((chunk as Buffer & { [key: symbol]: unknown })[Symbol.for('srv.transferable')]);
          kept.push(chunk);
          return chunk;
        });
        return super.copyfile(Readable.from(seen), outputfile);
      }
    }
    class Plain extends SimpleHTTPRequestHandler {
      protected override createReadStream(...args: Parameters<SimpleHTTPRequestHandler['createReadStream']>) {
        const stream = super.createReadStream(...args);
        stream.on('data', (chunk: Buffer) => {
          marks.push((chunk as Buffer & { [key: symbol]: unknown })[Symbol.for('srv.transferable')]);
        });
        return stream;
      }
    }
    const keeping = await serve({ directory: fixture.root }, Keeping);
    expect((await rawRequest(keeping, '/big.bin')).body.equals(big)).toBe(true);
    expect(marks.length).toBeGreaterThan(1);
    expect(marks.every((mark) => mark === undefined)).toBe(true);
    expect(Buffer.concat(kept).equals(big)).toBe(true);
    // srv's own copy loop lets go of every full read, so they are marked.
    marks.length = 0;
    const plain = await serve({ directory: fixture.root }, Plain);
    expect((await rawRequest(plain, '/big.bin')).body.equals(big)).toBe(true);
    expect(marks.length).toBeGreaterThan(1);
    expect(marks.every((mark) => mark === true)).toBe(true);
  });

  it('guessType: an override decides Content-Type', async () => {
    const fixture = await createFixture();
    class Typed extends SimpleHTTPRequestHandler {
      override guessType(path: string): string {
        return path.endsWith('.txt') ? 'text/x-guessed' : super.guessType(path);
      }
    }
    const t = await serve({ directory: fixture.root }, Typed);
    expect((await rawRequest(t, '/hello.txt')).headers.get('content-type')).toBe('text/x-guessed');
    expect((await rawRequest(t, '/page.html')).headers.get('content-type')).toBe('text/html; charset=utf-8');
  });
});

describe('caches belong to the server', () => {
  it('two servers with one class share no cache; close() releases it', async () => {
    const fixture = await createFixture();
    const counts: number[] = [];
    const resolvers: Array<{ cachedFiles: number }> = [];
    class Counting extends SimpleHTTPRequestHandler {
      override async doGET(): Promise<void> {
        const resolver = this.resolver;
        if (!resolvers.includes(resolver)) resolvers.push(resolver);
        counts.push(resolver.cachedFiles);
        await super.doGET();
      }
    }
    const Handler = Counting.withOptions({ directory: fixture.root });
    const a = await serve({}, Handler);
    const b = await serve({}, Handler);
    await rawRequest(a, '/hello.txt');
    await rawRequest(a, '/hello.txt');
    await rawRequest(b, '/hello.txt');
    // a cached the file on its first request; b started empty.
    expect(counts).toEqual([0, 1, 0]);
    expect(resolvers).toHaveLength(2);
    await a.close();
    expect(resolvers[0]!.cachedFiles).toBe(0);
    expect(resolvers[1]!.cachedFiles).toBe(1);
  });
});
