import { chmodSync, cpSync, lstatSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The document root of the fixtures, as the tests must use it (see below). */
    cgiFixtures: string;
  }
}

const fixtures = realpathSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'www'));

/** Everyone may read every file and enter every directory; execute bits follow the owner's. */
function openUp(target: string): void {
  const info = lstatSync(target);
  if (info.isSymbolicLink()) return;
  if (info.isDirectory()) {
    chmodSync(target, 0o755);
    for (const entry of readdirSync(target)) openUp(path.join(target, entry));
    return;
  }
  chmodSync(target, (info.mode & 0o100) !== 0 ? 0o755 : 0o644);
}

/**
 * As root, scripts run as `nobody`, who cannot enter a checkout under a private directory (root's
 * home, any `chmod 700` parent). The suites then use a copy of the fixtures in a directory of the
 * system's temporary directory that everyone may enter, removed when the run ends. Otherwise they
 * use the fixtures in place.
 */
export default function setup(project: TestProject): (() => void) | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    project.provide('cgiFixtures', fixtures);
    return undefined;
  }
  const base = realpathSync(mkdtempSync(path.join(tmpdir(), 'srv-cgi-fixtures-')));
  const www = path.join(base, 'www');
  cpSync(fixtures, www, { recursive: true, verbatimSymlinks: true });
  openUp(www);
  chmodSync(base, 0o755);
  project.provide('cgiFixtures', www);
  return () => rmSync(base, { recursive: true, force: true });
}
