import { describe, expect, it } from 'vitest';
import { LruCache } from '../../src/cache.js';
import { evaluatePreconditions, isIfRangeSatisfied, makeETag, parseETagList } from '../../src/conditional.js';
import { acceptableCodings } from '../../src/encoding.js';
import { formatSize, renderListingHtml, renderListingJson, wantsJson } from '../../src/listing.js';
import { resolveRanges } from '../../src/range.js';

const file = { ino: 0x1234n, size: 10n, mtimeNs: 1_700_000_000_123_456_789n };
const etag = makeETag(file);
const modified = 1_700_000_000_123;
const modifiedDate = new Date(modified).toUTCString();

describe('validators and preconditions', () => {
  it('makes a strong ETag from inode, size and mtime', () => {
    expect(etag).toBe(`"1234-a-${file.mtimeNs.toString(16)}"`);
    expect(makeETag({ ...file, size: 11n })).not.toBe(etag);
  });

  it('parses entity-tag lists', () => {
    expect(parseETagList(`"a", W/"b" ,"c,d", *`)).toEqual(['"a"', 'W/"b"', '"c,d"', '*']);
  });

  it('If-None-Match: lists, weak comparison, *; beats If-Modified-Since', () => {
    expect(evaluatePreconditions({ 'if-none-match': etag }, etag, modified)).toBe('not-modified');
    expect(evaluatePreconditions({ 'if-none-match': `"x", W/${etag}` }, etag, modified)).toBe('not-modified');
    expect(evaluatePreconditions({ 'if-none-match': '*' }, etag, modified)).toBe('not-modified');
    expect(
      evaluatePreconditions(
        { 'if-none-match': '"other"', 'if-modified-since': modifiedDate },
        etag,
        modified,
      ),
    ).toBe('proceed');
  });

  it('If-Modified-Since: second precision, garbage ignored', () => {
    expect(evaluatePreconditions({ 'if-modified-since': modifiedDate }, etag, modified)).toBe('not-modified');
    const earlier = new Date(modified - 2000).toUTCString();
    expect(evaluatePreconditions({ 'if-modified-since': earlier }, etag, modified)).toBe('proceed');
    expect(evaluatePreconditions({ 'if-modified-since': 'garbage' }, etag, modified)).toBe('proceed');
    expect(evaluatePreconditions({ 'if-modified-since': '1' }, etag, modified)).toBe('proceed');
  });

  it('If-Match (strong) and If-Unmodified-Since fail with 412', () => {
    expect(evaluatePreconditions({ 'if-match': '"nope"' }, etag, modified)).toBe('failed');
    expect(evaluatePreconditions({ 'if-match': `W/${etag}` }, etag, modified)).toBe('failed');
    expect(evaluatePreconditions({ 'if-match': etag }, etag, modified)).toBe('proceed');
    expect(evaluatePreconditions({ 'if-match': '*' }, etag, modified)).toBe('proceed');
    const earlier = new Date(modified - 5000).toUTCString();
    expect(evaluatePreconditions({ 'if-unmodified-since': earlier }, etag, modified)).toBe('failed');
    expect(evaluatePreconditions({ 'if-unmodified-since': modifiedDate }, etag, modified)).toBe('proceed');
    expect(evaluatePreconditions({ 'if-unmodified-since': 'garbage' }, etag, modified)).toBe('proceed');
  });

  it('If-Range: strong tag or exact date', () => {
    expect(isIfRangeSatisfied(undefined, etag, modified)).toBe(true);
    expect(isIfRangeSatisfied(etag, etag, modified)).toBe(true);
    expect(isIfRangeSatisfied('"old"', etag, modified)).toBe(false);
    expect(isIfRangeSatisfied(`W/${etag}`, etag, modified)).toBe(false);
    expect(isIfRangeSatisfied(modifiedDate, etag, modified)).toBe(true);
    expect(isIfRangeSatisfied(new Date(modified - 5000).toUTCString(), etag, modified)).toBe(false);
  });
});

