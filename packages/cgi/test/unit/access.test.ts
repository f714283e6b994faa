import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findUnreachablePath, formatOwnership, permissionsFor } from '../../src/access.js';

describe('permissionsFor', () => {
  const file = { mode: 0o100754, uid: 1000, gid: 100 };
  it('takes the owner bits, else the group bits, else the others', () => {
    expect(permissionsFor(file, { uid: 1000, gid: 5 })).toBe(0o7);
    expect(permissionsFor(file, { uid: 2000, gid: 100 })).toBe(0o5);
    expect(permissionsFor(file, { uid: 2000, gid: 5 })).toBe(0o4);
    expect(permissionsFor(file, { uid: 0, gid: 0 })).toBe(0o7);
  });
});

describe('findUnreachablePath', () => {
  let base: string;
  let script: string;
  // A user that owns nothing here, so only the "other" bits speak for it.
  const stranger = { uid: 65_000, gid: 65_000 };

  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'srv-cgi-access-'));
    await mkdir(path.join(base, 'a', 'cgi-bin'), { recursive: true });
    script = path.join(base, 'a', 'cgi-bin', 'run.sh');
    await writeFile(script, '#!/bin/sh\n');
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  it('names the first directory the user cannot enter, with its mode and owner', async () => {
    await chmod(base, 0o755);
    await chmod(path.join(base, 'a'), 0o700);
    await chmod(path.join(base, 'a', 'cgi-bin'), 0o755);
    await chmod(script, 0o755);
    const found = await findUnreachablePath(script, stranger, true);
    expect(found?.path).toBe(path.join(base, 'a'));
    expect(found?.lacks).toBe('search');
    const info = await stat(path.join(base, 'a'));
    expect(formatOwnership(found!)).toBe(`mode 0700, owner ${info.uid}:${info.gid}`);
  });

  it('then the script: execute, then read when an interpreter must open it', async () => {
    await chmod(path.join(base, 'a'), 0o755);
    await chmod(script, 0o750);
    expect((await findUnreachablePath(script, stranger, true))?.lacks).toBe('execute');
    await chmod(script, 0o751);
    expect((await findUnreachablePath(script, stranger, true))?.lacks).toBe('read');
    expect(await findUnreachablePath(script, stranger, false)).toBeUndefined();
    await chmod(script, 0o755);
    expect(await findUnreachablePath(script, stranger, true)).toBeUndefined();
  });
});
