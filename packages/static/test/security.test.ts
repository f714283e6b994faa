import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFixture, rawRequest, secretText, serve } from './helpers.js';

// Every input goes as raw bytes over a socket: a URL client would normalise `/../` away first.
describe('path safety over the wire', () => {
  it('answers every traversal, encoding and injection input without escaping the root', async () => {
    const fixture = await createFixture();
    const t = await serve({ directory: fixture.root });
    const rootName = basename(fixture.root);
    const cases: Array<[target: string, status: number]> = [
      ['/../x', 404],
      ['/%2e%2e/x', 404],
      ['/..%2fx', 400],
      ['/.%2e/x', 404],
      ['/%252e%252e/x', 404],
      ['/..%5cx', 400],
      ['/..\\x', 400],
      ['/%c0%ae%c0%ae/x', 400],
      [`/../${rootName}-secret/f`, 404],
      [`/%2e%2e/${rootName}-secret/f`, 404],
      ['/%00', 400],
      ['/hello.txt%00.txt', 400],
      ['/x%0d%0aSet-Cookie:a=b', 400],
      ['/%ZZ', 400],
      ['/%', 400],
      ['/%e', 400],
      [`/${'a'.repeat(65536)}`, 414],
      [`//evil.com/..%2f${rootName}`, 400],
      [`/\\evil.com/..%2f${rootName}`, 400],
      ['/escape-link', 404],
      ['/escape-dir/f', 404],
      ['/escape-dir/', 404],
      ['/dotfile-link', 404],
      ['/.env', 404],
      ['/%2eenv', 404],
      ['/.git/config', 404],
      ['/.git/', 404],
      ['/sub/../.env', 404],
    ];
    for (const [target, status] of cases) {
      const response = await rawRequest(t, target);
      expect([target.slice(0, 40), response.status]).toEqual([target.slice(0, 40), status]);
      expect(response.text).not.toContain(secretText);
      expect(response.headers.has('set-cookie')).toBe(false);
    }
  });

  it('never redirects off-site: Location is built from the normalised path', async () => {
    const fixture = await createFixture();
    const t = await serve({ directory: fixture.root });
    for (const target of ['//sub', '///sub', '//sub?x=//evil.com', '/./sub']) {
      const response = await rawRequest(t, target);
      expect(response.status, target).toBe(301);
      const location = response.headers.get('location')!;
      expect(location.startsWith('/sub/'), `${target} → ${location}`).toBe(true);
      expect(location).not.toMatch(/^[/\\]{2}/);
    }
    expect((await rawRequest(t, '//evil.com')).status).toBe(404);
    expect((await rawRequest(t, '/sub?a=1&b=2')).headers.get('location')).toBe('/sub/?a=1&b=2');
  });

  it('refuses hostile Range values without crashing', async () => {
    const fixture = await createFixture();
    const t = await serve({ directory: fixture.root });
    const many = Array.from({ length: 1000 }, (_, index) => `${index % 10}-${index % 10}`).join(',');
    const spread = Array.from({ length: 1000 }, () => '0-9').join(',');
    const cases: Array<[range: string, status: number, body: string | undefined]> = [
      ['bytes=3-1', 416, ''],
      ['bytes=0-18446744073709551615', 206, '0123456789'],
      ['bytes=-0', 416, ''],
      ['bytes=abc', 200, '0123456789'],
      ['items=0-1', 200, '0123456789'],
      ['bytes=99999999999999999999999999999-', 416, ''],
      [`bytes=${many}`, 416, ''],
      [`bytes=${spread}`, 416, ''],
      ['bytes=0-0,0-9,5-5', 206, '0123456789'],
    ];
    for (const [range, status, body] of cases) {
      const response = await rawRequest(t, '/digits.txt', { Range: range });
      expect([range.slice(0, 30), response.status]).toEqual([range.slice(0, 30), status]);
      if (status === 416) expect(response.headers.get('content-range')).toBe('bytes */10');
      if (body !== undefined) expect(response.text).toBe(body);
    }
  });

  it('lists neither dotfiles nor links that leave the root, and shows no filesystem path', async () => {
    const fixture = await createFixture();
    const t = await serve({ directory: fixture.root });
    const html = await rawRequest(t, '/');
    const json = await rawRequest(t, '/', { Accept: 'application/json' });
    for (const response of [html, json]) {
      expect(response.status).toBe(200);
      expect(response.text).not.toContain('.env');
      expect(response.text).not.toContain('.git');
      expect(response.text).not.toContain('escape-link');
      expect(response.text).not.toContain('escape-dir');
      expect(response.text).not.toContain('dotfile-link');
      expect(response.text).not.toContain(fixture.base);
      expect(response.text).toContain('inside-link');
      expect(response.text).toContain('.well-known');
    }
  });
});
