/**
 * The sample site the static and CGI servers serve by default, and where it is served from.
 *
 * Run as root, the CGI server runs scripts as `nobody`, who must be able to enter every directory
 * above them. A checkout in root's home (or under any `chmod 700` parent) is closed to it, and every
 * script would answer 403. Running the scripts as root instead would hand them the machine; so the
 * demo serves a copy of the sample from a fresh directory of the system's temporary directory that
 * everyone may enter, and removes it when the command exits.
 */
import { chmodSync, cpSync, lstatSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// apps/demo/sample, beside dist/ (and beside src/ when run from source).
export const sampleDirectory = fileURLToPath(new URL('../sample', import.meta.url));

/** True when users other than the owner may enter `directory` and every directory above it. */
export function isOpenToOthers(directory: string): boolean {
  for (let dir = directory; ; dir = dirname(dir)) {
    try {
      if ((statSync(dir).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (dirname(dir) === dir) return true;
  }
}

/** Everyone may read every file and enter every directory; execute bits follow the owner's. */
function openUp(target: string): void {
  const info = lstatSync(target);
  if (info.isSymbolicLink()) return;
  if (info.isDirectory()) {
    chmodSync(target, 0o755);
    for (const entry of readdirSync(target)) openUp(join(target, entry));
    return;
  }
  chmodSync(target, (info.mode & 0o100) !== 0 ? 0o755 : 0o644);
}

/** Where the sample is served from, and a note for stderr when that is a copy. */
export interface ServedSample {
  readonly directory: string;
  readonly note?: string;
}

/**
 * The sample in place, unless this process is root and the sample is closed to other users: then a
 * copy everyone can reach (removed when the process exits).
 */
export function serveSample(): ServedSample {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || isOpenToOthers(sampleDirectory)) return { directory: sampleDirectory };
  const base = mkdtempSync(join(tmpdir(), 'srv-demo-sample-'));
  process.once('exit', () => rmSync(base, { recursive: true, force: true }));
  const directory = join(base, 'sample');
  cpSync(sampleDirectory, directory, { recursive: true, verbatimSymlinks: true });
  openUp(directory);
  chmodSync(base, 0o755);
  if (!isOpenToOthers(directory)) {
    return {
      directory: sampleDirectory,
      note: `the sample (${sampleDirectory}) and ${tmpdir()} are both closed to nobody, who runs CGI scripts: they will answer 403`,
    };
  }
  return {
    directory,
    note: `serving a copy of the sample from ${directory}: ${sampleDirectory} is closed to nobody, who runs CGI scripts`,
  };
}