describe('ranges', () => {
  it('parses single, suffix, open-ended and multiple ranges', () => {
    expect(resolveRanges('bytes=0-4', 10)).toEqual({ kind: 'partial', ranges: [{ start: 0, end: 4 }] });
    expect(resolveRanges('bytes=-3', 10)).toEqual({ kind: 'partial', ranges: [{ start: 7, end: 9 }] });
    expect(resolveRanges('bytes=8-', 10)).toEqual({ kind: 'partial', ranges: [{ start: 8, end: 9 }] });
    expect(resolveRanges('bytes=0-1, 5-6', 10)).toEqual({
      kind: 'partial',
      ranges: [
        { start: 0, end: 1 },
        { start: 5, end: 6 },
      ],
    });
  });

  it('merges overlapping ranges so nothing is sent twice', () => {
    expect(resolveRanges('bytes=0-5,2-8,9-9', 10)).toEqual({
      kind: 'partial',
      ranges: [{ start: 0, end: 9 }],
    });
  });

  it('ignores other units and malformed values; refuses unsatisfiable ones and too many', () => {
    expect(resolveRanges(undefined, 10)).toEqual({ kind: 'full' });
    expect(resolveRanges('items=0-1', 10)).toEqual({ kind: 'full' });
    expect(resolveRanges('bytes=abc', 10)).toEqual({ kind: 'full' });
    expect(resolveRanges('bytes', 10)).toEqual({ kind: 'full' });
    expect(resolveRanges('bytes=3-1', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(resolveRanges('bytes=-0', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(resolveRanges('bytes=10-', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(resolveRanges('bytes=0-0', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(resolveRanges(`bytes=${Array(17).fill('0-0').join(',')}`, 10)).toEqual({ kind: 'unsatisfiable' });
    expect(resolveRanges(`bytes=${Array(16).fill('0-0').join(',')}`, 10).kind).toBe('partial');
  });
});

describe('Accept-Encoding', () => {
  it('orders by q, then brotli before gzip; q=0 means no', () => {
    const codings = (header: string | undefined) => acceptableCodings(header).map((c) => c.coding);
    expect(codings(undefined)).toEqual([]);
    expect(codings('gzip, deflate, br')).toEqual(['br', 'gzip']);
    expect(codings('gzip;q=1, br;q=0.5')).toEqual(['gzip', 'br']);
    expect(codings('br;q=0, gzip')).toEqual(['gzip']);
    expect(codings('BR;Q=0')).toEqual([]);
    expect(codings('*')).toEqual(['br', 'gzip']);
    expect(codings('*;q=0, identity')).toEqual([]);
    expect(codings('br, br;q=0')).toEqual([]);
    expect(codings('x-gzip')).toEqual(['gzip']);
    expect(codings('identity;q=1, br;q=0.5')).toEqual([]);
  });
});

describe('listings', () => {
  const entries = [
    { name: 'b.txt', type: 'file' as const, isDirectory: false, size: 2048, mtime: new Date(0) },
    { name: 'A dir', type: 'directory' as const, isDirectory: true, size: 0, mtime: new Date(0) },
    {
      name: '<img src=x onerror=alert(1)>&"',
      type: 'file' as const,
      isDirectory: false,
      size: 1,
      mtime: new Date(0),
    },
    { name: 'link', type: 'symlink' as const, isDirectory: false, size: 5, mtime: new Date(0) },
  ];

  it('JSON: sorted name, type, size, ISO mtime', () => {
    expect(JSON.parse(renderListingJson(entries))).toEqual([
      { name: '<img src=x onerror=alert(1)>&"', type: 'file', size: 1, mtime: '1970-01-01T00:00:00.000Z' },
      { name: 'A dir', type: 'directory', size: 0, mtime: '1970-01-01T00:00:00.000Z' },
      { name: 'b.txt', type: 'file', size: 2048, mtime: '1970-01-01T00:00:00.000Z' },
      { name: 'link', type: 'symlink', size: 5, mtime: '1970-01-01T00:00:00.000Z' },
    ]);
  });

  it('HTML: names escaped and quoted, directories marked, parent link below the root', () => {
    const html = renderListingHtml(['a&b'], entries);
    expect(html).toContain('<title>Directory listing for /a&amp;b/</title>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;&amp;&quot;');
    expect(html).toContain('href="./%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E%26%22"');
    expect(html).toContain('<a href="./A%20dir/">A dir/</a>');
    expect(html).toContain('link@');
    expect(html).toContain('<a href="/">../</a>');
    expect(html).toContain('2.0 KiB');
    expect(renderListingHtml([], entries)).not.toContain('../');
  });

  it('wantsJson only when JSON is asked for and not outweighed by HTML', () => {
    expect(wantsJson(undefined)).toBe(false);
    expect(wantsJson('application/json')).toBe(true);
    expect(wantsJson('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).toBe(false);
    expect(wantsJson('text/html;q=0.5, application/json')).toBe(true);
    expect(wantsJson('application/json;q=0')).toBe(false);
  });

  it('formatSize', () => {
    expect(formatSize(0)).toBe('0 B');
    expect(formatSize(1536)).toBe('1.5 KiB');
    expect(formatSize(100 * 1024 * 1024)).toBe('100 MiB');
  });
});

describe('LruCache', () => {
  it('evicts the least recently used past its byte budget and refuses oversized values', () => {
    const cache = new LruCache<{ bytes: number; id: string }>(100, 60);
    cache.set('a', { bytes: 40, id: 'a' });
    cache.set('b', { bytes: 40, id: 'b' });
    expect(cache.get('a')?.id).toBe('a');
    cache.set('c', { bytes: 40, id: 'c' });
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.id).toBe('a');
    expect(cache.bytes).toBe(80);
    expect(cache.set('big', { bytes: 61, id: 'big' })).toBe(false);
    expect(cache.size).toBe(2);
    cache.delete('a');
    expect(cache.bytes).toBe(40);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('keeps LRU order when the newest entry is hit again and after it is deleted', () => {
    const cache = new LruCache<{ bytes: number; id: string }>(100, 50);
    cache.set('a', { bytes: 30, id: 'a' });
    cache.set('b', { bytes: 30, id: 'b' });
    cache.set('c', { bytes: 30, id: 'c' });
    // Hits on the newest move nothing; a hit on the oldest makes it the newest.
    expect(cache.get('c')?.id).toBe('c');
    expect(cache.get('c')?.id).toBe('c');
    expect(cache.get('a')?.id).toBe('a');
    cache.set('d', { bytes: 30, id: 'd' });
    expect(cache.get('b')).toBeUndefined();
    // Deleting the newest, then hitting another entry, must not leave a stale "newest" behind.
    cache.delete('d');
    expect(cache.get('c')?.id).toBe('c');
    cache.set('e', { bytes: 30, id: 'e' });
    cache.set('f', { bytes: 30, id: 'f' });
    expect(cache.get('a')).toBeUndefined();
    expect([cache.get('c')?.id, cache.get('e')?.id, cache.get('f')?.id]).toEqual(['c', 'e', 'f']);
  });
});
