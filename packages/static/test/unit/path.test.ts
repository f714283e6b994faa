import { describe, expect, it } from 'vitest';
import {
  decodeSegment,
  formatPath,
  hasExtension,
  isHiddenPath,
  isInsideRoot,
  parseRequestPath,
  redirectLocation,
} from '../../src/path.js';

function statusOf(target: string): number | 'ok' {
  try {
    parseRequestPath(target);
    return 'ok';
  } catch (error) {
    return (error as { status: number }).status;
  }
}

describe('parseRequestPath', () => {
  it('decodes once and resolves dot segments, clamped at the root', () => {
    expect(parseRequestPath('/a%20b/c.txt?x=1')).toEqual({
      segments: ['a b', 'c.txt'],
      hasTrailingSlash: false,
      query: '?x=1',
    });
    expect(parseRequestPath('/../x').segments).toEqual(['x']);
    expect(parseRequestPath('/%2e%2e/x').segments).toEqual(['x']);
    expect(parseRequestPath('/.%2e/x').segments).toEqual(['x']);
    expect(parseRequestPath('/a/b/../../../../c').segments).toEqual(['c']);
    expect(parseRequestPath('/%252e%252e/x').segments).toEqual(['%2e%2e', 'x']);
    expect(parseRequestPath('//a///b/').segments).toEqual(['a', 'b']);
    expect(parseRequestPath('/%C3%A9t%C3%A9').segments).toEqual(['été']);
    expect(parseRequestPath('/a#frag').segments).toEqual(['a']);
  });

  it('knows the directory forms', () => {
    expect(parseRequestPath('/').hasTrailingSlash).toBe(true);
    expect(parseRequestPath('/a/').hasTrailingSlash).toBe(true);
    expect(parseRequestPath('/a/.').hasTrailingSlash).toBe(true);
    expect(parseRequestPath('/a/b/..').hasTrailingSlash).toBe(true);
    expect(parseRequestPath('/a').hasTrailingSlash).toBe(false);
  });

  it('refuses NUL, control characters, backslashes, encoded separators and bad encodings with 400', () => {
    for (const target of [
      '/%00',
      '/i.html%00.txt',
      '/x%0d%0aSet-Cookie:a=b',
      '/%7f',
      '/..%2fx',
      '/..%2Fx',
      '/..%5cx',
      '/..\\x',
      '/\\evil.com/',
      '/%ZZ',
      '/%',
      '/%4',
      '/%c0%ae%c0%ae/x',
      '/%ff',
      '/%ed%a0%80',
      'relative',
      '*',
    ]) {
      expect([target, statusOf(target)]).toEqual([target, 400]);
    }
  });

  it('refuses very long paths with 414', () => {
    expect(statusOf(`/${'a'.repeat(65536)}`)).toBe(414);
    expect(statusOf(`/${'%41'.repeat(5000)}`)).toBe(414);
    expect(statusOf(`/${'a'.repeat(4000)}`)).toBe('ok');
  });

  it('decodeSegment passes plain text through and checks it', () => {
    expect(decodeSegment('plain')).toBe('plain');
    expect(() => decodeSegment('a\u0000b')).toThrow(/control/);
  });

  it('reads raw UTF-8 (llhttp hands its bytes over as Latin-1) like its percent-encoded form', () => {
    const raw = Buffer.from('café', 'utf8').toString('latin1');
    expect(decodeSegment(raw)).toBe('café');
    expect(decodeSegment('caf%C3%A9')).toBe('café');
    expect(() => decodeSegment(Buffer.from([0xc3, 0x28]).toString('latin1'))).toThrow(/UTF-8/);
    expect(() => decodeSegment('a\u0100')).toThrow(/non-byte/);
  });
});

describe('containment and visibility', () => {
  it('isInsideRoot is separator-aware', () => {
    expect(isInsideRoot('/srv/www', '/srv/www')).toBe(true);
    expect(isInsideRoot('/srv/www', '/srv/www/a')).toBe(true);
    expect(isInsideRoot('/srv/www', '/srv/www-secret/f')).toBe(false);
    expect(isInsideRoot('/srv/www', '/srv/wwwx')).toBe(false);
    expect(isInsideRoot('/srv/www', '/srv')).toBe(false);
    expect(isInsideRoot('/', '/etc/passwd')).toBe(true);
    expect(isInsideRoot('/srv/www/', '/srv/www/a')).toBe(true);
  });

  it('isHiddenPath hides dot segments except a top-level .well-known', () => {
    expect(isHiddenPath(['.env'])).toBe(true);
    expect(isHiddenPath(['a', '.git', 'config'])).toBe(true);
    expect(isHiddenPath(['.well-known', 'security.txt'])).toBe(false);
    expect(isHiddenPath(['a', '.well-known'])).toBe(true);
    expect(isHiddenPath(['.well-known', '.x'])).toBe(true);
    expect(isHiddenPath(['a.b', 'c'])).toBe(false);
  });
});

describe('building URLs', () => {
  it('formatPath encodes each segment, so no name reads as a scheme or a query', () => {
    expect(formatPath([], true)).toBe('/');
    expect(formatPath(['a b', 'c?d#e'], false)).toBe('/a%20b/c%3Fd%23e');
    expect(formatPath(['javascript:alert(1)'], true)).toBe('/javascript%3Aalert(1)/');
  });

  it('redirectLocation keeps the query and never starts with two slashes', () => {
    expect(redirectLocation(parseRequestPath('//evil.com/x?q=1'))).toBe('/evil.com/x/?q=1');
    expect(redirectLocation(parseRequestPath('/a'))).toBe('/a/');
  });

  it('hasExtension', () => {
    expect(hasExtension(['app.js'])).toBe(true);
    expect(hasExtension(['route'])).toBe(false);
    expect(hasExtension(['.hidden'])).toBe(false);
    expect(hasExtension(['trailing.'])).toBe(false);
    expect(hasExtension([])).toBe(false);
  });
});
