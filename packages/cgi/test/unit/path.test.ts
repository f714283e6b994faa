import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collapsePath, decodeTarget, matchCgiDirectory, resolveScript } from '../../src/path.js';

describe('collapsePath', () => {
  it.each([
    ['/', '/'],
    ['/cgi-bin/../x', '/x'],
    ['/cgi-bin/../../bin/sh', '/bin/sh'],
    ['///nocgi.py/../cgi-bin/nothere.sh', '/cgi-bin/nothere.sh'],
    ['/a/./b/', '/a/b/'],
    ['/a/b/.', '/a/b/'],
    ['/a/b/..', '/a/'],
    ['/..', '/'],
    ['/a//b', '/a/b'],
    ['/cgi-bin', '/cgi-bin'],
  ])('%s → %s', (input, expected) => {
    expect(collapsePath(input)).toBe(expected);
  });
});

describe('decodeTarget', () => {
  it('decodes once, before collapsing, and keeps the query raw', () => {
    expect(decodeTarget('/cgi-bin/.%2e/.%2e/bin/sh?a=%41')).toEqual({ path: '/bin/sh', query: 'a=%41' });
    expect(decodeTarget('/a%2541')).toEqual({ path: '/a%41', query: '' });
    expect(decodeTarget('/caf%C3%A9')).toEqual({ path: '/café', query: '' });
    // llhttp passes raw UTF-8 bytes through as Latin-1 characters.
    expect(decodeTarget(Buffer.from('/café', 'utf8').toString('latin1')).path).toBe('/café');
  });

  it('keeps a trailing slash, clamps .. at the root and serves /.well-known/ like srv-static', () => {
    expect(decodeTarget('/cgi-bin/')).toEqual({ path: '/cgi-bin/', query: '' });
    expect(decodeTarget('/../../cgi-bin/x.sh')).toEqual({ path: '/cgi-bin/x.sh', query: '' });
    expect(decodeTarget('/.well-known/x?y')).toEqual({ path: '/.well-known/x', query: 'y' });
  });

  // One decoder for srv-static and srv-cgi: an encoded separator is refused, never decoded into one.
  it.each([
    '/cgi-bin/x%00.sh',
    '/a?b=%00',
    '/a\0b',
    '/a%zz',
    '/a%c0%ae%c0%ae/',
    '/a\u0100',
    '/cgi-bin%2f..%2fx',
    '/cgi-bin/a%2fb.sh',
    '/cgi-bin/a%5cb.sh',
    '/cgi-bin\\x.sh',
    'cgi-bin/x.sh',
  ])('refuses %j with 400', (target) => {
    expect(() => decodeTarget(target)).toThrow(
      expect.objectContaining({ code: 'SRV_ERR_CGI_BAD_REQUEST', status: 400 }),
    );
  });
});

describe('matchCgiDirectory', () => {
  const directories = ['/cgi-bin', 'htbin/', '/apps/cgi'];
  it('matches a directory prefix on a segment boundary, longest first', () => {
    expect(matchCgiDirectory('/cgi-bin/a/b.sh', directories)).toEqual({
      directory: '/cgi-bin',
      rest: 'a/b.sh',
    });
    expect(matchCgiDirectory('/htbin/x', directories)).toEqual({ directory: '/htbin', rest: 'x' });
    expect(matchCgiDirectory('/apps/cgi/x', [...directories, '/apps'])).toEqual({
      directory: '/apps/cgi',
      rest: 'x',
    });
    expect(matchCgiDirectory('/cgi-bin', directories)).toEqual({ directory: '/cgi-bin', rest: '' });
    expect(matchCgiDirectory('/cgi-binx/a', directories)).toBeUndefined();
    expect(matchCgiDirectory('/x/cgi-bin/a', directories)).toBeUndefined();
  });
});

describe('resolveScript', () => {
  let root: string;
  let outside: string;
  beforeAll(async () => {
    outside = await mkdtemp(path.join(tmpdir(), 'srv-cgi-outside-'));
    root = await mkdtemp(path.join(tmpdir(), 'srv-cgi-root-'));
    await mkdir(path.join(root, 'cgi-bin', 'sub'), { recursive: true });
    await writeFile(path.join(root, 'cgi-bin', 'run.sh'), '#!/bin/sh\n');
    await chmod(path.join(root, 'cgi-bin', 'run.sh'), 0o755);
    await writeFile(path.join(root, 'cgi-bin', 'sub', 'deep.sh'), '#!/bin/sh\n');
    await chmod(path.join(root, 'cgi-bin', 'sub', 'deep.sh'), 0o755);
    await writeFile(path.join(root, 'cgi-bin', 'plain.txt'), 'x');
    await writeFile(path.join(outside, 'evil.sh'), '#!/bin/sh\n');
    await chmod(path.join(outside, 'evil.sh'), 0o755);
    await symlink(path.join(outside, 'evil.sh'), path.join(root, 'cgi-bin', 'link.sh'));
    await mkdir(path.join(root, 'htbin'));
    await writeFile(path.join(root, 'htbin', 'other.sh'), '#!/bin/sh\n');
    await symlink(path.join(root, 'htbin', 'other.sh'), path.join(root, 'cgi-bin', 'other.sh'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it('splits the script from PATH_INFO at the first file', async () => {
    const script = await resolveScript(root, '/cgi-bin/sub/deep.sh/a/b/', ['/cgi-bin']);
    expect(script).toMatchObject({
      scriptName: '/cgi-bin/sub/deep.sh',
      pathInfo: '/a/b/',
      isExecutable: true,
    });
    expect(script.scriptFilename.endsWith(path.join('cgi-bin', 'sub', 'deep.sh'))).toBe(true);
    expect(script.directory).toBe(path.dirname(script.scriptFilename));
    expect((await resolveScript(root, '/cgi-bin/run.sh', ['/cgi-bin'])).pathInfo).toBe('');
  });

  it('follows a symlink only into another CGI directory', async () => {
    const script = await resolveScript(root, '/cgi-bin/other.sh', ['/cgi-bin', '/htbin']);
    expect(script.scriptFilename.endsWith(path.join('htbin', 'other.sh'))).toBe(true);
    await expect(resolveScript(root, '/cgi-bin/other.sh', ['/cgi-bin'])).rejects.toMatchObject({
      status: 403,
    });
  });

  it('reports the execute bit', async () => {
    expect((await resolveScript(root, '/cgi-bin/plain.txt', ['/cgi-bin'])).isExecutable).toBe(false);
  });

  it.each([
    ['/cgi-bin/nothere.sh', 404],
    ['/cgi-bin/sub/nothere/x', 404],
    ['/htbin/x.sh', 404],
    ['/cgi-bin', 403],
    ['/cgi-bin/', 403],
    ['/cgi-bin/sub/', 403],
    ['/cgi-bin/link.sh', 403],
    ['/nocgi/x', 404],
    ['/cgi-bin/.git/hooks/run.sh', 404],
    ['/cgi-bin/.run.sh', 404],
  ])('%s → %d', async (target, status) => {
    await expect(resolveScript(root, target, ['/cgi-bin', '/htbin'])).rejects.toMatchObject({ status });
  });
});
