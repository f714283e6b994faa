import { once } from 'node:events';
import type { FileHandle } from 'node:fs/promises';
import { open, rm, symlink, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { readUntil } from '@srv/core/testing';
import { describe, expect, it } from 'vitest';
import { SimpleHTTPRequestHandler } from '../src/index.js';
import { createFixture, rawRequest, secretText, serve } from './helpers.js';

describe('files', () => {
  it('GET sends the file with type, length and validators; HEAD the same headers without a body', async () => {
    const fixture = await createFixture();
    const t = await serve({ directory: fixture.root });
    const get = await rawRequest(t, '/hello.txt');
    expect(get.status).toBe(200);
    expect(get.text).toBe('hello world\n');
    expect(get.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(get.headers.get('content-length')).toBe('12');
    expect(get.headers.get('accept-ranges')).toBe('bytes');
    expect(get.headers.get('etag')).toMatch(/^"[0-9a-f]+-c-[0-9a-f]+"$/);
    expect(get.headers.get('last-modified')).toMatch(/GMT$/);
    expect(get.headers.get('vary')).toBe('Accept-Encoding');
    expect(get.headers.has('cache-control')).toBe(false);
    const head = await rawRequest(t, '/hello.txt', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    for (const name of ['content-type', 'content-length', 'etag', 'last-modified']) {
      expect(head.headers.get(name)).toBe(get.headers.get(name));
    }
  });

  it('guesses types from extensions, with extensionsMap first', async () => {
    const fixture = await createFixture();
    const t = await serve({ directory: fixture.root, extensionsMap: { '.txt': 'text/x-custom' } });
    const type = async (path: string) => (await fetch(`${t.origin}${path}`)).headers.get('content-type');
    expect(await type('/page.html')).toBe('text/html; charset=utf-8');
    expect(await type('/data.json')).toBe('application/json; charset=utf-8');
    expect(await type('/script.js')).toMatch(/^(text|application)\/javascript; charset=utf-8$/);
    expect(await type('/noext')).toBe('application/octet-stream');
    expect(await type('/hello.txt')).toBe('text/x-custom');
  });

  it('serves names that need encoding, a file with a trailing slash is 404, .well-known is public', async () => {
    const fixture = await createFixture();
    const t = await serve({ directory: fixture.root });
    expect((await rawRequest(t, '/a%20b%26%3Cc%3E.txt')).text).toBe('odd name');
    expect((await rawRequest(t, '/hello.txt/')).status).toBe(404);
    expect((await rawRequest(t, '/missing')).status).toBe(404);
    expect((await rawRequest(t, '/.well-known/security.txt')).text).toBe('Contact: mailto:a@b.c');
    expect((await rawRequest(t, '/inside-link')).text).toBe('hello world\n');
  });

  it('OPTIONS → 204 with Allow; other methods → 405 with Allow', async () => {
    const fixture = await createFixture();
    const t = await serve({ directory: fixture.root });
    const options = await rawRequest(t, '*', {}, 'OPTIONS');
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const response = await rawRequest(t, '/hello.txt', { 'Content-Length': '0' }, method);
      expect([method, response.status]).toEqual([method, 405]);
      expect(response.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    }
  });
});

describe('directories', () => {
  it('serves index.html; lists otherwise; redirects the slashless form keeping the query', async () => {
    const fixture = await createFixture();
    const t = await serve({ directory: fixture.root });
    expect((await rawRequest(t, '/withindex/')).text).toBe('<h1>index</h1>');
    const redirect = await rawRequest(t, '/withindex?a=1');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/withindex/?a=1');
    const listing = await rawRequest(t, '/');
    expect(listing.status).toBe(200);
    expect(listing.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(listing.text).toContain('<title>Directory listing for /</title>');
    expect(listing.text).toContain('<a href="./a%20b%26%3Cc%3E.txt">a b&amp;&lt;c&gt;.txt</a>');
    expect(listing.text).toContain('<a href="./sub/">sub/</a>');
    expect(listing.text).toContain('inside-link@');
    // An orphan precompressed sibling is just a file: it never stands in for a missing index.html.
    expect(listing.text).toContain('index.html.br');
    const sub = await rawRequest(t, '/sub/', { 'Accept-Encoding': 'br' });
    expect(sub.text).toContain('<a href="/">../</a>');
  });

  it('lists as JSON for Accept: application/json', async () => {
    const fixture = await createFixture();
    const t = await serve({ directory: fixture.root });
    const response = await rawRequest(t, '/sub/', { Accept: 'application/json' });
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('vary')).toBe('Accept');
    const entries = JSON.parse(response.text) as Array<Record<string, unknown>>;
    expect(entries).toEqual([
      { name: 'deeper', type: 'directory', size: 0, mtime: expect.any(String) },
      { name: 'f.txt', type: 'file', size: 6, mtime: expect.any(String) },
    ]);
    expect(new Date(entries[1]!.mtime as string).toISOString()).toBe(entries[1]!.mtime);
    const root = JSON.parse((await rawRequest(t, '/', { Accept: 'application/json' })).text) as Array<{
      name: string;
      type: string;
    }>;
    expect(root.find((entry) => entry.name === 'inside-link')?.type).toBe('symlink');
  });

  it('listing: false answers 404 for a directory without an index', async () => {
    const fixture = await createFixture();
    const t = await serve({ directory: fixture.root, listing: false });
    expect((await rawRequest(t, '/sub/')).status).toBe(404);
    expect((await rawRequest(t, '/withindex/')).status).toBe(200);
  });
});

describe('policies', () => {
  it('dotfiles: true serves and lists dotfiles', async () => {
    const fixture = await createFixture();
    const t = await serve({ directory: fixture.root, dotfiles: true });
    expect((await rawRequest(t, '/.env')).text).toContain(secretText);
    expect((await rawRequest(t, '/')).text).toContain('.git/');
  });

  it('followSymlinks: true serves links that leave the root', async () => {
    const fixture = await createFixture();
    const t = await serve({ directory: fixture.root, followSymlinks: true });
    expect((await rawRequest(t, '/escape-link')).text).toBe(secretText);
    expect((await rawRequest(t, '/escape-dir/f')).text).toBe(secretText);
    expect((await rawRequest(t, '/../x')).status).toBe(404);
  });

  it('single: extension-less misses get /index.html, misses with an extension stay 404', async () => {
    const fixture = await createFixture();
    await writeFile(join(fixture.root, 'index.html'), '<h1>app</h1>');
    const t = await serve({ directory: fixture.root, single: true });
    expect((await rawRequest(t, '/some/route')).text).toBe('<h1>app</h1>');
    expect((await rawRequest(t, '/missing.js')).status).toBe(404);
    expect((await rawRequest(t, '/.env')).status).toBe(404);
    expect((await rawRequest(t, '/hello.txt')).text).toBe('hello world\n');
  });

  it('cacheControl (a value or a function), extra headers and CORS reach every response', async () => {
    const fixture = await createFixture();
    const t = await serve({
      directory: fixture.root,
      cacheControl: (path) => (path.endsWith('.js') ? 'public, max-age=31536000, immutable' : 'no-cache'),
      headers: [['X-Frame-Options', 'DENY']],
      cors: true,
    });
    const js = await rawRequest(t, '/script.js');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('x-frame-options')).toBe('DENY');
    expect(js.headers.get('access-control-allow-origin')).toBe('*');
    expect((await rawRequest(t, '/hello.txt')).headers.get('cache-control')).toBe('no-cache');
    const missing = await rawRequest(t, '/missing');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-frame-options')).toBe('DENY');
    const preflight = await rawRequest(
      t,
      '/hello.txt',
      {
        Origin: 'http://a.example',
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'range',
      },
      'OPTIONS',
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, HEAD, OPTIONS');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('range');
    const plain = await serve({ directory: fixture.root, cacheControl: 'max-age=60' });
    expect((await rawRequest(plain, '/hello.txt')).headers.get('cache-control')).toBe('max-age=60');
    expect((await rawRequest(plain, '/hello.txt')).headers.has('access-control-allow-origin')).toBe(false);
  });
});

describe('conditional requests', () => {
  it('304 for a matching If-None-Match or a fresh If-Modified-Since; 412 for If-Match / If-Unmodified-Since', async () => {
    const fixture = await createFixture();
    const t = await serve({ directory: fixture.root, cacheControl: 'max-age=5' });
    const first = await rawRequest(t, '/hello.txt');
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;
    const cases: Array<[Record<string, string>, number]> = [
      [{ 'If-None-Match': etag }, 304],
      [{ 'If-None-Match': `"x", W/${etag}` }, 304],
      [{ 'If-None-Match': '*' }, 304],
      [{ 'If-None-Match': '"other"' }, 200],
      [{ 'If-Modified-Since': lastModified }, 304],
      [{ 'If-Modified-Since': 'Thu, 01 Jan 1970 00:00:00 GMT' }, 200],
      [{ 'If-Modified-Since': 'not a date' }, 200],
      [{ 'If-None-Match': '"other"', 'If-Modified-Since': lastModified }, 200],
      [{ 'If-Match': '"other"' }, 412],
      [{ 'If-Match': etag }, 200],
      [{ 'If-Unmodified-Since': 'Thu, 01 Jan 1970 00:00:00 GMT' }, 412],
      [{ 'If-Unmodified-Since': lastModified }, 200],
    ];
    for (const [headers, status] of cases) {
      const response = await rawRequest(t, '/hello.txt', headers);
      expect([headers, response.status]).toEqual([headers, status]);
      if (status === 304) {
        expect(response.body.length).toBe(0);
        expect(response.headers.get('etag')).toBe(etag);
        expect(response.headers.get('cache-control')).toBe('max-age=5');
      }
    }
  });
});

describe('ranges', () => {
  it('single, suffix and open-ended ranges; If-Range decides; HEAD ignores Range', async () => {
    const fixture = await createFixture();
    const t = await serve({ directory: fixture.root });
    const range = (value: string, extra: Record<string, string> = {}) =>
      rawRequest(t, '/digits.txt', { Range: value, ...extra });
    const single = await range('bytes=2-4');
    expect(single.status).toBe(206);
    expect(single.text).toBe('234');
    expect(single.headers.get('content-range')).toBe('bytes 2-4/10');
    expect(single.headers.get('content-length')).toBe('3');
    expect((await range('bytes=-3')).text).toBe('789');
    expect((await range('bytes=7-')).text).toBe('789');
    const etag = single.headers.get('etag')!;
    expect((await range('bytes=0-0', { 'If-Range': etag })).status).toBe(206);
    const stale = await range('bytes=0-0', { 'If-Range': '"stale"' });
    expect(stale.status).toBe(200);
    expect(stale.text).toBe('0123456789');
    expect((await range('bytes=0-0', { 'If-Range': single.headers.get('last-modified')! })).status).toBe(206);
    expect((await rawRequest(t, '/digits.txt', { Range: 'bytes=0-0' }, 'HEAD')).status).toBe(200);
  });

  it('several ranges → multipart/byteranges with an exact Content-Length', async () => {
    const fixture = await createFixture();
    const t = await serve({ directory: fixture.root });
    const response = await rawRequest(t, '/digits.txt', { Range: 'bytes=0-1,5-6,-1' });
    expect(response.status).toBe(206);
    const type = response.headers.get('content-type')!;
    const boundary = /^multipart\/byteranges; boundary=([0-9a-f]+)$/.exec(type)![1]!;
    expect(response.body.length).toBe(Number(response.headers.get('content-length')));
    const part = (range: string, body: string) =>
      `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes ${range}/10\r\n\r\n${body}`;
    expect(response.text).toBe(
      `${part('0-1', '01')}\r\n${part('5-6', '56')}\r\n${part('9-9', '9')}\r\n--${boundary}--\r\n`,
    );
  });
});

describe('precompressed siblings', () => {
  it('chooses .br / .gz by Accept-Encoding q-values, with Content-Encoding and Vary', async () => {
    const fixture = await createFixture();
    const t = await serve({ directory: fixture.root });
    const get = (acceptEncoding?: string) =>
      rawRequest(t, '/script.js', acceptEncoding === undefined ? {} : { 'Accept-Encoding': acceptEncoding });
    const br = await get('gzip, deflate, br');
    expect(br.text).toBe('BROTLI-BYTES');
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(br.headers.get('content-type')).toMatch(/javascript/);
    expect(br.headers.get('vary')).toBe('Accept-Encoding');
    expect(br.headers.get('etag')).not.toBe((await get()).headers.get('etag'));
    const gzip = await get('br;q=0, gzip');
    expect(gzip.text).toBe('GZIP-BYTES');
    expect(gzip.headers.get('content-encoding')).toBe('gzip');
    expect((await get('gzip;q=0.5, br;q=0.4')).text).toBe('GZIP-BYTES');
    const plain = await get();
    expect(plain.text).toBe('console.log(1);');
    expect(plain.headers.has('content-encoding')).toBe(false);
    expect(plain.headers.get('vary')).toBe('Accept-Encoding');
    expect((await get('br;q=0, gzip;q=0')).text).toBe('console.log(1);');
    const off = await serve({ directory: fixture.root, precompressed: false });
    expect((await rawRequest(off, '/script.js', { 'Accept-Encoding': 'br' })).text).toBe('console.log(1);');
  });
});

describe('the small-file cache', () => {
  it('serves a changed, replaced, deleted or added file correctly on the very next request', async () => {
    const fixture = await createFixture();
    const t = await serve({ directory: fixture.root });
    const file = join(fixture.root, 'live.txt');
    await writeFile(file, 'version-1');
    expect((await rawRequest(t, '/live.txt')).text).toBe('version-1');
    expect((await rawRequest(t, '/live.txt')).text).toBe('version-1');
    await writeFile(file, 'version-2');
    expect((await rawRequest(t, '/live.txt')).text).toBe('version-2');
    await writeFile(`${file}.new`, 'version-3');
    await rm(file);
    await writeFile(file, 'version-3');
    expect((await rawRequest(t, '/live.txt')).text).toBe('version-3');
    await unlink(file);
    expect((await rawRequest(t, '/live.txt')).status).toBe(404);
    await writeFile(file, 'version-4');
    expect((await rawRequest(t, '/live.txt')).text).toBe('version-4');
    // Swapped for a symlink out of the root: the cached bytes must not be served, nor the target.
    await unlink(file);
    await symlink(join(fixture.secret, 'f'), file);
    const swapped = await rawRequest(t, '/live.txt');
    expect(swapped.status).toBe(404);
    expect(swapped.text).not.toContain(secretText);
  });

  it('cacheMaxBytes: 0 turns the cache off and files are still served', async () => {
    const fixture = await createFixture();
    const t = await serve({ directory: fixture.root, cacheMaxBytes: 0 });
    expect((await rawRequest(t, '/hello.txt')).text).toBe('hello world\n');
    expect((await rawRequest(t, '/digits.txt', { Range: 'bytes=0-1,8-9' })).text).toContain('89');
  });
});

describe('large files', () => {
  it('streams them whole and in ranges', async () => {
    const fixture = await createFixture();
    const size = 3 * 1024 * 1024 + 17;
    const bytes = Buffer.alloc(size);
    for (let index = 0; index < size; index++) bytes[index] = (index * 7) % 251;
    await writeFile(join(fixture.root, 'large.bin'), bytes);
    const t = await serve({ directory: fixture.root });
    const whole = Buffer.from(await (await fetch(`${t.origin}/large.bin`)).arrayBuffer());
    expect(whole.equals(bytes)).toBe(true);
    const part = await fetch(`${t.origin}/large.bin`, { headers: { Range: 'bytes=1048575-2097152' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(1048575, 2097153))).toBe(true);
    const multi = await rawRequest(t, '/large.bin', { Range: 'bytes=0-9,-10' });
    expect(multi.body.length).toBe(Number(multi.headers.get('content-length')));
    expect(multi.body.includes(bytes.subarray(size - 10))).toBe(true);
  });

  it('stops reading when the client goes away', async () => {
    const fixture = await createFixture();
    const size = 512 * 1024 * 1024;
    await truncate(await createEmpty(join(fixture.root, 'sparse.bin')), size);
    const streams: Readable[] = [];
    class Watched extends SimpleHTTPRequestHandler {
      protected override createReadStream(handle: FileHandle, start: number, end: number): Readable {
        const stream = super.createReadStream(handle, start, end);
        streams.push(stream);
        return stream;
      }
    }
    const t = await serve({ directory: fixture.root }, Watched);
    const socket = await t.connect();
    socket.write('GET /sparse.bin HTTP/1.1\r\nHost: x\r\n\r\n');
    // Well into the body, so the read stream is running when the client leaves.
    await readUntil(socket, (received) => received.length > 4 * 1024 * 1024);
    socket.destroy();
    expect(streams.length).toBe(1);
    const stream = streams[0]!;
    if (!stream.destroyed) await once(stream, 'close');
    expect((stream as Readable & { bytesRead: number }).bytesRead).toBeLessThan(size / 4);
  });
});

async function createEmpty(path: string): Promise<string> {
  const handle = await open(path, 'w');
  await handle.close();
  return path;
}
