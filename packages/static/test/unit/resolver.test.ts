import { sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileResolver } from '../../src/resolver.js';

describe('FileResolver memos', () => {
  const resolver = new FileResolver({ cacheMaxBytes: 1024, cacheMaxFileSize: 256 });

  it('joins a parsed path below each directory it is asked for, the same string every time', () => {
    const request = resolver.parse('/a/b%20c.txt?x=1');
    const first = resolver.filePath(request, `${sep}srv`);
    expect(first).toBe(`${sep}srv${sep}a${sep}b c.txt`);
    expect(resolver.filePath(request, `${sep}srv`)).toBe(first);
    // Another directory (a handler's `directory` changed) gets its own path, not the remembered one.
    expect(resolver.filePath(request, `${sep}www${sep}`)).toBe(`${sep}www${sep}a${sep}b c.txt`);
    expect(resolver.filePath(resolver.parse('/'), `${sep}srv`)).toBe(`${sep}srv`);
  });

  it('translates a target to its parse and file path in one step, per directory asked for', () => {
    const target = resolver.translateTarget('/d/e%20f.txt', `${sep}srv`);
    expect(target.request).toBe(resolver.parse('/d/e%20f.txt'));
    expect(target.path).toBe(`${sep}srv${sep}d${sep}e f.txt`);
    expect(resolver.translate('/d/e%20f.txt', `${sep}srv`)).toBe(target.path);
    // A changed directory is not answered with the path remembered for the last one.
    expect(resolver.translate('/d/e%20f.txt', `${sep}www`)).toBe(`${sep}www${sep}d${sep}e f.txt`);
    expect(resolver.translate('/d/../g', `${sep}srv`)).toBe(`${sep}srv${sep}g`);
    expect(() => resolver.translate('/a%2fb', `${sep}srv`)).toThrow(/encoded path separator/);
  });

  it('gives a name its lower-case extension, dot included', () => {
    expect(resolver.extensionOf('Index.HTML')).toBe('.html');
    expect(resolver.extensionOf('archive.tar.GZ')).toBe('.gz');
    expect(resolver.extensionOf('README')).toBe('');
    expect(resolver.extensionOf('.env')).toBe('.env');
  });

  it('keeps one root object per real path, and forgets it on release', () => {
    const root = resolver.rootOf('/srv');
    expect(resolver.rootOf('/srv')).toBe(root);
    expect(root.real).toBe('/srv');
    resolver.release();
    expect(resolver.rootOf('/srv')).not.toBe(root);
  });
});
